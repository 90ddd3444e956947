"""Cache budgets judged on real measurements: a hit-rate rule against the workloads' repeats,
a cache-size rule against the table's bound."""

from __future__ import annotations

import pytest

from workbench.budget.spec import parse_budgets
from workbench.budget.verdict import check
from workbench.measure.cache_figures import Spread, cache_bytes, hit_rates
from workbench.measure.config import MeasureConfig
from workbench.measure.engine import measure
from workbench.measure.measurement import Measurement

FIVE = MeasureConfig(workers=5, samples=4, warmup_calls=2, warmup_seconds=0.0)


def _status(budget: str, m: Measurement) -> tuple[str, str]:
    (verdict,) = check(parse_budgets(budget), [m]).verdicts
    return verdict.status, verdict.message


@pytest.mark.slow
def test_a_hit_rate_rule_passes_on_reindex_and_breaches_without_repeats() -> None:
    budget = '[stage."embed/cached"]\nhit_rate = 0.8\n'
    found = {}
    for workload in ("reindex@40", "reindex-fresh@40"):
        m = measure("embed", workload, variant="cached", config=FIVE)
        assert m.ok, m.error_text()
        found[workload] = (hit_rates(m), *_status(budget, m))
    rates, status, why = found["reindex@40"]
    assert all(0.85 <= r <= 0.95 for r in rates) and status == "pass", why
    rates, status, why = found["reindex-fresh@40"]
    assert rates == [0.0] * 5 and status == "breach", why
    assert "hit rate" in why and "under the limit" in why


@pytest.mark.slow
def test_a_cache_bytes_rule_breaches_when_the_bound_is_raised_past_the_budget() -> None:
    # repeat-keys holds 80 distinct keys over its batches, 28 bytes each
    budget = '[stage."digest/cached"]\ncache_bytes = "2KB"\n'
    statuses = {}
    for bound in (50, 100_000):
        m = measure("digest", "repeat-keys", variant="cached", pipeline="cache_pipeline:pipeline",
                    params={"digest": {"bound": bound}}, config=FIVE)
        assert m.ok, m.error_text()
        statuses[bound] = (max(cache_bytes(m)), *_status(budget, m))
    held, status, why = statuses[50]
    assert held <= 50 * 28 and status == "pass", why
    held, status, why = statuses[100_000]
    assert held > 2000 and status == "breach", why


def test_a_spread_states_the_confidence_its_workers_reach() -> None:
    assert Spread.of([0.9] * 6).confidence == 0.95
    five = Spread.of([0.1, 0.2, 0.3, 0.4, 0.5])
    assert (five.low, five.high, five.value) == (0.1, 0.5, 0.3)
    assert five.confidence == 1 - 2 / 32 and "93.8 %: the range of 5 workers" in five.text()
    one = Spread.of([0.4])
    assert one.low is None and "no interval" in one.text()
