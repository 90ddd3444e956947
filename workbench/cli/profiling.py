"""The profilers' subcommands (``flame``, ``memory``, ``lines``, and any other registered
profiler's): profile one variant of a stage.

A handler calls the profiling service (:func:`workbench.app.commands.profile_command`),
prints a short text summary, writes ``-o FILE`` (its format chosen by the suffix) and
returns the exit code. Errors propagate as ``WorkbenchError`` for the CLI's usual mapping
to exit codes. Their flags are in :func:`workbench.app.parser.add_profile_commands`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from workbench.app.commands import profile_command
from workbench.app.profiling import profilers
from workbench.cli.exits import EXIT_OK
from workbench.terminal import STDOUT, emit_json

__all__ = ["handlers"]


def _finish(result: Any, args: argparse.Namespace) -> int:
    print(result.to_text())
    if args.output == STDOUT:
        emit_json(STDOUT, result.dumps())
    elif args.output is not None:
        print(f"wrote {result.save(args.output)}")
    if getattr(result, "artifacts", None):
        print(f"artifacts kept in {result.artifacts}")
    return EXIT_OK


def _profile(args: argparse.Namespace) -> int:
    return _finish(profile_command(args, workload=args.workload, pipeline=args.pipeline,
                                   variant=args.variant), args)


def handlers() -> dict[str, Callable[[argparse.Namespace], int]]:
    """One handler per registered profiler's subcommand."""
    return {p.name: _profile for p in profilers()}
