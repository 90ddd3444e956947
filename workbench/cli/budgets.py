"""``baseline``, ``check`` and ``history``: store a baseline, hold the budgets against it,
follow a stage's trends across checks.

check's exit codes: 0 every rule passes (warn-level breaches are printed, not fatal),
1 an error-level breach, 2 a usage error or, with ``--strict``, an error-level rule left
inconclusive / not-comparable / without a baseline, 3 an execution error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from workbench.app import args as flags
from workbench.app.commands import baseline_command, baseline_json, check_command
from workbench.app.history import trends
from workbench.app.views import instruction_line
from workbench.cli.exits import EXIT_OK
from workbench.terminal import emit_document, emit_json, use_color

__all__ = ["DEFAULT_CHECK_JSON", "handlers"]

#: Where ``check`` writes its verdicts as JSON without ``--json``.
DEFAULT_CHECK_JSON = Path("reports") / "check.json"


def _baseline(args: argparse.Namespace) -> int:
    from workbench.progress import progress_bar

    with flags.fanout_of(args) as fanout, progress_bar(disable=args.no_progress) as progress:
        stored, out = baseline_command(args, workload=args.workload, pipeline=args.pipeline,
                                       progress=progress, fanout=fanout)
    for note in fanout.notes:
        print(f"NOTICE: {note}", file=sys.stderr)
    if args.json is not None:
        emit_json(args.json, baseline_json(stored))
    for m in stored.measurements:
        print(m.to_text())
    for s in stored.scaling:
        print(f"{s.stage}/{s.variant} on {s.workload}: scaling exponent {s.slope:.3g} "
              f"[{s.low:.3g}, {s.high:.3g}]")
    for n in stored.instructions:
        print(instruction_line(n))
    print(f"wrote {out}")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from workbench.progress import progress_bar

    with progress_bar(disable=args.no_progress) as progress:
        report = check_command(args, workload=args.workload, pipeline=args.pipeline,
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
    """``history``: the trends as text, or their JSON document with ``--json``."""
    found = trends(args.db, args.stage, args.metric, args.variant, args.workload)
    emit_document(args.json, found.to_json(), found.to_text())
    return EXIT_OK


def handlers() -> dict[str, Callable[[argparse.Namespace], int]]:
    return {"baseline": _baseline, "check": _check, "history": _history}
