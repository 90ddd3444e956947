"""One-sided bounds for budget verdicts, with the worker process as the unit.

Every bound here rests on units that are independent: worker processes (each reduced to one
number, e.g. the median or the pQ of its samples, or its peak memory), or, when there is a
single worker, that worker's own samples (and then the bound is about that process). No
interval is formed from samples pooled across workers.

- :func:`ratio_bounds`: the ratio of two sides as the Hodges-Lehmann shift of their log
  worker values, each end the Moses rank bound at its own one-sided ``tail``
  (:func:`workbench.measure.worker_stats.ratio_interval`). Exact for any distribution of
  the worker values under the scale model (one side is the other times a factor).
- :func:`level_bounds`: the q-quantile of independent units' distribution, each end an
  order statistic whose one-sided error is at most ``tail`` (the sign test; for q = 0.5
  the median). So the minimum of n units bounds their median from below with error
  ``0.5 ** n``: a limit exceeded by every unit is a breach once ``0.5 ** n <= tail``.

Below the rank or sign method's minimum (e.g. 2-4 workers at a 1 % tail), both fall back
to a t-interval on the log worker values (Welch's for a ratio), which assumes log-normal
worker values: ``Bounds.model`` says so, and the verdict's message repeats it. With a
single unit on a side there is no bound at all.

An end that the unit count cannot support at ``tail`` is None, and ``needed`` says how many
units would support it without a model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from workbench.budget.boundary import sign_critical
from workbench.measure import worker_stats
from workbench.measure.grouped_ci import grouped_percentile_ci

__all__ = ["Bounds", "exceedance_bounds", "level_bounds", "ratio_bounds",
           "tail_percentile_bounds", "units_needed", "worker_values"]


@dataclass(frozen=True)
class Bounds:
    """A point with its one-sided bounds (None: not reachable with these units)."""

    value: float
    low: float | None
    high: float | None
    units: tuple[int, ...]
    needed: int | None = None
    model: bool = False  # a t-interval on log values (log-normal assumed), not rank-based

    @property
    def decided(self) -> bool:
        return self.low is not None and self.high is not None


def worker_values(groups: Sequence[Sequence[float]], q: float = 50.0) -> list[float]:
    """Each worker's q-th percentile of its samples (its median for q = 50)."""
    sizes = {len(g) for g in groups}
    if len(sizes) == 1 and 0 not in sizes:  # one call for all workers
        return [float(x) for x in np.percentile(np.asarray(groups, dtype=np.float64), q, axis=1)]
    return [float(np.percentile(np.asarray(g, dtype=np.float64), q)) for g in groups if len(g)]


def ratio_bounds(a: Sequence[float], b: Sequence[float], tail: float) -> Bounds:
    """a / b from one positive value per worker on each side, each end at ``tail``."""
    va, vb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    r = worker_stats.unit_ratio_interval(va, vb, tail)
    if r.decided:
        return Bounds(r.value, r.low, r.high, (len(a), len(b)))
    needed = worker_stats.workers_needed(tail)
    if min(len(a), len(b)) < 2:
        return Bounds(r.value, None, None, (len(a), len(b)), needed)
    t = worker_stats.unit_t_ratio_interval(va, vb, tail)
    return Bounds(t.value, t.low, t.high, (len(a), len(b)), needed, model=True)


def level_bounds(units: Sequence[float], tail: float, q: float = 0.5) -> Bounds:
    """The q-quantile (0 < q < 1) of the units' distribution, each end at ``tail``."""
    x = np.sort(np.asarray(units, dtype=np.float64))
    n = int(x.size)
    point = float(np.quantile(x, q))
    below = sign_critical(n, tail, q)  # P(#units <= xi_q is <= c) <= tail
    above = sign_critical(n, tail, 1 - q)
    low = None if below is None else float(x[below])
    high = None if above is None else float(x[n - 1 - above])
    if low is not None and high is not None:
        return Bounds(point, low, high, (n,))
    needed = units_needed(tail, q)
    if q != 0.5 or n < 2 or np.any(x <= 0):
        return Bounds(point, low, high, (n,), needed)
    logs = np.log(x)
    centre, se = float(logs.mean()), float(logs.std(ddof=1)) / math.sqrt(n)
    half = float(_t_quantile(1 - tail, n - 1)) * se
    return Bounds(math.exp(centre), math.exp(centre - half), math.exp(centre + half), (n,),
                  needed, model=True)


def _t_quantile(p: float, df: int) -> float:
    from scipy import stats as scipy_stats

    return float(scipy_stats.t.ppf(p, df))


def units_needed(tail: float, q: float = 0.5) -> int:
    """The fewest units for which both one-sided order-statistic bounds of the q-quantile
    exist at ``tail``."""
    n = 1
    while max(q, 1 - q) ** n > tail:
        n += 1
    return n


def exceedance_bounds(groups: Sequence[Sequence[float]], q: float, tail: float) -> Bounds:
    """The q-quantile (0 < q < 1) of the per-call distribution over processes (the mixture
    of every worker's own), each end at ``tail``, with the worker as the unit.

    For a candidate value x, each worker's share of samples above x is one unit; their mean
    estimates the chance that a call takes longer than x, with a Student t bound over the
    workers. Each bound is then widened, never narrowed, to the exact (Clopper-Pearson)
    binomial bound of the count of calls above x, so that rare events (workers that all show
    no call above x) do not look certain. The quantile is over x
    when that chance's lower bound is above 1 - q, and at or under x when its upper bound is
    at or below 1 - q; the bounds are the nearest sample values where this holds. The
    candidates are the sample values; the units are the workers.
    """
    sorted_groups = [np.sort(np.asarray(g, dtype=np.float64)) for g in groups if len(g)]
    w = len(sorted_groups)
    every = np.concatenate(sorted_groups)
    point = float(np.quantile(every, q))
    if w < 2:
        raise ValueError("exceedance_bounds needs at least 2 workers")
    xs = np.unique(every)
    above = np.stack([g.size - np.searchsorted(g, xs, side="right") for g in sorted_groups])
    shares = above / np.asarray([g.size for g in sorted_groups])[:, None]
    mean = shares.mean(axis=0)
    half = _t_quantile(1 - tail, w - 1) * shares.std(axis=0, ddof=1) / np.sqrt(w)
    k, total = above.sum(axis=0), every.size
    from scipy import stats as scipy_stats

    exact_low = np.where(k > 0, scipy_stats.beta.ppf(tail, k, total - k + 1), 0.0)
    exact_high = np.where(k < total, scipy_stats.beta.ppf(1 - tail, k + 1, total - k), 1.0)
    upper = np.maximum(mean + half, exact_high)
    lower = np.minimum(mean - half, exact_low)
    allowed = 1 - q
    over = np.nonzero(lower > allowed)[0]  # surely more than 1 - q above x
    within = np.nonzero(upper <= allowed)[0]  # surely at most 1 - q above x
    low = float(xs[over[-1]]) if over.size else None
    high = float(xs[within[0]]) if within.size else None
    return Bounds(point, low, high, (w,), model=True)


def tail_percentile_bounds(groups: Sequence[Sequence[float]], q: float, tail: float, *,
                           resamples: int = 2000, seed: int = 0) -> tuple[Bounds, str]:
    """The q-th percentile (e.g. 95, 99) over processes from 2+ workers, each end at
    ``tail``: the hull of :func:`exceedance_bounds` and the log-normal model interval of
    :func:`workbench.measure.grouped_ci.grouped_percentile_ci`, so that an end errs only when
    both do; an end the shares cannot give stays open. Returns the bounds and how they
    were formed."""
    shares = exceedance_bounds(groups, q / 100, tail)
    est = grouped_percentile_ci(groups, q, min(0.999, 1 - 2 * tail), seed=seed,
                                      resamples=max(resamples, math.ceil(10 / tail)))
    iv = est.interval
    low = None if shares.low is None else min(shares.low, iv.low if iv else shares.low)
    high = None if shares.high is None else max(shares.high, iv.high if iv else shares.high)
    calls = sum(len(g) for g in groups)
    how = (f"{len(groups)} workers: the hull of the workers' shares of calls over each value "
           "(t over workers, widened to the exact binomial bound) and a log-normal model of "
           "the spread between processes")
    if high is None:
        needed = math.ceil(math.log(tail) / math.log(q / 100))
        how += (f"; no pass is possible from {calls} calls: at this level the pass end "
                f"needs >= {needed}")
    value = est.value if est.value is not None else shares.value
    return Bounds(value, low, high, (len(groups),), model=True), how
