"""The commands the front ends share, as one argparse tree: ``run``, ``compare``, ``sweep``,
``baseline``, ``check``, ``history``, the profiles, ``decide``, ``decisions``,
``workloads`` and ``stages`` with their flags, help and the project's defaults.

The command line builds it with its own parser class and adds ``report``; ``%wb`` builds it
with IPython's (errors raise instead of exiting) and adds its notebook commands. What a
command does with its namespace is in :mod:`workbench.app.commands` and the services.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.app.args import (
    add_cluster_flag,
    add_limit_flags,
    add_measure_flags,
    add_target_flags,
    counts,
    non_negative_seconds,
    positive_float,
    positive_int,
    selection,
    sizes,
)
from workbench.profile import registry
from workbench.profile.registry import Option
from workbench.project import Project
from workbench.terminal import json_path
from workbench.version import __version__

__all__ = ["DEFAULT_HISTORY", "EXIT_CODES", "add_profile_commands", "build_parser"]

EXIT_CODES = """exit codes:
  0    success
  1    check: an error-level budget breach
  2    usage error: a bad flag, value or name (check --strict: an undecided rule)
  3    execution error: a variant or a tool failed, a dependency is missing
  130  interrupted"""
CHECK_EXIT_CODES = """exit codes:
  0    every rule passes (warn-level breaches are printed, not fatal)
  1    an error-level breach
  2    a usage error; with --strict also an error-level rule left inconclusive,
       not-comparable or without a baseline
  3    an execution error (a target failed, Valgrind missing for an instruction rule)
  130  interrupted"""
#: Where ``check`` records its verdicts and ``history`` reads them, by default.
DEFAULT_HISTORY = Path("reports") / "history.sqlite"

Adder = Callable[[Any], None]


def build_parser(project: Project | None = None, *,
                 parser_class: type[argparse.ArgumentParser], prog: str,
                 own: Adder | None = None, more: Adder | None = None,
                 ) -> argparse.ArgumentParser:
    """The shared commands on ``project``'s defaults (a bare project in the working
    directory when None), parsed by ``parser_class``. ``own`` adds a front end's own
    commands, listed before ``workloads`` and ``stages`` (the CLI's ``report``); ``more``
    is called last, to add commands after them or adjust the shared ones (``%wb``)."""
    project = project or Project(root=Path.cwd())
    parser = parser_class(
        prog=prog,
        description="Performance budgets for functional Python data pipelines.",
        epilog=EXIT_CODES + "\n\nNO_COLOR=1 turns colour off, FORCE_COLOR=1 on; progress "
               "bars are drawn only on a terminal.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=parser_class)
    _add_run(sub, project)
    _add_measure(sub, project)
    _add_budget(sub, project)
    _add_history(sub)
    add_profile_commands(sub, project)
    _add_decide(sub, project)
    _add_decisions(sub, project)
    if own is not None:
        own(sub)
    _add_listings(sub, project)
    if more is not None:
        more(sub)
    return parser


def _add_run(sub: Any, project: Project) -> None:
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


def _add_measure(sub: Any, project: Project) -> None:
    from workbench.measure.config import COMPARE_METRICS

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


def _add_budget(sub: Any, project: Project) -> None:
    from workbench.budget.sequential import DEFAULT_MAX_TIME

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
            continue
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


def _add_history(sub: Any) -> None:
    from workbench.budget.spec import METRICS

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


def _profile_flags(cmd: argparse.ArgumentParser, project: Project,
                   default_suffix: str) -> None:
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


def add_profile_commands(sub: Any, project: Project) -> None:
    """One subcommand per registered profiler (flame, memory, lines, ...) on the
    subparsers ``sub``, with the flags its declaration lists."""
    for p in registry.profilers():
        cmd = sub.add_parser(p.name, help=p.help)
        _profile_flags(cmd, project, p.outputs)
        for option in p.options:
            _add_option(cmd, option)


def _add_option(cmd: argparse.ArgumentParser, option: Option) -> None:
    if option.type == "flag" and option.default:  # on unless --no-FLAG
        cmd.add_argument(option.flag, dest=option.name, action=argparse.BooleanOptionalAction,
                         default=True, help=option.help)
    elif option.type == "flag":
        cmd.add_argument(option.flag, action="store_true", help=option.help)
    elif option.type == "repeat":
        cmd.add_argument(option.flag, dest=option.name, action="append",
                         metavar=option.metavar, help=option.help)
    else:
        kind = positive_int if option.type == "positive_int" else positive_float
        cmd.add_argument(option.flag, dest=option.name, type=kind, default=option.default,
                         metavar=option.metavar, help=option.help)


def _add_decide(sub: Any, project: Project) -> None:
    decide = sub.add_parser("decide", help="record which variant a stage uses, why, and on "
                                           "what evidence")
    add_target_flags(decide, project)
    decide.add_argument("variant", help="the chosen variant (see `workbench stages`)")
    decide.add_argument("--because", required=True, metavar="TEXT",
                        help="the rationale: why this variant, on what evidence (required)")
    decide.add_argument("--evidence", nargs="+", type=Path, default=[], metavar="FILE",
                        help="result files (JSON) the decision rests on: a comparison of "
                             "the stage, flame graphs, memory tracks; without a comparison, "
                             "every variant is measured first")
    add_limit_flags(decide)
    decide.add_argument("--budgets", type=Path, default=project.budgets_path,
                        help="budgets file (default: %(default)s)")
    decide.add_argument("--baseline", type=Path, default=None,
                        help="stored baseline for relative limits (default: "
                             "reports/baseline-WORKLOAD.json when it exists)")
    decide.add_argument("--no-budget-update", action="store_true",
                        help="record the limits in the decision only; leave the budgets "
                             "file as it is")
    _log_flag(decide, project)
    add_measure_flags(decide)


def _add_decisions(sub: Any, project: Project) -> None:
    log = sub.add_parser("decisions", help="list, show or export the decision log")
    _log_flag(log, project)
    actions = log.add_subparsers(dest="action", metavar="ACTION",
                                 parser_class=type(log))
    listed = actions.add_parser("list", help="the decisions, oldest first (the default)")
    show = actions.add_parser("show", help="one decision whole, with its evidence")
    show.add_argument("id", help="a decision id, or enough of its start")
    export = actions.add_parser("export", help="the log as one self-contained HTML page")
    export.add_argument("--html", type=Path, required=True, metavar="OUT",
                        help="the page to write")
    for cmd in (log, listed, export):
        cmd.add_argument("--stage", default=argparse.SUPPRESS if cmd is not log else None,
                         help="only decisions on this stage")
        cmd.add_argument("--since", default=argparse.SUPPRESS if cmd is not log else None,
                         metavar="DATE", help="only decisions made at or after DATE "
                                              "(YYYY-MM-DD or an ISO date-time, UTC)")
    for cmd in (listed, show, export):
        _log_flag(cmd, project, suppress=True)


def _log_flag(cmd: argparse.ArgumentParser, project: Project, *,
              suppress: bool = False) -> None:
    cmd.add_argument("--log", type=Path,
                     default=argparse.SUPPRESS if suppress else project.decisions_path,
                     help="the decision log (default: %(default)s; [tool.workbench] "
                          "decisions = ... moves it)" if not suppress else
                          "the decision log (default: the project's)")


def _add_listings(sub: Any, project: Project) -> None:
    workloads = sub.add_parser("workloads", help="list the registered workloads")
    add_target_flags(workloads, project, stage=False, params=False)
    stages = sub.add_parser("stages", help="list the pipeline's stages and variants")
    add_target_flags(stages, project, stage=False, workload=False, params=False)
    for cmd in (workloads, stages):
        cmd.add_argument("--json", type=json_path, metavar="PATH",
                         help="write the listing as JSON ('-': stdout)")
