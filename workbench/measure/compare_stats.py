"""The verdict on a speed-up, a resampling interval of a ratio, and how time scales with size.

Convention: a **speed-up** is ``statistic(baseline) / statistic(candidate)`` over times, so
a value above 1 means the candidate is faster. Samples come in *groups*, one sequence per
worker process, because samples from one process share its state (heap layout, CPU
frequency, cache placement) and are not independent of each other.

:func:`verdict` classifies a speed-up estimate and a p-value; ``compare`` forms both with the
worker process as the unit (:func:`workbench.measure.comparison.pair_stats`, on worker
medians: :mod:`workbench.measure.worker_stats`). There is no test on pooled samples here.
:func:`bootstrap_ratio_ci` is the ratio of two *pooled* statistics with a two-level bootstrap
(workers, then samples); only the budget check's percentile ratios still use it
(:func:`workbench.budget.resample.percentile_ratio_ci`).

The scaling fit (:func:`loglog_slope`) is a least-squares line through log(time) against
log(size) whose interval treats its points as independent, so its points must be the
independent units: one per worker process (that worker's median time at its size), never
the individual samples of a worker, which share that process's state. Fed every sample
(3 or 4 sizes, 5 workers of 15 samples each), a 95% slope interval covered the true
exponent 95-96% of the time without spread between processes, 85% at 1% spread and 58% at
3%; fed the workers' medians, 94-96% in all three cases (``tests/test_coverage.py``,
2000 replicates).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from workbench.errors import InvalidInputError
from workbench.measure.stats import (
    Estimate,
    FloatArray,
    Interval,
    _as_samples,
    _check_confidence,
    _scipy_stats,
)

__all__ = [
    "NOISE_FLOOR",
    "SlopeFit",
    "Statistic",
    "Verdict",
    "bootstrap_ratio_ci",
    "loglog_slope",
    "verdict",
]

#: "median", "mean", or a number q in (0, 100): the q-th percentile.
Statistic = Literal["median", "mean"] | float
Verdict = Literal["faster", "slower", "inconclusive"]

#: Differences smaller than this (3 %) are within what fresh processes running identical
#: code show on a shared 2-core machine; the verdict's default minimum effect.
NOISE_FLOOR = 0.03
_CHUNK_ELEMENTS = 2_000_000  # bound on one bootstrap chunk's (resamples x values) array


def _groups(groups: Sequence[npt.ArrayLike], name: str) -> list[FloatArray]:
    if isinstance(groups, str | bytes) or len(groups) == 0:
        raise InvalidInputError(
            f"{name} must be a non-empty sequence of sample sequences (one per worker); "
            f"got {groups!r}"
        )
    return [_as_samples(g, f"{name}[{i}]", positive=True) for i, g in enumerate(groups)]


def _reducer(statistic: Statistic, ragged: bool) -> Callable[[FloatArray], FloatArray]:
    """Row-wise ``statistic`` of a 2-d array (NaN-aware when rows are padded)."""
    if statistic == "median":
        return lambda v: np.asarray((np.nanmedian if ragged else np.median)(v, axis=1))
    if statistic == "mean":
        return lambda v: np.asarray((np.nanmean if ragged else np.mean)(v, axis=1))
    q = float(statistic)
    return lambda v: np.asarray((np.nanpercentile if ragged else np.percentile)(v, q, axis=1))


def _check_statistic(statistic: object) -> None:
    if statistic in ("median", "mean"):
        return
    if isinstance(statistic, int | float) and not isinstance(statistic, bool) \
            and 0 < statistic < 100:
        return
    raise InvalidInputError(
        f"statistic must be 'median', 'mean' or a percentile strictly between 0 and 100; "
        f"got {statistic!r}"
    )


def _bootstrap(
    groups: list[FloatArray], statistic: Statistic, resamples: int, rng: np.random.Generator
) -> FloatArray:
    """``resamples`` hierarchical-bootstrap replicates of the statistic of the pooled samples.

    Each replicate draws as many workers as there are, with replacement, then each drawn
    worker's own number of samples from that worker, with replacement, and pools them.
    """
    k = len(groups)
    sizes = np.array([g.size for g in groups])
    width = int(sizes.max())
    padded = np.zeros((k, width))
    for i, g in enumerate(groups):
        padded[i, : g.size] = g
    ragged = bool((sizes != width).any())
    reduce = _reducer(statistic, ragged)
    out = np.empty(resamples)
    chunk = max(1, _CHUNK_ELEMENTS // (k * width))
    for start in range(0, resamples, chunk):
        r = min(chunk, resamples - start)
        workers = rng.integers(0, k, size=(r, k))
        drawn = sizes[workers][..., None]  # (r, k, 1): each drawn worker's sample count
        idx = rng.integers(0, drawn, size=(r, k, width))
        values = padded[workers[..., None], idx]
        if ragged:
            values = np.where(np.arange(width) < drawn, values, np.nan)
        out[start : start + r] = reduce(values.reshape(r, k * width))
    return out


def bootstrap_ratio_ci(
    a_groups: Sequence[npt.ArrayLike],
    b_groups: Sequence[npt.ArrayLike],
    *,
    statistic: Statistic = "median",
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> Estimate:
    """``statistic(a) / statistic(b)`` of the pooled samples, with a bootstrap interval.

    Both sides are resampled independently by a two-level (hierarchical) bootstrap: workers
    with replacement, then samples within each drawn worker with replacement. The interval
    is the percentile interval of the replicate ratios, widened to include the point if it
    falls outside (possible with very few, very different workers; the note says so). All
    samples must be positive. Deterministic for a given ``seed``; ``n`` is the total number
    of samples on both sides.
    """
    a = _groups(a_groups, "a_groups")
    b = _groups(b_groups, "b_groups")
    _check_statistic(statistic)
    conf = _check_confidence(confidence)
    if not isinstance(resamples, int) or isinstance(resamples, bool) or resamples < 100:
        raise InvalidInputError(f"resamples must be an integer >= 100; got {resamples!r}")
    reduce = _reducer(statistic, False)
    point = float(reduce(np.concatenate(a)[None, :])[0] / reduce(np.concatenate(b)[None, :])[0])
    rng = np.random.default_rng(seed)
    ratios = _bootstrap(a, statistic, resamples, rng) / _bootstrap(b, statistic, resamples, rng)
    tail = 100 * (1 - conf) / 2
    low, high = (float(x) for x in np.percentile(ratios, [tail, 100 - tail]))
    name = statistic if isinstance(statistic, str) else f"p{statistic:g}"
    note = (
        f"{name}(a)/{name}(b): hierarchical bootstrap, {resamples} resamples of "
        f"{len(a)}+{len(b)} workers, percentile interval"
    )
    if not low <= point <= high:
        note += "; widened to include the point estimate"
        low, high = min(low, point), max(high, point)
    n = sum(g.size for g in a) + sum(g.size for g in b)
    return Estimate(point, Interval(low, high, conf), n, note)


def verdict(
    speedup_estimate: Estimate, p_value: float, *, alpha: float = 0.01,
    min_effect: float = NOISE_FLOOR
) -> Verdict:
    """Classify a speed-up estimate and a p-value as faster, slower or inconclusive.

    "faster" needs all of: the interval's low end above 1, ``p_value < alpha`` and a point
    speed-up of at least ``1 + min_effect``. "slower" mirrors it: the high end below 1,
    ``p_value < alpha`` and a point of at most ``1 - min_effect``. Anything else, including
    an estimate without a value or interval, is "inconclusive". The default 3 % is the size
    of the differences between fresh processes running identical code on a shared 2-core
    machine (A/A runs of ``benchmarks/detection.py`` reached 2.6 %).
    """
    if not (isinstance(p_value, int | float) and 0.0 <= p_value <= 1.0):
        raise InvalidInputError(f"p_value must be a number in [0, 1]; got {p_value!r}")
    if not (isinstance(alpha, int | float) and 0.0 < alpha < 1.0):
        raise InvalidInputError(f"alpha must be strictly between 0 and 1; got {alpha!r}")
    if not (isinstance(min_effect, int | float) and 0.0 <= min_effect < 1.0):
        raise InvalidInputError(f"min_effect must be in [0, 1); got {min_effect!r}")
    point, iv = speedup_estimate.value, speedup_estimate.interval
    if point is None or iv is None or p_value >= alpha:
        return "inconclusive"
    if iv.low > 1.0 and point >= 1.0 + min_effect:
        return "faster"
    if iv.high < 1.0 and point <= 1.0 - min_effect:
        return "slower"
    return "inconclusive"


@dataclass(frozen=True, slots=True)
class SlopeFit:
    """``log(time) = intercept + slope * log(size)`` (natural logs), fitted by least squares.

    ``interval`` is the t-distribution interval of the slope with ``n_points - 2`` degrees
    of freedom, valid when the points are independent units: one per worker process (its
    median time at its size), as :func:`loglog_slope`'s callers pass them. ``n_points`` is
    the number of those units; ``r2`` the coefficient of determination. A slope near 1 is
    linear scaling, near 2 quadratic.
    """

    slope: float
    intercept: float
    interval: Interval
    r2: float
    n_points: int


def loglog_slope(
    sizes: Sequence[float],
    times: Sequence[float | Sequence[float]],
    confidence: float = 0.95,
) -> SlopeFit:
    """Fit the scaling exponent of time against input size on log-log axes.

    ``times[i]`` is either one time or a sequence of times measured at ``sizes[i]``; every
    time is one point of the fit, and sizes may repeat. The interval takes the points as
    independent, so each time must be one independent unit: a worker process's median
    time (one point per worker per size, e.g. :func:`workbench.measure.sweep.build_sweep`),
    not the samples of a worker, which share its process's state and would make the
    interval far too narrow when processes differ. At least 3 distinct sizes are required
    (two would fit any slope exactly and leave no degrees of freedom for an interval):
    fewer raises InvalidInputError, as do non-positive sizes or times.
    """
    conf = _check_confidence(confidence)
    if len(sizes) != len(times):
        raise InvalidInputError(
            f"sizes and times must have the same length (one entry of times per size); "
            f"got {len(sizes)} sizes and {len(times)} times"
        )
    xs: list[float] = []
    ys: list[float] = []
    for size, t in zip(sizes, times, strict=True):
        at_size = t if isinstance(t, Sequence | np.ndarray) else [t]
        repeated = _as_samples(at_size, f"times at size {size!r}", positive=True)
        xs.extend([size] * repeated.size)
        ys.extend(repeated.tolist())
    x = _as_samples(xs, "sizes", positive=True)
    distinct = np.unique(x)
    if distinct.size < 3:
        raise InvalidInputError(
            f"loglog_slope needs at least 3 distinct sizes; got {distinct.tolist()!r}"
        )
    stats = _scipy_stats()
    fit = stats.linregress(np.log(x), np.log(np.asarray(ys)))
    n = int(x.size)
    half = float(stats.t.ppf((1 + conf) / 2, n - 2)) * float(fit.stderr)
    slope = float(fit.slope)
    return SlopeFit(
        slope=slope,
        intercept=float(fit.intercept),
        interval=Interval(slope - half, slope + half, conf),
        r2=float(fit.rvalue) ** 2,
        n_points=n,
    )
