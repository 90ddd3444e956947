"""``%%budget``: the cell's code measured (warmed, repeated, isolated) and held to limits.

The flow, every check before anything runs:

1. parse the flags (a bad flag or value is a ``UsageError`` naming it);
2. the rules: one per limit flag, and with ``--stage S [--variant V]`` the budgets file's
   rules for S/V (a flag replaces the file's rule on the same metric);
3. the baseline for relative limits (``1.1x``), from ``--against NAME``: an earlier
   ``%%budget`` cell of this session (its block is measured again, beside this one), a
   variant of ``--stage`` (measured beside this one on the session's workload), or a
   result file (a measurement, a ``%%budget`` result or a baseline file, as stored);
4. the cell's code becomes a function (:mod:`workbench.notebook.cell`), measured in
   worker processes (shipped by value) or, with ``--inprocess``, in the kernel;
5. the verdicts, by :func:`workbench.budget.verdict.check` (the semantics of
   ``workbench check``), as a :class:`~workbench.budget.block.BudgetedBlock`; settings that
   cannot decide without a model (fewer than 5 worker processes) or that measure in the
   kernel (``--inprocess``) are flagged in its ``warning`` (:func:`workers_warning`).

The caller displays the result; an error-level breach then raises ``BlockBudgetError``
(a ``PerfBudgetError``) unless ``--warn``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from workbench.budget.block import BlockBudgetError, BudgetedBlock
from workbench.budget.limits import FLAG_METRICS, flag_rules, merge, needs_baseline
from workbench.budget.rules import Rule
from workbench.budget.spec import BudgetSpec
from workbench.errors import ExecutionError, InvalidInputError
from workbench.measure.config import MeasureConfig
from workbench.measure.measurement import Measurement
from workbench.measure.targets import TargetSpec
from workbench.notebook.cell import CellBlock, block_from_cell
from workbench.notebook.session import Session

__all__ = ["BudgetRequest", "add_budget_flags", "plan", "run_budget", "workers_warning"]

Progress = Callable[[int, int, str], None]
BLOCK_VARIANT = "block"


def add_budget_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of ``%%budget`` (the measurement flags are the CLI's)."""
    from workbench.cli_args import add_measure_flags, positive_int

    limits = parser.add_argument_group("limits (absolute: 120ms, 800MB, 500/s; relative to "
                                       "--against: 1.1x)")
    helps = {"latency": "median (p50) time of one run of the cell",
             "p95": "95th percentile time", "p99": "99th percentile time",
             "rss": "peak resident set size of a worker", "heap": "Python heap peak",
             "throughput": "items per second at the median (with --items)"}
    for flag in FLAG_METRICS:
        limits.add_argument(f"--{flag}", metavar="LIMIT", help=helps[flag])
    parser.add_argument("--items", type=positive_int, default=None,
                        help="items one run of the cell processes (for throughput; default 1)")
    parser.add_argument("--against", metavar="NAME",
                        help="baseline for relative limits: an earlier %%%%budget cell's "
                             "--name, a variant of --stage (e.g. pure), or a result file")
    parser.add_argument("--stage", help="apply this stage's rules from the budgets file")
    parser.add_argument("--variant", help="the variant the cell implements (default: the "
                                          "session's selection for --stage)")
    parser.add_argument("--workload", "-w", default=None,
                        help="workload for --against VARIANT (default: the session's)")
    parser.add_argument("--warn", action="store_true",
                        help="show a breach without raising PerfBudgetError")
    parser.add_argument("--name", help="name of this block (default: cellN); --against "
                                       "takes it in later cells")
    add_measure_flags(parser, output=False)


@dataclass(frozen=True)
class BudgetRequest:
    """What a ``%%budget`` cell asks for, checked: ready to measure."""

    name: str
    block: CellBlock
    rules: tuple[Rule, ...]
    key: tuple[str, str]  # (stage, variant) the rules and verdicts are about
    config: MeasureConfig
    warn_only: bool
    against: str | None
    baseline_target: TargetSpec | None  # measured now, beside the block
    stored_baseline: Measurement | None  # read from a file
    source: str
    warning: str | None = None  # what the configuration cannot claim (workers_warning)


def _name(args: argparse.Namespace, count: int) -> str:
    name = args.name or f"cell{count}"
    if not name.replace("-", "_").isidentifier():
        raise InvalidInputError(f"--name {name!r}: use letters, digits, '_' or '-' "
                                "(it names the block in later --against)")
    return str(name)


def _key(args: argparse.Namespace, session: Session, name: str) -> tuple[str, str]:
    if args.variant and not args.stage:
        raise InvalidInputError("--variant needs --stage (the stage whose variant the cell is)")
    if not args.stage:
        return name, BLOCK_VARIANT
    stage = session.pipeline_object().stage(args.stage)
    variant = args.variant or session.variant_of(stage.name)
    stage.get(variant)
    return stage.name, variant


def _file_rules(args: argparse.Namespace, session: Session, key: tuple[str, str],
                ) -> tuple[Rule, ...]:
    if not args.stage:
        return ()
    from workbench.budget.commands import load_spec

    path = session.project.budgets_path
    if not path.is_file():
        return ()
    return load_spec(path, session.pipeline).rules_for(*key)


def _stored(path: Path, key: tuple[str, str]) -> Measurement:
    """A measurement from a result file: a measurement, a %%budget result or a baseline."""
    import json

    from workbench.files import read_text

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


def _baseline(args: argparse.Namespace, session: Session, key: tuple[str, str],
              config: MeasureConfig) -> tuple[TargetSpec | None, Measurement | None]:
    from workbench.measure.engine import target_spec

    name = args.against
    if name is None:
        return None, None
    named = session.cell(name)
    if named is not None:
        spec = target_spec(named.block.fn, None, "pure", None, None, config)
        return replace(spec, name=f"%%budget {name}"), None
    if args.stage:
        stage = session.pipeline_object().stage(args.stage)
        if name in stage.variants:
            workload = args.workload or session.workload
            return target_spec(stage.name, workload, name, None, session.pipeline, config), None
    path = Path(name)
    if path.suffix == ".json" or path.exists():
        return None, _stored(path, key)
    options = ", ".join(session.cells) or "(none yet)"
    variants = (", ".join(session.pipeline_object().stage(args.stage).variant_names)
                if args.stage else "(give --stage to compare with a stage's variant)")
    raise InvalidInputError(
        f"--against {name!r} is neither an earlier %%budget cell ({options}), a variant of "
        f"--stage ({variants}) nor a result file")


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
    return (f"%%budget --workers {k}: {k} workers cannot decide without a model: the "
            f"distribution-free interval on worker medians (the rank interval) needs {need} "
            f"workers per side (--workers {need}, the default); with {k}, intervals rest on "
            f"a model of the spread between workers (log-normal) fitted to {k} workers, or "
            f"stay undecided")


def plan(args: argparse.Namespace, cell: str, namespace: dict[str, Any], session: Session,
         count: int) -> BudgetRequest:
    """Everything ``%%budget`` needs, checked before anything runs."""
    from workbench.cli_args import config_of

    name = _name(args, count)
    key = _key(args, session, name)
    flags = flag_rules({f: getattr(args, f) for f in FLAG_METRICS}, *key)
    if args.items is not None and args.throughput is None:
        raise InvalidInputError("--items only matters with --throughput")
    rules = merge(_file_rules(args, session, key), flags)
    if args.stage and not rules:
        raise InvalidInputError(f"no limits: {session.project.budgets_path} has no rule for "
                                f"{key[0]}/{key[1]} and no limit flag was given")
    relative = needs_baseline(rules)
    if relative is not None and args.against is None:
        raise InvalidInputError(f"{relative.metric} {relative.limit_text()} is relative: give "
                                "--against NAME (an earlier %%budget cell, a variant of "
                                "--stage, or a result file)")
    config = config_of(args)
    block = block_from_cell(cell, namespace, name=name, items=args.items or 1)
    target, stored = _baseline(args, session, key, config)
    return BudgetRequest(name, block, rules, key, config, args.warn, args.against, target,
                         stored, cell, workers_warning(config))


def _as_key(m: Measurement, key: tuple[str, str], workload: str | None) -> Measurement:
    """``m`` renamed to the rules' target, so verdicts match it (the record keeps the
    original)."""
    return replace(m, target=replace(m.target, name=key[0], variant=key[1], workload=workload))


def run_budget(req: BudgetRequest, session: Session, *,
               progress: Progress | None = None) -> BudgetedBlock:
    """Measure the block (beside its baseline, if one is measured now) and judge it."""
    from workbench.budget.verdict import check
    from workbench.measure.engine import measure_together, target_spec

    block = target_spec(req.block.fn, None, "pure", None, None, req.config)
    specs = {"block": replace(block, name=f"%%budget {req.name}")}
    if req.baseline_target is not None:
        specs["baseline"] = req.baseline_target
    measured = measure_together(specs, req.config, progress=progress)
    current = measured["block"]
    base = measured.get("baseline", req.stored_baseline)
    spec = BudgetSpec(req.rules, source=f"%%budget {req.name}")
    verdicts = check(spec, [_as_key(current, req.key, None)],
                     [_as_key(base, req.key, None)] if base is not None else None)
    result = BudgetedBlock(req.name, req.source, current, verdicts, base, req.against,
                           req.warn_only, req.warning)
    session.keep(f"%%budget {req.name}", result)
    if current.ok:
        session.remember_cell(req.name, req.block, result)
    return result


def raise_for(result: BudgetedBlock) -> None:
    """After display: the block failed (ExecutionError) or broke an error-level limit
    (BlockBudgetError, unless ``--warn``)."""
    if not result.current.ok:
        raise ExecutionError(f"%%budget {result.name}: the block failed: "
                             f"{result.current.error_text()}")
    if result.blocking and not result.warn_only:
        raise BlockBudgetError(result)
