"""The sequential boundary and the one-sided bounds of budget verdicts.

The calibration (``boundary.look_level``) is checked against an independent simulation:
log-normal worker values exactly at the limit, judged look by look with the verdicts' own
bounds (``bounds.ratio_bounds``, ``bounds.level_bounds``) at the calibrated tail, other
seeds than the calibration's. Each end must err in at most ``alpha`` of the paths, up to
three standard errors of the estimate.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.budget.boundary import (
    Plan,
    first_look_workers,
    look_level,
    rank_critical,
    sign_critical,
)
from workbench.budget.bounds import level_bounds, ratio_bounds, worker_values
from workbench.errors import InvalidInputError

ALPHA = 0.05


def test_one_look_spends_the_whole_alpha_and_more_looks_less_each() -> None:
    assert look_level(ALPHA, [(5, 5)]) == ALPHA
    schedule = Plan(30, (2, 2)).schedule(1, (5, 5))
    tau = look_level(ALPHA, schedule)
    # calibrated: far above the union bound's alpha/30, below alpha
    assert ALPHA / 30 < tau < ALPHA / 2
    stored = look_level(ALPHA, Plan(30, (2, 0)).schedule(1, (5, 5)))
    assert stored > tau  # a fixed baseline makes the looks more alike: less to pay


def test_plan_schedules_and_validation() -> None:
    plan = Plan(4, (2, 0))
    assert plan.schedule(3, (9, 5)) == ((5, 5), (7, 5), (9, 5), (11, 5))
    with pytest.raises(InvalidInputError, match="looks must be"):
        Plan(0)
    with pytest.raises(InvalidInputError, match="steps must be"):
        Plan(3, (0, 0))
    with pytest.raises(InvalidInputError, match="alpha must be"):
        look_level(0.7, [(5, 5)])
    with pytest.raises(InvalidInputError, match="schedule must"):
        look_level(0.05, [(0, 5)])


def _crossings(paths: int, schedule: tuple[tuple[int, int], ...], tau: float, limit: float,
               seed: int, sigma: float = 0.05) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    breach = passed = 0
    for _ in range(paths):
        a = limit * np.exp(rng.normal(0, sigma, schedule[-1][0]))
        b = np.exp(rng.normal(0, sigma, schedule[-1][1]))
        for m, n in schedule:
            r = ratio_bounds(list(a[:m]), list(b[:n]), tau)
            if r.model:
                continue
            if r.low is not None and r.low > limit:
                breach += 1
                break
            if r.high is not None and r.high <= limit:
                passed += 1
                break
    return breach / paths, passed / paths


@pytest.mark.parametrize("steps", [(2, 2), (2, 0)])
def test_the_calibrated_tail_keeps_each_end_within_alpha_at_the_limit(
        steps: tuple[int, int]) -> None:
    schedule = Plan(12, steps).schedule(1, (5, 5))
    tau = look_level(ALPHA, schedule)
    paths = 1500
    breach, passed = _crossings(paths, schedule, tau, 1.05, seed=7)
    slack = 3 * math.sqrt(ALPHA * (1 - ALPHA) / paths)
    assert breach <= ALPHA + slack and passed <= ALPHA + slack, (breach, passed)
    # and it is not wasteful: the union bound would have spent far less
    assert breach + passed > ALPHA / 2


def test_the_sign_calibration_keeps_absolute_verdicts_within_alpha() -> None:
    schedule = Plan(10, (2, 2)).schedule(1, (6, 6))
    tau = look_level(ALPHA, schedule, "sign")
    assert ALPHA / 10 < tau < ALPHA
    rng = np.random.default_rng(11)
    paths, breach = 2000, 0
    for _ in range(paths):
        x = np.exp(rng.normal(0, 0.05, schedule[-1][0]))  # the median is exactly 1
        for n, _ in schedule:
            b = level_bounds(list(x[:n]), tau)
            if b.model:
                continue
            if b.low is not None and b.low > 1.0:
                breach += 1
                break
            if b.high is not None and b.high <= 1.0:
                break
    assert breach / paths <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / paths)


def test_the_first_look_can_decide() -> None:
    plan = Plan(30, (2, 2))
    for rules in (1, 8):
        k = first_look_workers(ALPHA / rules, plan, 5)
        tau = look_level(ALPHA / rules, plan.schedule(1, (k, k)))
        assert rank_critical(k, k, tau) is not None
        if k > 5:
            smaller = look_level(ALPHA / rules, plan.schedule(1, (k - 1, k - 1)))
            assert rank_critical(k - 1, k - 1, smaller) is None
    assert first_look_workers(ALPHA, Plan(1), 9) == 9  # never below what was asked


def test_order_statistic_bounds_are_one_sided() -> None:
    # every one of 5 samples is over the limit: the minimum bounds the median at 96.9 %
    b = level_bounds([5.0, 6.0, 7.0, 8.0, 9.0], 1 / 32)
    assert b.low == 5.0 and b.high == 9.0 and not b.model
    assert level_bounds([5.0, 6.0, 7.0, 8.0, 9.0], 0.03).model  # 1/32 > 0.03: a t-interval
    # a high quantile: the upper bound needs q**n <= tail
    assert sign_critical(20, 0.05, 0.05) is None  # P(all 20 below p95) = 0.36
    p95 = level_bounds(list(range(1, 61)), 0.05, 0.95)
    assert p95.low is not None and p95.high == 60


def test_few_units_fall_back_to_a_flagged_t_interval() -> None:
    b = level_bounds([1.0, 1.01, 0.99], 0.01)
    assert b.model and b.needed == 7 and b.low is not None and b.low < 1.0 < b.high  # type: ignore[operator]
    r = ratio_bounds([1.2, 1.21], [1.0, 1.01], 0.01)
    assert r.model and r.low is not None and r.low > 1.0
    single = ratio_bounds([1.2], [1.0, 1.01], 0.01)
    assert not single.model and single.low is None and single.needed is not None


def test_worker_values_are_each_workers_own_percentile() -> None:
    groups = [[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]]
    assert worker_values(groups) == [2.0, 20.0]
    assert worker_values([[1.0, 2.0], [5.0]]) == [1.5, 5.0]
    assert worker_values(groups, 100) == [3.0, 30.0]
