"""Descriptive statistics of latency samples: percentiles and their confidence intervals.

Every function is pure and takes finite, non-negative times (any unit, typically
nanoseconds) as one 1-D sequence. Samples in *groups*, one sequence per worker process,
go to :mod:`workbench.measure.grouped_ci` (percentile intervals) and
:mod:`workbench.measure.summary` (summaries).

**The unit.** Samples from one worker process share its heap layout, CPU frequency and
core, so they are not independent; workers (fresh processes) are. An interval that claims a
confidence level for a measurement taken by several workers must therefore treat the
worker as the unit: ``grouped_percentile_ci`` does, and ``summarize_groups`` (what
``Measurement.summary`` shows) uses it. :func:`percentile_ci` and ``summarize`` assume
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
from collections.abc import Mapping
from dataclasses import dataclass
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
    "iqr",
    "mad",
    "min_samples_for",
    "order_statistic_ranks",
    "outliers",
    "percentile",
    "percentile_ci",
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
