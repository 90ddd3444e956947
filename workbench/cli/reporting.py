"""``report``: the report notebooks run by papermill into a reports folder (see
:mod:`workbench.app.reporting`).

Exit codes: 0 every notebook ran and no error-level budget breach; 1 a breach (the report
is still written and says so at the top of its index); 2 a usage error (nothing runs);
3 a notebook failed to execute (its partial output is kept and linked).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.app import args as flags
from workbench.app.reporting import REPORT_NOTEBOOKS, plan_report, report_parameters, run_report
from workbench.terminal import progress_wanted

if TYPE_CHECKING:
    from workbench.app.projects import Project

__all__ = ["add_parsers", "handlers"]

EPILOG = """\
parameters: -p KEY=VALUE goes to every report notebook that declares KEY in its
parameters cell; -p NOTEBOOK:KEY=VALUE to one (e.g. -p budgets:against=HEAD~1).
--parameters lists what each notebook declares.

exit codes: 0 all notebooks ran, no error-level breach; 1 an error-level breach (the
report is written); 2 usage error; 3 a notebook failed to execute (partial output kept).
"""


def add_parsers(sub: Any, project: Project) -> None:
    cmd = sub.add_parser(
        "report", help="run the report notebooks (papermill) into reports/<time>-<sha>/",
        epilog=EPILOG)  # the parser class's formatter keeps the epilog as written
    # stage parameters belong to the notebooks (-p KEY=VALUE): no --param/--model
    flags.add_target_flags(cmd, project, stage=False, params=False)
    cmd.add_argument("--notebook", "-n", dest="notebooks", action="append", default=None,
                     metavar="NB", help="a built-in report notebook ("
                     + ", ".join(REPORT_NOTEBOOKS) + ") or a path to a notebook of your "
                     "own (repeatable; default: all built-in ones, in that order)")
    cmd.add_argument("-p", "--parameter", dest="given", action="append", default=[],
                     metavar="[NB:]KEY=VALUE", help="a notebook parameter (repeatable)")
    cmd.add_argument("--out", type=Path, default=project.root / "reports",
                     help="the reports folder (default: %(default)s)")
    cmd.add_argument("--parameters", action="store_true",
                     help="list each notebook's parameters and exit")
    cmd.add_argument("--no-progress", action="store_true",
                     help="no progress bar (one line per notebook is printed anyway)")
    flags.add_cluster_flag(cmd, project.cluster)


def _listing(plan: Any) -> str:
    lines = []
    for name, source, declared in report_parameters(plan):
        lines.append(f"{name} ({source})")
        for d in declared:
            lines.append(f"  {d.name} = {d.default!r}  {d.help}".rstrip())
    return "\n".join(lines)


def _command(args: argparse.Namespace) -> str:
    """The command as it could be typed again (what the report pages show)."""
    words = ["workbench", "report", "--workload", args.workload, "--pipeline", args.pipeline]
    for nb in args.notebooks or ():
        words += ["--notebook", nb]
    for given in args.given:
        words += ["-p", given]
    return shlex.join(words)


def _line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _report(args: argparse.Namespace) -> int:
    plan = plan_report(args.notebooks, args.given, workload=args.workload,
                       pipeline=args.pipeline, out=args.out.resolve(), cwd=Path.cwd(),
                       command=_command(args))
    if args.parameters:
        print(_listing(plan))
        return 0
    bar = progress_wanted(args.no_progress)
    print(f"report: {len(plan.notebooks)} notebooks on {plan.workload} into {plan.out}",
          file=sys.stderr)
    with flags.fanout_of(args) as fanout:
        report = run_report(plan, progress=_line, bar=bar and not fanout.remote,
                            fanout=fanout)
    for note in fanout.notes:
        _line(f"NOTICE: {note}")
    summary = report.summary
    print(f"{summary['status'].upper()}: {report.index}")
    for b in summary["breaches"]:
        print(f"  breach: {b['where']}: {b['target']} {b['rule']}", file=sys.stderr)
    print(f"all reports: {plan.out / 'index.html'}")
    return report.exit_code


def handlers() -> dict[str, Callable[[argparse.Namespace], int]]:
    return {"report": _report}
