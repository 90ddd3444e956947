"""The ``baseline``, ``check`` and ``history`` subcommands of the CLI: parse, call the
service layer (:mod:`workbench.app`), print, exit code.

check's exit codes: 0 every rule passes (warn-level breaches are printed, not fatal),
1 an error-level breach, 2 a usage error or, with ``--strict``, an error-level rule left
inconclusive / not-comparable / without a baseline, 3 an execution error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.budget.sequential import DEFAULT_MAX_TIME
from workbench.budget.spec import METRICS
from workbench.cli_args import (
    add_cluster_flag,
    add_measure_flags,
    config_of,
    fanout_of,
    non_negative_seconds,
)
from workbench.cli_target import add_target_flags, params_of
from workbench.project import Project
from workbench.terminal import STDOUT, emit_json, json_path, use_color

if TYPE_CHECKING:
    from workbench.app import CheckReport

__all__ = ["DEFAULT_CHECK_JSON", "DEFAULT_HISTORY", "add_parsers", "handlers",
           "run_check_command"]

CHECK_EXIT_CODES = """exit codes:
  0    every rule passes (warn-level breaches are printed, not fatal)
  1    an error-level breach
  2    a usage error; with --strict also an error-level rule left inconclusive,
       not-comparable or without a baseline
  3    an execution error (a target failed, Valgrind missing for an instruction rule)
  130  interrupted"""
DEFAULT_HISTORY = Path("reports") / "history.sqlite"
DEFAULT_CHECK_JSON = Path("reports") / "check.json"


def add_parsers(sub: Any, project: Project) -> None:
    for name, text in (("baseline", "measure the budgeted targets and store a baseline"),
                       ("check", "measure, apply budgets.toml, exit non-zero on a breach")):
        cmd = sub.add_parser(name, help=text, epilog=CHECK_EXIT_CODES if name == "check"
                             else None)
        cmd.add_argument("--budgets", type=Path, default=project.budgets_path,
                         help="budgets file (default: %(default)s)")
        add_target_flags(cmd, project, stage=False)
        # always worker processes (and Cachegrind): no --inprocess
        add_measure_flags(cmd, inprocess=False)
        add_cluster_flag(cmd, project.cluster)
        if name == "baseline":
            cmd.add_argument("--out", type=Path, default=None,
                             help="baseline path (default: reports/baseline-WORKLOAD.json)")
        else:
            side = cmd.add_mutually_exclusive_group()
            side.add_argument("--baseline", type=Path, help="a stored baseline file")
            side.add_argument("--against", metavar="GIT_REF",
                              help="measure GIT_REF in a temporary worktree, interleaved")
            record = cmd.add_mutually_exclusive_group()
            record.add_argument("--history", type=Path, default=DEFAULT_HISTORY,
                                help="SQLite history to append to (default: %(default)s)")
            record.add_argument("--no-history", action="store_true",
                                help="do not record history")
            cmd.add_argument("--strict", action="store_true",
                             help="exit 2 when an error-level rule cannot be decided")
            cmd.add_argument("--max-time", type=non_negative_seconds, default=DEFAULT_MAX_TIME,
                             metavar="SECONDS",
                             help="measure undecided error-level targets again, two rounds "
                                  "at a time, until decided or this many seconds of "
                                  "measuring in all (0: one look; default: %(default)g)")
    hist = sub.add_parser("history", help="a stage's trends across checks, one per variant "
                                          "and workload, with step detection")
    hist.add_argument("stage")
    hist.add_argument("--metric", default="latency_p50", choices=sorted(METRICS),
                      metavar="METRIC", help="metric (default: %(default)s; one of "
                                             + ", ".join(sorted(METRICS)) + ")")
    hist.add_argument("--variant", default=None, help="only this variant (default: each)")
    hist.add_argument("--workload", default=None, help="only this workload (default: each)")
    hist.add_argument("--db", type=Path, default=DEFAULT_HISTORY,
                      help="history database (default: %(default)s)")
    hist.add_argument("--json", type=json_path, metavar="PATH",
                      help="write the series as JSON ('-': stdout)")


def _baseline(args: argparse.Namespace) -> int:
    from workbench import app
    from workbench.progress import progress_bar

    out = args.out or Path("reports") / f"baseline-{args.workload}.json"
    with fanout_of(args) as fanout, progress_bar(disable=args.no_progress) as progress:
        stored = app.baseline(args.budgets, out, workload=args.workload,
                              pipeline=args.pipeline, params=params_of(args),
                              config=config_of(args), progress=progress, fanout=fanout)
    for note in fanout.notes:
        print(f"NOTICE: {note}", file=sys.stderr)
    if args.json is not None:
        import json

        emit_json(args.json, json.dumps(stored.to_json(), indent=1, allow_nan=False))
    for m in stored.measurements:
        print(m.to_text())
    for s in stored.scaling:
        print(f"{s.stage}/{s.variant} on {s.workload}: scaling exponent {s.slope:.3g} "
              f"[{s.low:.3g}, {s.high:.3g}]")
    if stored.instructions:
        from workbench.render.measure import instruction_line

        for n in stored.instructions:
            print(instruction_line(n))
    print(f"wrote {out}")
    return 0


def run_check_command(args: argparse.Namespace, *, workload: Any, pipeline: Any,
                      progress: Any) -> CheckReport:
    """``check``'s flags through the service layer (the CLI and ``%wb check``); the
    caller resolves the workload and pipeline."""
    from workbench import app

    with fanout_of(args) as fanout:
        report = app.check(args.budgets, workload=workload, pipeline=pipeline,
                           params=params_of(args), config=config_of(args),
                           baseline_file=args.baseline, against=args.against,
                           history=None if args.no_history else args.history,
                           progress=progress, max_time=args.max_time, fanout=fanout)
    if fanout.notes:
        from dataclasses import replace

        report = replace(report, notices=(*report.notices, *fanout.notes))
    return report


def _check(args: argparse.Namespace) -> int:
    from workbench.progress import progress_bar

    with progress_bar(disable=args.no_progress) as progress:
        report = run_check_command(args, workload=args.workload, pipeline=args.pipeline,
                                   progress=progress)
    for notice in report.notices:
        print(f"NOTICE: {notice}")
    print(report.result.to_text(color=use_color()))
    emit_json(args.json or DEFAULT_CHECK_JSON, report.result.dumps())
    if report.history is not None:
        print(f"recorded {report.recorded_rows} rows in {report.history} "
              f"(run {report.run_id})")
    print(report.result.summary_line())
    return report.exit_code(strict=args.strict)


def _history(args: argparse.Namespace) -> int:
    from workbench.budget.history import load_series
    from workbench.budget.steps import detect_steps, trend_text
    from workbench.errors import InvalidInputError

    if not args.db.is_file():
        raise InvalidInputError(f"history database {str(args.db)!r} does not exist; "
                                "`workbench check` creates it")
    series = load_series(args.db, args.stage, args.metric, args.variant, args.workload)
    parts = [(s, detect_steps(s.values) if len(s) >= 4 else ()) for s in series.split()]
    if args.json is not None:
        from workbench.listings import history_json

        emit_json(args.json, history_json(parts, args.stage, args.metric))
        if args.json == STDOUT:
            return 0
    if not parts:
        print(trend_text(series, ()))  # "no history"
    for part, steps in parts:
        print(trend_text(part, steps))
    return 0


def handlers() -> dict[str, Callable[[argparse.Namespace], int]]:
    return {"baseline": _baseline, "check": _check, "history": _history}
