"""Step detection in a performance history: a penalized piecewise-constant (L1 Potts) fit.

The method follows airspeed velocity (asv, BSD-3-Clause: ``asv/step_detect.py``,
``detect_regressions`` via ``solve_potts_autogamma``), which implements the complexity
penalized M-estimation of Friedrich, Kempe, Liebscher and Winkler (2008), "Complexity
penalized M-estimation: fast computation", J. Comput. Graph. Stat. 17(1). The code here is
our own.

Model: split the series y_0..y_{n-1} into segments, each represented by its median, to
minimize ``sum over segments of sum |y_i - median(segment)| + gamma * (number of
segments)``. The L1 cost makes the fit robust to single outliers. It is solved exactly by
dynamic programming over the segment ends (O(n^2) segment costs, each median kept by two
heaps, so O(n^2 log n) in all; a few hundred points take well under a second).

Automatic gamma (as asv): gamma runs over a geometric grid from ``gamma_0 * 1e-4`` to
``gamma_0``, the cost of the whole series as one segment (beyond it nothing splits), and
the fit minimizing the information criterion ``beta * k + log(eps + residual)`` wins, with
k segments, residual the total L1 cost, and ``beta = 4 ln(n) / n`` (like the BIC with four
degrees of freedom per breakpoint). Unlike asv, no noise-correlation model is fitted.
Segments have at least ``min_size`` points (default 2), so one stray point is never a step.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from workbench import formatting as fmt
from workbench.budget.history import Series
from workbench.budget.spec import METRICS
from workbench.errors import InvalidInputError

__all__ = ["Step", "detect_steps", "potts_segments", "trend_text"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Step:
    """The level changes at ``index`` (the first point of the new segment)."""

    index: int
    before: float  # median of the segment ending at index - 1
    after: float  # median of the segment starting at index
    ratio: float  # after / before (inf when before is 0)


def _segment_costs(y: FloatArray, min_size: int) -> FloatArray:
    """``c[l, r]``: L1 distance of ``y[l:r]`` from its median (inf below ``min_size``)."""
    n = y.size
    cost = np.full((n + 1, n + 1), np.inf)
    for left in range(n):
        low: list[float] = []  # max-heap (negated) of the lower half, holds the median
        high: list[float] = []
        s_low = s_high = 0.0
        for right in range(left, n):
            x = float(y[right])
            if not low or x <= -low[0]:
                heapq.heappush(low, -x)
                s_low += x
            else:
                heapq.heappush(high, x)
                s_high += x
            if len(low) > len(high) + 1:
                v = -heapq.heappop(low)
                s_low -= v
                heapq.heappush(high, v)
                s_high += v
            elif len(high) > len(low):
                v = heapq.heappop(high)
                s_high -= v
                heapq.heappush(low, -v)
                s_low += v
            if right + 1 - left >= min_size:
                m = -low[0]
                cost[left, right + 1] = max(0.0, m * len(low) - s_low + s_high - m * len(high))
    return cost


def _solve(cost: FloatArray, gamma: float) -> tuple[list[int], float]:
    """Segment starts and total L1 residual of the exact Potts solution for ``gamma``."""
    n = cost.shape[0] - 1
    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    back = np.zeros(n + 1, dtype=np.int64)
    for right in range(1, n + 1):
        candidates = best[:right] + cost[:right, right]
        j = int(np.argmin(candidates))
        best[right] = candidates[j] + gamma
        back[right] = j
    starts: list[int] = []
    right = n
    residual = 0.0
    while right > 0:
        left = int(back[right])
        residual += float(cost[left, right])
        starts.append(left)
        right = left
    return starts[::-1], residual


def potts_segments(values: Sequence[float], *, gamma: float | None = None,
                   beta: float | None = None, min_size: int = 2) -> tuple[int, ...]:
    """The start index of every segment of the L1 Potts fit (always begins with 0).

    ``gamma`` fixes the penalty per segment; None chooses it automatically (module doc).
    """
    y = np.asarray(values, dtype=np.float64)
    if y.ndim != 1 or not np.all(np.isfinite(y)):
        raise InvalidInputError(f"values must be a 1-D sequence of finite numbers; got {values!r}")
    if not isinstance(min_size, int) or min_size < 1:
        raise InvalidInputError(f"min_size must be an integer >= 1; got {min_size!r}")
    n = int(y.size)
    if n < 2 * min_size:
        return (0,) if n else ()
    cost = _segment_costs(y, min_size)
    if gamma is not None:
        if not gamma > 0:
            raise InvalidInputError(f"gamma must be positive; got {gamma!r}")
        return tuple(_solve(cost, gamma)[0])
    beta = 4 * math.log(n) / n if beta is None else beta
    gamma_0 = float(cost[0, n]) or 1.0
    eps = 1e-12 * n * (float(np.max(np.abs(y))) or 1.0)
    chosen: tuple[float, list[int]] | None = None
    for g in gamma_0 * np.geomspace(1.0, 1e-4, 41):  # largest gamma first: ties keep fewer
        starts, residual = _solve(cost, float(g))
        score = beta * len(starts) + math.log(eps + residual)
        if chosen is None or score < chosen[0] - 1e-12:
            chosen = (score, starts)
    assert chosen is not None
    return tuple(chosen[1])


def detect_steps(values: Sequence[float], *, gamma: float | None = None,
                 beta: float | None = None, min_size: int = 2) -> tuple[Step, ...]:
    """The level changes of ``values`` found by :func:`potts_segments`."""
    y = np.asarray(values, dtype=np.float64)
    starts = potts_segments(values, gamma=gamma, beta=beta, min_size=min_size)
    bounds = [*starts, int(y.size)]
    levels = [float(np.median(y[a:b])) for a, b in itertools.pairwise(bounds)]
    steps = []
    for i in range(1, len(starts)):
        before, after = levels[i - 1], levels[i]
        ratio = after / before if before else math.inf
        steps.append(Step(starts[i], before, after, ratio))
    return tuple(steps)


_BARS = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"


def _sparkline(values: Sequence[float]) -> str:
    lo, hi = min(values), max(values)
    span = hi - lo
    return "".join(_BARS[0 if span == 0 else min(7, int(8 * (v - lo) / span))] for v in values)


def trend_text(series: Series, steps: Sequence[Step]) -> str:
    """A plain-text account of a series and its steps (worse/better by the metric)."""
    kind = METRICS[series.metric].kind if series.metric in METRICS else "exponent"
    higher_better = series.metric in METRICS and METRICS[series.metric].direction == "higher"
    head = f"{series.label} {series.metric}"
    if not series.points:
        return f"{head}: no history"
    pts = series.points
    lines = [f"{head}: {len(pts)} points from {pts[0].created_at} to {pts[-1].created_at}; "
             f"first {fmt.value(pts[0].value, kind)}, latest "
             f"{fmt.value(pts[-1].value, kind)}",
             f"  {_sparkline(series.values)}"]
    if not steps:
        lines.append("  no steps found (L1 Potts fit)")
    for s in steps:
        p = pts[s.index] if 0 <= s.index < len(pts) else None
        where = "" if p is None else (f" (run {p.run_id}"
                                      + (f", {p.git_sha[:10]}" if p.git_sha else "")
                                      + f", {p.created_at})")
        worse = (s.after < s.before) if higher_better else (s.after > s.before)
        lines.append(f"  step at #{s.index}{where}: {fmt.value(s.before, kind)} -> "
                     f"{fmt.value(s.after, kind)} (x{s.ratio:.3g}, "
                     f"{'worse' if worse else 'better'})")
    return "\n".join(lines)
