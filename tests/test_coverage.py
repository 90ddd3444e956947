"""Coverage of the intervals the workbench prints, measured by seeded simulation.

Model (one measurement): ``k`` workers (fresh processes), each with a process effect -- a
log-normal multiplicative factor ``exp(N(0, sigma_between^2))`` -- and ``n = 15`` samples
per worker with within-worker noise ``exp(N(0, 0.02^2))``; 1% of samples are outliers,
1.5x slower (a GC pause, an interrupt). The truth is computed from the model, not from
data: the q-th percentile of the per-call distribution over processes (the mixture), which
on the log scale is the q-quantile of ``0.99 N(0, s^2) + 0.01 N(log 1.5, s^2)`` with
``s^2 = sigma_between^2 + 0.02^2``, solved by bisection. For the sweep slope: sizes from a
quarter to all of the workload, 5 workers per size, time ``= c * size**1.0`` times the
same process effect and noise; the truth is the exponent 1.0.

Each interval is formed a few hundred times with fixed seeds (numpy ``default_rng``) and
its coverage -- the fraction of intervals holding the truth -- compared with the nominal
95%. Grid: sigma_between in {0, 1%, 3%} (A/A runs of fresh processes on a shared 2-core
machine differed by up to 2.6%), k in {5 (the default), 10}.

Tolerances (all intervals are at 95% nominal):

- **Lower bound 0.90 everywhere.** With R replicates the coverage estimate has standard
  error sqrt(0.95 * 0.05 / R): 0.014 at R = 250 (percentiles), 0.011 at R = 400
  (slopes), so 0.90 is more than 3 standard errors below nominal, and an interval whose
  true coverage is below about 0.92 fails it. The intervals these replaced measured
  0.51-0.77 (pooled order-statistic p50 at 1% and 3% spread) and 0.58-0.85 (slope fed
  every sample, same spreads); ``test_the_pooled_unit_is_caught`` checks that this harness
  sees that. In this file's own runs the new intervals measured 0.92-0.99 (lowest: p50
  at 3% spread, 5 workers, 0.924; the same cell measured 0.93-0.95 over 1000 replicates
  with other seeds).
- **Upper bound 0.995 with spread between processes.** An interval may be conservative,
  not uselessly so (measured at most 0.975 over 1000 replicates).
- **Without spread, percentile intervals may reach 1.0**, but are then held to a width:
  the worker-level interval cannot know that the spread is exactly 0 (with k workers the
  between-worker variance is only known to within a chi-square(k-1) factor), so at zero
  spread it is conservative by design: 0.993 (p50, 5 workers), 0.983 (p50, 10), 0.989
  and 0.981 (p95) over 1000 replicates. Instead of a coverage ceiling, its median width
  must stay within 1.4x that of the order-statistic interval, which is exact when the
  samples are independent (measured 1.21x at p50 with 5 workers, 1.09x with 10, and
  0.82-0.87x at p95, where the order statistics reach into the outliers).
- **Slopes: 0.90 to 0.995 in every cell** (measured 0.94-0.97; the slope's t interval
  is nearly exact for normal process effects once its points are independent units).

Runtime: the grouped percentile intervals are formed with ``resamples=200`` draws (the
product uses 2000) to keep this file near 16 s; at 200 draws the coverages measured within
about 0.01 of those at 2000. Nothing here is skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats as sps

from workbench.measure.compare_stats import loglog_slope
from workbench.measure.grouped_ci import grouped_percentile_ci
from workbench.measure.stats import percentile_ci

Array = np.ndarray[Any, np.dtype[np.float64]]

NOMINAL = 0.95
LOW = 0.90  # every interval: at least 3 standard errors of the estimate below nominal
HIGH = 0.995  # with spread between processes
ZERO_SPREAD_WIDTH = 1.4  # without it: median width over the order-statistic interval's

SIGMA_WITHIN = 0.02
OUTLIER_RATE = 0.01
OUTLIER_FACTOR = 1.5
SAMPLES = 15  # per worker, the default MeasureConfig.samples
SPREADS = (0.0, 0.01, 0.03)
PERCENTILE_REPLICATES = 250
PERCENTILE_RESAMPLES = 200
SLOPE_REPLICATES = 400
EXPONENT = 1.0


def _draw(rng: np.random.Generator, shape: tuple[int, ...], sigma_between: float) -> Array:
    """Times of shape (..., workers, samples): process effect x noise x occasional outlier."""
    effect = rng.normal(0.0, sigma_between, (*shape[:-1], 1))
    noise = rng.normal(0.0, SIGMA_WITHIN, shape)
    outlier = np.where(rng.random(shape) < OUTLIER_RATE, OUTLIER_FACTOR, 1.0)
    return np.asarray(1e6 * np.exp(effect + noise) * outlier, dtype=np.float64)


def _mixture_percentile(q: float, sigma_between: float) -> float:
    """The q-th percentile of the model's per-call distribution over processes."""
    s = float(np.hypot(sigma_between, SIGMA_WITHIN))

    def cdf(log_t: float) -> float:
        main = sps.norm.cdf(log_t / s)
        slow = sps.norm.cdf((log_t - np.log(OUTLIER_FACTOR)) / s)
        return float((1 - OUTLIER_RATE) * main + OUTLIER_RATE * slow)

    lo, hi = -1.0, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < q / 100 else (lo, mid)
    return float(1e6 * np.exp((lo + hi) / 2))


def _coverage(lows: Array, highs: Array, truth: float) -> float:
    return float(np.mean((lows <= truth) & (truth <= highs)))


def _percentile_runs(q: float, workers: int, sigma_between: float, *,
                     pooled: bool = False) -> dict[str, Array]:
    """Per replicate: the grouped interval's ends and, if asked, the pooled
    order-statistic interval's (``percentile_ci`` of all samples, the old unit)."""
    rng = np.random.default_rng([int(q), workers, round(1e4 * sigma_between)])
    data = _draw(rng, (PERCENTILE_REPLICATES, workers, SAMPLES), sigma_between)
    ends: dict[str, list[float]] = {"low": [], "high": [], "pooled_low": [], "pooled_high": []}
    for i, groups in enumerate(data):
        est = grouped_percentile_ci(groups.tolist(), q, NOMINAL,
                                    resamples=PERCENTILE_RESAMPLES, seed=i)
        assert est.interval is not None and est.value is not None, est.note
        assert est.value == pytest.approx(np.percentile(groups, q), rel=1e-12)
        ends["low"].append(est.interval.low)
        ends["high"].append(est.interval.high)
        if pooled:
            old = percentile_ci(groups.ravel(), q, NOMINAL)
            assert old.interval is not None, old.note
            ends["pooled_low"].append(old.interval.low)
            ends["pooled_high"].append(old.interval.high)
    return {key: np.array(values) for key, values in ends.items()}


@pytest.mark.parametrize("workers", [5, 10])
@pytest.mark.parametrize("sigma_between", SPREADS)
@pytest.mark.parametrize("q", [50, 95])
def test_percentile_intervals_cover(q: float, sigma_between: float, workers: int) -> None:
    """``grouped_percentile_ci`` (what ``Measurement.summary`` shows for p50 and p95)."""
    truth = _mixture_percentile(q, sigma_between)
    runs = _percentile_runs(q, workers, sigma_between, pooled=sigma_between == 0)
    coverage = _coverage(runs["low"], runs["high"], truth)
    where = f"p{q}, {workers} workers, {sigma_between:.0%} between processes"
    assert coverage >= LOW, f"{where}: coverage {coverage:.3f} < {LOW}"
    if sigma_between > 0:
        assert coverage <= HIGH, f"{where}: coverage {coverage:.3f} > {HIGH}"
    else:
        ratio = float(np.median((runs["high"] - runs["low"])
                                / (runs["pooled_high"] - runs["pooled_low"])))
        assert ratio <= ZERO_SPREAD_WIDTH, f"{where}: {ratio:.2f}x the order-statistic width"


def _slope_runs(sizes: tuple[float, ...], sigma_between: float, *, per_worker: bool,
                workers: int = 5) -> tuple[Array, Array]:
    """Per replicate: the slope interval's ends, fitted through each worker's median
    (``per_worker``, as ``build_sweep`` and the scaling budget do) or every sample."""
    rng = np.random.default_rng([len(sizes), workers, round(1e4 * sigma_between)])
    data = _draw(rng, (SLOPE_REPLICATES, len(sizes), workers, SAMPLES), sigma_between)
    data *= np.asarray(sizes)[:, None, None] ** EXPONENT
    lows, highs = [], []
    for rep in data:
        if per_worker:
            fit = loglog_slope(sizes, [np.median(at, axis=1).tolist() for at in rep])
        else:
            fit = loglog_slope(sizes, [at.ravel().tolist() for at in rep])
        lows.append(fit.interval.low)
        highs.append(fit.interval.high)
    return np.array(lows), np.array(highs)


SWEEPS = [(250.0, 500.0, 1000.0), (125.0, 250.0, 500.0, 1000.0)]


@pytest.mark.parametrize("sizes", SWEEPS, ids=["3 sizes", "4 sizes"])
@pytest.mark.parametrize("sigma_between", SPREADS)
def test_sweep_slope_interval_covers(sizes: tuple[float, ...], sigma_between: float) -> None:
    """``loglog_slope`` fed one median per worker per size, 5 workers per size."""
    coverage = _coverage(*_slope_runs(sizes, sigma_between, per_worker=True), EXPONENT)
    where = f"slope, {len(sizes)} sizes x 5 workers, {sigma_between:.0%} between processes"
    assert LOW <= coverage <= HIGH, f"{where}: coverage {coverage:.3f}"


def test_the_pooled_unit_is_caught() -> None:
    """The harness sees the failure this file guards against: with 3% spread between
    processes, intervals that count every sample as independent fall far below LOW
    (measured: 0.60 for the slope, 0.50 for the median)."""
    slope = _coverage(*_slope_runs(SWEEPS[0], 0.03, per_worker=False), EXPONENT)
    runs = _percentile_runs(50, 5, 0.03, pooled=True)
    median = _coverage(runs["pooled_low"], runs["pooled_high"], _mixture_percentile(50, 0.03))
    assert slope < 0.75 and median < 0.75, (slope, median)


# -- speed-up ratios and p50 budget ratios -----------------------------------------------
# The worker-level ratio (Hodges-Lehmann with the rank interval, used by compare's speed-ups
# and check's p50 rules) has its coverage test beside its other laws, with the same kind of
# model: tests/test_worker_stats.py::test_ratio_interval_coverage_with_and_without_spread...


# -- the one-sided bounds of budget verdicts (workbench/budget/bounds.py) ------------------
# A verdict errs at one end: a breach when the low end is above the truth, a pass when the
# high end is below it. So each end's miss rate is measured, against its nominal tail
# (2.5 % here, as each end of a 95 % interval), with 5 % spread between processes too. The
# bound is three standard errors over nominal (R = 200: 0.058). Measured when written:
# tail percentiles 0-2.5 % (p95), 0-0.5 % (p99); ratios of worker percentiles 1-4 %;
# the median worker 0-3 %.

TAIL = 0.025
VERDICT_SPREADS = (0.0, 0.01, 0.03, 0.05)
VERDICT_REPLICATES = 200
MISS_BOUND = TAIL + 3 * float(np.sqrt(TAIL * (1 - TAIL) / VERDICT_REPLICATES))


def _misses(lows: list[float | None], highs: list[float | None], truth: float
            ) -> tuple[float, float]:
    """Each end's miss rate; an open end (None) never misses."""
    low = np.mean([x is not None and x > truth for x in lows])
    high = np.mean([x is not None and x < truth for x in highs])
    return float(low), float(high)


@pytest.mark.parametrize("shape", [(5, 15), (10, 30)], ids=["5x15", "10x30"])
@pytest.mark.parametrize("sigma_between", VERDICT_SPREADS)
@pytest.mark.parametrize("q", [95, 99])
def test_absolute_tail_percentile_bounds_miss_each_end_at_most_nominal(
        q: int, sigma_between: float, shape: tuple[int, int]) -> None:
    from workbench.budget.bounds import tail_percentile_bounds

    workers, samples = shape
    truth = _mixture_percentile(q, sigma_between)
    rng = np.random.default_rng([q, workers, round(1e4 * sigma_between), 28])
    data = _draw(rng, (VERDICT_REPLICATES, workers, samples), sigma_between)
    lows, highs = [], []
    for i, groups in enumerate(data):
        b, _ = tail_percentile_bounds(groups.tolist(), q, TAIL,
                                      resamples=PERCENTILE_RESAMPLES, seed=i)
        lows.append(b.low)
        highs.append(b.high)
    low, high = _misses(lows, highs, truth)
    where = f"p{q}, {workers}x{samples}, {sigma_between:.0%} between processes"
    assert low <= MISS_BOUND and high <= MISS_BOUND, f"{where}: misses {low:.3f}/{high:.3f}"
    if q == 95:  # and it decides: both ends exist
        assert all(x is not None for x in lows + highs), where


@pytest.mark.parametrize("sigma_between", VERDICT_SPREADS)
@pytest.mark.parametrize("q", [50, 95, 99])
def test_relative_bounds_of_worker_percentiles_hold_at_the_limit(
        q: int, sigma_between: float) -> None:
    """A current side exactly 1.05x its baseline (the limit): the rank bounds of the ratio
    of each worker's own pNN, 7 workers per side (the first look of 8 rules)."""
    from workbench.budget.bounds import ratio_bounds, worker_values

    rng = np.random.default_rng([q, round(1e4 * sigma_between), 7])
    base = _draw(rng, (VERDICT_REPLICATES, 7, SAMPLES), sigma_between)
    cur = 1.05 * _draw(rng, (VERDICT_REPLICATES, 7, SAMPLES), sigma_between)
    lows, highs = [], []
    for a, b in zip(cur, base, strict=True):
        r = ratio_bounds(worker_values(a.tolist(), q), worker_values(b.tolist(), q), TAIL)
        assert not r.model
        lows.append(r.low)
        highs.append(r.high)
    low, high = _misses(lows, highs, 1.05)
    where = f"p{q} ratio, {sigma_between:.0%} between processes"
    assert low <= MISS_BOUND and high <= MISS_BOUND, f"{where}: misses {low:.3f}/{high:.3f}"


@pytest.mark.parametrize("sigma_between", VERDICT_SPREADS)
def test_absolute_median_worker_bounds_hold(sigma_between: float) -> None:
    """Sign-test bounds of the median worker's median (10 workers), against the model's
    p50 over processes."""
    from workbench.budget.bounds import level_bounds, worker_values

    truth = _mixture_percentile(50, sigma_between)
    rng = np.random.default_rng([50, round(1e4 * sigma_between), 10])
    data = _draw(rng, (VERDICT_REPLICATES, 10, SAMPLES), sigma_between)
    lows, highs = [], []
    for groups in data:
        b = level_bounds(worker_values(groups.tolist()), TAIL)
        assert not b.model
        lows.append(b.low)
        highs.append(b.high)
    low, high = _misses(lows, highs, truth)
    assert low <= MISS_BOUND and high <= MISS_BOUND, (sigma_between, low, high)
