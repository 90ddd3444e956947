"""Comparing two sides with the worker process as the unit: a rank test and a ratio interval.

Samples from one worker process share its heap layout, CPU frequency and core, so they are
not independent; workers are (each is a fresh process). Everything here therefore reduces
each worker to one number, the **median of its samples**, and compares the two sides' sets
of worker medians:

- :func:`rank_test`: the Mann-Whitney U test on the worker medians (exact null
  distribution, no ties assumed beyond what the data shows).
- :func:`ratio_interval`: the ratio ``a / b`` as the Hodges-Lehmann estimate of the shift
  between the log worker medians (the median of all m*n pairwise differences
  ``log a_i - log b_j``), with the distribution-free confidence interval that inverts the
  same rank test (Moses' interval: the order statistics ``d_(c+1)`` and ``d_(mn-c)`` of the
  pairwise differences, where ``c`` is the largest U with ``P(U <= c) <= tail``; Hollander,
  Wolfe & Chicken, *Nonparametric Statistical Methods*, 3rd ed., section 4.3).

Under the shift model (the two sides differ by a factor on every worker) the interval's
coverage is at least its nominal level for any worker-to-worker spread and any shape of the
distribution, because it only uses that workers are independent. One slow worker moves a
fifth of the pairwise differences at most, so it cannot widen the interval the way it
widens a resampling interval. The price is discreteness: with few workers the interval
cannot be formed at a high confidence at all (5 workers per side reach a one-sided tail of
1/252 = 0.4 %, 3 workers only 1/20 = 5 %); :func:`workers_needed` says how many are needed.

Below that minimum, :func:`t_ratio_interval` is the fallback with 2 or more workers per side:
Welch's t-interval and t-test on the log worker medians. It is model-based (it assumes the
worker medians are log-normal) and rests on few workers, so callers say so. With one worker
on a side there is no spread between workers to see, and nothing here forms an interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from workbench.errors import InvalidInputError
from workbench.measure.stats import _scipy_stats

__all__ = [
    "RatioInterval",
    "TRatioInterval",
    "rank_test",
    "ratio_interval",
    "t_ratio_interval",
    "u_cdf",
    "unit_ratio_interval",
    "unit_t_ratio_interval",
    "worker_medians",
    "workers_needed",
]

FloatArray = npt.NDArray[np.float64]
_EXACT_LIMIT = 60  # above this many units per side the normal approximation of U is used


def worker_medians(groups: Sequence[Sequence[float]], name: str = "groups") -> FloatArray:
    """The median of each worker's samples (every sample must be a positive number)."""
    meds = []
    for i, g in enumerate(groups):
        arr = np.asarray(g, dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            raise InvalidInputError(f"{name}[{i}] must be a non-empty sequence of positive "
                                    f"finite times; got {g!r}")
        meds.append(float(np.median(arr)))
    if not meds:
        raise InvalidInputError(f"{name} must hold at least one worker's samples; got none")
    return np.asarray(meds)


@lru_cache(maxsize=256)
def _u_pmf(m: int, n: int) -> tuple[float, ...]:
    """P(U = u), u = 0..m*n, of the Mann-Whitney U of m against n units under the null."""
    # counts(m, n) by the recursion c(m, n, u) = c(m-1, n, u-n) + c(m, n-1, u), as floats
    # normalised at each step: p(m, n) = m/(m+n) * shift(p(m-1, n), n) + n/(m+n) * p(m, n-1)
    table: dict[tuple[int, int], FloatArray] = {}
    for i in range(m + 1):
        for j in range(n + 1):
            if i == 0 or j == 0:
                table[i, j] = np.ones(1)
                continue
            out = np.zeros(i * j + 1)
            left = table[i - 1, j]
            out[j:j + left.size] += i / (i + j) * left
            up = table[i, j - 1]
            out[:up.size] += j / (i + j) * up
            table[i, j] = out
    return tuple(float(x) for x in table[m, n])


@lru_cache(maxsize=512)
def _u_cdf_table(m: int, n: int) -> FloatArray:
    return np.cumsum(np.asarray(_u_pmf(m, n)))


def u_cdf(c: int, m: int, n: int) -> float:
    """P(U <= c) under the null for m against n independent units (exact up to 60 each)."""
    if c < 0:
        return 0.0
    if max(m, n) <= _EXACT_LIMIT:
        return float(_u_cdf_table(m, n)[min(c, m * n)])
    mean, sd = m * n / 2, math.sqrt(m * n * (m + n + 1) / 12)
    return 0.5 * math.erfc(-(c + 0.5 - mean) / (sd * math.sqrt(2)))


def _critical(m: int, n: int, tail: float) -> int | None:
    """The largest c with P(U <= c) <= tail, or None when even U = 0 is likelier."""
    if u_cdf(0, m, n) > tail:
        return None
    lo, hi = 0, m * n // 2
    while lo < hi:  # P(U <= c) increases with c
        mid = (lo + hi + 1) // 2
        if u_cdf(mid, m, n) <= tail:
            lo = mid
        else:
            hi = mid - 1
    return lo


def workers_needed(tail: float, *, other: int | None = None) -> int:
    """The fewest workers per side (both sides equal, or against ``other`` workers) for
    which a one-sided ``tail`` can be reached: ``P(U = 0) <= tail``."""
    if not 0 < tail < 1:
        raise InvalidInputError(f"tail must be strictly between 0 and 1; got {tail!r}")
    k = 1
    while u_cdf(0, k, other if other is not None else k) > tail:
        k += 1
    return k


def rank_test(a_groups: Sequence[Sequence[float]],
              b_groups: Sequence[Sequence[float]]) -> tuple[float, float]:
    """Mann-Whitney U of side a's worker medians against b's, and its two-sided p-value.

    Ties (rare with medians of real timings) count one half, and the exact p-value is then
    approximate. With every median equal on both sides, U is m*n/2 and p is 1.
    """
    a = worker_medians(a_groups, "a_groups")
    b = worker_medians(b_groups, "b_groups")
    diff = a[:, None] - b[None, :]
    u = float(np.sum(diff > 0) + 0.5 * np.sum(diff == 0))
    m, n = a.size, b.size
    low_u = min(u, m * n - u)
    p = min(1.0, 2 * u_cdf(math.floor(low_u + 1e-9), m, n))
    return u, p


@dataclass(frozen=True, slots=True)
class RatioInterval:
    """``a / b`` estimated from worker medians, with its interval (None: not reachable).

    ``tail`` is the one-sided error level of each end; ``needed`` the workers per side
    that would make the interval reachable when it is not."""

    value: float
    low: float | None
    high: float | None
    tail: float
    workers: tuple[int, int]
    needed: int | None = None

    @property
    def decided(self) -> bool:
        return self.low is not None and self.high is not None


def ratio_interval(a_groups: Sequence[Sequence[float]], b_groups: Sequence[Sequence[float]],
                   tail: float) -> RatioInterval:
    """``a / b`` (Hodges-Lehmann on log worker medians) with the interval whose each end
    errs with probability at most ``tail`` (two-sided confidence ``1 - 2 * tail``)."""
    return unit_ratio_interval(worker_medians(a_groups, "a_groups"),
                               worker_medians(b_groups, "b_groups"), tail)


def _log_units(a_values: FloatArray, b_values: FloatArray,
               tail: float) -> tuple[FloatArray, FloatArray]:
    """The logs of both sides' unit values, once ``tail`` and the values are checked."""
    if not (isinstance(tail, float | int) and 0 < tail < 0.5):
        raise InvalidInputError(f"tail must be strictly between 0 and 0.5; got {tail!r}")
    for side, v in (("a", a_values), ("b", b_values)):
        if v.size == 0 or not np.all(np.isfinite(v)) or np.any(v <= 0):
            raise InvalidInputError(f"side {side} must hold positive finite values, one per "
                                    f"unit; got {v.tolist()!r}")
    return np.log(a_values), np.log(b_values)


def unit_ratio_interval(a_values: FloatArray, b_values: FloatArray,
                        tail: float) -> RatioInterval:
    """:func:`ratio_interval` of one positive value per unit (worker) on each side."""
    a, b = _log_units(a_values, b_values, tail)
    d = np.sort((a[:, None] - b[None, :]).ravel())
    point = float(np.exp(np.median(d)))
    m, n = a.size, b.size
    c = _critical(m, n, tail)
    if c is None:
        return RatioInterval(point, None, None, tail, (m, n), workers_needed(tail))
    return RatioInterval(point, float(np.exp(d[c])), float(np.exp(d[d.size - 1 - c])), tail,
                         (m, n))


@dataclass(frozen=True, slots=True)
class TRatioInterval:
    """``a / b`` from Welch's t on log worker medians: the point ``exp(mean log a - mean
    log b)`` (the ratio of the geometric means of the worker medians), the interval whose
    each end errs with probability ``tail`` under the model, the two-sided p-value of
    Welch's test of equal means and the Welch-Satterthwaite degrees of freedom (None when
    the worker medians show no spread at all)."""

    value: float
    low: float
    high: float
    p_value: float
    df: float | None
    tail: float
    workers: tuple[int, int]


def t_ratio_interval(a_groups: Sequence[Sequence[float]], b_groups: Sequence[Sequence[float]],
                     tail: float) -> TRatioInterval:
    """``a / b`` with Welch's t-interval and t-test on the log worker medians (B. L. Welch,
    "The generalization of 'Student's' problem when several different population variances
    are involved", *Biometrika* 34 (1947) 28-35; degrees of freedom by Satterthwaite's
    approximation).

    What it assumes: each worker contributes one number, the median of its samples, and
    the workers are independent; the log worker medians of each side are normal, i.e. the
    worker medians are **log-normal** (a multiplicative process effect per worker), with
    variances that may differ between the sides. Under that model the interval's each end
    errs with probability ``tail`` (two-sided confidence ``1 - 2 * tail``) and the test
    holds its level; nothing else backs it. It is the fallback for 2-4 workers per side,
    where the distribution-free rank interval (:func:`ratio_interval`) cannot reach the
    level, and callers must say that it is a model-based result from few workers. On the
    data model of ``tests/test_coverage.py`` (log-normal process effects of 1-5 %, 2 %
    noise within a worker, 1 % outliers, 15 samples per worker; 20 000 replicates) the 95 %
    interval covered 0.96-0.98 of the time at 2-4 workers per side and identical code had
    p < 0.01 in 0.4-0.8 % of the replicates; with two-point process effects (a fifth of
    processes 7.5 % slower) and 2 workers per side, p < 0.01 came 1.6 % of the time.

    Both sides need at least 2 workers (one worker shows no spread between workers);
    fewer raises InvalidInputError. When every worker median of each side is the same
    (no spread at all; synthetic data) the t statistic is undefined and its limit is
    used: the interval is the point and p is 0 (1 when the two sides are equal), as the
    rank interval of such medians is a point too; ``df`` is then None.
    """
    return unit_t_ratio_interval(worker_medians(a_groups, "a_groups"),
                                 worker_medians(b_groups, "b_groups"), tail)


def unit_t_ratio_interval(a_values: FloatArray, b_values: FloatArray,
                          tail: float) -> TRatioInterval:
    """:func:`t_ratio_interval` of one positive value per unit (worker) on each side."""
    a, b = _log_units(a_values, b_values, tail)
    m, n = a.size, b.size
    if m < 2 or n < 2:
        raise InvalidInputError(f"a t-interval needs at least 2 workers per side; got {m} "
                                f"and {n} (one worker shows no spread between workers)")
    diff = float(a.mean() - b.mean())
    va, vb = float(a.var(ddof=1)) / m, float(b.var(ddof=1)) / n
    se2 = va + vb
    if se2 <= 0:  # the limit as the spread goes to 0: the interval is the point
        point = math.exp(diff)
        return TRatioInterval(point, point, point, 1.0 if diff == 0 else 0.0, None, tail,
                              (m, n))
    se = math.sqrt(se2)
    df = se2 ** 2 / (va ** 2 / (m - 1) + vb ** 2 / (n - 1))
    t_dist = _scipy_stats().t
    half = float(t_dist.ppf(1 - tail, df)) * se
    p = min(1.0, float(2 * t_dist.sf(abs(diff) / se, df)))
    return TRatioInterval(math.exp(diff), math.exp(diff - half), math.exp(diff + half), p, df,
                          tail, (m, n))
