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
from workbench.cli_args import non_negative_int, non_negative_seconds, positive_int, sizes
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


def _measure_flags(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--workers", type=positive_int, default=None, help="worker processes")
    cmd.add_argument("--samples", type=positive_int, default=None, help="samples per worker")
    cmd.add_argument("--warmup-calls", type=positive_int, default=None, help="warm-up calls")
    cmd.add_argument("--warmup-seconds", type=non_negative_seconds, default=None,
                     help="warm-up time")
    cmd.add_argument("--timeout", type=non_negative_seconds, default=None,
                     help="seconds per worker")
    cmd.add_argument("--threads", type=positive_int, default=None,
                     help="threads (and CPUs) per worker (default 1)")
    cmd.add_argument("--gc", choices=("enabled", "disabled", "collect"), default=None)
    cmd.add_argument("--inprocess", action="store_true",
                     help="measure in this process (no isolation; interactive use)")
    cmd.add_argument("--json", type=Path, metavar="PATH", help="write the result as JSON")
    cmd.add_argument("--no-progress", action="store_true", help="no progress bar")


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
    run.add_argument("--chunk-size", type=positive_int, default=None, help="characters per chunk")
    run.add_argument("--overlap", type=non_negative_int, default=None, help="chunk overlap")
    run.add_argument("-k", type=positive_int, default=None, help="hits per query")
    run.add_argument("--no-fuse", action="store_true", help="do not fuse vectorized stages")
    run.add_argument("--json", type=Path, metavar="PATH", help="also write the run as JSON")

    for name, text in (("compare", "measure every variant of a stage against pure"),
                       ("sweep", "measure a stage across workload sizes; fit scaling slopes")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("stage", help="stage name (see `workbench stages`)")
        cmd.add_argument("--workload", "-w", required=True, help="workload name")
        cmd.add_argument("--variants", nargs="+", metavar="V", help="variants (default: all)")
        cmd.add_argument("--model", default=None, help="embedding model for the embed stage")
        _measure_flags(cmd)
        if name == "sweep":
            cmd.add_argument("--sizes", required=True, type=sizes,
                             help="comma-separated document counts, e.g. 20,40,80,160")

    from workbench.cli_budget import add_parsers
    from workbench.profile import cli_commands as profile_cli

    add_parsers(sub, _measure_flags)
    profile_cli.add_parsers(sub)
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


def _config(args: argparse.Namespace) -> Any:
    from workbench.measure.config import MeasureConfig

    flags = {"workers": args.workers, "samples": args.samples, "warmup_calls": args.warmup_calls,
             "warmup_seconds": args.warmup_seconds, "timeout": args.timeout, "gc": args.gc,
             "threads": args.threads}
    chosen = {k: v for k, v in flags.items() if v is not None}
    if args.inprocess:
        chosen["mode"] = "inprocess"
    return MeasureConfig(**chosen)


def _write_json(path: Path | None, text: str) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {path}")


def _measured(args: argparse.Namespace) -> Any:
    from workbench.measure.engine import compare, sweep
    from workbench.progress import progress_bar

    params = {"embed": {"model": args.model}} if args.model else None
    with progress_bar(disable=args.no_progress) as progress:
        if args.command == "sweep":
            return sweep(args.stage, args.workload, sizes=args.sizes, variants=args.variants,
                         params=params, config=_config(args), progress=progress)
        return compare(args.stage, args.workload, variants=args.variants, params=params,
                       config=_config(args), progress=progress)


def _cmd_measure(args: argparse.Namespace) -> int:
    result = _measured(args)
    print(result.to_text())
    _write_json(args.json, result.dumps())
    comparisons = [c for _, c in result.points] if args.command == "sweep" else [result]
    if not all(c.ok for c in comparisons):
        print(f"workbench {args.command}: some variants failed (see above)", file=sys.stderr)
        return EXIT_EXECUTION
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


def _commands() -> dict[str, Any]:
    from workbench.cli_budget import handlers
    from workbench.profile import cli_commands as profile_cli

    return {"run": _cmd_run, "compare": _cmd_measure, "sweep": _cmd_measure,
            "workloads": _cmd_workloads, "stages": _cmd_stages, **handlers(_config),
            **profile_cli.COMMANDS}


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
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
