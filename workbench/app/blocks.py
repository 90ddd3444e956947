"""Budget blocks: a piece of code (a ``%%budget`` cell) measured and held to limits.

A block is a function of no arguments, measured warmed and repeated in worker processes
(or in this process), with rules on the metrics of its one target: limits given as flags
(``latency="120ms"``, ``p95="1.1x"``), on top of a budgets file's rules for a stage's
variant. Relative limits compare it with a baseline: another function or a stage's
variant measured now, beside it, worker by worker (:func:`block_target`,
:func:`variant_target`), or a measurement read from a result file
(:func:`stored_measurement`). :func:`run_block` measures and judges it (the semantics of
``workbench check``) as a :class:`~workbench.budget.budgeted_block.BudgetedBlock`;
:func:`raise_for` raises for a failed block or an error-level breach.

The notebook's ``%%budget`` turns its flags and the session's state into a
:class:`BlockRequest` with these functions and runs it; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import ExecutionError, InvalidInputError

if TYPE_CHECKING:
    from workbench.budget.budgeted_block import BudgetedBlock
    from workbench.budget.rules import Rule
    from workbench.measure.config import MeasureConfig
    from workbench.measure.measurement import Measurement
    from workbench.measure.targets import TargetSpec, WorkloadArg
    from workbench.progress import Progress
    from workbench.refs import PipelineArg

__all__ = ["BLOCK_VARIANT", "BlockRequest", "block_target", "file_rules", "flag_rules",
           "limit_flags", "raise_for", "relative_rule", "run_block", "stored_measurement",
           "variant_target", "workers_warning"]

#: The variant a block's rules and verdicts are about when it is not a stage's variant.
BLOCK_VARIANT = "block"

Key = tuple[str, str]  # (stage, variant) the rules and verdicts are about


@dataclass(frozen=True)
class BlockRequest:
    """A block to measure, checked: its rules, settings and baseline."""

    name: str
    fn: Callable[[], Any]
    rules: tuple[Rule, ...]
    key: Key
    config: MeasureConfig
    warn_only: bool
    against: str | None
    baseline_target: TargetSpec | None  # measured now, beside the block
    stored_baseline: Measurement | None  # read from a file
    source: str
    warning: str | None = None  # what the configuration cannot claim (workers_warning)


# -- the rules ------------------------------------------------------------------------------

def limit_flags() -> Mapping[str, str]:
    """Each limit flag (``latency``, ``p95``, ...) and its help about a cell, from the
    registered metrics."""
    from workbench.budget.limits import FLAG_METRICS
    from workbench.measure.metrics import METRICS

    return {flag: METRICS[metric].help_for(cell=True) for flag, metric in FLAG_METRICS.items()}


def flag_rules(values: Mapping[str, str | None], key: Key) -> tuple[Rule, ...]:
    """One error-level rule of ``key`` per given limit flag; a bad value is an
    InvalidInputError naming the flag, the value and what it accepts."""
    from workbench.budget.limits import flag_rules as rules

    return rules(values, *key)


def file_rules(flags: Sequence[Rule], key: Key, budgets: Path | None,
               pipeline: PipelineArg) -> tuple[Rule, ...]:
    """The budgets file's rules for ``key`` (none without a file at ``budgets``) with the
    ``flags`` on top: a flag replaces the file's rules on the same metric."""
    from workbench.budget.limits import merge

    if budgets is None or not budgets.is_file():
        return merge((), flags)
    from workbench.budget.checking import load_spec

    return merge(load_spec(budgets, pipeline).rules_for(*key), flags)


def relative_rule(rules: Sequence[Rule]) -> Rule | None:
    """The first relative rule (it needs a baseline), if any."""
    from workbench.budget.limits import needs_baseline

    return needs_baseline(rules)


# -- the baseline ---------------------------------------------------------------------------

def block_target(fn: Callable[[], Any], name: str, config: MeasureConfig) -> TargetSpec:
    """A function (an earlier block) as a baseline measured beside the block, as ``name``."""
    from workbench.measure.engine import target_spec

    return replace(target_spec(fn, None, "pure", None, None, config), name=name)


def variant_target(stage: str, workload: WorkloadArg, variant: str, pipeline: PipelineArg,
                   config: MeasureConfig) -> TargetSpec:
    """A stage's variant on ``workload`` as a baseline measured beside the block."""
    from workbench.measure.engine import target_spec

    return target_spec(stage, workload, variant, None, pipeline, config)


def stored_measurement(path: Path, key: Key) -> Measurement:
    """A measurement from a result file: a measurement, a %%budget result or a baseline
    (its one measurement of ``key``)."""
    import json

    from workbench.budget.budgeted_block import BudgetedBlock
    from workbench.files import read_text
    from workbench.measure.measurement import Measurement

    text = read_text(path, "baseline")
    try:
        kind = json.loads(text).get("kind")
    except (ValueError, AttributeError):
        kind = None
    if kind == "measurement":
        return Measurement.loads(text)
    if kind == "budget-block":
        return BudgetedBlock.loads(text).current
    from workbench.budget.baseline import load_baseline

    found = [m for m in load_baseline(path).measurements
             if (m.target.name, m.target.variant or "pure") == key]
    if len(found) != 1:
        raise InvalidInputError(f"--against {str(path)!r}: the baseline holds no single "
                                f"measurement of {key[0]}/{key[1]} ({len(found)} found)")
    return found[0]


# -- the settings ---------------------------------------------------------------------------

def workers_warning(config: MeasureConfig) -> str | None:
    """What ``%%budget``'s measurement settings cannot claim (None when they can decide):
    runs in this process describe this process only, and fewer worker processes than
    :func:`~workbench.measure.comparison.minimum_workers` cannot decide without a model of
    the spread between workers."""
    from workbench.measure.comparison import minimum_workers

    need = minimum_workers()
    k = config.workers
    if config.mode == "inprocess":
        runs = "one run" if k == 1 else f"{k} runs"
        how = ("the intervals are order statistics of its samples" if k == 1 else
               "they share this process, so they are not independent units and the "
               "intervals understate the spread between fresh processes")
        return (f"%%budget --inprocess --workers {k}: {runs} in this process: {how}; the "
                f"verdicts are about this process, not about fresh worker processes "
                f"(leave out --inprocess for {need} worker processes)")
    if k >= need:
        return None
    if k == 1:
        return (f"%%budget --workers 1: one worker process: its intervals are order "
                f"statistics of its samples and describe that process only (they are not "
                f"independent draws of fresh processes); a distribution-free interval with "
                f"the worker as the unit needs {need} workers per side (--workers {need}, "
                f"the default)")
    return (f"%%budget --workers {k}: {k} workers cannot decide without a model; --workers "
            f"{need} would (the default: a distribution-free interval on worker medians); "
            f"with {k}, intervals assume log-normal worker medians or stay undecided")


# -- measuring and judging ------------------------------------------------------------------

def _as_key(m: Measurement, key: Key) -> Measurement:
    """``m`` renamed to the rules' target, so verdicts match it (the record keeps the
    original)."""
    return replace(m, target=replace(m.target, name=key[0], variant=key[1], workload=None))


def run_block(request: BlockRequest, *, progress: Progress | None = None) -> BudgetedBlock:
    """Measure the block (beside its baseline, if one is measured now) and judge it
    against its rules."""
    from workbench.budget.budgeted_block import BudgetedBlock
    from workbench.budget.spec import BudgetSpec
    from workbench.budget.verdict import check
    from workbench.measure.engine import measure_together

    specs = {"block": block_target(request.fn, f"%%budget {request.name}", request.config)}
    if request.baseline_target is not None:
        specs["baseline"] = request.baseline_target
    measured = measure_together(specs, request.config, progress=progress)
    current = measured["block"]
    base = measured.get("baseline", request.stored_baseline)
    spec = BudgetSpec(request.rules, source=f"%%budget {request.name}")
    verdicts = check(spec, [_as_key(current, request.key)],
                     [_as_key(base, request.key)] if base is not None else None)
    return BudgetedBlock(request.name, request.source, current, verdicts, base,
                         request.against, request.warn_only, request.warning)


def raise_for(result: BudgetedBlock) -> None:
    """After display: the block failed (ExecutionError) or broke an error-level limit
    (BlockBudgetError, a PerfBudgetError, unless ``--warn``)."""
    from workbench.budget.budgeted_block import BlockBudgetError

    if not result.current.ok:
        raise ExecutionError(f"%%budget {result.name}: the block failed: "
                             f"{result.current.error_text()}")
    if result.blocking and not result.warn_only:
        raise BlockBudgetError(result)
