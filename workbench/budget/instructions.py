"""Instruction budgets: which targets a check or a baseline counts, counting them, and the
verdicts on the counts.

**Counting.** A target (stage/variant) is counted when a rule on ``instructions``, ``l1_misses`` or
``ll_misses`` applies to it; the cache simulation is turned on for targets with a miss
rule. With ``--against``, both commits are counted, each from its own checkout with
environments of the same size (as the wall-time workers are). Counting happens before the
timed rounds: it is deterministic and does not need to be repeated.

**Verdicts** on instruction counts (``instructions``, ``l1_misses``, ``ll_misses``). A
count under Cachegrind is the same every time the same code runs in the same memory
layout (:mod:`workbench.measure.instructions`), but the same code counted from another
checkout, or at another layout, differs a little. So every verdict has a band b
(:func:`~workbench.measure.instructions.verdict_band`): the spread of counts of the same
code across checkouts at paths of different lengths
(:data:`~workbench.measure.instructions.CHECKOUT_SPREAD`, measured by
``benchmarks/instructions.py``), or the counts' own spread over memory layouts when that
is wider. Within the band a count cannot tell over from under:

- *Relative* limit t: the ratio r = current/baseline. Breach when r > t x (1 + b); pass
  when r <= t x (1 - b); between, ``inconclusive`` ("undecided: within the band of the
  limit"). Identical code (r near 1) passes any limit t with t x (1 - b) >= 1 + b;
  ``"0.95x"`` demands a 5 % cut.
- *Absolute* limit L (a count per call): the same with the count in place of r and L in
  place of t.

An undecided verdict is final: counting again gives the same figures, so more counts
cannot help; a limit further from the measured value can. Every message names the band
used and where it comes from.

A relative rule needs a baseline count of the same stage, variant and workload
(``no-baseline`` otherwise) made with the same Valgrind version and comparable
fingerprints (``not-comparable`` otherwise). Cache-miss metrics need the cache
simulation (``--cache-sim=yes``), which a check turns on for targets that have such a rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench import formatting as fmt
from workbench.budget.check_result import Status, Verdict
from workbench.budget.rules import Rule
from workbench.budget.spec import BudgetSpec
from workbench.measure.instructions import (
    CHECKOUT_SPREAD,
    INSTRUCTION_METRICS,
    InstructionCount,
    InstructionSettings,
    count_instructions,
    verdict_band,
)
from workbench.measure.targets import Params, TargetSpec, WorkloadArg, stage_target
from workbench.progress import Progress
from workbench.refs import PipelineArg

__all__ = ["CountSide", "InstructionKey", "band_note", "baselines_by_key", "count_sides",
           "counted_pairs", "instruction_key", "instruction_key_of", "judge_count",
           "judge_uncounted"]


_NAMES = {"instructions": "instructions per call", "l1_misses": "L1 misses per call",
          "ll_misses": "last-level misses per call"}
InstructionKey = tuple[str, str, str | None]


def instruction_key_of(target: TargetSpec) -> InstructionKey:
    return target.name, target.variant or "pure", target.workload


def instruction_key(count: InstructionCount) -> InstructionKey:
    return instruction_key_of(count.target)


def _shown(metric: str, value: float) -> str:
    return f"{_NAMES[metric]} {fmt.count(value)} (simulated)"


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.2g} %"


def band_note(band: float, floor: float, counts: Mapping[str, InstructionCount]) -> str:
    """How wide ``band`` is and where it comes from: the spread measured across checkouts
    ``floor``, or the named count's spread over memory layouts when that is wider."""
    spreads = ", ".join(f"{name} {_pct(c.spread)}" for name, c in counts.items())
    name, widest = max(counts.items(), key=lambda item: item[1].spread)
    if widest.spread > floor:
        return (f"band ±{_pct(band)}, the {name} count's measured spread over memory "
                f"layouts, wider than the ±{_pct(floor)} measured across checkouts")
    return (f"band ±{_pct(band)}, the measured spread across checkouts, wider than the "
            f"layout spreads: {spreads}")


def _decide(value: float, limit: float, band: float) -> Status:
    if value > limit * (1 + band):
        return "breach"
    if value <= limit * (1 - band):
        return "pass"
    return "inconclusive"


def _undecided(shown: str, low: str, high: str, limit: str, note: str) -> str:
    return (f"undecided: within the band of the limit: {shown} lies between {low} and "
            f"{high}, the limit {limit} ± its band ({note}). The counts cannot tell more "
            "(counting again gives the same figures, so more counts will not help); a "
            "limit further from this value would decide")


# One decision table (no baseline, not comparable, relative, absolute), each branch with its
# own message; kept together so the band is applied the same way in every branch.
def judge_count(rule: Rule, count: InstructionCount, workload: str | None,
                baselines: Mapping[InstructionKey, InstructionCount],
                floor: float = CHECKOUT_SPREAD) -> Verdict:
    """The verdict of one instruction rule on ``count`` (see the module docstring);
    ``floor`` is the band's floor, the spread measured across checkouts."""
    metric = rule.metric
    if not count.ok:
        return Verdict(rule, "inconclusive", workload,
                       f"counting instructions failed: {count.error}")
    value = count.metric(metric)
    if value is None:
        return Verdict(rule, "inconclusive", workload, f"{metric} needs the cache "
                       "simulation, which this count was made without")
    observed: dict[str, Any] = {"observed": value}
    if rule.kind == "absolute":
        band = verdict_band(count, floor=floor)
        note = band_note(band, floor, {"current": count})
        shown = _shown(metric, value)
        limit = fmt.count(rule.value)
        low, high = fmt.count(rule.value * (1 - band)), fmt.count(rule.value * (1 + band))
        status = _decide(value, rule.value, band)
        if status == "breach":
            msg = (f"{shown} is over the limit {limit} by "
                   f"{100 * (value / rule.value - 1):.2f}%, beyond its band (breach above "
                   f"{high}; {note})")
        elif status == "pass":
            msg = f"{shown} is within the limit {limit}, below its band (pass at or " \
                  f"below {low}; {note})"
        else:
            msg = _undecided(shown, low, high, limit, note)
        return Verdict(rule, status, workload, msg, **observed)
    base = baselines.get(instruction_key(count))
    if base is None or not base.ok:
        why = "has no instruction count" if base is None else f"count failed ({base.error})"
        return Verdict(rule, "no-baseline", workload, f"the baseline {why} of {rule.label} "
                       f"on {workload or '-'}; relative limits need one", **observed)
    differ = count.incomparable(base)
    if differ:
        return Verdict(rule, "not-comparable", workload, "the baseline count was made with a "
                       f"different {', '.join(differ)}; relative limits are not evaluated",
                       **observed)
    base_value = base.metric(metric)
    if base_value is None or base_value <= 0:
        return Verdict(rule, "no-baseline", workload, f"the baseline count has no {metric} "
                       "(cache misses need the cache simulation on both sides)", **observed)
    ratio = value / base_value
    band = verdict_band(count, base, floor=floor)
    note = band_note(band, floor, {"current": count, "baseline": base})
    limit = f"{rule.value:g}x"
    low, high = f"{rule.value * (1 - band):.4f}x", f"{rule.value * (1 + band):.4f}x"
    shown = (f"{_NAMES[metric]} current/baseline {ratio:.4f}x ({fmt.count(value)} vs "
             f"{fmt.count(base_value)}, simulated)")
    status = _decide(ratio, rule.value, band)
    if status == "breach":
        msg = f"{shown} is over the limit {limit}, beyond its band (breach above {high}; " \
              f"{note})"
    elif status == "pass":
        msg = f"{shown}: within the limit {limit}, below its band (pass at or below {low}; " \
              f"{note})"
    else:
        msg = _undecided(shown, low, high, limit, note)
    return Verdict(rule, status, workload, msg, baseline=base_value, ratio=ratio,
                   **observed)


def judge_uncounted(rule: Rule, workload: str | None) -> Verdict:
    """The verdict of an instruction rule on a target that was not counted: a relative
    rule had no baseline count to compare with (so none was made now); an absolute one
    is not evaluated."""
    if rule.kind == "relative":
        return Verdict(rule, "no-baseline", workload, "no baseline instruction count of "
                       f"{rule.label} on {workload or '-'} (so none was made now): "
                       "relative limits need one; `workbench baseline` stores counts")
    return Verdict(rule, "inconclusive", workload, "not evaluated: needs an instruction "
                   "count under Cachegrind (none was made)")


def baselines_by_key(counts: Sequence[InstructionCount]
                     ) -> dict[InstructionKey, InstructionCount]:
    return {instruction_key(c): c for c in reversed(counts)}


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
                layouts: int | None = None) -> dict[str, tuple[InstructionCount, ...]]:
    """Per side: the counts of every pair with an instruction rule (failed counts
    included: the verdicts say why). Missing Valgrind raises before anything runs.

    ``baseline``, for a check against stored counts (or none): pairs whose only
    instruction rules are relative and that it holds no count of are not counted (a count
    takes ~20 s and could not be judged). ``layouts``: memory layouts counted per target
    (None: :data:`~workbench.measure.instructions.DEFAULT_LAYOUTS`)."""
    todo = []
    for stage, variant, cache_sim in counted_pairs(spec, pairs):
        target = stage_target(stage, variant, workload, pipeline=pipeline, params=params)
        if _judgeable(spec, target, baseline):
            todo.append((target, cache_sim))
    out: dict[str, list[InstructionCount]] = {name: [] for name, _, _ in sides}
    total = len(todo) * len(sides)
    done = 0
    for target, cache_sim in todo:
        settings = InstructionSettings(cache_sim=cache_sim, seed=seed,
                                       **({} if layouts is None else {"layouts": layouts}))
        for name, root, size in sides:
            if progress is not None:
                progress(done, total, f"instructions of {target.label} ({name})")
            out[name].append(count_instructions(target, settings, root=root, env_size=size))
            done += 1
    if progress is not None and total:
        progress(total, total, "instructions counted")
    return {name: tuple(counts) for name, counts in out.items()}
