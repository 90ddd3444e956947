"""Latency statistics: percentiles and their intervals, spread, bootstrap ratio, verdicts."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import InvalidInputError
from workbench.measure.compare_stats import loglog_slope, verdict
from workbench.measure.grouped_ci import grouped_percentile_ci
from workbench.measure.stats import (
    Estimate,
    Interval,
    iqr,
    mad,
    min_samples_for,
    order_statistic_ranks,
    outliers,
    percentile,
    percentile_ci,
)
from workbench.measure.summary import Summary, summarize, summarize_groups
from workbench.measure.worker_stats import t_ratio_interval

ONE_TO_100 = np.arange(1.0, 101.0)


# -- exact values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [(0, 1.0), (25, 25.75), (50, 50.5), (90, 90.1), (95, 95.05), (99, 99.01), (100, 100.0)],
)
def test_percentiles_of_1_to_100(q: float, expected: float) -> None:
    assert percentile(ONE_TO_100, q) == pytest.approx(expected, abs=1e-12)


def _expected_ranks(n: int, q: float, confidence: float) -> tuple[int, int] | None:
    """Brute force over every pair, with the binomial CDF computed exactly from math.comb."""
    p = Fraction(q) / 100
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    cdf = [sum(pmf[: k + 1], Fraction(0)) for k in range(n + 1)]
    best: tuple[int, float, int, int] | None = None
    for lo in range(1, n + 1):
        for hi in range(lo + 1, n + 1):
            if cdf[hi - 1] - cdf[lo - 1] >= Fraction(confidence):
                key = (hi - lo, abs((lo + hi - 1) - 2 * n * (q / 100)), lo, hi)
                best = key if best is None or key < best else best
    return None if best is None else (best[2], best[3])


@pytest.mark.parametrize(
    ("n", "q", "confidence"),
    [(6, 50, 0.95), (20, 50, 0.95), (37, 50, 0.9), (60, 95, 0.95), (100, 50, 0.95),
     (100, 90, 0.95), (80, 25, 0.99), (59, 95, 0.95), (58, 95, 0.95), (5, 50, 0.95)],
)  # fmt: skip
def test_order_statistic_ranks_match_brute_force(n: int, q: float, confidence: float) -> None:
    expected = _expected_ranks(n, q, confidence)
    assert order_statistic_ranks(n, q, confidence) == expected
    est = percentile_ci(np.arange(1.0, n + 1), q, confidence)  # x_(k) == k
    if expected is None:
        assert est.value is None and est.interval is None
    else:
        assert est.interval == Interval(float(expected[0]), float(expected[1]), confidence)


def test_known_median_interval_of_100() -> None:
    est = percentile_ci(ONE_TO_100, 50)
    assert est.value == 50.5 and est.n == 100
    assert est.interval == Interval(40.0, 60.0, 0.95)  # P(40 <= B <= 59) = 0.954


def test_p99_of_100_samples_is_insufficient() -> None:
    est = percentile_ci(ONE_TO_100, 99)
    assert est.value is None and est.interval is None and est.n == 100
    assert est.note.startswith("insufficient samples: p99 needs >= 299 for a 95% interval")


@pytest.mark.parametrize(("q", "confidence", "n"), [(50, 0.95, 6), (95, 0.95, 59), (99, 0.95, 299)])
def test_min_samples_for_known_values(q: float, confidence: float, n: int) -> None:
    assert min_samples_for(q, confidence) == n
    assert order_statistic_ranks(n, q, confidence) is not None
    assert order_statistic_ranks(n - 1, q, confidence) is None
    assert min_samples_for(100 - q, confidence) == n  # the rule is symmetric in q
    assert 1 - (q / 100) ** n >= confidence > 1 - (q / 100) ** (n - 1) or q == 50


def test_mad_iqr_outliers_known() -> None:
    xs = [*range(1, 11), 100]
    assert mad(xs) == 3.0  # median 6; deviations 5,4,3,2,1,0,1,2,3,4,94
    assert mad(xs, scaled=True) == pytest.approx(3.0 * 1.4826, rel=1e-4)
    assert iqr(ONE_TO_100) == pytest.approx(49.5)
    assert outliers(xs) == 1
    assert outliers(ONE_TO_100) == 0


def test_summarize_and_json_round_trip() -> None:
    s = summarize(np.arange(1.0, 401.0))
    assert (s.n, s.min, s.max, s.mean, s.outliers) == (400, 1.0, 400.0, 200.5, 0)
    assert s.stdev == pytest.approx(float(np.std(np.arange(1.0, 401.0), ddof=1)))
    assert s.median.value == 200.5 and s.p99.value is not None and s.p99.interval is not None
    data = json.loads(json.dumps(s.to_json()))
    assert Summary.from_json(data) == s
    small = summarize([5.0])
    assert small.stdev is None and small.median.value is None
    assert Summary.from_json(json.loads(json.dumps(small.to_json()))) == small
    with pytest.raises(InvalidInputError, match="malformed"):
        Summary.from_json({"n": 1})
    with pytest.raises(InvalidInputError, match="malformed"):
        Estimate.from_json({"value": 1.0})


# -- percentiles of grouped samples (the worker as the unit) -------------------------------


def _workers(seed: int, workers: int, samples: int, spread: float) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    effects = rng.normal(0.0, spread, workers)
    return [(1e6 * np.exp(e + rng.normal(0.0, 0.02, samples))).tolist() for e in effects]


def test_one_worker_falls_back_to_the_order_statistic_interval() -> None:
    est = grouped_percentile_ci([ONE_TO_100.tolist()], 50)
    old = percentile_ci(ONE_TO_100, 50)
    assert (est.value, est.interval, est.n) == (old.value, old.interval, old.n)
    assert est.note.startswith(old.note) and "one worker" in est.note


def test_grouped_needs_as_many_samples_as_the_pooled_interval() -> None:
    groups = _workers(1, 5, 15, 0.01)  # 75 samples: p95 needs 59, p99 299
    assert grouped_percentile_ci(groups, 95).value is not None
    est = grouped_percentile_ci(groups, 99)
    assert est.value is None and est.interval is None and est.n == 75
    assert est.note == ("insufficient samples: p99 needs >= 299 for a 95% interval "
                        "(have 75 from 5 workers)")
    few = grouped_percentile_ci([[1.0, 2.0], [3.0, 4.0]], 50)  # 4 < 6
    assert few.value is None and "needs >= 6" in few.note


def test_grouped_interval_widens_with_spread_between_workers() -> None:
    # The same within-worker noise; only the process effects differ.
    tight = grouped_percentile_ci(_workers(3, 5, 15, 0.0), 50)
    spread = grouped_percentile_ci(_workers(3, 5, 15, 0.05), 50)
    pooled = percentile_ci(np.concatenate(_workers(3, 5, 15, 0.05)), 50)
    assert tight.interval is not None and spread.interval is not None
    assert pooled.interval is not None
    assert spread.interval.width > 3 * tight.interval.width
    assert spread.interval.width > 3 * pooled.interval.width
    assert "5 workers" in spread.note and "75 samples" in spread.note


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32), st.integers(2, 8), st.integers(3, 30),
       st.sampled_from([0.0, 0.01, 0.1]), st.sampled_from([25, 50, 90, 95]))
def test_grouped_interval_contains_its_point_and_is_deterministic(
    seed: int, workers: int, samples: int, spread: float, q: float
) -> None:
    groups = _workers(seed, workers, samples, spread)
    est = grouped_percentile_ci(groups, q, resamples=200, seed=seed % 7)
    assert est == grouped_percentile_ci(groups, q, resamples=200, seed=seed % 7)
    assert est.n == workers * samples
    if est.value is None:
        assert est.n < min_samples_for(q)
    else:
        assert est.interval is not None and est.interval.low <= est.value <= est.interval.high
        assert est.value == pytest.approx(percentile(np.concatenate(groups), q), rel=1e-12)


def test_grouped_interval_of_identical_workers_and_unequal_sizes() -> None:
    same = grouped_percentile_ci([[5.0] * 10, [5.0] * 3, [5.0] * 20], 50)
    assert same.value == 5.0 and same.interval is not None
    assert same.interval.low == pytest.approx(5.0) and same.interval.high == pytest.approx(5.0)
    ragged = grouped_percentile_ci([g[:n] for g, n in zip(_workers(4, 4, 30, 0.02),
                                                          (30, 5, 12, 1), strict=True)], 50)
    assert ragged.value is not None and ragged.n == 48


def test_a_time_of_zero_with_several_workers_has_no_interval() -> None:
    groups = [[0.0, *range(1, 10)], list(range(1, 11))]
    est = grouped_percentile_ci(groups, 50)
    assert est.value == percentile(np.concatenate(groups), 50)
    assert est.interval is None  # never the pooled samples' interval
    assert "time of 0" in est.note


def test_summarize_groups_pools_the_figures_and_groups_the_intervals() -> None:
    groups = _workers(5, 5, 80, 0.03)  # 400 samples: p99 can be formed
    s = summarize_groups(groups)
    pooled = summarize(np.concatenate(groups))
    for name in ("n", "mean", "stdev", "min", "max", "mad", "iqr", "outliers"):
        assert getattr(s, name) == getattr(pooled, name)
    for got, q in ((s.median, 50), (s.p95, 95), (s.p99, 99)):
        assert got == grouped_percentile_ci(groups, q)
        assert got.value == pytest.approx(percentile(np.concatenate(groups), q), rel=1e-12)
    assert Summary.from_json(json.loads(json.dumps(s.to_json()))) == s


# -- Hypothesis invariants -----------------------------------------------------------------

_times = st.floats(0.0, 1e9, allow_nan=False, allow_infinity=False)


@st.composite
def samples(draw: st.DrawFn) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Small hand-drawn lists (with ties), or large seeded lognormal/uniform arrays."""
    if draw(st.booleans()):
        values = draw(
            st.lists(st.one_of(_times, st.sampled_from([0.0, 1.0, 1e3])), min_size=1, max_size=80)
        )
        return np.array(values)
    rng = np.random.default_rng(draw(st.integers(0, 2**32)))
    n = draw(st.integers(1, 1200))
    if draw(st.booleans()):
        return rng.lognormal(10.0, 1.0, n)
    return np.round(rng.uniform(0.0, 100.0, n))  # many ties


@settings(max_examples=60, deadline=None)
@given(samples())
def test_formed_percentiles_are_ordered(xs: np.ndarray[Any, np.dtype[np.float64]]) -> None:
    ests = [percentile_ci(xs, q) for q in (50, 95, 99)]
    values = [e.value for e in ests if e.value is not None]
    assert values == sorted(values)
    assert [e.value is None for e in ests] == [xs.size < m for m in (6, 59, 299)]


@settings(max_examples=80, deadline=None)
@given(samples(), st.sampled_from([1, 5, 25, 50, 75, 90, 95, 99, 99.9]), st.floats(0.05, 0.999))
def test_every_formed_interval_contains_its_point(
    xs: np.ndarray[Any, np.dtype[np.float64]], q: float, confidence: float
) -> None:
    est = percentile_ci(xs, q, confidence)
    if est.value is None:
        assert est.interval is None and xs.size < min_samples_for(q, confidence)
    else:
        assert est.interval is not None
        assert est.interval.low <= est.value <= est.interval.high
        assert xs.min() <= est.interval.low and est.interval.high <= xs.max()


_DISTRIBUTIONS = {
    "uniform": lambda u: 1e3 * u,
    "exponential": lambda u: -np.log1p(-u),
    "lognormal": lambda u: np.exp(np.sqrt(2) * _erfinv(2 * u - 1)),
}


def _erfinv(y: np.ndarray[Any, np.dtype[np.float64]]) -> np.ndarray[Any, np.dtype[np.float64]]:
    from scipy.special import erfinv

    return np.asarray(erfinv(y), dtype=np.float64)


@settings(max_examples=40, deadline=None)
@given(st.integers(6, 300), st.sampled_from(sorted(_DISTRIBUTIONS)))
def test_median_interval_narrows_with_more_samples(n: int, dist: str) -> None:
    # The same distribution's quantile grid at n and 4n: deterministic, hence never flaky.
    def width(m: int) -> float:
        grid = (np.arange(1, m + 1) - 0.5) / m
        interval = percentile_ci(_DISTRIBUTIONS[dist](grid), 50).interval
        assert interval is not None
        return interval.width

    assert width(4 * n) <= width(n)


@settings(max_examples=60, deadline=None)
@given(samples(), st.floats(0.01, 100.0))
def test_spread_is_non_negative_and_scale_equivariant(
    xs: np.ndarray[Any, np.dtype[np.float64]], c: float
) -> None:
    for f in (mad, iqr):
        assert f(xs) >= 0
        assert f(xs * c) == pytest.approx(c * f(xs), rel=1e-9, abs=1e-6)
    assert mad(xs * c, scaled=True) == pytest.approx(c * mad(xs, scaled=True), rel=1e-9, abs=1e-6)
    assert 0 <= outliers(xs) <= xs.size


_groups = st.lists(
    st.lists(st.floats(1.0, 1e6, allow_nan=False, allow_infinity=False), min_size=1, max_size=25),
    min_size=1,
    max_size=5,
)


def _worker_groups(seed: int, workers: int, size: int) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(100.0, 130.0, size).tolist() for _ in range(workers)]


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32), st.integers(2, 6), st.integers(5, 40))
def test_identical_groups_are_inconclusive(seed: int, workers: int, size: int) -> None:
    groups = _worker_groups(seed, workers, size)
    t = t_ratio_interval(groups, groups, 0.025)
    assert t.value == pytest.approx(1.0) and t.p_value == pytest.approx(1.0)
    est = Estimate(t.value, Interval(t.low, t.high, 0.95), workers * size * 2, "")
    assert 1.0 in est.interval  # type: ignore[operator]
    assert verdict(est, t.p_value) == "inconclusive"


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32), st.integers(3, 6), st.integers(10, 40))
def test_clearly_separated_groups_are_faster_or_slower(seed: int, workers: int, size: int) -> None:
    base = _worker_groups(seed, workers, size)
    half = [[x * 0.5 for x in g] for g in base]
    for a, b, point, expected in ((base, half, 2.0, "faster"), (half, base, 0.5, "slower")):
        t = t_ratio_interval(a, b, 0.025)
        assert t.value == pytest.approx(point)
        est = Estimate(t.value, Interval(t.low, t.high, 0.95), workers * size * 2, "")
        assert verdict(est, t.p_value) == expected


def test_verdict_rules() -> None:
    iv = Interval(1.01, 1.2, 0.95)
    assert verdict(Estimate(1.1, iv, 100, ""), 0.001) == "faster"
    assert verdict(Estimate(1.1, iv, 100, ""), 0.02) == "inconclusive"  # p not below alpha
    assert verdict(Estimate(1.015, Interval(1.01, 1.02, 0.95), 100, ""), 0.0) == "inconclusive"
    assert verdict(Estimate(0.9, Interval(0.85, 0.95, 0.95), 9, ""), 0.001) == "slower"
    assert verdict(Estimate(1.1, Interval(0.99, 1.2, 0.95), 9, ""), 0.001) == "inconclusive"
    assert verdict(Estimate(None, None, 3, "insufficient samples"), 0.0) == "inconclusive"


# -- scaling fit ---------------------------------------------------------------------------


@pytest.mark.parametrize("true_slope", [1.0, 2.0])
@pytest.mark.parametrize("repeated", [False, True])
def test_loglog_slope_recovers_power_laws(true_slope: float, repeated: bool) -> None:
    # repeated: three independent units (workers' medians) per size
    rng = np.random.default_rng(7)
    sizes = [10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0]
    noisy = [[3e2 * s**true_slope * rng.lognormal(0, 1e-3) for _ in range(3)] for s in sizes]
    times: list[Any] = noisy if repeated else [t[0] for t in noisy]
    fit = loglog_slope(sizes, times)
    assert abs(fit.slope - true_slope) < 0.05
    assert fit.interval.low <= true_slope <= fit.interval.high
    assert fit.n_points == (21 if repeated else 7) and fit.r2 > 0.999
    assert fit.intercept == pytest.approx(math.log(3e2), abs=0.05)


def test_loglog_slope_accepts_repeated_sizes_and_needs_three_distinct() -> None:
    fit = loglog_slope([10, 10, 100, 100, 1000], [10.0, 10.0, 100.0, 100.0, 1000.0])
    assert fit.slope == pytest.approx(1.0) and fit.n_points == 5
    with pytest.raises(InvalidInputError, match=r"3 distinct sizes; got \[10.0, 100.0\]"):
        loglog_slope([10, 100, 100], [1.0, 2.0, 2.5])


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "shown"),
    [
        (lambda: percentile([], 50), "empty"),
        (lambda: percentile([1.0, math.nan], 50), "nan"),
        (lambda: summarize([1.0, math.inf]), "inf"),
        (lambda: mad([3.0, -2.5]), "-2.5"),
        (lambda: percentile([1.0], 101), "101"),
        (lambda: percentile([1.0], -1), "-1"),
        (lambda: percentile_ci([1.0] * 10, 100), "100"),
        (lambda: percentile_ci([1.0] * 10, 50, confidence=1.5), "1.5"),
        (lambda: percentile_ci([1.0] * 10, 50, confidence=0), "0"),
        (lambda: min_samples_for(50, confidence=1.0), "1.0"),
        (lambda: iqr([[1.0, 2.0]]), "shape"),
        (lambda: verdict(Estimate(1.0, None, 1, ""), 1.5), "1.5"),
        (lambda: loglog_slope([1, 2, 3], [1.0, -4.0, 9.0]), "-4.0"),
        (lambda: loglog_slope([1, 2, 3], [1.0, 4.0]), "2 times"),
        (lambda: outliers(["fast"]), "fast"),
        (lambda: grouped_percentile_ci([], 50), "[]"),
        (lambda: grouped_percentile_ci([[1.0], []], 50), "groups[1]"),
        (lambda: grouped_percentile_ci([[1.0], [-3.5]], 50), "-3.5"),
        (lambda: grouped_percentile_ci([[1.0]] * 6, 100), "100"),
        (lambda: grouped_percentile_ci([[1.0]] * 6, 50, resamples=10), "10"),
        (lambda: grouped_percentile_ci([[1.0]] * 6, 50, seed=-1), "-1"),
        (lambda: summarize_groups("fast"), "fast"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_names_the_value(call: Any, shown: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        call()
    assert shown in str(info.value)
