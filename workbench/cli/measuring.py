"""``run``, ``compare`` and ``sweep``: a pipeline run and the measurements of a stage's
variants, printed as text (and written as JSON with ``--json``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from workbench.app import args as flags
from workbench.app.commands import measure_command, measure_warnings, run_command
from workbench.cli.exits import EXIT_EXECUTION, EXIT_OK
from workbench.terminal import emit_json

__all__ = ["handlers"]


def _run(args: argparse.Namespace) -> int:
    result = run_command(args, pipeline=args.pipeline, workload=args.workload,
                         select=args.selection,
                         progress=lambda seg: print(f"running {seg} ...", file=sys.stderr))
    print(result.to_text())
    emit_json(args.json, result.dumps())
    return EXIT_OK


def _measure(args: argparse.Namespace) -> int:
    from workbench.progress import announced, progress_bar

    def warn() -> None:  # when measuring begins, after every check
        for warning in measure_warnings(args, "workbench"):
            print(f"WARNING: {warning}", file=sys.stderr)

    with flags.fanout_of(args) as fanout, progress_bar(disable=args.no_progress) as progress:
        result = measure_command(args, workload=args.workload, pipeline=args.pipeline,
                                 progress=announced(progress, warn), fanout=fanout)
    for note in fanout.notes:
        print(f"NOTICE: {note}", file=sys.stderr)
    print(result.to_text())
    emit_json(args.json, result.dumps())
    parts = [c for _, c in result.points] if result.kind == "sweep" else [result]
    if not all(c.ok for c in parts):
        print(f"workbench {args.command}: some variants failed (see above)", file=sys.stderr)
        return EXIT_EXECUTION
    return EXIT_OK


def handlers() -> dict[str, Callable[[argparse.Namespace], int]]:
    return {"run": _run, "compare": _measure, "sweep": _measure}
