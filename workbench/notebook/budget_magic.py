"""``%%budget``: the cell's code measured (warmed, repeated, isolated) and held to limits.

The flow, every check before anything runs:

1. parse the flags (a bad flag or value is a ``UsageError`` naming it); a limit's words up
   to the next flag are the limit (``--latency 10 s``: the cell magic takes no positional
   arguments, so nothing else could own them), so a notebook variable holding ``"10 s"``
   fits unquoted as well as quoted;
2. the rules: one per limit flag, and with ``--stage S [--variant V]`` the budgets file's
   rules for S/V (a flag replaces the file's rule on the same metric);
3. the baseline for relative limits (``1.1x``), from ``--against NAME``: an earlier
   ``%%budget`` cell of this session (its block is measured again, beside this one), a
   variant of ``--stage`` (measured beside this one on the session's workload), or a
   result file (a measurement, a ``%%budget`` result or a baseline file, as stored);
4. the cell's code becomes a function (:mod:`workbench.notebook.cell`), measured in
   worker processes (shipped by value) or, with ``--inprocess``, in the kernel;
5. the verdicts, by :func:`workbench.app.blocks.run_block` (the semantics of
   ``workbench check``), as a :class:`~workbench.budget.budgeted_block.BudgetedBlock`; settings that
   cannot decide without a model (fewer than 5 worker processes) or that measure in the
   kernel (``--inprocess``) are flagged in its ``warning``
   (:func:`~workbench.app.blocks.workers_warning`).

The flags and the session's state are turned into a request here; measuring and judging
are the service layer's (:mod:`workbench.app.blocks`).

The caller displays the result; an error-level breach then raises ``BlockBudgetError``
(a ``PerfBudgetError``) unless ``--warn``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.app import blocks
from workbench.app.args import add_measure_flags, config_of, positive_int
from workbench.app.argv import Words
from workbench.app.blocks import BLOCK_VARIANT, BlockRequest, raise_for, workers_warning
from workbench.app.workloads import from_namespace
from workbench.errors import InvalidInputError
from workbench.notebook.cell import CellBlock, block_from_cell
from workbench.notebook.session import Session

if TYPE_CHECKING:
    from workbench.budget.budgeted_block import BudgetedBlock
    from workbench.measure.config import MeasureConfig
    from workbench.measure.measurement import Measurement
    from workbench.measure.targets import TargetSpec
    from workbench.progress import Progress

__all__ = ["BLOCK_VARIANT", "BudgetRequest", "add_budget_flags", "plan", "raise_for",
           "run_budget", "workers_warning"]

def add_budget_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of ``%%budget`` (the measurement flags are those the command line shares,
    :func:`workbench.app.args.add_measure_flags`)."""
    limits = parser.add_argument_group(
        "limits", "absolute (120ms, 800MB, 500/s) or relative to --against (1.1x). A limit "
        "may hold a space, quoted or not: --latency 10 s (%%budget takes no other words), so "
        "a notebook variable holding '10 s' fits as {limit}, or quoted as everywhere: "
        "{limit!r}")
    for flag, help_text in blocks.limit_flags().items():
        limits.add_argument(f"--{flag}", metavar="LIMIT", action=Words, help=help_text)
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
    """What a ``%%budget`` cell asks for, checked: ready to measure (``request``, for
    :func:`workbench.app.blocks.run_block`) and the cell's block, which later cells can
    name in ``--against``."""

    block: CellBlock
    request: BlockRequest

    @property
    def name(self) -> str:
        return self.request.name

    @property
    def warning(self) -> str | None:
        return self.request.warning


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


def _baseline(args: argparse.Namespace, session: Session, key: tuple[str, str],
              config: MeasureConfig, namespace: Mapping[str, Any],
              ) -> tuple[TargetSpec | None, Measurement | None]:
    """What ``--against NAME`` names: an earlier cell or a variant of ``--stage``
    (measured now, beside the block), or a result file."""
    name = args.against
    if name is None:
        return None, None
    named = session.cell(name)
    if named is not None:
        return blocks.block_target(named.block.fn, f"%%budget {name}", config), None
    if args.stage:
        stage = session.pipeline_object().stage(args.stage)
        if name in stage.variants:
            workload = from_namespace(args.workload, namespace, session.workload,
                                      session.pipeline)
            return blocks.variant_target(stage.name, workload, name, session.pipeline,
                                         config), None
    path = Path(name)
    if path.suffix == ".json" or path.exists():
        return None, blocks.stored_measurement(path, key)
    options = ", ".join(session.cells) or "(none yet)"
    variants = (", ".join(session.pipeline_object().stage(args.stage).variant_names)
                if args.stage else "(give --stage to compare with a stage's variant)")
    raise InvalidInputError(
        f"--against {name!r} is neither an earlier %%budget cell ({options}), a variant of "
        f"--stage ({variants}) nor a result file")


def plan(args: argparse.Namespace, cell: str, namespace: dict[str, Any], session: Session,
         count: int) -> BudgetRequest:
    """Everything ``%%budget`` needs, checked before anything runs."""
    name = _name(args, count)
    key = _key(args, session, name)
    given = {f: getattr(args, f.replace("-", "_")) for f in blocks.limit_flags()}
    flags = blocks.flag_rules(given, key)
    if args.items is not None and args.throughput is None:
        raise InvalidInputError("--items only matters with --throughput")
    budgets = session.project.budgets_path if args.stage else None
    rules = blocks.file_rules(flags, key, budgets, session.pipeline)
    if args.stage and not rules:
        raise InvalidInputError(f"no limits: {session.project.budgets_path} has no rule for "
                                f"{key[0]}/{key[1]} and no limit flag was given")
    relative = blocks.relative_rule(rules)
    if relative is not None and args.against is None:
        raise InvalidInputError(f"{relative.metric} {relative.limit_text()} is relative: give "
                                "--against NAME (an earlier %%budget cell, a variant of "
                                "--stage, or a result file)")
    config = config_of(args)
    block = block_from_cell(cell, namespace, name=name, items=args.items or 1)
    target, stored = _baseline(args, session, key, config, namespace)
    return BudgetRequest(block, BlockRequest(name, block.fn, rules, key, config, args.warn,
                                             args.against, target, stored, cell,
                                             workers_warning(config)))


def run_budget(req: BudgetRequest, session: Session, *,
               progress: Progress | None = None) -> BudgetedBlock:
    """Measure the block (beside its baseline, if one is measured now) and judge it
    (:func:`workbench.app.blocks.run_block`); the result is kept in the session, and a
    block that ran is remembered for later ``--against``."""
    result = blocks.run_block(req.request, progress=progress)
    session.keep(f"%%budget {req.name}", result)
    if result.current.ok:
        session.remember_cell(req.name, req.block, result)
    return result
