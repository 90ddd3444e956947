"""The ``workbench`` command line: parse, call one core function, print.

Exit codes: 0 success, 2 usage error (bad flag, unknown name, bad value), 3 execution
error (a variant or tool failed, a dependency is missing).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from workbench import __version__
from workbench.errors import (
    ExecutionError,
    InvalidInputError,
    MissingDependencyError,
    UnknownNameError,
    WorkbenchError,
)

__all__ = ["main"]

EXIT_OK, EXIT_USAGE, EXIT_EXECUTION = 0, 2, 3
STAGES = ("clean", "chunk", "embed", "retrieve")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise SystemExit(f"{self.prog}: error: {message}")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="workbench",
        description="Performance budgets for functional Python data pipelines.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", help="run the reference RAG pipeline once and summarize it")
    run.add_argument("--workload", "-w", default=None,
                     help="workload name (default: small; see `workbench workloads`)")
    run.add_argument("--model", default="hashing", help="embedding model: hashing or minilm")
    run.add_argument("--all", dest="all_variants", metavar="VARIANT",
                     help="select VARIANT for every stage that has it")
    for name in STAGES:
        run.add_argument(f"--{name}", metavar="VARIANT", help=f"variant of the {name} stage")
    run.add_argument("--chunk-size", type=_positive, default=None, help="characters per chunk")
    run.add_argument("--overlap", type=_non_negative, default=None, help="chunk overlap")
    run.add_argument("-k", type=_positive, default=None, help="hits per query")
    run.add_argument("--no-fuse", action="store_true", help="do not fuse vectorized stages")
    run.add_argument("--json", type=Path, metavar="PATH", help="also write the run as JSON")

    sub.add_parser("workloads", help="list the named workloads")
    sub.add_parser("stages", help="list the reference pipeline's stages and variants")
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from workbench.rag.reference import reference_pipeline, run_rag
    from workbench.rag.workloads import DEFAULT_WORKLOAD

    pipeline = reference_pipeline().with_fusion(not args.no_fuse)
    if args.all_variants:
        pipeline = pipeline.select_all(args.all_variants)
    pipeline = pipeline.select(
        **{s: getattr(args, s) for s in STAGES if getattr(args, s) is not None}
    )
    chunk: dict[str, Any] = {}
    if args.chunk_size is not None:
        chunk["size"] = args.chunk_size
    if args.overlap is not None:
        chunk["overlap"] = args.overlap
    settings: dict[str, dict[str, Any]] = {"embed": {"model": args.model}, "chunk": chunk}
    if args.k is not None:
        settings["retrieve"] = {"k": args.k}
    pipeline = pipeline.configure(**settings)
    result = run_rag(pipeline, args.workload or DEFAULT_WORKLOAD,
                     progress=lambda seg: print(f"running {seg} ...", file=sys.stderr))
    print(result.to_text())
    print(result.fusion.to_text())
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return EXIT_OK


def _cmd_workloads(_: argparse.Namespace) -> int:
    from workbench.rag.workloads import get_workload, workload_names

    for name in workload_names():
        print(f"{name:10} {get_workload(name).description}")
    return EXIT_OK


def _cmd_stages(_: argparse.Namespace) -> int:
    from workbench.rag.reference import reference_pipeline

    for s in reference_pipeline().stages:
        params = ", ".join(f"{k}={v!r}" for k, v in s.defaults.items()) or "-"
        print(f"{s.name}: {s.input} -> {s.output}  (params: {params})")
        for name in s.variant_names:
            print(f"  {name:11} {s.get(name).description}")
    return EXIT_OK


COMMANDS = {"run": _cmd_run, "workloads": _cmd_workloads, "stages": _cmd_stages}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
    try:
        return COMMANDS[args.command](args)
    except (InvalidInputError, UnknownNameError) as exc:
        print(f"workbench {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (MissingDependencyError, ExecutionError, WorkbenchError) as exc:
        print(f"workbench {args.command}: failed: {exc}", file=sys.stderr)
        return EXIT_EXECUTION
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
