"""``workbench``'s entry point: find the project, parse, run one command, map errors to
exit codes (see :mod:`workbench.cli`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from workbench.app.projects import open_project
from workbench.cli.exits import EXIT_EXECUTION, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from workbench.cli.parser import build_parser
from workbench.errors import (
    ExecutionError,
    InvalidInputError,
    MissingDependencyError,
    UnknownNameError,
    WorkbenchError,
)
from workbench.terminal import STDOUT, json_to_stdout

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


def _commands() -> dict[str, Handler]:
    from workbench.cli import budgets, deciding, listing, measuring, profiling, reporting

    return {**measuring.handlers(), **listing.handlers(), **budgets.handlers(),
            **profiling.handlers(), **deciding.handlers(), **reporting.handlers()}


def _run(args: argparse.Namespace) -> int:
    """The parsed command, its errors as exit codes."""
    try:
        with json_to_stdout(STDOUT in (getattr(args, "json", None),
                                       getattr(args, "output", None))):
            code: int = _commands()[args.command](args)
        return code
    except (InvalidInputError, UnknownNameError) as exc:
        print(f"workbench {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (MissingDependencyError, ExecutionError, WorkbenchError) as exc:
        print(f"workbench {args.command}: failed: {exc}", file=sys.stderr)
        return EXIT_EXECUTION
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    try:
        project = open_project(Path.cwd())
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    parser = build_parser(project)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code in (0, None):
            return EXIT_OK
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        return EXIT_USAGE
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    return _run(args)
