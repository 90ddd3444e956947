"""A parsed command through the services: what the command line and ``%wb`` both do with
the namespace of :func:`workbench.app.parser.build_parser`.

Each function takes the namespace and what the front end resolves itself (the workload
and pipeline: names on the command line, possibly the notebook's objects in ``%wb``; the
progress callback; the fan-out it opened with :func:`workbench.app.args.fanout_of`) and
returns the service's result. Nothing here prints.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.app.args import (
    MEASURE_FLAGS,
    config_of,
    decided_log,
    fanout_of,
    limit_rules,
    params_of,
)
from workbench.errors import InvalidInputError

if TYPE_CHECKING:
    from workbench.app.budgets import CheckReport
    from workbench.app.deciding import Decided
    from workbench.budget.baseline import Baseline
    from workbench.measure.placement import Fanout
    from workbench.measure.targets import WorkloadArg
    from workbench.refs import PipelineArg
    from workbench.results import Result
    from workbench.runs import PipelineRun

__all__ = ["baseline_command", "baseline_json", "check_command", "check_error",
           "decide_command", "load_evidence", "measure_command", "measure_warnings",
           "profile_command", "run_command"]


def _name(workload: WorkloadArg) -> str:
    return workload if isinstance(workload, str) else workload.name


def run_command(args: argparse.Namespace, *, pipeline: PipelineArg, workload: WorkloadArg,
                select: Sequence[tuple[str, str]], progress: Any = None) -> PipelineRun:
    """``run``: the pipeline once with ``select`` (the ``--select`` choices, and the
    notebook's selection in ``%wb``), ``--all``, ``--decided`` and ``--param``."""
    from workbench.app.measuring import run

    return run(pipeline, workload, select=select, all_variants=args.all_variants,
               fuse=not args.no_fuse, params=params_of(args), decided=decided_log(args),
               progress=progress)


def measure_warnings(args: argparse.Namespace, prog: str, *, workers: bool = True) -> list[str]:
    """The warnings as ``compare``/``sweep`` begin to measure: a busy machine, and (with
    ``workers``) workers per variant too few to decide a speed-up without a model
    (``prog``: how the command is called, for the flag to change). Front ends print them
    when the measuring begins (at the first progress report,
    :func:`workbench.progress.announced`), after every check of the request, so that no
    warning comes before a usage error. A notebook leaves the workers out: the result it
    shows says it, once."""
    from workbench.measure.comparison import workers_warning
    from workbench.measure.load import busy_note

    count = config_of(args).workers
    few = workers_warning(count, f"{prog} {args.command} --workers {count}") if workers \
        else None
    return [w for w in (busy_note(), few) if w]


def measure_command(args: argparse.Namespace, *, workload: WorkloadArg,
                    pipeline: PipelineArg, progress: Any, fanout: Fanout) -> Any:
    """``compare``'s or ``sweep``'s flags through the service layer."""
    from workbench.app.measuring import compare, scale_out, sweep

    options = {"pipeline": pipeline, "params": params_of(args), "config": config_of(args),
               "progress": progress, "fanout": fanout}
    if getattr(args, "cluster_workers", None) is not None:
        return scale_out(args.stage, workload, workers=args.cluster_workers,
                         references=args.variants, **options)
    if args.command == "sweep":
        return sweep(args.stage, workload, sizes=args.sizes, variants=args.variants,
                     **options)
    return compare(args.stage, workload, variants=args.variants, max_time=args.max_time,
                   metric=args.metric, **options)


def profile_command(args: argparse.Namespace, *, workload: WorkloadArg,
                    pipeline: PipelineArg, variant: str) -> Any:
    """The profile of ``variant`` by the registered profiler the command names (flame,
    memory, lines, ...), with the options its declaration lists."""
    from workbench.app.profiling import profile
    from workbench.profile.registry import profiler

    options: dict[str, Any] = {"pipeline": pipeline, "params": params_of(args),
                               "threads": args.threads, "timeout": args.timeout,
                               "keep_artifacts": args.keep_artifacts}
    options.update({o.name: getattr(args, o.name) for o in profiler(args.command).options})
    return profile(args.command, args.stage, workload, variant, **options)


def baseline_command(args: argparse.Namespace, *, workload: WorkloadArg,
                     pipeline: PipelineArg, progress: Any,
                     fanout: Fanout) -> tuple[Baseline, Path]:
    """``baseline``: the budgeted targets measured and stored at ``--out`` (default:
    ``reports/baseline-WORKLOAD.json``); returns the baseline and where it went."""
    from workbench.app.budgets import baseline
    from workbench.budget.standing import baseline_path

    out: Path = args.out or baseline_path(Path(), _name(workload))
    stored = baseline(args.budgets, out, workload=workload, pipeline=pipeline,
                      params=params_of(args), config=config_of(args), progress=progress,
                      fanout=fanout, decided=_decision_log())
    return stored, out


def baseline_json(stored: Baseline) -> str:
    """The stored baseline as ``--json`` writes it."""
    import json

    return json.dumps(stored.to_json(), indent=1, allow_nan=False)


def check_command(args: argparse.Namespace, *, workload: WorkloadArg,
                  pipeline: PipelineArg, progress: Any) -> CheckReport:
    """``check``'s flags through the service layer, on the cluster ``--cluster`` names;
    the cluster's notes join the report's notices."""
    from workbench.app.budgets import check

    with fanout_of(args) as fanout:
        report = check(args.budgets, workload=workload, pipeline=pipeline,
                       params=params_of(args), config=config_of(args),
                       baseline_file=args.baseline, against=args.against,
                       repo=None if args.against is None else Path.cwd(),
                       history=None if args.no_history else args.history,
                       progress=progress, max_time=args.max_time, fanout=fanout,
                       decided=_decision_log())
    if fanout.notes:
        report = replace(report, notices=(*report.notices, *fanout.notes))
    return report


def _decision_log() -> Path:
    """The decision log of the project here: its stage targets are checked on the
    variants it records."""
    from workbench.project import find_project

    return find_project(Path.cwd()).decisions_path


def check_error(report: CheckReport) -> Exception | None:
    """The error that fails a notebook cell (``%wb check``) when the check found an
    error-level breach, else None."""
    if report.exit_code() != 1:
        return None
    from workbench.budget.budgeted_block import CheckBudgetError

    return CheckBudgetError(report.result)


def load_evidence(paths: Sequence[Path]) -> list[Result]:
    """The results in ``--evidence`` files (any kind; the record names it)."""
    import json

    from workbench.files import read_text
    from workbench.results import result_from_json

    loaded = []
    for path in paths:
        text = read_text(path, "evidence")
        try:
            loaded.append(result_from_json(json.loads(text)))
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"--evidence {path}: not a JSON result file ({exc.msg} "
                                    f"at line {exc.lineno})") from None
        except InvalidInputError as exc:
            raise InvalidInputError(f"--evidence {path}: {exc}") from None
    return loaded


def _refuse_unused_measure_flags(args: argparse.Namespace, evidence: list[Any]) -> None:
    """With a comparison of the stage among the evidence nothing is measured, so the
    measurement flags would be ignored: refuse them."""
    if not any(e.kind == "comparison" and getattr(e, "stage", None) == args.stage
               for e in evidence):
        return
    given = [f"--{name.replace('_', '-')}" for name in MEASURE_FLAGS
             if getattr(args, name, None) is not None]
    given += ["--inprocess"] if getattr(args, "inprocess", False) else []
    if given:
        raise InvalidInputError(f"{', '.join(given)}: nothing is measured, the evidence "
                                f"holds a comparison of {args.stage}; leave them out")


def _decide_baseline(args: argparse.Namespace, workload: WorkloadArg) -> Path | None:
    from workbench.budget.standing import baseline_path

    if args.baseline is not None:
        return Path(args.baseline)
    default = baseline_path(Path.cwd(), _name(workload))
    return default if default.is_file() else None


def decide_command(args: argparse.Namespace, *, workload: WorkloadArg, pipeline: PipelineArg,
                   evidence: Sequence[Result], progress: Any) -> Decided:
    """``decide``'s flags through the service layer; ``evidence`` (the notebook's results
    of the stage in ``%wb``) comes before the ``--evidence`` files."""
    from workbench.app.deciding import decide

    given = [*evidence, *load_evidence(args.evidence)]
    _refuse_unused_measure_flags(args, given)
    return decide(
        args.stage, args.variant, args.because, log=args.log, pipeline=pipeline,
        workload=workload, evidence=tuple(given),
        budgets=args.budgets, baseline_file=_decide_baseline(args, workload),
        limits=limit_rules(args, args.stage, args.variant),
        update_budgets=not args.no_budget_update, params=params_of(args),
        config=config_of(args), progress=progress)
