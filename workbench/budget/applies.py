"""Which budget rules apply to which measured targets: the work list of a check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from workbench.budget.check_result import ScalingObservation
from workbench.budget.instructions import baselines_by_key
from workbench.budget.spec import DEFAULT_VARIANT, BudgetSpec, Rule
from workbench.measure.instructions import INSTRUCTION_METRICS, InstructionCount
from workbench.measure.measurement import Measurement

__all__ = ["Target", "family_size", "target_key", "tasks"]

Target = Measurement | ScalingObservation | InstructionCount | None


def target_key(m: Measurement) -> tuple[str, str, str | None]:
    """(stage, variant, workload) of a measurement, the default variant filled in."""
    return m.target.name, m.target.variant or DEFAULT_VARIANT, m.target.workload


def tasks(spec: BudgetSpec, current: Sequence[Measurement],
           scaling: Sequence[ScalingObservation],
           instructions: Sequence[InstructionCount] = (),
           ) -> list[tuple[Rule, Target, str | None]]:
    """(rule made concrete for its target, target, workload) for every rule to evaluate."""
    tasks: list[tuple[Rule, Target, str | None]] = []
    done: set[Rule] = set()
    swept = {(o.stage, o.variant) for o in scaling}
    counts = baselines_by_key(instructions)
    for m in current:
        stage, variant, workload = target_key(m)
        for rule in spec.rules_for(stage, variant):
            done.add(rule)
            concrete = replace(rule, stage=stage, variant=variant)
            if rule.metric in INSTRUCTION_METRICS:
                tasks.append((concrete, counts.get(target_key(m)), workload))
            elif rule.metric != "scaling":
                tasks.append((concrete, m, workload))
            elif (stage, variant) not in swept:
                tasks.append((concrete, None, workload))
    timed = {target_key(m) for m in current}
    for key, count in counts.items():
        if key in timed:
            continue
        for rule in spec.rules_for(key[0], key[1]):
            if rule.metric in INSTRUCTION_METRICS:
                done.add(rule)
                tasks.append((replace(rule, stage=key[0], variant=key[1]), count, key[2]))
    for obs in scaling:
        for rule in spec.rules_for(obs.stage, obs.variant):
            if rule.metric == "scaling":
                done.add(rule)
                tasks.append((replace(rule, stage=obs.stage, variant=obs.variant), obs,
                              obs.workload))
    tasks.extend((rule, None, None) for rule in spec.rules
                 if rule not in done and rule.stage != "*")
    return tasks


def family_size(spec: BudgetSpec, pairs: Sequence[tuple[str, str]]) -> int:
    """How many error-level verdicts a check of the (stage, variant) ``pairs`` makes: the
    m of the Bonferroni correction (each pair's rules, defaults and ``*`` included)."""
    return sum(1 for stage, variant in pairs for rule in spec.rules_for(stage, variant)
               if rule.level == "error")
