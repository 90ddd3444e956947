"""Descriptive statistics of latency samples: percentiles and their confidence intervals.

Every function is pure and takes finite, non-negative times (any unit, typically
nanoseconds): most take one 1-D sequence; :func:`grouped_percentile_ci` and
:func:`summarize_groups` take the samples in *groups*, one sequence per worker process.

**The unit.** Samples from one worker process share its heap layout, CPU frequency and
core, so they are not independent; workers (fresh processes) are. An interval that claims a
confidence level for a measurement taken by several workers must therefore treat the
worker as the unit: :func:`grouped_percentile_ci` does, and :func:`summarize_groups` (what
``Measurement.summary`` shows) uses it. :func:`percentile_ci` and :func:`summarize` assume
their samples are independent (one worker, or truly independent draws); with spread
between processes their intervals are too narrow when fed pooled samples of several
workers (a 95% median interval covered the truth about half the time at 3% spread between
processes; ``tests/test_coverage.py``).

Comparisons between two sides live in :mod:`workbench.measure.worker_stats` (on worker
medians) and :mod:`workbench.measure.compare_stats` (the verdict, the log-log scaling fit).

scipy is imported lazily, inside the functions that need it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from numbers import Real
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from workbench.errors import InvalidInputError

__all__ = [
    "Estimate",
    "Interval",
    "Summary",
    "grouped_percentile_ci",
    "iqr",
    "mad",
    "min_samples_for",
    "order_statistic_ranks",
    "outliers",
    "percentile",
    "percentile_ci",
    "summarize",
    "summarize_groups",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Interval:
    """A confidence interval ``[low, high]`` at the given ``confidence`` (e.g. 0.95)."""

    low: float
    high: float
    confidence: float

    @property
    def width(self) -> float:
        return self.high - self.low

    def __contains__(self, x: object) -> bool:
        return isinstance(x, Real) and self.low <= float(x) <= self.high


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point estimate with its interval; ``value is None`` means insufficient samples.

    ``n`` is the number of samples the estimate used; ``note`` says how it was formed or,
    when ``value`` is None, why it could not be.
    """

    value: float | None
    interval: Interval | None
    n: int
    note: str

    def to_json(self) -> dict[str, Any]:
        iv = self.interval
        return {
            "value": self.value,
            "interval": None
            if iv is None
            else {"low": iv.low, "high": iv.high, "confidence": iv.confidence},
            "n": self.n,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Estimate:
        try:
            iv = data["interval"]
            interval = (
                None
                if iv is None
                else Interval(float(iv["low"]), float(iv["high"]), float(iv["confidence"]))
            )
            value = None if data["value"] is None else float(data["value"])
            return cls(value, interval, int(data["n"]), str(data["note"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"malformed Estimate JSON {dict(data)!r} ({exc!r}); expected keys "
                "value, interval (low, high, confidence or null), n, note"
            ) from None


# -- validation and helpers shared with compare_stats -----------------------------------


def _scipy_stats() -> ModuleType:
    return importlib.import_module("scipy.stats")  # a core dependency, imported on first use


def _as_samples(
    samples: npt.ArrayLike, name: str = "samples", *, positive: bool = False
) -> FloatArray:
    """``samples`` as a 1-D float array, or InvalidInputError naming the offending value."""
    try:
        arr = np.asarray(samples, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{name} must be a 1-D sequence of numbers; got {samples!r}"
        ) from None
    if arr.ndim != 1:
        raise InvalidInputError(
            f"{name} must be a 1-D sequence of numbers; got an array of shape {arr.shape}"
        )
    if arr.size == 0:
        raise InvalidInputError(f"{name} must be non-empty; got an empty sequence")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise InvalidInputError(f"{name} must be finite numbers; got {arr[i]!r} at index {i}")
    bad = np.flatnonzero(arr <= 0) if positive else np.flatnonzero(arr < 0)
    if bad.size:
        i = int(bad[0])
        accepted = "positive" if positive else "non-negative"
        raise InvalidInputError(f"{name} must be {accepted} times; got {arr[i]!r} at index {i}")
    return arr


def _check_confidence(confidence: float) -> float:
    if not (isinstance(confidence, int | float) and 0.0 < confidence < 1.0):
        raise InvalidInputError(
            f"confidence must be a number strictly between 0 and 1 (e.g. 0.95); got {confidence!r}"
        )
    return float(confidence)


def _check_q(q: float, *, open_range: bool = False) -> float:
    ok = isinstance(q, int | float) and (0.0 < q < 100.0 if open_range else 0.0 <= q <= 100.0)
    if not ok:
        accepted = "strictly between 0 and 100" if open_range else "in [0, 100]"
        raise InvalidInputError(f"percentile q must be a number {accepted}; got {q!r}")
    return float(q)


def _label(q: float, confidence: float) -> tuple[str, str]:
    return f"p{q:g}", f"{100 * confidence:g}%"


# -- percentiles -------------------------------------------------------------------------


def percentile(samples: npt.ArrayLike, q: float) -> float:
    """The ``q``-th percentile (q in [0, 100]) with numpy's default ``linear`` method.

    The sorted samples x_0..x_{n-1} are interpolated linearly at position ``(n - 1) * q/100``,
    so the percentiles of 1..100 are 50.5 (q=50), 95.05 (q=95) and 99.01 (q=99).
    """
    arr = _as_samples(samples)
    return float(np.percentile(arr, _check_q(q)))


def _ranks(n: int, p: float, confidence: float) -> tuple[int, int] | None:
    """The rank rule of :func:`order_statistic_ranks`, vectorized over the lower rank."""
    binom = _scipy_stats().binom
    cdf: FloatArray = np.asarray(binom.cdf(np.arange(n), n, p), dtype=np.float64)  # F(0..n-1)
    if cdf[n - 1] - cdf[0] < confidence:  # even the widest pair (1, n) falls short
        return None
    low = np.arange(1, n + 1)  # candidate l
    base = cdf[low - 1]  # F(l - 1)
    # Smallest u - 1 with F(u - 1) - F(l - 1) >= confidence; one step either way absorbs
    # the rounding difference between that subtraction and the searched-for sum.
    k = np.clip(np.searchsorted(cdf, confidence + base, side="left"), low, n - 1)
    down = (k - 1 >= low) & (cdf[np.maximum(k - 1, 0)] - base >= confidence)
    k = np.where(down, k - 1, k)
    up = (cdf[k] - base < confidence) & (k < n - 1)
    k = np.where(up, k + 1, k)
    ok = cdf[k] - base >= confidence
    high = k + 1
    width = high - low
    asym = np.abs((low + high - 1) - 2 * n * p)
    order = np.lexsort((low, asym, width, ~ok))  # feasible first, then narrowest, ...
    best = int(order[0])
    return (int(low[best]), int(high[best])) if ok[best] else None


def order_statistic_ranks(n: int, q: float, confidence: float = 0.95) -> tuple[int, int] | None:
    """The 1-based ranks ``(l, u)`` of the distribution-free interval for the q-th quantile.

    With B ~ Binomial(n, q/100) (the count of samples below the true quantile), the interval
    ``[x_(l), x_(u)]`` covers the quantile with probability ``P(l <= B < u) =
    F(u - 1) - F(l - 1)``. Among all ``1 <= l < u <= n`` reaching ``confidence``, the rule
    picks the narrowest (least ``u - l``); among equally narrow pairs, the one whose range of
    B, ``[l, u - 1]``, is most nearly centred on ``n * q/100`` (least
    ``|l + u - 1 - 2 n q/100|``); then the smaller ``l``. None when no pair reaches it.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise InvalidInputError(f"n must be a positive integer; got {n!r}")
    p = _check_q(q, open_range=True) / 100
    conf = _check_confidence(confidence)
    return None if n < 2 else _ranks(n, p, conf)


def min_samples_for(q: float, confidence: float = 0.95) -> int:
    """The fewest samples for which :func:`percentile_ci` can form an interval.

    A pair of ranks exists exactly when the widest one, ``(1, n)``, reaches the confidence:
    ``1 - p**n - (1 - p)**n >= confidence`` with p = q/100, which grows with n; the answer is
    found by exponential then binary search on that test (p50 -> 6, p95 -> 59, p99 -> 299
    at 95%).
    """
    p = _check_q(q, open_range=True) / 100
    conf = _check_confidence(confidence)
    need = _min_samples(p, conf)
    if need is None:
        raise InvalidInputError(
            f"q={q!r} is too close to 0 or 100 for a {100 * conf:g}% interval from any "
            "practical number of samples; choose a less extreme q"
        )
    return need


@lru_cache(maxsize=256)
def _min_samples(p: float, conf: float) -> int | None:
    """:func:`min_samples_for` of a validated p = q/100 (None: beyond 2**62 samples)."""
    binom = _scipy_stats().binom

    def reaches(n: int) -> bool:
        return bool(binom.cdf(n - 1, n, p) - binom.cdf(0, n, p) >= conf)

    lo, hi = 1, 2  # reaches(lo) is False: one sample forms no pair
    while not reaches(hi):
        lo, hi = hi, hi * 2
        if hi > 2**62:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if reaches(mid) else (mid, hi)
    return hi


def percentile_ci(samples: npt.ArrayLike, q: float, confidence: float = 0.95) -> Estimate:
    """The q-th percentile (0 < q < 100) with a distribution-free order-statistic interval.

    The point is :func:`percentile`; the interval is ``[x_(l), x_(u)]`` with the ranks of
    :func:`order_statistic_ranks`, widened to include the point if it falls outside (only
    possible at low confidence levels). With too few samples for any pair of ranks the
    Estimate has ``value=None`` and a note giving :func:`min_samples_for`.
    """
    arr = _as_samples(samples)
    qf = _check_q(q, open_range=True)
    conf = _check_confidence(confidence)
    n = int(arr.size)
    ranks = None if n < 2 else _ranks(n, qf / 100, conf)
    label, level = _label(qf, conf)
    if ranks is None:
        need = min_samples_for(qf, conf)
        note = f"insufficient samples: {label} needs >= {need} for a {level} interval (have {n})"
        return Estimate(None, None, n, note)
    lo_rank, hi_rank = ranks
    xs = np.sort(arr)
    value = float(np.percentile(xs, qf))
    low = min(float(xs[lo_rank - 1]), value)
    high = max(float(xs[hi_rank - 1]), value)
    note = f"{label}: order statistics x_({lo_rank})..x_({hi_rank}) of {n}, distribution-free"
    return Estimate(value, Interval(low, high, conf), n, note)


# -- percentiles of grouped samples: the worker as the unit ------------------------------

_WITHIN_ELEMENTS = 400_000  # bound on the within-worker bootstrap's (draws x samples) array
_SUPPORT = 512  # residual quantiles kept per within-worker draw for the convolution
_CHUNK_ELEMENTS = 500_000  # bound on one Newton chunk's (draws x support) arrays
_NEWTON_STEPS = 60  # safeguarded Newton steps at most; each at worst halves the bracket
_TOLERANCE = 1e-7  # on the log scale: a relative 1e-7 in time


def _special() -> ModuleType:
    return importlib.import_module("scipy.special")


def _as_groups(groups: Sequence[npt.ArrayLike], name: str = "groups") -> list[FloatArray]:
    """``groups`` as a list of 1-D float arrays (one per worker), validated like samples."""
    if isinstance(groups, str | bytes) or not isinstance(groups, Sequence | np.ndarray) \
            or len(groups) == 0:
        raise InvalidInputError(
            f"{name} must be a non-empty sequence of sample sequences (one per worker); "
            f"got {groups!r}"
        )
    return [_as_samples(g, f"{name}[{i}]") for i, g in enumerate(groups)]


def _within_bootstrap(
    logs: list[FloatArray], draws: int, p: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``draws`` resamplings of every worker's samples with replacement (its own count).

    Returns the drawn worker medians ``(draws, k)``; the p-quantile of each draw's pooled
    residuals (every drawn value minus its worker's drawn median), ``(draws,)``; and those
    residuals sorted, thinned to at most ``_SUPPORT`` evenly spaced order statistics,
    ``(draws, support)``.
    """
    total = sum(y.size for y in logs)
    med = np.empty((draws, len(logs)))
    res = np.empty((draws, total))
    at = 0
    for w, y in enumerate(logs):
        drawn = y[rng.integers(0, y.size, size=(draws, y.size))]
        med[:, w] = np.median(drawn, axis=1)
        res[:, at : at + y.size] = drawn - med[:, w : w + 1]
        at += y.size
    res.sort(axis=1)
    quantile = np.percentile(res, 100 * p, axis=1)
    if total > _SUPPORT:
        res = res[:, ((np.arange(_SUPPORT) + 0.5) * total / _SUPPORT).astype(np.intp)]
    return med, quantile, res


def _convolved_quantile(
    support: FloatArray, own: FloatArray, sigma: FloatArray, p: float
) -> FloatArray:
    """Per row i: the p-quantile of ``sigma[i] * Z + X``, Z standard normal and X drawn
    uniformly from ``support[i]``. Rows with ``sigma == 0`` take ``own[i]`` (the row's own
    p-quantile); the others solve ``mean(Phi((t - support[i]) / sigma[i])) = p`` by
    Newton's method kept inside a bracket that always holds the root."""
    out = own.copy()
    rows = np.flatnonzero(sigma > 0)
    if rows.size == 0:
        return out
    special = _special()
    z = float(special.ndtri(p))
    chunk = max(1, _CHUNK_ELEMENTS // support.shape[1])
    for start in range(0, rows.size, chunk):
        part = rows[start : start + chunk]
        x, s = support[part], sigma[part]
        # Every term Phi((t - x_j)/s) is <= p at t = min(x) + s z and >= p at max(x) + s z.
        lo, hi = x[:, 0] + s * z, x[:, -1] + s * z
        spread = x.std(axis=1)
        t = np.clip(own[part] + z * (np.hypot(spread, s) - spread), lo, hi)
        active = np.arange(part.size)
        for _ in range(_NEWTON_STEPS):
            xa, sa, ta = x[active], s[active], t[active]
            u = (ta[:, None] - xa) / sa[:, None]
            f = np.asarray(special.ndtr(u), dtype=np.float64).mean(axis=1) - p
            density = np.exp(-0.5 * u * u).mean(axis=1) / (sa * np.sqrt(2 * np.pi))
            below = f < 0
            lo[active] = np.where(below, ta, lo[active])
            hi[active] = np.where(below, hi[active], ta)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                step = ta - f / density
            inside = np.isfinite(step) & (step > lo[active]) & (step < hi[active])
            new = np.where(inside, step, (lo[active] + hi[active]) / 2)
            t[active] = new
            active = active[np.abs(new - ta) > _TOLERANCE]
            if active.size == 0:
                break
        out[part] = t
    return out


def _worker_level_interval(
    logs: list[FloatArray], p: float, confidence: float, resamples: int, seed: int
) -> tuple[float, float]:
    """The interval of :func:`grouped_percentile_ci`, formed on the log scale (see there)."""
    k = len(logs)
    total = sum(y.size for y in logs)
    medians = np.array([np.median(y) for y in logs])
    # The within-worker part: at most _WITHIN_ELEMENTS drawn values in all; the draws are
    # reused in turn when there are fewer of them than resamples.
    within = min(resamples, max(100, _WITHIN_ELEMENTS // total))
    med, own, support = _within_bootstrap(logs, within, p, np.random.default_rng([seed, 0]))
    noise = float(((med - medians) ** 2).mean())  # a worker median's within-worker variance
    # The between-worker part: generalized pivotal quantities of the random-effects model
    # m_w = mu + b_w + e_w of the worker medians: var(m_w) = sigma_b^2 + noise, with
    # (k-1) s^2 / var(m_w) ~ chi2(k-1), and a mean process effect ~ N(0, sigma_b^2 / k).
    rng = np.random.default_rng([seed, 1])
    var_m = (k - 1) * float(np.var(medians, ddof=1)) / rng.chisquare(k - 1, resamples)
    sigma_b = np.sqrt(np.maximum(var_m - noise, 0.0))
    turn = np.arange(resamples) % within
    centre = med.mean(axis=1)[turn] - rng.standard_normal(resamples) * sigma_b / np.sqrt(k)
    draws = centre + _convolved_quantile(support[turn], own[turn], sigma_b, p)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(draws, [tail, 100 - tail])
    limit = float(np.log(np.finfo(np.float64).max)) - 1
    return float(np.exp(min(low, limit))), float(np.exp(min(high, limit)))


def grouped_percentile_ci(
    groups: Sequence[Sequence[float]],
    q: float,
    confidence: float = 0.95,
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> Estimate:
    """The q-th percentile (0 < q < 100) of per-call times measured by several workers, with
    an interval whose unit is the worker.

    ``groups`` holds one sequence of samples per worker process. The point is the
    :func:`percentile` of the pooled samples. The interval is for the q-th percentile of
    the per-call distribution over fresh processes (the mixture of every process's own
    distribution), so it widens with the spread between workers, which the pooled
    order-statistic interval of :func:`percentile_ci` ignores.

    Model, on the log scale: ``log x = mu + b_w + e``, a process effect ``b_w`` per worker
    (normal, i.e. log-normal multiplicative factors, spread sigma_b) and within-worker
    noise ``e`` of any shape, the same in every worker. The percentile is
    ``mu + h(sigma_b)``, h being the q-quantile of ``N(0, sigma_b^2)`` convolved with the
    within-worker distribution. Its interval is a generalized confidence interval formed
    from ``resamples`` draws, each combining

    - a bootstrap of the samples within each worker: new worker medians (whose mean
      stands for ``mu``) and the pooled residuals about them (the within-worker
      distribution); their spread carries the within-worker noise, and
    - generalized pivotal quantities of the random-effects model for the between-worker
      part: ``var(m_w) = (k-1) s^2 / chi2(k-1)`` for the worker medians' variance (s^2 their
      sample variance), ``sigma_b^2`` = that minus the medians' within-worker noise
      (bootstrap variance), and the mean process effect ``N(0, sigma_b^2 / k)``.

    The interval is the central ``confidence`` range of the draws, widened to include the
    point if it falls outside (the note says so). Unlike a resampling of workers, it is not
    bounded by the workers that happened to be drawn: with few workers, the process
    effects' tail beyond them is what a tail percentile's interval has to allow for.
    Measured 95% coverage (``tests/test_coverage.py``'s model, 5 and 10 workers of 15
    samples, 1000 replicates): p50 0.93-0.96 and p95 0.95-0.98 at 1% and 3% spread between
    processes, 0.98-0.99 without spread (conservative: k workers cannot show that the
    spread is exactly 0). At 3% spread a two-level bootstrap (workers, then samples)
    percentile interval covered the p95 77-83% of the time, a worker bootstrap with a
    t-multiplier 87%, and the pooled order-statistic interval 64-70%. The between-worker
    part assumes log-normal process effects: with strongly skewed (exponential) or two-point
    effects (20% of processes 7.5% slower) at 3% spread, p95 coverage fell to 0.74-0.81
    (the pooled interval's: 0.45-0.75).

    With one group there is no between-worker spread to see: the interval is
    :func:`percentile_ci`'s of its samples, about that one process, and the note says so.
    With several groups and a time of 0 (no log scale) there is no interval (the point
    only, and a note): the samples of several workers are never pooled as independent.
    With fewer pooled samples than :func:`min_samples_for` the Estimate
    has ``value=None`` and a note naming the samples needed, as from :func:`percentile_ci`.
    Deterministic for a given ``seed``; ``n`` is the number of pooled samples.
    """
    arrays = _as_groups(groups)
    qf = _check_q(q, open_range=True)
    conf = _check_confidence(confidence)
    if not isinstance(resamples, int) or isinstance(resamples, bool) or resamples < 100:
        raise InvalidInputError(f"resamples must be an integer >= 100; got {resamples!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InvalidInputError(f"seed must be a non-negative integer; got {seed!r}")
    pooled = np.concatenate(arrays)
    n, k = int(pooled.size), len(arrays)
    label, level = _label(qf, conf)
    need = min_samples_for(qf, conf)
    if n < need:
        workers = "" if k == 1 else f" from {k} workers"
        note = f"insufficient samples: {label} needs >= {need} for a {level} interval " \
               f"(have {n}{workers})"
        return Estimate(None, None, n, note)
    if k == 1:
        est = percentile_ci(pooled, qf, conf)
        why = "one worker: no spread between workers can be seen; the interval is about " \
              "that process, its samples taken as independent"
        return replace(est, note=f"{est.note}; {why}")
    if not bool((pooled > 0).all()):
        note = (f"{label}: no interval: a time of 0 has no log scale, so the worker-level "
                f"interval cannot be formed (pooling the {k} workers' samples would take "
                "them as independent)")
        return Estimate(float(np.percentile(pooled, qf)), None, n, note)
    value = float(np.percentile(pooled, qf))
    logs = [np.log(a) for a in arrays]
    low, high = _worker_level_interval(logs, qf / 100, conf, resamples, seed)
    note = (f"{label}: worker-level interval over {k} workers ({n} samples): generalized "
            f"pivotal quantities for the spread between workers (log-normal process effects), "
            f"bootstrap within workers, {resamples} draws")
    if not low <= value <= high:
        note += "; widened to include the point estimate"
        low, high = min(low, value), max(high, value)
    return Estimate(value, Interval(low, high, conf), n, note)


# -- spread and outliers -----------------------------------------------------------------


def mad(samples: npt.ArrayLike, *, scaled: bool = False) -> float:
    """Median absolute deviation from the median; ``scaled`` multiplies by ~1.4826.

    The scaled MAD estimates the standard deviation for normally distributed samples.
    """
    arr = _as_samples(samples)
    scale = "normal" if scaled else 1.0
    return float(_scipy_stats().median_abs_deviation(arr, scale=scale))


def iqr(samples: npt.ArrayLike) -> float:
    """Interquartile range ``p75 - p25`` (numpy's linear percentile method)."""
    arr = _as_samples(samples)
    return float(_scipy_stats().iqr(arr, interpolation="linear"))


def outliers(samples: npt.ArrayLike) -> int:
    """How many samples lie strictly outside Tukey's fences ``[Q1 - 1.5 IQR, Q3 + 1.5 IQR]``."""
    arr = _as_samples(samples)
    q1, q3 = np.percentile(arr, [25.0, 75.0])
    spread = q3 - q1
    return int(np.count_nonzero((arr < q1 - 1.5 * spread) | (arr > q3 + 1.5 * spread)))


# -- summary -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    """The usual description of one set of latency samples (``stdev`` None when n < 2)."""

    n: int
    mean: float
    stdev: float | None
    min: float
    max: float
    median: Estimate
    p95: Estimate
    p99: Estimate
    mad: float
    iqr: float
    outliers: int

    def to_json(self) -> dict[str, Any]:
        """A dict of plain ints, floats, strings and None (json.dumps-able)."""
        return {
            "n": self.n,
            "mean": self.mean,
            "stdev": self.stdev,
            "min": self.min,
            "max": self.max,
            "median": self.median.to_json(),
            "p95": self.p95.to_json(),
            "p99": self.p99.to_json(),
            "mad": self.mad,
            "iqr": self.iqr,
            "outliers": self.outliers,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Summary:
        try:
            stdev = data["stdev"]
            return cls(
                n=int(data["n"]),
                mean=float(data["mean"]),
                stdev=None if stdev is None else float(stdev),
                min=float(data["min"]),
                max=float(data["max"]),
                median=Estimate.from_json(data["median"]),
                p95=Estimate.from_json(data["p95"]),
                p99=Estimate.from_json(data["p99"]),
                mad=float(data["mad"]),
                iqr=float(data["iqr"]),
                outliers=int(data["outliers"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"malformed Summary JSON ({exc!r}); expected the keys of Summary.to_json(): "
                "n, mean, stdev, min, max, median, p95, p99, mad, iqr, outliers"
            ) from None


def _summary(arr: FloatArray, percentiles: list[Estimate]) -> Summary:
    n = int(arr.size)
    return Summary(
        n=n,
        mean=float(np.mean(arr)),
        stdev=float(np.std(arr, ddof=1)) if n >= 2 else None,
        min=float(arr.min()),
        max=float(arr.max()),
        median=percentiles[0],
        p95=percentiles[1],
        p99=percentiles[2],
        mad=mad(arr),
        iqr=iqr(arr),
        outliers=outliers(arr),
    )


def summarize(samples: npt.ArrayLike, confidence: float = 0.95) -> Summary:
    """n, mean, sample stdev, extremes, p50/p95/p99 with intervals, MAD, IQR, outlier count.

    The intervals are :func:`percentile_ci`'s, which take the samples as independent: right
    for one worker's samples, too narrow for the pooled samples of several workers (use
    :func:`summarize_groups`).
    """
    arr = _as_samples(samples)
    conf = _check_confidence(confidence)
    return _summary(arr, [percentile_ci(arr, q, conf) for q in (50, 95, 99)])


def summarize_groups(
    groups: Sequence[Sequence[float]],
    confidence: float = 0.95,
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> Summary:
    """:func:`summarize` of samples taken by several workers (one sequence per worker).

    The descriptive figures are of the pooled samples; the p50/p95/p99 intervals are
    :func:`grouped_percentile_ci`'s, with the worker as the unit. Results for up to
    ``_CACHED_SAMPLES`` samples are cached (a measurement's summary is asked for by every
    rendering of it, and its intervals take tens of milliseconds).
    """
    arrays = _as_groups(groups)
    conf = _check_confidence(confidence)
    if sum(a.size for a in arrays) <= _CACHED_SAMPLES:
        key = tuple(tuple(a.tolist()) for a in arrays)
        return _summarize_groups_cached(key, conf, resamples, seed)
    return _summarize_groups(groups, conf, resamples, seed)


_CACHED_SAMPLES = 10_000


def _summarize_groups(
    groups: Sequence[Sequence[float]], confidence: float, resamples: int, seed: int
) -> Summary:
    ests = [grouped_percentile_ci(groups, q, confidence, resamples=resamples, seed=seed)
            for q in (50, 95, 99)]
    return _summary(np.concatenate([np.asarray(g, dtype=np.float64) for g in groups]), ests)


@lru_cache(maxsize=64)
def _summarize_groups_cached(
    groups: tuple[tuple[float, ...], ...], confidence: float, resamples: int, seed: int
) -> Summary:
    return _summarize_groups(groups, confidence, resamples, seed)
