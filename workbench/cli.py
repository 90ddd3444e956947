"""The ``workbench`` command line: parse, call one core function, print.

Exit codes: 0 success, 1 an error-level budget breach (``check``), 2 usage error (bad
flag, unknown name, bad value), 3 execution error (a variant or tool failed, a dependency
is missing), 130 interrupted. ``python -m workbench`` is the same command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from workbench import __version__
from workbench.cli_args import (
    add_cluster_flag,
    add_measure_flags,
    config_of,
    counts,
    fanout_of,
    non_negative_seconds,
    selection,
    sizes,
)
from workbench.cli_target import activate, add_target_flags, params_of
from workbench.errors import (
    ExecutionError,
    InvalidInputError,
    MissingDependencyError,
    UnknownNameError,
    WorkbenchError,
)
from workbench.measure.config import COMPARE_METRICS
from workbench.pipeline import Pipeline
from workbench.project import Project, find_project
from workbench.terminal import STDOUT, emit_json, json_path, json_to_stdout

__all__ = ["build_parser", "decided_log", "main", "measure_command", "stage_listing",
           "workers_note"]

EXIT_OK, EXIT_USAGE, EXIT_EXECUTION = 0, 2, 3


EXIT_CODES = """exit codes:
  0    success
  1    check: an error-level budget breach
  2    usage error: a bad flag, value or name (check --strict: an undecided rule)
  3    execution error: a variant or a tool failed, a dependency is missing
  130  interrupted"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps epilogs as written and shows each option's default (unless its help already
    names it, or it has none worth showing)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (action.option_strings and "default" not in text
                and default not in (None, False, [], argparse.SUPPRESS)):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise SystemExit(f"{self.prog}: error: {message}")


def build_parser(project: Project | None = None, *,
                 parser_class: type[argparse.ArgumentParser] = _Parser,
                 prog: str = "workbench",
                 more: Callable[[Any], None] | None = None,
                 report: bool = True) -> argparse.ArgumentParser:
    """The command line's parser; the notebook's ``%wb`` builds the same one with its own
    ``parser_class`` (errors raise instead of exiting), adds commands with ``more`` and
    leaves out ``report`` (which starts kernels of its own)."""
    project = project or Project(root=Path.cwd())
    parser = parser_class(
        prog=prog,
        description="Performance budgets for functional Python data pipelines.",
        epilog=EXIT_CODES + "\n\nNO_COLOR=1 turns colour off, FORCE_COLOR=1 on; progress "
               "bars are drawn only on a terminal.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=parser_class)

    run = sub.add_parser("run", help="run the pipeline once on a workload and summarize it")
    add_target_flags(run, project, stage=False)
    run.add_argument("--select", dest="selection", action="append", type=selection,
                     default=[], metavar="STAGE=VARIANT", help="a stage's variant (repeatable)")
    run.add_argument("--all", dest="all_variants", metavar="VARIANT",
                     help="select VARIANT for every stage that has it")
    run.add_argument("--decided", action="store_true",
                     help="use the variants the decision log records (before --all and "
                          "--select)")
    run.add_argument("--log", type=Path, default=None,
                     help="the decision log --decided reads (only with --decided; "
                          f"default: {project.decisions_path})")
    run.set_defaults(project_log=project.decisions_path)
    run.add_argument("--no-fuse", action="store_true", help="do not fuse vectorized stages")
    run.add_argument("--json", type=json_path, metavar="PATH",
                     help="also write the run as JSON ('-': stdout, the text on stderr)")

    for name, text in (("compare", "measure every variant of a stage against pure"),
                       ("sweep", "measure a stage across workload sizes; fit scaling slopes")):
        cmd = sub.add_parser(name, help=text)
        add_target_flags(cmd, project)
        cmd.add_argument("--variants", nargs="+", metavar="V", help="variants (default: all)")
        add_measure_flags(cmd)
        add_cluster_flag(cmd, project.cluster)
        if name == "sweep":
            axis = cmd.add_mutually_exclusive_group(required=True)
            axis.add_argument("--sizes", type=sizes,
                              help="comma-separated workload sizes, e.g. 20,40,80,160")
            axis.add_argument("--cluster-workers", type=counts, metavar="N,N,...",
                              help="instead of sizes: measure the stage's parallel variant "
                                   "with each number of Dask workers (e.g. 1,2,4; one CPU "
                                   "each) and report its speed-up and parallel efficiency, "
                                   "beside --variants (default: the others but pure) on "
                                   "one CPU")
        else:
            cmd.add_argument("--max-time", type=non_negative_seconds, default=0.0,
                             metavar="SECONDS",
                             help="measure inconclusive variants again, two rounds at a "
                                  "time, until decided or this many seconds in all "
                                  "(default: 0, one look)")
            cmd.add_argument("--metric", choices=COMPARE_METRICS, default="time",
                             help="time: wall time only (default); instructions: also count "
                                  "each variant's instructions per call under Valgrind's "
                                  "Cachegrind (deterministic, simulated CPU; needs "
                                  "valgrind); cache: also its simulated L1 and last-level "
                                  "cache misses (slower)")

    from workbench import cli_decide, cli_report
    from workbench.cli_budget import add_parsers
    from workbench.profile import cli_commands as profile_cli

    add_parsers(sub, project)
    profile_cli.add_parsers(sub, project)
    cli_decide.add_parsers(sub, project)
    if report:
        cli_report.add_parsers(sub, project)
    workloads = sub.add_parser("workloads", help="list the registered workloads")
    add_target_flags(workloads, project, stage=False, params=False)
    stages = sub.add_parser("stages", help="list the pipeline's stages and variants")
    add_target_flags(stages, project, stage=False, workload=False, params=False)
    for cmd in (workloads, stages):
        cmd.add_argument("--json", type=json_path, metavar="PATH",
                         help="write the listing as JSON ('-': stdout)")
    if more is not None:
        more(sub)
    return parser


def _write(path: Path | None, result: Any) -> None:
    """``--json PATH|-``: the result's record, whatever the suffix."""
    emit_json(path, result.dumps())


def decided_log(args: argparse.Namespace) -> Path | None:
    """The decision log ``run --decided`` reads (None without ``--decided``); ``--log``
    without ``--decided`` is refused rather than ignored."""
    if not args.decided:
        if args.log is not None:
            raise InvalidInputError(f"--log {args.log} is read only with --decided; add "
                                    "--decided or leave --log out")
        return None
    return Path(args.log or args.project_log)


def _cmd_run(args: argparse.Namespace) -> int:
    from workbench import app

    result = app.run(args.pipeline, args.workload, select=args.selection,
                     all_variants=args.all_variants, fuse=not args.no_fuse,
                     params=params_of(args), decided=decided_log(args),
                     progress=lambda seg: print(f"running {seg} ...", file=sys.stderr))
    print(result.to_text())
    _write(args.json, result)
    return EXIT_OK


def measure_command(args: argparse.Namespace, *, workload: Any, pipeline: Any,
                    progress: Any, fanout: Any) -> Any:
    """``compare``'s or ``sweep``'s flags through the service layer (the CLI and the
    magics; the caller resolves the workload and the pipeline)."""
    from workbench import app

    options = {"pipeline": pipeline, "params": params_of(args), "config": config_of(args),
               "progress": progress, "fanout": fanout}
    if getattr(args, "cluster_workers", None) is not None:
        return app.scale_out(args.stage, workload, workers=args.cluster_workers,
                             references=args.variants, **options)
    if args.command == "sweep":
        return app.sweep(args.stage, workload, sizes=args.sizes, variants=args.variants,
                         **options)
    return app.compare(args.stage, workload, variants=args.variants, max_time=args.max_time,
                       metric=args.metric, **options)


def workers_note(args: argparse.Namespace, prog: str = "workbench") -> str | None:
    """The warning for ``compare``/``sweep`` flags whose workers per variant are too few
    to decide a speed-up without a model (None when they are enough)."""
    from workbench.measure.comparison import workers_warning

    workers = config_of(args).workers
    return workers_warning(workers, f"{prog} {args.command} --workers {workers}")


def _cmd_measure(args: argparse.Namespace) -> int:
    from workbench.measure.load import busy_note
    from workbench.progress import progress_bar

    busy = busy_note()
    if busy:
        print(f"WARNING: {busy}", file=sys.stderr)
    few = workers_note(args)
    if few:
        print(f"WARNING: {few}", file=sys.stderr)
    with fanout_of(args) as fanout, progress_bar(disable=args.no_progress) as progress:
        result = measure_command(args, workload=args.workload, pipeline=args.pipeline,
                                 progress=progress, fanout=fanout)
    for note in fanout.notes:
        print(f"NOTICE: {note}", file=sys.stderr)
    print(result.to_text())
    _write(args.json, result)
    parts = [c for _, c in result.points] if result.kind == "sweep" else [result]
    if not all(c.ok for c in parts):
        print(f"workbench {args.command}: some variants failed (see above)", file=sys.stderr)
        return EXIT_EXECUTION
    return EXIT_OK


def _cmd_workloads(args: argparse.Namespace) -> int:
    from workbench.refs import load_pipeline
    from workbench.workloads import registered_workloads

    load_pipeline(args.pipeline)  # its module registers the pipeline's workloads
    rows = registered_workloads()
    if args.json is not None:
        from workbench.listings import workloads_json

        emit_json(args.json, workloads_json(rows, args.workload, args.pipeline))
        if args.json == STDOUT:
            return EXIT_OK
    width = max(len(w.name) for w in rows) if rows else 0
    for w in rows:
        marker = "*" if w.name == args.workload else " "
        print(f"{marker} {w.name:{width}}  size {w.size:<7,} seed {w.seed:<4} "
              f"{w.description}  ({w.module})")
    print(f"* the default workload; pipeline {args.pipeline}")
    return EXIT_OK


def stage_listing(pipeline: Pipeline, label: str) -> str:
    """The pipeline's stages, their types, parameters and variants, one per line."""
    lines = [f"pipeline {pipeline.name} ({label})"]
    for s in pipeline.stages:
        params = ", ".join(f"{k}={v!r}" for k, v in s.defaults.items()) or "-"
        lines.append(f"{s.name}: {s.input} -> {s.output}  (params: {params})")
        lines += [f"  {name:11} {s.get(name).description}" for name in s.variant_names]
    return "\n".join(lines)


def _cmd_stages(args: argparse.Namespace) -> int:
    from workbench.refs import load_pipeline

    pipeline = load_pipeline(args.pipeline)
    if args.json is not None:
        from workbench.listings import stages_json

        emit_json(args.json, stages_json(pipeline, args.pipeline))
        if args.json == STDOUT:
            return EXIT_OK
    print(stage_listing(pipeline, args.pipeline))
    return EXIT_OK


def _commands() -> dict[str, Any]:
    from workbench import cli_decide, cli_report
    from workbench.cli_budget import handlers
    from workbench.profile import cli_commands as profile_cli

    return {"run": _cmd_run, "compare": _cmd_measure, "sweep": _cmd_measure,
            "workloads": _cmd_workloads, "stages": _cmd_stages, **handlers(),
            **profile_cli.COMMANDS, **cli_decide.handlers(), **cli_report.handlers()}


def main(argv: Sequence[str] | None = None) -> int:
    cwd = Path.cwd()
    try:
        project = find_project(cwd)
        activate(project, cwd)
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
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
