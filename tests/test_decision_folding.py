"""The lossy steps of compacting a decision's evidence, as properties: folded stacks keep
every weight and every kept frame's total, down-sampling keeps the peaks and the phase
boundaries, order statistics keep each worker's median."""

from __future__ import annotations

import statistics

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.decisions.folding import (
    OTHER,
    cap_sites,
    downsample,
    fold_stacks,
    order_statistics,
)

FRAMES = st.sampled_from(["a", "b", "c", "d", "e", "_run_loop"])
STACKS = st.lists(st.tuples(st.lists(FRAMES, max_size=6).map(tuple),
                            st.integers(0, 1000), st.integers(0, 50)), max_size=40)


def _totals(stacks: list[tuple[tuple[str, ...], int, int]]) -> dict[tuple[str, ...], int]:
    out: dict[tuple[str, ...], int] = {}
    for frames, weight, _ in stacks:
        for depth in range(1, len(frames) + 1):
            out[frames[:depth]] = out.get(frames[:depth], 0) + weight
    return out


@given(STACKS, st.sampled_from([0.5, 1.0, 5.0, 30.0]))
@settings(max_examples=300, deadline=None)
def test_folding_keeps_every_weight_and_each_kept_frame_s_total(
        stacks: list[tuple[tuple[str, ...], int, int]], share: float) -> None:
    folded = fold_stacks(stacks, share, pinned=lambda f: f == "_run_loop")
    out = list(folded.stacks)
    assert sum(w for _, w, _ in out) == sum(w for _, w, _ in stacks)
    assert sum(c for _, _, c in out) == sum(c for _, _, c in stacks)
    assert folded.weight == sum(w for f, w, _ in out if f and f[-1] == OTHER)
    assert folded.carried == sum(c for f, _, c in out if f and f[-1] == OTHER)
    before, after = _totals(stacks), _totals(out)
    least = sum(w for _, w, _ in stacks) * share / 100
    for path, weight in before.items():
        if weight >= least:  # a frame carrying the share is kept, with its total
            assert after[path] == weight
    for path, weight in after.items():
        if OTHER not in path:
            assert before[path] == weight
        assert OTHER not in path[:-1]  # 'other' is only ever a leaf
    assert len({f for f, _, _ in out}) == len(out)  # merged


def test_a_pinned_frame_and_its_ancestors_are_never_folded() -> None:
    stacks = [(("root", "_run_loop", "x"), 1, 0), (("root", "big"), 999, 0)]
    folded = fold_stacks(stacks, 5.0, pinned=lambda f: f == "_run_loop")
    assert (("root", "_run_loop", OTHER), 1, 0) in folded.stacks
    assert fold_stacks(stacks, 5.0).stacks == ((("root", "big"), 999, 0),
                                               (("root", OTHER), 1, 0))


def test_sites_under_the_share_are_named_apart() -> None:
    assert cap_sites([50, 1, 30, 2, 17], 5.0) == ([0, 2, 4], [1, 3])
    assert cap_sites([], 5.0) == ([], [])


@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), min_size=1,
                max_size=3000),
       st.lists(st.tuples(st.floats(0, 3000), st.floats(0, 3000)).map(sorted),
                max_size=3),
       st.integers(40, 300))
@settings(max_examples=150, deadline=None)
def test_down_sampling_keeps_ends_peaks_and_phase_boundaries(
        values: list[tuple[int, int]], spans: list[list[float]], limit: int) -> None:
    times = [float(i) for i in range(len(values))]
    series = [[v[0] for v in values], [v[1] for v in values]]
    keep = downsample(times, series, [(a, b) for a, b in spans], limit)
    assert keep == sorted(set(keep)) and all(0 <= i < len(times) for i in keep)
    if len(times) <= limit:
        assert keep == list(range(len(times)))
        return
    assert len(keep) <= limit
    assert {0, len(times) - 1} <= set(keep)
    for s in series:
        assert max(s[i] for i in keep) == max(s)
    for start, end in spans:
        for edge in (start, end):
            below = [i for i, t in enumerate(times) if t < edge][-1:]
            above = [i for i, t in enumerate(times) if t >= edge][:1]
            assert set(below + above) <= set(keep)
        inside = [i for i, t in enumerate(times) if start <= t <= end]
        for s in series:
            if inside:
                assert max(s[i] for i in keep if i in inside) == max(s[i] for i in inside)


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=400), st.integers(5, 60))
@settings(max_examples=300, deadline=None)
def test_order_statistics_keep_the_median_minimum_and_maximum(
        values: list[int], k: int) -> None:
    kept = order_statistics(values, k)
    assert kept == sorted(kept) and len(kept) <= k + 1
    assert statistics.median(kept) == statistics.median(values)
    assert (kept[0], kept[-1]) == (min(values), max(values))
    remaining = sorted(values)
    for v in kept:  # drawn from the values, each at most as often as it occurs
        remaining.remove(v)
    if len(values) <= k:
        assert kept == sorted(values)
