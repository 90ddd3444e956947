"""The ``decide`` and ``decisions`` subcommands: record a budget decision, read the log.

``workbench decide STAGE VARIANT --because TEXT`` records that STAGE uses VARIANT, on the
evidence given with ``--evidence FILE`` (result files: a comparison of the stage,
profiles) or, without a comparison among them, on every variant measured now. Limits given
as flags (``--latency 2ms --rss 1.5x``) hold the chosen variant in the budgets file.

``workbench decisions [list]`` lists the log (``--stage``, ``--since``), ``decisions show
ID`` prints one decision whole, ``decisions export --html OUT`` writes the log as one
self-contained page.

Exit codes: 0 done, 2 a usage error (unknown stage or variant, an empty rationale, a bad
limit, a damaged log line), 3 an execution error (a variant failed, the log is locked).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.cli_args import add_measure_flags, config_of
from workbench.cli_target import add_target_flags, params_of
from workbench.project import Project
from workbench.terminal import emit_json

__all__ = ["add_parsers", "handlers", "limit_rules", "listing", "load_evidence",
           "refuse_show_filters", "run_decide_command"]

_FLAG_HELP = {"latency": "median (p50) time per call", "p95": "95th percentile time",
              "p99": "99th percentile time", "rss": "peak resident set size",
              "heap": "Python heap peak", "throughput": "items per second at the median"}


def add_parsers(sub: Any, project: Project) -> None:
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
    limits = decide.add_argument_group(
        "limits the chosen variant is held to (absolute: 2ms, 800MB, 500/s; relative to the "
        "stored baseline: 1.1x); given limits are written to the budgets file")
    from workbench.budget.limits import FLAG_METRICS

    for flag in FLAG_METRICS:
        limits.add_argument(f"--{flag}", metavar="LIMIT", help=_FLAG_HELP[flag])
    limits.add_argument("--level", choices=("error", "warn"), default=None,
                        help="level of the limits given (default: error)")
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


def limit_rules(args: argparse.Namespace, stage: str, variant: str) -> tuple[Any, ...]:
    """The limits given as flags, as rules of ``stage``/``variant``."""
    from workbench.budget.limits import FLAG_METRICS, flag_rules

    values = {flag: getattr(args, flag, None) for flag in FLAG_METRICS}
    if not any(values.values()):
        lone = [flag for flag, given in (("--level", args.level is not None),
                                         ("--no-budget-update", args.no_budget_update))
                if given]
        if lone:
            from workbench.errors import InvalidInputError

            raise InvalidInputError(
                f"{' and '.join(lone)} apply to limits given as flags (--"
                + ", --".join(FLAG_METRICS) + "); none was given")
    return flag_rules(values, stage, variant, source="limits", level=args.level or "error")


def _refuse_unused_measure_flags(args: argparse.Namespace, evidence: list[Any]) -> None:
    """With a comparison of the stage among the evidence nothing is measured, so the
    measurement flags would be ignored: refuse them."""
    if not any(e.kind == "comparison" and getattr(e, "stage", None) == args.stage
               for e in evidence):
        return
    given = [f"--{name.replace('_', '-')}" for name in
             ("workers", "samples", "warmup_calls", "warmup_seconds", "timeout", "threads",
              "gc") if getattr(args, name, None) is not None]
    given += ["--inprocess"] if getattr(args, "inprocess", False) else []
    if given:
        from workbench.errors import InvalidInputError

        raise InvalidInputError(f"{', '.join(given)}: nothing is measured, the evidence "
                                f"holds a comparison of {args.stage}; leave them out")


def _baseline(args: argparse.Namespace, workload: Any) -> Path | None:
    from workbench.budget.judge import baseline_path

    if args.baseline is not None:
        return Path(args.baseline)
    name = workload if isinstance(workload, str) else workload.name
    default = baseline_path(Path.cwd(), name)
    return default if default.is_file() else None


def load_evidence(paths: list[Path]) -> list[Any]:
    """The results in ``--evidence`` files (any kind; the record names it)."""
    import json

    from workbench.errors import InvalidInputError
    from workbench.files import read_text
    from workbench.results import result_from_json

    loaded = []
    for path in paths:
        text = read_text(path, "evidence")
        try:
            loaded.append(result_from_json(json.loads(text)))
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"--evidence {path}: not a JSON result file ({exc.msg} "
                                    f"at line {exc.lineno})") from None
        except InvalidInputError as exc:
            raise InvalidInputError(f"--evidence {path}: {exc}") from None
    return loaded


def run_decide_command(args: argparse.Namespace, *, workload: Any, pipeline: Any,
                       evidence: tuple[Any, ...], progress: Any) -> Any:
    """``decide``'s flags through the service layer (the CLI and ``%wb decide``);
    ``evidence`` comes before the ``--evidence`` files."""
    from workbench import app

    given = [*evidence, *load_evidence(args.evidence)]
    _refuse_unused_measure_flags(args, given)
    return app.decide(
        args.stage, args.variant, args.because, log=args.log, pipeline=pipeline,
        workload=workload, evidence=tuple(given),
        budgets=args.budgets, baseline_file=_baseline(args, workload),
        limits=limit_rules(args, args.stage, args.variant),
        update_budgets=not args.no_budget_update, params=params_of(args),
        config=config_of(args), progress=progress)


def _decide(args: argparse.Namespace) -> int:
    from workbench.progress import progress_bar

    with progress_bar(disable=args.no_progress) as progress:
        done = run_decide_command(args, workload=args.workload, pipeline=args.pipeline,
                                  evidence=(), progress=progress)
    for notice in done.notices:
        print(f"NOTICE: {notice}", file=sys.stderr)
    print(done.record.to_text())
    emit_json(args.json, done.record.dumps())
    print(f"recorded {done.record.id} in {done.log}")
    if done.budgets is not None:
        print(done.budgets.summary)
    return 0


def listing(records: Any, superseded: dict[str, str]) -> str:
    """The log as a table, one decision per line."""
    if not records:
        return "no decisions match"
    rows = [("id", "made (UTC)", "stage", "variant", "suggested", "author", "status",
             "rationale")]
    for r in records:
        first = r.rationale.splitlines()[0] if r.rationale else ""
        status = f"superseded by {superseded[r.id]}" if r.id in superseded else "current"
        rows.append((r.id, r.created_at[:16].replace("T", " "), r.stage, r.variant,
                     (r.suggestion.variant or "none") + ("" if r.followed_suggestion
                                                         else " (not followed)"),
                     r.author, status, first[:60] + ("..." if len(first) > 60 else "")))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False))
                     + "  " + row[-1] for row in rows)


def refuse_show_filters(args: argparse.Namespace) -> None:
    """``decisions --stage/--since ... show ID``: show prints one decision, so the filters
    would be ignored; refuse them instead."""
    given = [f"--{name} {getattr(args, name)}" for name in ("stage", "since")
             if getattr(args, name, None)]
    if args.action == "show" and given:
        from workbench.errors import InvalidInputError

        raise InvalidInputError(f"decisions show ID takes no {' or '.join(given)}; the "
                                "filters apply to list and export")


def _decisions(args: argparse.Namespace) -> int:
    from workbench import app
    from workbench.decisions.store import parse_since

    refuse_show_filters(args)
    read = app.decisions(args.log)
    for notice in read.notices():
        print(f"NOTICE: {notice}", file=sys.stderr)
    since = parse_since(args.since) if getattr(args, "since", None) else None
    stage = getattr(args, "stage", None)
    if args.action == "show":
        print(read.find(args.id).to_text())
        return 0
    if args.action == "export":
        out, count = app.export_decisions(args.log, args.html, stage=stage, since=since)
        print(f"wrote {out} ({count} decision{'s' if count != 1 else ''})")
        return 0
    print(listing(read.select(stage=stage, since=since), read.superseded_by()))
    if not read.records:
        print(f"(the log {args.log} is empty or does not exist yet; `workbench decide` "
              "records a decision)")
    return 0


def handlers() -> dict[str, Callable[[argparse.Namespace], int]]:
    return {"decide": _decide, "decisions": _decisions}
