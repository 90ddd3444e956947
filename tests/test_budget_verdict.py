"""Budget verdicts on synthetic measurements (WorkerRuns with chosen batch times; no timing)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from workbench.budget.check_result import CheckResult, ScalingObservation, Verdict
from workbench.budget.spec import Rule, parse_budgets
from workbench.budget.verdict import MAX_CONFIDENCE, check
from workbench.errors import InvalidInputError
from workbench.measure.config import MeasureConfig
from workbench.measure.measurement import Measurement
from workbench.measure.protocol import WorkerRun
from workbench.measure.targets import TargetSpec

ENV = {"cpu_model": "Test CPU @ 3GHz", "python": "3.11.7", "packages": {"numpy": "2.0.0"}}


def noisy(center_ms: float, *, workers: int = 5, n: int = 80, spread: float = 0.02,
          seed: int = 0) -> list[list[float]]:
    """Per-worker per-call milliseconds around ``center_ms`` (seeded, so deterministic)."""
    rng = np.random.default_rng(seed)
    return [list(center_ms * rng.lognormal(0.0, spread, n)) for _ in range(workers)]


def measurement(groups_ms: Sequence[Sequence[float]], *, stage: str = "embed",
                variant: str = "pure", workload: str = "small", items: int = 10,
                rss_kb: Sequence[int] | None = None, heap: Sequence[int] | None = None,
                env: Mapping[str, object] | None = None, rss_exact: bool = True) -> Measurement:
    runs = tuple(
        WorkerRun(index=i, ok=True, batch_ns=tuple(round(x * 1e6) for x in g),
                  items_per_call=items, rss_peak_kb=None if rss_kb is None else rss_kb[i],
                  rss_exact=rss_exact, heap_peak_bytes=None if heap is None else heap[i])
        for i, g in enumerate(groups_ms)
    )
    return Measurement(TargetSpec("stage", stage, variant, workload), MeasureConfig(), runs,
                       "2024-05-01T00:00:00+00:00", dict(env or ENV))


def failed(stage: str = "embed") -> Measurement:
    run = WorkerRun.failed(0, ValueError("boom"))
    return Measurement(TargetSpec("stage", stage, "pure", "small"), MeasureConfig(), (run,),
                       "2024-05-01T00:00:00+00:00", dict(ENV))


def one(text: str, current: Sequence[Measurement], baseline: Sequence[Measurement] | None = None,
        **kwargs: object) -> Verdict:
    result = check(parse_budgets(text), current, baseline, **kwargs)  # type: ignore[arg-type]
    assert len(result.verdicts) == 1, result.to_text()
    return result.verdicts[0]


P95 = '[stage.embed]\nlatency_p95 = "1.1x"\n'
P50 = '[stage.embed]\nlatency_p50 = "1.1x"\n'


# -- relative latency ----------------------------------------------------------------------


def test_same_distribution_passes() -> None:
    v = one(P95, [measurement(noisy(1.0, seed=1))], [measurement(noisy(1.0, seed=2))])
    assert v.status == "pass", v.message
    assert v.ratio is not None and v.ratio_high is not None and v.ratio_high <= 1.1
    assert "within the limit 1.1x" in v.message


def test_a_clear_slowdown_breaches_with_both_conditions() -> None:
    v = one(P95, [measurement(noisy(1.3, seed=1))], [measurement(noisy(1.0, seed=2))])
    assert v.status == "breach", v.message
    assert v.ratio is not None and v.ratio > 1.1
    assert v.ratio_low is not None and v.ratio_low > 1.1  # the whole interval over the limit
    assert "over the limit 1.1x over its whole" in v.message
    assert v.observed is not None and v.baseline is not None
    assert v.observed / v.baseline == pytest.approx(v.ratio, rel=0.02)


def test_a_change_within_the_limit_passes_and_one_over_it_breaches() -> None:
    # +3 % under a 1.05x limit is within budget: slower than the baseline is not a breach
    base = [measurement(noisy(1.0, workers=12, spread=0.01, seed=4))]
    within = one(P50.replace("1.1x", "1.05x"),
                 [measurement(noisy(1.03, workers=12, spread=0.01, seed=3))], base)
    assert within.status == "pass", within.message
    assert within.ratio_low is not None and within.ratio_low > 1.0  # slower, and it shows
    over = one(P50.replace("1.1x", "1.05x"),
               [measurement(noisy(1.10, workers=12, spread=0.01, seed=3))], base)
    assert over.status == "breach", over.message


def test_too_few_workers_fall_back_to_a_model_and_say_so() -> None:
    rng = np.random.default_rng(3)
    current = [list(c * rng.lognormal(0, 0.01, 60)) for c in (0.9, 1.15)]
    v = one(P50, [measurement(current)], [measurement(noisy(1.0, workers=2, n=60, seed=4))])
    assert v.status == "inconclusive", v.message
    assert "2 and 2 workers are too few for a distribution-free bound" in v.message
    assert "log-normal" in v.message and "3 per side would" in v.message
    single = one(P50, [measurement(current[:1])], [measurement(noisy(1.0, workers=1))])
    assert single.status == "inconclusive" and single.ratio_low is None
    assert "cannot bound it at this level: 3 per side would" in single.message


def test_an_interval_straddling_the_threshold_is_inconclusive() -> None:
    v = one(P50, [measurement(noisy(1.1, seed=5, n=3, spread=0.1))],
            [measurement(noisy(1.0, seed=6, n=3, spread=0.1))])
    assert v.status == "inconclusive", v.message
    assert v.ratio_low is not None and v.ratio_high is not None
    assert v.ratio_low < 1.1 < v.ratio_high or v.ratio_low <= 1.1 <= v.ratio_high


def test_an_absolute_p99_from_few_calls_can_breach_but_not_pass() -> None:
    text = '[stage.embed]\nlatency_p99 = "5ms"\n'
    result = check(parse_budgets(text), [measurement(noisy(1.0, workers=2, n=20))])
    [v] = result.verdicts
    assert v.status == "inconclusive"
    assert "no pass is possible from 40 calls" in v.message and "needs >= 299" in v.message
    # but a breach needs no such count: every call 100x over the limit
    over = check(parse_budgets('[stage.embed]\nlatency_p99 = "10us"\n'),
                 [measurement(noisy(1.0, workers=2, n=20))]).verdicts[0]
    assert over.status == "breach", over.message


def test_relative_percentiles_compare_each_workers_own_percentile() -> None:
    # no sample gate: under a change by a factor, each worker's p99 moves by that factor
    text = '[stage.embed]\nlatency_p99 = "1.1x"\n'
    base = [measurement(noisy(1.0, workers=8, n=20, seed=1))]
    assert one(text, [measurement(noisy(1.5, workers=8, n=20, seed=2))], base
               ).status == "breach"
    assert one(text, [measurement(noisy(1.0, workers=8, n=20, seed=3))], base
               ).status == "pass"


def test_a_different_fingerprint_is_not_comparable_but_absolute_rules_still_run() -> None:
    other = {**ENV, "cpu_model": "Other CPU"}
    text = '[stage.embed]\nlatency_p95 = ["1.1x", "10ms"]\n'
    result = check(parse_budgets(text), [measurement(noisy(1.0))],
                   [measurement(noisy(1.0), env=other)])
    by_kind = {v.rule.kind: v for v in result.verdicts}
    assert by_kind["relative"].status == "not-comparable"
    assert "different cpu_model" in by_kind["relative"].message
    assert by_kind["absolute"].status == "pass"


def test_relative_rules_without_a_baseline_say_so() -> None:
    v = one(P95, [measurement(noisy(1.0))])
    assert v.status == "no-baseline" and "has no measurement of embed/pure" in v.message
    assert v.observed is not None  # the current value is still reported
    other_workload = measurement(noisy(1.0), workload="large")
    assert one(P95, [measurement(noisy(1.0))], [other_workload]).status == "no-baseline"
    assert one(P95, [measurement(noisy(1.0))], [failed()]).status == "no-baseline"


def test_a_failed_current_measurement_is_inconclusive() -> None:
    v = one(P95, [failed()], [measurement(noisy(1.0))])
    assert v.status == "inconclusive" and "failed" in v.message and "boom" in v.message


# -- absolute latency ----------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "status"), [("2ms", "pass"), ("0.5ms", "breach"),
                                               ("1.0ms", "inconclusive")])
def test_absolute_latency(limit: str, status: str) -> None:
    v = one(f'[stage.embed]\nlatency_p50 = "{limit}"\n', [measurement(noisy(1.0))])
    assert v.status == status, v.message
    assert v.observed_low is not None and v.observed_high is not None
    assert v.observed_low < 1e6 < v.observed_high


# -- throughput: higher is better ----------------------------------------------------------


def test_relative_throughput_direction() -> None:
    text = '[stage.embed]\nthroughput = "0.9x"\n'
    base = [measurement(noisy(1.0, seed=2))]
    slower = one(text, [measurement(noisy(1.3, seed=1))], base)
    assert slower.status == "breach", slower.message
    assert slower.ratio is not None and slower.ratio < 0.9
    assert slower.ratio_high is not None and slower.ratio_high < 1.0
    assert "under the limit 0.9x" in slower.message
    faster = one(text, [measurement(noisy(0.7, seed=1))], base)
    assert faster.status == "pass" and faster.ratio is not None and faster.ratio > 1.3
    # items per call count: twice the items in the same time is twice the throughput
    double = one(text, [measurement(noisy(1.0, seed=1), items=20)], base)
    assert double.ratio == pytest.approx(2.0, rel=0.05)


@pytest.mark.parametrize(("limit", "status"), [("5000 items/s", "pass"),
                                               ("20000 items/s", "breach")])
def test_absolute_throughput(limit: str, status: str) -> None:
    # 10 items per 1 ms call: 10 000 items/s
    v = one(f'[stage.embed]\nthroughput = "{limit}"\n', [measurement(noisy(1.0))])
    assert v.status == status, v.message
    assert v.observed == pytest.approx(10_000, rel=0.02)


# -- memory --------------------------------------------------------------------------------


def test_peak_rss_absolute_bounds_the_median_worker() -> None:
    groups = noisy(1.0, workers=5)
    kb = [100_000, 101_000, 102_000, 100_500, 101_500]  # 102.4-104.4 MB
    assert one('[stage.embed]\npeak_rss = "200MB"\n', [measurement(groups, rss_kb=kb)]
               ).status == "pass"
    over = one('[stage.embed]\npeak_rss = "50MiB"\n', [measurement(groups, rss_kb=kb)])
    assert over.status == "breach" and over.observed == 101_000 * 1024
    assert "from worker values" in over.message
    straddle = one('[stage.embed]\npeak_rss = "103.5MB"\n', [measurement(groups, rss_kb=kb)])
    assert straddle.status == "inconclusive"
    approx = one('[stage.embed]\npeak_rss = "50MiB"\n',
                 [measurement(groups, rss_kb=kb, rss_exact=False)])
    assert "approximate" in approx.message
    # three workers are too few for the sign test at 5 %: a t-interval on logs, said so
    few = one('[stage.embed]\npeak_rss = "50MiB"\n', [measurement(groups[:3], rss_kb=kb)])
    assert few.status == "breach" and "log-normal" in few.message


def test_peak_rss_relative() -> None:
    groups = noisy(1.0, workers=3)
    base = [measurement(groups, rss_kb=[100_000, 100_500, 101_000])]
    text = '[stage.embed]\npeak_rss = "1.5x"\n'
    grown = one(text, [measurement(groups, rss_kb=[180_000, 181_000, 182_000])], base)
    assert grown.status == "breach" and grown.ratio == pytest.approx(181 / 100.5, rel=1e-3)
    same = one(text, [measurement(groups, rss_kb=[100_000, 100_500, 101_000])], base)
    assert same.status == "pass"
    # one worker far over, the others not: the interval reaches down to no change
    mixed = one(text, [measurement(groups, rss_kb=[90_000, 95_000, 200_000])], base)
    assert mixed.status == "inconclusive"


def test_heap_peak_and_missing_memory_figures() -> None:
    groups = noisy(1.0, workers=5)
    v = one('[stage.embed]\nheap_peak = "1KiB"\n',
            [measurement(groups, heap=[2000, 2100, 2050, 2020, 2080])])
    assert v.status == "breach"
    missing = one('[stage.embed]\nheap_peak = "1KiB"\n', [measurement(groups)])
    assert missing.status == "inconclusive" and "not recorded" in missing.message


# -- scaling -------------------------------------------------------------------------------


def obs(slope: float, low: float, high: float) -> ScalingObservation:
    return ScalingObservation("embed", "pure", "small", slope, low, high, 0.95, dict(ENV))


def test_scaling_rules() -> None:
    spec = parse_budgets('[stage.embed]\nscaling = ["1.2x", 1.5]\n')
    result = check(spec, [], scaling=[obs(2.0, 1.9, 2.1)], baseline_scaling=[obs(1.0, 0.95, 1.05)])
    statuses = {v.rule.kind: v.status for v in result.verdicts}
    assert statuses == {"relative": "breach", "absolute": "breach"}
    result = check(spec, [], scaling=[obs(1.0, 0.9, 1.1)], baseline_scaling=[obs(1.0, 0.95, 1.05)])
    assert {v.status for v in result.verdicts} == {"pass"}
    # measured but without a sweep: the scaling rule cannot be evaluated
    missing = check(spec, [measurement(noisy(1.0))])
    assert {v.status for v in missing.verdicts} == {"inconclusive"}
    assert "needs a size sweep" in missing.verdicts[0].message


# -- which rules apply; the family-wise correction ---------------------------------------------


def test_wildcard_rules_become_concrete_and_unmeasured_stages_are_reported() -> None:
    spec = parse_budgets('[defaults]\nlatency_p50 = "10ms"\n[stage.chunk]\nlatency_p50 = "1ms"\n')
    result = check(spec, [measurement(noisy(1.0)), measurement(noisy(1.0), stage="clean")])
    labels = sorted((v.rule.label, v.status) for v in result.verdicts)
    assert labels == [("chunk/pure", "inconclusive"), ("clean/pure", "pass"),
                      ("embed/pure", "pass")]
    chunk = next(v for v in result.verdicts if v.rule.stage == "chunk")
    assert "not measured" in chunk.message


def test_one_family_over_every_error_level_rule() -> None:
    text = ('[stage.embed]\nlatency_p50 = ["1.1x", "1s"]\nthroughput = "0.5x"\n'
            'latency_p95 = { limit = "2x", level = "warn" }\npeak_rss = "10GB"\n')
    current, base = [measurement(noisy(1.0, seed=1), rss_kb=[9] * 5)], \
        [measurement(noisy(1.0, seed=2), rss_kb=[9] * 5)]
    result = check(parse_budgets(text), current, base)
    # four error-level rules, memory included: each end of each errs at most 0.05/4
    assert result.confidence == pytest.approx(1 - 0.05 / 4)
    conf = {(v.rule.metric, v.rule.kind): v.confidence for v in result.verdicts}
    assert conf["latency_p95", "relative"] == pytest.approx(0.95)  # warn-level: nominal
    assert {c for k, c in conf.items() if k[0] != "latency_p95"} == {result.confidence}
    plain = check(parse_budgets(text), current, base, correction="none")
    assert plain.confidence == pytest.approx(0.95)
    many = "\n".join(f'[stage."s{i}"]\nlatency_p50 = "1s"' for i in range(200))
    # one worker of 40 samples each: the order statistics of its samples bound its p50
    wide = check(parse_budgets(many), [measurement(noisy(1.0, workers=1, n=40), stage=f"s{i}")
                                       for i in range(200)])
    assert wide.confidence == pytest.approx(1 - 0.05 / 200) and wide.confidence > MAX_CONFIDENCE
    assert {v.confidence for v in wide.verdicts} == {wide.confidence}
    assert {v.status for v in wide.verdicts} == {"pass"}


def test_a_limit_under_every_sample_is_a_breach_of_one_worker() -> None:
    # the minimum of 5 samples bounds the median from below at 1 - 0.5**5 = 96.9 %
    v = one('[stage.embed]\nlatency_p50 = "1ns"\n', [measurement(noisy(1.0, workers=1, n=5))])
    assert v.status == "breach", v.message
    assert "one worker" in v.message and v.confidence == pytest.approx(0.95)


def test_check_validates_its_settings() -> None:
    spec = parse_budgets(P95)
    with pytest.raises(InvalidInputError, match="family_alpha must be strictly between"):
        check(spec, [], family_alpha=1.5)
    with pytest.raises(InvalidInputError, match="correction must be 'bonferroni' or 'none'"):
        check(spec, [], correction="holm")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="resamples must be an integer >= 100"):
        check(spec, [], resamples=10)


def test_check_is_deterministic() -> None:
    args = (parse_budgets(P95), [measurement(noisy(1.1, seed=1))],
            [measurement(noisy(1.0, seed=2))])
    assert check(*args).verdicts == check(*args).verdicts


# -- exit codes, records, renderings ---------------------------------------------------------


def verdict(status: str, level: str = "error") -> Verdict:
    rule = Rule("embed", "pure", "latency_p50", "relative", 1.1, level)
    return Verdict(rule, status, "small", "msg")  # type: ignore[arg-type]


@pytest.mark.parametrize(("statuses", "normal", "strict"), [
    ([("pass", "error")], 0, 0),
    ([("breach", "warn"), ("pass", "error")], 0, 0),
    ([("breach", "error")], 1, 1),
    ([("breach", "error"), ("inconclusive", "error")], 1, 1),
    ([("inconclusive", "error")], 0, 2),
    ([("not-comparable", "error")], 0, 2),
    ([("no-baseline", "error")], 0, 2),
    ([("inconclusive", "warn"), ("no-baseline", "warn")], 0, 0),
    ([], 0, 0),
])
def test_exit_codes(statuses: list[tuple[str, str]], normal: int, strict: int) -> None:
    result = CheckResult(tuple(verdict(s, lvl) for s, lvl in statuses), "hash")
    assert result.exit_code(strict=False) == normal
    assert result.exit_code(strict=True) == strict


def test_check_result_round_trips_through_json_and_renders() -> None:
    text = '[stage.embed]\nlatency_p95 = ["1.1x", "0.5ms"]\nthroughput = "0.9x"\n'
    result = check(parse_budgets(text), [measurement(noisy(1.3, seed=1))],
                   [measurement(noisy(1.0, seed=2))])
    data = json.loads(result.dumps())
    assert data["schema_version"] == 1 and data["kind"] == "budget-check"
    assert CheckResult.from_json(data) == result
    assert result.exit_code() == 1
    plain = result.to_text()
    assert "breach" in plain and "embed/pure@small" in plain and "\x1b[" not in plain
    assert "\x1b[31m" in result.to_text(color=True)
    page = result.to_html()
    assert "wb-status wb-breach" in page
    # one screen first: counts by level and status, then the breaches with their why;
    # every verdict below, folded
    summary, _, folded = page.partition("<details>")
    assert "wb-counts" in summary and "<th class=\"num\">breach</th>" in summary
    assert all(html.escape(v.message[:60], quote=False) in summary for v in result.breaches)
    assert "All 3 verdicts" in folded and "embed/pure@small" in folded
    noted = CheckResult.from_json({**data, "against": "the last green report",
                                   "notes": ["first run"]})
    assert noted.against == "the last green report" and noted.notes == ("first run",)
    assert "judged against the last green report" in noted.to_text()
    assert "first run" in noted.to_html()
    with pytest.raises(InvalidInputError, match="notes must be a list of strings; got 'x'"):
        CheckResult.from_json({**data, "notes": "x"})
    with pytest.raises(InvalidInputError,
                       match="budget-check schema_version 9 is newer than this workbench reads"):
        CheckResult.from_json({**data, "schema_version": 9})
    with pytest.raises(InvalidInputError, match="not a budget-check record"):
        CheckResult.from_json({**data, "kind": "baseline"})
    with pytest.raises(InvalidInputError, match="verdict status 'meh' is unknown"):
        CheckResult.from_json({**data, "verdicts": [{**data["verdicts"][0], "status": "meh"}]})


# -- the percentile ratio interval ----------------------------------------------------------
