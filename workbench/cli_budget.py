"""The ``baseline``, ``check`` and ``history`` subcommands of the CLI (front end only).

check's exit codes: 0 every rule passes (warn-level breaches are printed, not fatal),
1 an error-level breach, 2 a usage error or, with ``--strict``, an error-level rule left
inconclusive / not-comparable / without a baseline, 3 an execution error.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.cli_target import add_target_flags, params_of
from workbench.project import Project

__all__ = ["add_parsers", "handlers"]

DEFAULT_HISTORY = Path("reports") / "history.sqlite"


def add_parsers(sub: Any, measure_flags: Callable[[argparse.ArgumentParser], None],
                project: Project) -> None:
    for name, text in (("baseline", "measure the budgeted targets and store a baseline"),
                       ("check", "measure, apply budgets.toml, exit non-zero on a breach")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--budgets", type=Path, default=project.budgets_path,
                         help="budgets file (default: %(default)s)")
        add_target_flags(cmd, project, stage=False)
        measure_flags(cmd)
        if name == "baseline":
            cmd.add_argument("--out", type=Path, default=None,
                             help="baseline path (default: reports/baseline-WORKLOAD.json)")
        else:
            side = cmd.add_mutually_exclusive_group()
            side.add_argument("--baseline", type=Path, help="a stored baseline file")
            side.add_argument("--against", metavar="GIT_REF",
                              help="measure GIT_REF in a temporary worktree, interleaved")
            cmd.add_argument("--history", type=Path, default=DEFAULT_HISTORY,
                             help="SQLite history to append to (default: reports/history.sqlite)")
            cmd.add_argument("--no-history", action="store_true", help="do not record history")
            cmd.add_argument("--strict", action="store_true",
                             help="exit 2 when an error-level rule cannot be decided")
    hist = sub.add_parser("history", help="a stage's trend across checks, with step detection")
    hist.add_argument("stage")
    hist.add_argument("--metric", default="latency_p50", help="metric (default: latency_p50)")
    hist.add_argument("--variant", default=None)
    hist.add_argument("--workload", default=None)
    hist.add_argument("--db", type=Path, default=DEFAULT_HISTORY)


def _baseline(args: argparse.Namespace, config: Any) -> int:
    from workbench.budget.baseline import save_baseline
    from workbench.budget.commands import budget_targets, load_spec, measure_targets
    from workbench.progress import progress_bar

    spec = load_spec(args.budgets, args.pipeline)
    out = args.out or Path("reports") / f"baseline-{args.workload}.json"
    with progress_bar(disable=args.no_progress) as progress:
        measured = measure_targets(budget_targets(spec, args.pipeline), args.workload,
                                   args.pipeline, config, params_of(args), progress)
    failed = [m for m in measured if not m.ok]
    if failed:
        print(f"workbench baseline: {failed[0].target.label} failed: "
              f"{failed[0].error_text()}; nothing written", file=sys.stderr)
        return 3
    save_baseline(out, measured, spec.digest())
    for m in measured:
        print(m.to_text())
    print(f"wrote {out}")
    return 0


def _check(args: argparse.Namespace, config: Any) -> int:
    from workbench.budget.baseline import load_baseline
    from workbench.budget.commands import load_spec, run_check
    from workbench.budget.history import record
    from workbench.progress import progress_bar

    spec = load_spec(args.budgets, args.pipeline)
    stored: tuple[Any, ...] = ()
    if args.baseline is not None:
        base = load_baseline(args.baseline, workload=args.workload)
        if base.budgets_hash != spec.digest():
            print(f"note: {args.baseline} was made with other budgets "
                  f"(hash {base.budgets_hash[:12]} vs {spec.digest()[:12]})", file=sys.stderr)
        stored = base.measurements
    with progress_bar(disable=args.no_progress) as progress:
        run = run_check(spec, workload=args.workload, pipeline=args.pipeline, config=config,
                        params=params_of(args), baseline=stored, against=args.against,
                        progress=progress)
    if run.notice:
        print(f"NOTICE: {run.notice}")
    print(run.result.to_text(color=sys.stdout.isatty()))
    out = args.json or Path("reports") / "check.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(run.result.dumps() + "\n", encoding="utf-8")
    print(f"wrote {out}")
    if not args.no_history:
        sha = next((m.environment.get("git_sha") for m in run.current), None)
        when = datetime.now(UTC).isoformat(timespec="seconds")
        rows = record(args.history, run.result, uuid.uuid4().hex[:12], sha, when)
        print(f"recorded {rows} rows in {args.history}")
    code = run.result.exit_code(strict=args.strict)
    print(run.result.summary_line())
    return code


def _history(args: argparse.Namespace) -> int:
    from workbench.budget.history import load_series
    from workbench.budget.steps import detect_steps, trend_text
    from workbench.errors import InvalidInputError

    if not args.db.is_file():
        raise InvalidInputError(f"history database {str(args.db)!r} does not exist; "
                                "`workbench check` creates it")
    series = load_series(args.db, args.stage, args.metric, args.variant, args.workload)
    steps = detect_steps(series.values) if len(series) >= 4 else ()
    print(trend_text(series, steps))
    return 0


def handlers(config_of: Callable[[argparse.Namespace], Any],
             ) -> dict[str, Callable[[argparse.Namespace], int]]:
    return {
        "baseline": lambda args: _baseline(args, config_of(args)),
        "check": lambda args: _check(args, config_of(args)),
        "history": _history,
    }
