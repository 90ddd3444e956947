"""The lossy steps that make a decision's evidence small: pure functions on plain data.

- :func:`fold_stacks`: weighted call stacks (a flame graph's samples, the bytes a memory
  track's allocation stacks hold) cut to the frames that carry at least a given share of
  the weight. A stack whose node falls below the share is cut at its deepest ancestor that
  carries it, and its weight goes to an :data:`OTHER` leaf there: every kept frame keeps
  its total exactly, and the folded weight stays in the tree, under its parent.
- :func:`cap_sites`: the rows carrying at least the share, the rest summed into one.
- :func:`downsample`: a time series cut to a number of points, keeping the first and last,
  the peaks of each series (overall and in each phase), the points on both sides of every
  phase boundary, and the lowest and highest of each series in evenly spaced intervals.
- :func:`order_statistics`: one worker's samples reduced to evenly spaced order
  statistics, symmetric around the middle, so the minimum, maximum and median are kept.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import NamedTuple

__all__ = ["OTHER", "Folded", "cap_sites", "downsample", "fold_stacks", "order_statistics"]

#: The frame that stands for the folded stacks below a kept frame.
OTHER = "other (folded)"

Stack = tuple[tuple[str, ...], int, int]  # frames (root first), weight, a count summed along


class Folded(NamedTuple):
    """Stacks after :func:`fold_stacks`: the stacks, how many input stacks were folded
    into :data:`OTHER` leaves, and the weight and the count they carried."""

    stacks: tuple[Stack, ...]
    folded: int
    weight: int
    carried: int


def _node_weights(stacks: Sequence[Stack]) -> dict[tuple[str, ...], int]:
    nodes: dict[tuple[str, ...], int] = {}
    for frames, weight, _ in stacks:
        for depth in range(1, len(frames) + 1):
            nodes[frames[:depth]] = nodes.get(frames[:depth], 0) + weight
    return nodes


def fold_stacks(stacks: Sequence[Stack], share_pct: float, *,
                pinned: Callable[[str], bool] = lambda frame: False) -> Folded:
    """``stacks`` with every frame whose node carries less than ``share_pct`` % of the
    whole weight folded into an :data:`OTHER` leaf under its deepest kept ancestor. A
    frame for which ``pinned`` is true, and its ancestors, are never folded. Stacks that
    end in the same place are merged; the result is sorted by weight, heaviest first."""
    total = sum(w for _, w, _ in stacks)
    least = total * share_pct / 100.0
    nodes = _node_weights(stacks)
    forced = {frames[:i + 1] for frames, _, _ in stacks
              for i, frame in enumerate(frames) if pinned(frame)}
    forced |= {path[:i] for path in list(forced) for i in range(1, len(path))}
    out: dict[tuple[str, ...], list[int]] = {}
    folded = weight = count = 0
    for frames, w, c in stacks:
        keep = len(frames)  # the kept frames are closed under taking a parent
        while keep and nodes[frames[:keep]] < least and frames[:keep] not in forced:
            keep -= 1
        path = frames if keep == len(frames) else (*frames[:keep], OTHER)
        if keep < len(frames):
            folded, weight, count = folded + 1, weight + w, count + c
        into = out.setdefault(path, [0, 0])
        into[0] += w
        into[1] += c
    merged = sorted(((p, w, c) for p, (w, c) in out.items()),
                    key=lambda s: (-s[1], s[0]))
    return Folded(tuple(merged), folded, weight, count)


def cap_sites(weights: Sequence[int], share_pct: float) -> tuple[list[int], list[int]]:
    """The indices of the rows whose weight is at least ``share_pct`` % of the sum (in
    order), and of the others."""
    least = sum(weights) * share_pct / 100.0
    kept = [i for i, w in enumerate(weights) if w >= least]
    rest = [i for i, w in enumerate(weights) if w < least]
    return kept, rest


def _extremes(series: Sequence[Sequence[float]], lo: int, hi: int) -> set[int]:
    """The index of the lowest and of the highest value of each series in ``[lo, hi)``."""
    found: set[int] = set()
    for values in series:
        part = range(lo, hi)
        found.add(min(part, key=lambda i: (values[i], i)))
        found.add(max(part, key=lambda i: (values[i], -i)))
    return found


def downsample(times: Sequence[float], series: Sequence[Sequence[float]],
               spans: Sequence[tuple[float, float]], limit: int) -> list[int]:
    """The indices (ascending) of at most about ``limit`` points of a time series
    (``times`` ascending, one value per time in each of ``series``) that keep its shape:
    the first and last, each series' peak overall and within each of ``spans`` (start,
    end), the points on both sides of every span's start and end, and each series' lowest
    and highest in evenly spaced intervals. All of them when there are at most ``limit``."""
    n = len(times)
    if n <= limit:
        return list(range(n))
    keep = {0, n - 1}
    for values in series:
        keep.add(max(range(n), key=lambda i: (values[i], -i)))
    for start, end in spans:
        for edge in (start, end):
            at = bisect.bisect_left(times, edge)
            keep.update(i for i in (at - 1, at) if 0 <= i < n)
        lo, hi = bisect.bisect_left(times, start), bisect.bisect_right(times, end)
        if lo < hi:
            for values in series:
                keep.add(max(range(lo, hi), key=lambda i: (values[i], -i)))
    per = 2 * max(len(series), 1)
    buckets = max((limit - len(keep)) // per, 1)
    for b in range(buckets):
        lo, hi = n * b // buckets, n * (b + 1) // buckets
        if lo < hi:
            keep |= _extremes(series, lo, hi)
    return sorted(keep)


def order_statistics(values: Sequence[int], k: int) -> list[int]:
    """``values`` sorted and reduced to at most ``k + 1`` order statistics at evenly
    spaced ranks, symmetric around the middle: the minimum, the maximum and the middle
    one (both middle ones for an even count) are always among them, so the median is
    unchanged. All of them, sorted, when there are at most ``k``."""
    ordered = sorted(values)
    n = len(ordered)
    if n <= k:
        return ordered
    half = max((k - 1) // 2, 1)
    lower = {(i * (n - 1)) // (2 * half) for i in range(half + 1)} | {(n - 1) // 2}
    ranks = sorted(lower | {n - 1 - r for r in lower})
    return [ordered[r] for r in ranks]
