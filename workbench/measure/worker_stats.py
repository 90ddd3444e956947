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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from workbench.errors import InvalidInputError

__all__ = ["RatioInterval", "rank_test", "ratio_interval", "u_cdf", "worker_medians",
           "workers_needed"]

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


def u_cdf(c: int, m: int, n: int) -> float:
    """P(U <= c) under the null for m against n independent units (exact up to 60 each)."""
    if c < 0:
        return 0.0
    if max(m, n) <= _EXACT_LIMIT:
        pmf = _u_pmf(m, n)
        return float(sum(pmf[: min(c, m * n) + 1]))
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
    if not (isinstance(tail, float | int) and 0 < tail < 0.5):
        raise InvalidInputError(f"tail must be strictly between 0 and 0.5; got {tail!r}")
    a = np.log(worker_medians(a_groups, "a_groups"))
    b = np.log(worker_medians(b_groups, "b_groups"))
    d = np.sort((a[:, None] - b[None, :]).ravel())
    point = float(np.exp(np.median(d)))
    m, n = a.size, b.size
    c = _critical(m, n, tail)
    if c is None:
        return RatioInterval(point, None, None, tail, (m, n), workers_needed(tail))
    return RatioInterval(point, float(np.exp(d[c])), float(np.exp(d[d.size - 1 - c])), tail,
                         (m, n))
