"""The per-look error level of a sequential budget check, calibrated once by simulation.

A budget verdict at look k is decided by a one-sided rank test of the worker values against
the limit (:mod:`workbench.budget.verdict`): a breach when the worker-level interval lies
wholly above the limit, a pass when it lies wholly at or below it. Each test at each look is
a chance to err, so the check gives every look the same one-sided tail ``tau`` (a constant
boundary, as Pocock's, 1977, "Group sequential methods in the design and analysis of
clinical trials", Biometrika 64(2):191-199), chosen so that over at most ``looks`` looks the
chance that *any* look crosses is at most ``alpha`` at each end.

The chance is computed, not bounded: when the true value sits exactly at the limit (the
worst case for both ends), the rank statistics of the successive looks have a joint law
that depends only on the numbers of workers per side at each look, not on the
distribution of the timings (workers are independent, and under the scale model the two
sides' log values are exchangeable once the limit is divided out). So the crossing
probability is estimated by simulating that law with uniform values, for the check's own
worker schedule, and ``tau`` is the largest level whose estimate's upper 97.5 % bound is at
most ``alpha``. This replaces the union bound over looks, which spends ``alpha/k``-like
shares and so demands far more workers before a look can decide.

Two statistics are calibrated: ``"rank"`` (Mann-Whitney U of one side's worker values
against the other's, both sides possibly growing) and ``"sign"`` (how many of one side's
worker values lie below a fixed limit; absolute rules). Each look's critical value is the
largest count whose exact one-look probability is at most ``tau``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from workbench.errors import InvalidInputError
from workbench.measure.worker_stats import u_cdf

__all__ = ["MAX_LOOKS", "Plan", "first_look_workers", "look_level", "rank_critical",
           "sign_critical"]

#: The most looks a check makes (first look included): the boundary is calibrated for them.
MAX_LOOKS = 30
Statistic = Literal["rank", "sign"]
_SEED = 20261206


@dataclass(frozen=True)
class Plan:
    """How the check's worker counts grow: ``looks`` looks at most, each after the first
    adding ``steps`` workers to (current, baseline); ``(k, 0)`` when the baseline is
    stored. A plan of one look is the fixed-sample check."""

    looks: int = 1
    steps: tuple[int, int] = (2, 2)

    def __post_init__(self) -> None:
        if not isinstance(self.looks, int) or not 1 <= self.looks <= 1000:
            raise InvalidInputError(f"looks must be an integer from 1 to 1000; got "
                                    f"{self.looks!r}")
        if any(not isinstance(s, int) or s < 0 for s in self.steps) or sum(self.steps) == 0:
            raise InvalidInputError(f"steps must be two integers >= 0, not both 0; got "
                                    f"{self.steps!r}")

    def schedule(self, look: int, now: tuple[int, int]) -> tuple[tuple[int, int], ...]:
        """Workers per side at looks 1..looks, given ``now`` at look ``look``."""
        a, b = now
        first = (a - self.steps[0] * (look - 1), b - self.steps[1] * (look - 1))
        if min(first) < 1:  # not grown by this plan (e.g. a target measured once): as now
            first = now
        return tuple((first[0] + self.steps[0] * j, first[1] + self.steps[1] * j)
                     for j in range(self.looks))


def binom_cdf(c: int, n: int, p: float = 0.5) -> float:
    """P(X <= c) for X ~ Binomial(n, p)."""
    if c < 0:
        return 0.0
    return float(sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i)
                     for i in range(min(c, n) + 1)))


def rank_critical(m: int, n: int, tail: float) -> int | None:
    """The largest c with P(U <= c) <= ``tail`` for m against n units, or None."""
    return _critical(lambda c: u_cdf(c, m, n), m * n, tail)


def sign_critical(n: int, tail: float, p: float = 0.5) -> int | None:
    """The largest c with P(Binomial(n, p) <= c) <= ``tail``, or None."""
    return _critical(lambda c: binom_cdf(c, n, p), n, tail)


def _critical(cdf: object, top: int, tail: float) -> int | None:
    assert callable(cdf)
    if cdf(0) > tail:
        return None
    lo, hi = 0, top
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if cdf(mid) <= tail:
            lo = mid
        else:
            hi = mid - 1
    return lo


def look_level(alpha: float, schedule: Sequence[tuple[int, int]],
               statistic: Statistic = "rank") -> float:
    """The one-sided tail each look of ``schedule`` may use so that, over all its looks,
    one end errs with probability at most ``alpha`` (see the module docstring). With one
    look this is ``alpha`` itself. For ``"sign"`` only the first count of each pair is
    used."""
    if not (isinstance(alpha, float | int) and 0 < alpha < 0.5):
        raise InvalidInputError(f"alpha must be strictly between 0 and 0.5; got {alpha!r}")
    sizes = tuple((int(a), int(b)) for a, b in schedule)
    if not sizes or min(min(s) for s in sizes) < 1:
        raise InvalidInputError(f"schedule must list worker counts >= 1; got {schedule!r}")
    if len(sizes) == 1:
        return float(alpha)
    return _calibrated(float(alpha), sizes, statistic)


@lru_cache(maxsize=64)
def _calibrated(alpha: float, sizes: tuple[tuple[int, int], ...],
                statistic: Statistic) -> float:
    sims = int(min(200_000, max(20_000, math.ceil(400 / alpha))))
    counts = _null_paths(sizes, statistic, sims)

    def criticals(tau: float) -> np.ndarray:
        out = []
        for a, b in sizes:
            c = rank_critical(a, b, tau) if statistic == "rank" else sign_critical(a, tau)
            out.append(-1 if c is None else c)
        return np.asarray(out)

    def upper(tau: float) -> float:
        crossed = float(np.mean(np.any(counts <= criticals(tau)[None, :], axis=1)))
        return crossed + 2 * math.sqrt(max(crossed, 1 / sims) * (1 - crossed) / sims)

    lo, hi = alpha / len(sizes), alpha  # the union bound holds at lo whatever the paths
    if upper(hi) <= alpha:
        return hi
    for _ in range(40):
        mid = math.sqrt(lo * hi)
        if upper(mid) <= alpha:
            lo = mid
        else:
            hi = mid
        if hi / lo < 1.01:
            break
    return lo


def _null_paths(sizes: tuple[tuple[int, int], ...], statistic: Statistic,
                sims: int) -> np.ndarray:
    """Simulated statistics at each look under the null, shape (sims, looks)."""
    rng = np.random.default_rng(_SEED)
    top_a = max(a for a, _ in sizes)
    top_b = max(b for _, b in sizes)
    out = np.empty((sims, len(sizes)), dtype=np.int64)
    chunk = 10_000
    for start in range(0, sims, chunk):
        rows = min(chunk, sims - start)
        a = rng.random((rows, top_a), dtype=np.float32)
        if statistic == "sign":
            below = np.cumsum(a < 0.5, axis=1)
            out[start:start + rows] = below[:, [s[0] - 1 for s in sizes]]
            continue
        b = rng.random((rows, top_b), dtype=np.float32)
        u = np.zeros(rows, dtype=np.int64)
        pa = pb = 0
        for k, (ma, nb) in enumerate(sizes):
            if ma > pa:  # new a's against every b so far (old and new)
                u += np.sum(a[:, pa:ma, None] < b[:, None, :nb], axis=(1, 2))
            if nb > pb:  # new b's against the old a's only
                u += np.sum(a[:, :pa, None] < b[:, None, pb:nb], axis=(1, 2))
            pa, pb = max(pa, ma), max(pb, nb)
            out[start:start + rows, k] = u
    return out


def first_look_workers(alpha: float, plan: Plan, at_least: int,
                       baseline: int | None = None) -> int:
    """The fewest workers per side (at least ``at_least``) whose first look can decide a
    ratio at ``alpha`` per end over ``plan``: against a stored ``baseline`` of that many
    workers, or against a side measured alongside (same count)."""
    k = max(1, at_least)
    while k < 500:
        b = baseline or k
        if rank_critical(k, b, look_level(alpha, plan.schedule(1, (k, b)))) is not None:
            return k
        k += 1
    return k
