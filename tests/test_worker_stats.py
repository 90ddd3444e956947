"""The worker-level rank test and ratio interval, the t-interval on log worker medians for
few workers, and the sequential check's spending."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import InvalidInputError
from workbench.measure.looks import look_tail
from workbench.measure.worker_stats import (
    rank_test,
    ratio_interval,
    t_ratio_interval,
    u_cdf,
    worker_medians,
    workers_needed,
)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.data())
def test_u_distribution_matches_enumeration(m: int, n: int, data: st.DataObject) -> None:
    c = data.draw(st.integers(0, m * n))
    assert u_cdf(c, m, n) == pytest.approx(_brute_cdf(c, m, n), abs=1e-12)
    assert u_cdf(c, m, n) == pytest.approx(u_cdf(c, n, m))  # symmetric in the sides


def test_u_normal_approximation_beyond_the_exact_range_is_close() -> None:
    exact = u_cdf(1500, 60, 60)
    approx = u_cdf(1500, 61, 59)  # normal approximation above 60 per side
    assert exact == pytest.approx(approx, abs=0.01)


def _brute_cdf(c: int, m: int, n: int) -> float:
    """P(U <= c) by enumerating every placement of the m a-ranks among m+n."""
    from itertools import combinations

    count = total = 0
    for chosen in combinations(range(m + n), m):
        # U = pairs with a above b: for each a at rank r, the b's below it
        u = sum(r - i for i, r in enumerate(chosen))
        count += u <= c
        total += 1
    return count / total


def test_rank_test_on_fully_separated_workers_gives_the_exact_minimum() -> None:
    fast = [[1.0 + 0.01 * i, 1.0 + 0.01 * i] for i in range(5)]
    slow = [[2.0 + 0.01 * i] for i in range(5)]
    u, p = rank_test(slow, fast)
    assert u == 25 and p == pytest.approx(2 / math.comb(10, 5))
    assert rank_test(fast, fast)[1] == pytest.approx(1.0)


def test_workers_needed_and_an_unreachable_interval_says_so() -> None:
    assert workers_needed(0.025) == 4  # 1/70 <= 2.5 % < 1/20
    assert workers_needed(0.025 / 8) == 6  # 1/924 <= 0.3125 % < 1/252
    r = ratio_interval([[1.0]] * 3, [[1.0]] * 3, 0.01)
    assert not r.decided and r.needed == workers_needed(0.01) == 5


def test_ratio_interval_on_a_clean_shift() -> None:
    rng = np.random.default_rng(0)
    base = [list(np.exp(rng.normal(0, 0.01, 15))) for _ in range(8)]
    slower = [list(1.2 * np.exp(rng.normal(0, 0.01, 15))) for _ in range(8)]
    r = ratio_interval(slower, base, 0.025)
    assert r.decided and r.low is not None and r.high is not None
    assert r.low < 1.2 < r.high and 1.15 < r.value < 1.25 and r.low > 1.1


def test_bad_input_is_named() -> None:
    with pytest.raises(InvalidInputError, match="groups\\[1\\]"):
        worker_medians([[1.0], [0.0]])
    with pytest.raises(InvalidInputError, match="tail"):
        ratio_interval([[1.0]], [[1.0]], 0.7)


def _side(rng: np.random.Generator, k: int, effect: float, between: float,
          slow: float) -> list[np.ndarray]:
    out = []
    for _ in range(k):
        f = effect * math.exp(rng.normal(0, between)) * (1.2 if rng.random() < slow else 1.0)
        s = f * np.exp(rng.normal(0, 0.02, 15))
        s[rng.random(15) < 0.05] *= 1.5
        out.append(s)
    return out


@pytest.mark.parametrize(("between", "slow"), [(0.0, 0.0), (0.01, 0.0), (0.03, 0.0),
                                               (0.03, 0.1)])
def test_ratio_interval_coverage_with_and_without_spread_between_processes(
        between: float, slow: float) -> None:
    """Nominal 95 % (2.5 % per end), 5 workers per side, 400 seeded replicates. The rank
    interval is exact under the shift model and conservative by its discreteness (its
    real level at 5+5 workers is 1 - 2 * 4/252 = 96.8 %), so coverage must lie in
    [0.93, 1.0]: the lower tolerance is three binomial standard errors (1.1 %) below
    nominal, and each end alone must miss at most 2.5 % + 2.3 % of the time."""
    rng = np.random.default_rng(7)
    trials, low_miss, high_miss = 400, 0, 0
    for _ in range(trials):
        r = ratio_interval(_side(rng, 5, 1.1, between, slow), _side(rng, 5, 1.0, between, slow),
                           0.025)
        assert r.low is not None and r.high is not None
        low_miss += r.low > 1.1
        high_miss += r.high < 1.1
    coverage = 1 - (low_miss + high_miss) / trials
    assert 0.93 <= coverage <= 1.0, coverage
    assert low_miss / trials <= 0.048 and high_miss / trials <= 0.048


def test_t_interval_matches_welch_on_log_worker_medians() -> None:
    from scipy import stats as scipy_stats

    a = [[2.0, 2.1, 2.2], [2.3, 2.2, 2.4], [2.05, 2.0, 2.1]]
    b = [[1.0, 1.1], [1.08, 1.02, 1.2]]
    t = t_ratio_interval(a, b, 0.025)
    la, lb = np.log(worker_medians(a)), np.log(worker_medians(b))
    welch = scipy_stats.ttest_ind(la, lb, equal_var=False)
    assert t.p_value == pytest.approx(float(welch.pvalue))
    assert t.value == pytest.approx(math.exp(la.mean() - lb.mean()))
    assert t.workers == (3, 2) and t.df is not None
    half = float(scipy_stats.t.ppf(0.975, t.df)) * math.sqrt(la.var(ddof=1) / 3
                                                            + lb.var(ddof=1) / 2)
    assert t.low == pytest.approx(t.value * math.exp(-half))
    assert t.high == pytest.approx(t.value * math.exp(half))


def test_t_interval_without_spread_is_its_point_and_one_worker_is_refused() -> None:
    same = t_ratio_interval([[2.0]] * 2, [[1.0]] * 3, 0.025)
    assert (same.value, same.low, same.high, same.p_value, same.df) == (2.0, 2.0, 2.0, 0.0,
                                                                          None)
    assert t_ratio_interval([[1.0]] * 2, [[1.0]] * 2, 0.025).p_value == 1.0
    with pytest.raises(InvalidInputError, match="at least 2 workers per side; got 1 and 3"):
        t_ratio_interval([[1.0, 2.0]], [[1.0]] * 3, 0.025)
    with pytest.raises(InvalidInputError, match="tail"):
        t_ratio_interval([[1.0]] * 2, [[1.0]] * 2, 0.5)


@pytest.mark.parametrize("workers", [2, 3, 4])
def test_t_interval_coverage_under_log_normal_worker_effects(workers: int) -> None:
    """Nominal 95 %, 3 % spread between processes, 2 % within, 5 % outliers; 400 seeded
    replicates. Under its model (log-normal worker medians) Welch's interval holds its
    level, so coverage must be at least nominal less three binomial standard errors."""
    rng = np.random.default_rng(11)
    trials, missed = 400, 0
    for _ in range(trials):
        t = t_ratio_interval(_side(rng, workers, 1.1, 0.03, 0.0),
                             _side(rng, workers, 1.0, 0.03, 0.0), 0.025)
        missed += not t.low <= 1.1 <= t.high
    assert missed / trials <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / trials), missed


def test_look_tails_sum_to_alpha_over_unlimited_looks() -> None:
    total = sum(look_tail(k, 0.05) for k in range(1, 10_001))
    assert total < 0.05 and total == pytest.approx(0.05, abs=1e-5)
    assert look_tail(1, 0.05) == 0.025  # the first look is the fixed-sample check
    with pytest.raises(InvalidInputError):
        look_tail(0, 0.05)


def test_sequential_a_a_keeps_its_false_alarm_rate_over_many_looks() -> None:
    """Identical sides, up to 8 looks of 2 more workers each, a breach at any look counts
    (the check's rule: point over 1.05 AND low end over 1). 400 seeded trials with 3 %
    spread between processes: the rate must stay at or under alpha = 5 % plus three
    binomial standard errors (3.3 %)."""
    rng = np.random.default_rng(11)
    alarms = 0
    for _ in range(400):
        a, b = _side(rng, 5, 1.0, 0.03, 0.05), _side(rng, 5, 1.0, 0.03, 0.05)
        for look in range(1, 9):
            r = ratio_interval(a, b, look_tail(look, 0.05))
            first = ratio_interval(a, b, look_tail(1, 0.05))
            if r.low is not None and r.value > 1.05 and r.low > 1.0:
                alarms += 1
                break
            if first.high is not None and first.high <= 1.05:
                break  # passed: a pass is final
            a += _side(rng, 2, 1.0, 0.03, 0.05)
            b += _side(rng, 2, 1.0, 0.03, 0.05)
    assert alarms / 400 <= 0.05 + 0.033
