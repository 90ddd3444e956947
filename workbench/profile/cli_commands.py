"""The profiling subcommands of the ``workbench`` CLI: ``flame``, ``memory``, ``lines``.

``workbench.cli`` calls :func:`add_parsers` on its subparsers and dispatches to
:data:`COMMANDS`; a handler calls the service layer (:func:`workbench.app.profile`), prints
a short text summary, writes ``-o FILE`` (its format
chosen by the suffix) and returns the exit code. Errors propagate as ``WorkbenchError``
for the CLI's usual mapping to exit codes.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from workbench.cli_args import positive_float, positive_int
from workbench.cli_target import add_target_flags, params_of
from workbench.project import Project
from workbench.terminal import STDOUT, emit_json, json_path

__all__ = ["COMMANDS", "add_parsers", "cmd_flame", "cmd_lines", "cmd_memory"]


def _common(cmd: argparse.ArgumentParser, project: Project, default_suffix: str) -> None:
    add_target_flags(cmd, project)
    cmd.add_argument("--variant", default="pure", help="variant to profile (default: pure)")
    cmd.add_argument("-o", "--output", type=json_path, metavar="FILE",
                     help=f"write the result; the suffix picks the format ({default_suffix}; "
                          "'-': its JSON record on stdout, the text on stderr)")
    cmd.add_argument("--timeout", type=positive_float, default=300.0,
                     help="seconds allowed per child process (default 300)")
    cmd.add_argument("--threads", type=positive_int, default=1,
                     help="threads for numeric libraries in the target (default 1)")
    cmd.add_argument("--keep-artifacts", action="store_true",
                     help="keep the profiler's work directory and print its path")


def add_parsers(sub: Any, project: Project) -> None:
    """Add ``flame``, ``memory`` and ``lines`` to the CLI's subparsers."""
    flame = sub.add_parser("flame", help="sample a stage variant with py-spy (flame graph)")
    _common(flame, project, ".svg the flame graph of the stage, .html, .json or .txt")
    flame.add_argument("--rate", type=positive_int, default=100, help="samples per second")
    flame.add_argument("--duration", type=positive_float, default=2.0,
                       help="seconds of calls to sample (default 2)")
    flame.add_argument("--native", action="store_true", help="include C/C++ frames")
    flame.add_argument("--by-line", action="store_true",
                       help="one frame per line instead of per function")

    memory = sub.add_parser("memory", help="track a stage variant's memory with memray")
    _common(memory, project, ".html, .json or .txt")
    memory.add_argument("--calls", type=positive_int, default=2,
                        help="measured calls after the warm-up call (default 2)")
    memory.add_argument("--native", action="store_true", help="record C/C++ frames too")

    lines = sub.add_parser("lines", help="line-profile a stage variant with line_profiler")
    _common(lines, project, ".txt kernprof's table, .html or .json")
    lines.add_argument("--duration", type=positive_float, default=1.0,
                       help="seconds of calls to profile (default 1)")
    lines.add_argument("--function", dest="functions", action="append", metavar="MOD:QUALNAME",
                       help="a function to profile (repeatable; default: the variant's own)")


def _finish(result: Any, args: argparse.Namespace) -> int:
    print(result.to_text())
    if args.output == STDOUT:
        emit_json(STDOUT, result.dumps())
    elif args.output is not None:
        print(f"wrote {result.save(args.output)}")
    if getattr(result, "artifacts", None):
        print(f"artifacts kept in {result.artifacts}")
    return 0


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {"pipeline": args.pipeline, "params": params_of(args), "threads": args.threads,
            "timeout": args.timeout, "keep_artifacts": args.keep_artifacts}


def cmd_flame(args: argparse.Namespace) -> int:
    from workbench import app

    return _finish(app.profile("flame", args.stage, args.workload, args.variant,
                               rate=args.rate, native=args.native, duration=args.duration,
                               by_line=args.by_line, **_options(args)), args)


def cmd_memory(args: argparse.Namespace) -> int:
    from workbench import app

    return _finish(app.profile("memory", args.stage, args.workload, args.variant,
                               calls=args.calls, native=args.native, **_options(args)), args)


def cmd_lines(args: argparse.Namespace) -> int:
    from workbench import app

    return _finish(app.profile("lines", args.stage, args.workload, args.variant,
                               functions=args.functions, duration=args.duration,
                               **_options(args)), args)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "flame": cmd_flame, "memory": cmd_memory, "lines": cmd_lines,
}
