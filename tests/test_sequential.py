"""Sequential checks: looks, frozen verdicts, the time budget, balanced worker order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from workbench.budget.check_result import CheckResult, Verdict
from workbench.budget.sequential import check_max_time, run_looks
from workbench.budget.spec import parse_budgets
from workbench.errors import InvalidInputError
from workbench.measure.config import MeasureConfig
from workbench.measure.engine import interleave_blocks
from workbench.measure.protocol import WorkerRun
from workbench.measure.targets import TargetSpec

RULES = parse_budgets('[stage.a]\nlatency_p50 = "1.05x"\n[stage.b]\nlatency_p50 = "1.05x"\n'
                      'throughput = { limit = "0.9x", level = "warn" }\n')


def _result(statuses: dict[str, str]) -> CheckResult:
    verdicts = []
    for rule in RULES.rules:
        status = statuses.get(f"{rule.stage}/{rule.metric}", "pass")
        verdicts.append(Verdict(replace(rule, variant="pure"), status, "tiny",  # type: ignore[arg-type]
                                "m", ratio=1.0, confidence=0.95))
    return CheckResult(tuple(verdicts), "hash")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_undecided_targets_get_more_rounds_until_decided_and_decisions_are_final() -> None:
    clock = Clock()
    script = [{"a/latency_p50": "breach", "b/latency_p50": "inconclusive"},
              {"a/latency_p50": "pass", "b/latency_p50": "inconclusive"},  # a stays breached
              {"a/latency_p50": "pass", "b/latency_p50": "pass"}]
    looks: list[int] = []
    extended: list[Sequence[tuple[str, str]]] = []

    def evaluate(look: int) -> CheckResult:
        looks.append(look)
        clock.now += 1
        return _result(script[look - 1])

    def extend(pairs: Sequence[tuple[str, str]]) -> None:
        extended.append(pairs)
        clock.now += 1

    result, count = run_looks(evaluate, extend, 100, first_rounds=5, targets=2, clock=clock,
                              started=0.0)
    assert looks == [1, 2, 3] and count == 3
    assert extended == [(("b", "pure"),), (("b", "pure"),)]  # only the undecided target
    got = {(v.rule.stage, v.rule.metric): (v.status, v.look) for v in result.verdicts}
    assert got[("a", "latency_p50")] == ("breach", 1)  # frozen at its look
    assert got[("b", "latency_p50")] == ("pass", 3)
    assert got[("b", "throughput")][0] == "pass"  # warn-level rules never drive looks


def test_the_time_budget_stops_the_looks() -> None:
    clock = Clock()

    def evaluate(look: int) -> CheckResult:
        clock.now += 10  # the first look: 10 s for 5 rounds of 2 targets, 1 s per round
        return _result({"b/latency_p50": "inconclusive"})

    def extend(pairs: Sequence[tuple[str, str]]) -> None:
        clock.now += 2 * len(pairs)  # as estimated: 2 rounds of 1 target, 1 s each

    _, count = run_looks(evaluate, extend, 25, first_rounds=5, targets=2, clock=clock,
                         started=0.0)
    # look 1 ends at 10 (1 s per target and round: look 2 is estimated at 2 s); look 2
    # ends at 22 and took 12 s, so look 3 would end past 25
    assert count == 2
    _, once = run_looks(evaluate, extend, 0, first_rounds=5, targets=2, clock=clock,
                        started=clock.now)
    assert once == 1


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "10", True])
def test_max_time_is_validated(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="max_time"):
        check_max_time(bad)


def test_each_side_of_a_block_goes_first_in_half_of_the_rounds() -> None:
    order: list[tuple[str, int]] = []

    def launcher(side: str):  # type: ignore[no-untyped-def]
        def launch(spec: TargetSpec, config: MeasureConfig, index: int) -> WorkerRun:
            order.append((f"{spec.name}:{side}", index))
            return WorkerRun(index, True, (1,))
        return launch

    specs = [TargetSpec(kind="stage", name=n, variant="pure", workload="tiny")
             for n in ("x", "y", "z")]
    blocks = [[(f"{s.name} cur", s, launcher("cur")), (f"{s.name} base", s, launcher("base"))]
              for s in specs]
    runs = interleave_blocks(blocks, MeasureConfig(workers=4), None)
    runs = interleave_blocks(blocks, MeasureConfig(workers=4), None, rounds=2, first=4,
                             into=runs)
    assert all(len(v) == 6 for v in runs.values())
    for name in ("x", "y", "z"):
        firsts = {"cur": 0, "base": 0}
        for w in range(6):
            mine = [side for side, i in order if i == w and side.startswith(name)]
            firsts[mine[0].split(":")[1]] += 1
        assert firsts == {"cur": 3, "base": 3}, (name, firsts)
    assert [w for _, w in order] == sorted(w for _, w in order)  # worker index = round


def test_two_rules_on_one_metric_keep_their_own_verdicts_across_looks() -> None:
    # a stage's target (absolute) beside a relative limit on the same metric: each verdict
    # is decided and frozen on its own (one key per metric showed the first one twice)
    spec = parse_budgets('[target.a]\nlatency_p50 = "3ms"\n[stage.a]\nlatency_p50 = "1.05x"\n')
    script = [{"absolute": "pass", "relative": "inconclusive"},
              {"absolute": "inconclusive", "relative": "breach"}]

    def evaluate(look: int) -> CheckResult:
        return CheckResult(tuple(
            Verdict(replace(rule, variant="pure"), script[look - 1][rule.kind],  # type: ignore[arg-type]
                    "tiny", rule.kind, ratio=1.0, confidence=0.95)
            for rule in spec.rules), "hash")

    result, count = run_looks(evaluate, lambda pairs: None, 100, first_rounds=5, targets=1,
                              clock=Clock(), started=0.0)
    assert count == 2
    assert sorted((v.rule.kind, v.status, v.look) for v in result.verdicts) == [
        ("absolute", "pass", 1), ("relative", "breach", 2)]
