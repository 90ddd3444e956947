"""Instruction budgets in a check or a baseline: which targets to count, and counting them.

A target (stage/variant) is counted when a rule on ``instructions``, ``l1_misses`` or
``ll_misses`` applies to it; the cache simulation is turned on for targets with a miss
rule. With ``--against``, both commits are counted, each from its own checkout with
environments of the same size (as the wall-time workers are). Counting happens before the
timed rounds: it is deterministic and does not need to be repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from workbench.budget.instr_verdict import instruction_key, instruction_key_of
from workbench.budget.spec import BudgetSpec
from workbench.measure.instructions import (
    INSTRUCTION_METRICS,
    InstructionCount,
    InstructionSettings,
    count_instructions,
)
from workbench.measure.targets import Params, TargetSpec, WorkloadArg, stage_target
from workbench.progress import Progress
from workbench.refs import PipelineArg

__all__ = ["CountSide", "count_sides", "counted_pairs"]

#: A side of a count: its name, its checkout root (None: this process's import path) and
#: the size its environment is padded to (None: as it is).
CountSide = tuple[str, Path | None, int | None]


def counted_pairs(spec: BudgetSpec, pairs: Sequence[tuple[str, str]],
                  ) -> list[tuple[str, str, bool]]:
    """(stage, variant, cache simulation needed) for each pair an instruction rule applies
    to."""
    out = []
    for stage, variant in pairs:
        metrics = {r.metric for r in spec.rules_for(stage, variant)} & set(INSTRUCTION_METRICS)
        if metrics:
            out.append((stage, variant, bool(metrics - {"instructions"})))
    return out


def _judgeable(spec: BudgetSpec, target: TargetSpec,
               baseline: Sequence[InstructionCount] | None) -> bool:
    """Whether a count of ``target`` can be judged: always with both sides counted
    (``baseline`` None), else when an absolute rule applies or the stored baseline holds a
    count of it (a relative limit without one is ``no-baseline`` whatever the count)."""
    if baseline is None:
        return True
    rules = [r for r in spec.rules_for(target.name, target.variant or "pure")
             if r.metric in INSTRUCTION_METRICS]
    return any(r.kind == "absolute" for r in rules) or \
        any(instruction_key(c) == instruction_key_of(target) for c in baseline)


def count_sides(spec: BudgetSpec, pairs: Sequence[tuple[str, str]], workload: WorkloadArg,
                pipeline: PipelineArg, params: Params | None, sides: Sequence[CountSide],
                progress: Progress | None = None, seed: int = 0,
                baseline: Sequence[InstructionCount] | None = None,
                ) -> dict[str, tuple[InstructionCount, ...]]:
    """Per side: the counts of every pair with an instruction rule (failed counts
    included: the verdicts say why). Missing Valgrind raises before anything runs.

    ``baseline``, for a check against stored counts (or none): pairs whose only
    instruction rules are relative and that it holds no count of are not counted (a count
    takes ~20 s and could not be judged)."""
    todo = []
    for stage, variant, cache_sim in counted_pairs(spec, pairs):
        target = stage_target(stage, variant, workload, pipeline=pipeline, params=params)
        if _judgeable(spec, target, baseline):
            todo.append((target, cache_sim))
    out: dict[str, list[InstructionCount]] = {name: [] for name, _, _ in sides}
    total = len(todo) * len(sides)
    done = 0
    for target, cache_sim in todo:
        settings = InstructionSettings(cache_sim=cache_sim, seed=seed)
        for name, root, size in sides:
            if progress is not None:
                progress(done, total, f"instructions of {target.label} ({name})")
            out[name].append(count_instructions(target, settings, root=root, env_size=size))
            done += 1
    if progress is not None and total:
        progress(total, total, "instructions counted")
    return {name: tuple(counts) for name, counts in out.items()}
