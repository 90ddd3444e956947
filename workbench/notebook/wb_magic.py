"""``%wb``: the command line's subcommands in a notebook, on the session's pipeline.

The parser holds the commands the command line has too
(:func:`workbench.app.parser.build_parser`), built with IPython's magic argument parser so
that errors raise ``UsageError``; ``select``, ``use``, ``panel`` and ``session`` are added
for the notebook (``report``, which starts kernels of its own, is the command line's).
``--pipeline`` and ``--workload`` default to the session's (``%wb use``) and may name a
variable of the notebook holding a Pipeline (or a function returning one) or a Workload.
``%wb decide`` takes the session's newest comparison and profiles of the stage as its
evidence. A profile's ``--variant`` defaults to the session's selection for the stage.
Each command does what the command line's does through the same service functions
(:mod:`workbench.app.commands`) and returns its result; nothing here prints a result
table.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

from workbench.app import args as flags
from workbench.app import commands, listing, workloads
from workbench.app.argv import HintingParser, WordsHelpFormatter
from workbench.app.profiling import profilers
from workbench.errors import InvalidInputError
from workbench.notebook.session import Session
from workbench.pipeline import Pipeline
from workbench.progress import announced
from workbench.terminal import STDOUT, emit_document, emit_json
from workbench.workloads import Workload

if TYPE_CHECKING:
    from workbench.app.args import PipelineArg
    from workbench.app.projects import Project
    from workbench.app.workloads import WorkloadArg

__all__ = ["HelpShown", "build_wb_parser", "run_wb"]

Display = Callable[[Any], None]


class HelpShown(Exception):
    """``--help`` printed the help: nothing more to do."""


class MagicParser(HintingParser, MagicArgumentParser):
    """IPython's magic parser (errors raise ``UsageError``) with ``-h/--help`` (printing,
    not exiting), argparse's usual help layout, and refused words that look like the rest
    of a value split at a space named as such, with the quoting to write
    (:class:`workbench.app.argv.HintingParser`)."""

    notebook = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("add_help", True)
        kwargs.setdefault("formatter_class", WordsHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if status:
            raise UsageError(message or f"{self.prog}: error")
        raise HelpShown()


def _notebook_commands(sub: Any) -> None:
    select = sub.add_parser("select", help="choose variants: %%wb select chunk=native ...")
    select.add_argument("choices", nargs="+", type=flags.selection, metavar="STAGE=VARIANT")
    use = sub.add_parser("use", help="the session's pipeline and workload")
    use.add_argument("--pipeline", help="MODULE:FUNCTION, or a notebook variable")
    use.add_argument("--workload", "-w", help="a workload name, or a notebook variable")
    panel = sub.add_parser("panel", help="the widget panel on the session's pipeline")
    panel.add_argument("--workload", "-w", help="workload (default: the session's)")
    panel.add_argument("--workers", type=flags.positive_int, default=None)
    panel.add_argument("--samples", type=flags.positive_int, default=None)
    sub.add_parser("session", help="what this session works on and holds")
    sub.choices["check"].add_argument(
        "--warn", action="store_true",
        help="show an error-level breach without raising (by default it raises "
             "CheckBudgetError after the verdicts, so a papermill run fails)")
    for name, cmd in sub.choices.items():
        if name != "use" and any(a.dest == "pipeline" for a in cmd._actions):
            cmd.set_defaults(pipeline=None, workload=None)
        if name in {p.name for p in profilers()}:
            cmd.set_defaults(variant=None)


def build_wb_parser(project: Project) -> argparse.ArgumentParser:
    from workbench.app.parser import build_parser

    return build_parser(project, parser_class=MagicParser, prog="%wb",
                        more=_notebook_commands)


#: What the magics' help says about notebook variables in a line.
VARIABLES = """notebook variables in the line: IPython puts {expression} (and $name) into the
line as text before %wb splits it into words, as a shell would; quote text that may hold
a space: {name!r}, or {shlex.quote(name)} for any text (%wb decide chunk native
--because {why!r}). A word the command does not know right after a flag's value is
named as the possible rest of that value, with the quoted form to write.
"""


def full_help(parser: argparse.ArgumentParser) -> str:
    """The top-level help, how notebook variables go into the line, then every
    subcommand's help."""
    parts = [parser.format_help(), VARIABLES]
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        for name, cmd in getattr(action, "choices", {}).items():
            parts.append(f"\n%wb {name}\n" + "-" * (len(name) + 4) + "\n" + cmd.format_help())
    return "\n".join(parts)


def _pipeline(value: str | None, ns: Mapping[str, Any], session: Session) -> PipelineArg:
    if value is None:
        return session.pipeline
    if value.isidentifier() and value in ns:
        obj = ns[value]
        if callable(obj) and not isinstance(obj, Pipeline):
            obj = obj()
        if not isinstance(obj, Pipeline):
            raise InvalidInputError(f"--pipeline {value}: the notebook's {value!r} is a "
                                    f"{type(obj).__name__}, not a Pipeline")
        return obj
    return value


def _workload(value: str | None, ns: Mapping[str, Any], session: Session,
              pipeline: PipelineArg) -> WorkloadArg:
    return workloads.from_namespace(value, ns, session.workload, pipeline)


def _given(argv: list[str], *flags: str) -> bool:
    return any(a == f or a.startswith(f + "=") for a in argv for f in flags)


class Runner:
    """One ``%wb`` call: parsed arguments, the notebook's namespace, the session."""

    def __init__(self, args: argparse.Namespace, ns: Mapping[str, Any], session: Session,
                 progress: Callable[..., Any], show: Display) -> None:
        self.args = args
        self.ns = ns
        self.session = session
        self.progress = progress
        self.show = show

    @property
    def pipeline(self) -> PipelineArg:
        return _pipeline(self.args.pipeline, self.ns, self.session)

    @property
    def workload(self) -> WorkloadArg:
        return _workload(self.args.workload, self.ns, self.session, self.pipeline)

    def _saved(self, result: Any, path: Path | None) -> Any:
        if path == STDOUT:
            print(result.dumps())
        elif path is not None:
            result.save(path)
        self.session.keep(f"%wb {self.args.command}", result)
        return result

    def measure(self) -> Any:
        a = self.args
        workload = self.workload
        if a.command == "sweep":  # a value has one size: say so before anything is shown
            workload = workloads.with_sizes(workload, self.pipeline, "%wb sweep")

        def warn() -> None:  # when measuring begins, after every check
            for warning in commands.measure_warnings(a, "%wb", workers=False):
                print(f"WARNING: {warning}")
            if isinstance(workload, Workload) and workload.fixed:
                print(f"workload {workload.name}: {workload.description}")

        with flags.fanout_of(a) as fanout, \
                self.progress(disable=a.no_progress, title=a.command) as progress:
            result = commands.measure_command(a, workload=workload,
                                              pipeline=self.pipeline,
                                              progress=announced(progress, warn),
                                              fanout=fanout)
        for note in fanout.notes:
            print(f"NOTICE: {note}")
        return self._saved(result, a.json)

    def profile(self) -> Any:
        a = self.args
        variant = a.variant or self.session.variant_of(a.stage)
        result = commands.profile_command(a, workload=self.workload, pipeline=self.pipeline,
                                          variant=variant)
        return self._saved(result, a.output)

    def check(self) -> Any:
        a = self.args
        with self.progress(disable=a.no_progress, title="check") as progress:
            report = commands.check_command(a, workload=self.workload,
                                            pipeline=self.pipeline, progress=progress)
        for notice in report.notices:
            print(f"NOTICE: {notice}")
        result = self._saved(report.result, a.json)
        error = commands.check_error(report)
        if error is not None and not a.warn:
            self.show(result)  # the verdicts first, then the error fails the cell
            raise error
        return result

    def baseline(self) -> None:
        a = self.args
        workload = self.workload
        with flags.fanout_of(a) as fanout, \
                self.progress(disable=a.no_progress, title="baseline") as progress:
            stored, out = commands.baseline_command(a, workload=workload,
                                                    pipeline=self.pipeline,
                                                    progress=progress, fanout=fanout)
        if a.json is not None:
            emit_json(a.json, commands.baseline_json(stored))
        for m in stored.measurements:
            self.show(m)
        print(f"wrote {out}")

    def run(self) -> Any:
        a = self.args
        select = {**self.session.selection, **dict(a.selection)}
        result = commands.run_command(a, pipeline=self.pipeline, workload=self.workload,
                                      select=tuple(select.items()))
        return self._saved(result, a.json)

    def select(self) -> Any:
        self.session.select(dict(self.args.choices))
        return self.session.pipeline_object().fusion_report()

    def use(self) -> None:
        a = self.args
        pipeline = None if a.pipeline is None else _pipeline(a.pipeline, self.ns,
                                                              self.session)
        workload = None if a.workload is None else _workload(
            a.workload, self.ns, self.session, pipeline or self.session.pipeline)
        self.session.use(pipeline=pipeline, workload=workload)
        summary = self.session.summary()
        print(f"session: pipeline {summary['pipeline']}, workload {summary['workload']}")
        if isinstance(workload, Workload) and workload.fixed:
            print(f"workload {workload.name}: {workload.description}")

    def panel(self) -> Any:
        from workbench.notebook import panel

        a = self.args
        options = {k: v for k, v in (("workers", a.workers), ("samples", a.samples))
                   if v is not None}
        workload = None if a.workload is None else _workload(
            a.workload, self.ns, self.session, self.session.pipeline)
        return panel(workload=workload, **options)

    def stages(self) -> None:
        found = listing.stages(self.pipeline)
        emit_json(self.args.json, found.to_json())
        if self.args.json != STDOUT:  # '-': the JSON alone, as on the command line
            print(found.to_text())

    def workloads(self) -> None:
        found = listing.workloads(self.pipeline)  # its module registers its workloads
        workload = self.workload
        default = workload if isinstance(workload, str) else workload.name
        emit_json(self.args.json, found.to_json(default))
        for w in found.rows if self.args.json != STDOUT else ():
            print(f"{w.name}: size {w.size:,}, seed {w.seed}  {w.description}")

    def decide(self) -> Any:
        a = self.args
        with self.progress(disable=a.no_progress, title="decide") as progress:
            done = commands.decide_command(a, workload=self.workload,
                                           pipeline=self.pipeline,
                                           evidence=self.session.evidence_for(a.stage),
                                           progress=progress)
        self.session.remember_decision(done.record)
        for notice in done.notices:
            print(f"NOTICE: {notice}")
        print(f"recorded {done.record.id} in {done.log}")
        if done.budgets is not None:
            print(done.budgets.summary)
        return self._saved(done.record, a.json)

    def decisions(self) -> Any:
        """``list`` prints the log; ``show`` returns the record; ``export`` writes."""
        from workbench.app.deciding import decisions

        a = self.args
        flags.refuse_show_filters(a)
        read = decisions(a.log)
        show = a.action == "show"
        for notice in read.notices():  # beside the record shown, else as the CLI does
            print(f"NOTICE: {notice}", file=sys.stdout if show else sys.stderr)
        if show:
            return read.find(a.id)
        print(listing.decisions_text(read, a))
        return None

    def history(self) -> None:
        from workbench.app.history import trends

        a = self.args
        found = trends(a.db, a.stage, a.metric, a.variant, a.workload)
        emit_document(a.json, found.to_json(), found.to_text())

    def dispatch(self) -> Any:
        table: dict[str, Callable[[], Any]] = {
            "compare": self.measure, "sweep": self.measure, "check": self.check,
            "baseline": self.baseline, "run": self.run, "select": self.select,
            "use": self.use, "panel": self.panel, "stages": self.stages,
            "workloads": self.workloads, "history": self.history,
            "decide": self.decide, "decisions": self.decisions,
            "session": self.session.summary,
            **{p.name: self.profile for p in profilers()},
        }
        return table[self.args.command]()


def run_wb(parser: argparse.ArgumentParser, argv: list[str], ns: Mapping[str, Any],
           session: Session, progress: Callable[..., Any], show: Display) -> Any:
    """Parse ``argv`` and run the command; returns its result (None for listings)."""
    try:
        args = parser.parse_args(argv)
    except HelpShown:
        return None
    if args.command is None:
        raise UsageError("%wb needs a command; see %wb? (compare, sweep, flame, memory, "
                         "lines, check, baseline, run, select, use, panel, session, ...)")
    return Runner(args, ns, session, progress, show).dispatch()
