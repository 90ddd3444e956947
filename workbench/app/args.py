"""Flags into requests: the argument groups the command line and ``%wb`` share, and the
functions that turn a parsed namespace into what the services take.

Value types (``positive_int``, ``sizes``, ``STAGE=VARIANT``, ``STAGE.KEY=VALUE``, ...) name
the bad value. The groups: what a command works on (``[STAGE] --pipeline --workload
--param --model``, defaulting to the project's ``[tool.workbench]``), the measurement
settings (a :class:`~workbench.measure.config.MeasureConfig`), ``--cluster`` (a fan-out)
and the limits ``decide`` holds a variant to. ``--param STAGE.KEY=VALUE`` (repeatable)
sets a stage parameter; the value is parsed as JSON when it parses (``64``, ``true``,
``[1, 2]``), else kept as a string. ``--model M`` is short for ``--param embed.model=M``
(the reference pipeline's embedding model).

Front ends build their parsers from these (see :mod:`workbench.app.parser`) and hand the
namespace to :mod:`workbench.app.commands`; nothing here prints.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import InvalidInputError
from workbench.refs import PipelineArg

if TYPE_CHECKING:
    from datetime import datetime

    from workbench.budget.rules import Rule
    from workbench.cluster.fanout import Fanout
    from workbench.measure.config import MeasureConfig
    from workbench.project import Project

__all__ = [
    "MEASURE_FLAGS",
    "PipelineArg",
    "add_cluster_flag",
    "add_limit_flags",
    "add_measure_flags",
    "add_target_flags",
    "config_of",
    "counts",
    "decided_log",
    "fanout_of",
    "limit_rules",
    "log_filters",
    "non_negative_int",
    "non_negative_seconds",
    "param",
    "params_of",
    "positive_float",
    "positive_int",
    "refuse_show_filters",
    "selection",
    "sizes",
]

#: The namespace attributes :func:`add_measure_flags` sets (``--inprocess`` aside).
MEASURE_FLAGS = ("workers", "samples", "warmup_calls", "warmup_seconds", "timeout",
                 "threads", "gc", "cache_state", "contention_threads")


# -- value types -----------------------------------------------------------------------

def _number(text: str, kind: type[int] | type[float], what: str) -> float:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None


def positive_int(text: str) -> int:
    value = int(_number(text, int, "a positive integer"))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value = int(_number(text, int, "an integer >= 0"))
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _at_least_two(text: str) -> int:
    value = int(_number(text, int, "an integer >= 2"))
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected an integer >= 2 (threads to set against "
                                         f"1), got {value}")
    return value


def positive_float(text: str) -> float:
    value = _number(text, float, "a number > 0")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def non_negative_seconds(text: str) -> float:
    value = _number(text, float, "seconds >= 0")
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value


def counts(text: str) -> list[int]:
    """Comma-separated numbers of Dask workers, at least 2 distinct positive ones."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers, got {text!r}") from None
    if len(set(values)) < 2 or min(values) <= 0:
        raise argparse.ArgumentTypeError(
            f"expected at least 2 distinct positive numbers of workers, got {text!r}")
    return values


def sizes(text: str) -> list[int]:
    """Comma-separated document counts, at least 3 distinct positive ones."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers, got {text!r}") from None
    if len(set(values)) < 3 or min(values) <= 0:
        raise argparse.ArgumentTypeError(
            f"expected at least 3 distinct positive sizes, got {text!r}")
    return values


def selection(text: str) -> tuple[str, str]:
    """``STAGE=VARIANT`` -> (stage, variant)."""
    stage, eq, variant = text.partition("=")
    if not eq or not stage.strip() or not variant.strip():
        raise argparse.ArgumentTypeError(f"expected STAGE=VARIANT (e.g. chunk=native); "
                                         f"got {text!r}")
    return stage.strip(), variant.strip()


def param(text: str) -> tuple[str, str, Any]:
    """``STAGE.KEY=VALUE`` -> (stage, key, value)."""
    name, eq, raw = text.partition("=")
    stage, dot, key = name.partition(".")
    if not eq or not dot or not stage.strip() or not key.strip():
        raise argparse.ArgumentTypeError(
            f"expected STAGE.KEY=VALUE (e.g. chunk.size=128); got {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return stage.strip(), key.strip(), value


# -- what a command works on -----------------------------------------------------------

def add_target_flags(cmd: argparse.ArgumentParser, project: Project, *,
                     stage: bool = True, workload: bool = True,
                     params: bool = True) -> None:
    """``[STAGE] --pipeline --workload/-w --param --model`` with the project's defaults;
    a command that would not use ``--workload`` or ``--param``/``--model`` leaves them out
    (argparse then refuses them, naming the flag)."""
    if stage:
        cmd.add_argument("stage", help="stage name (see `workbench stages`)")
    cmd.add_argument("--pipeline", default=project.pipeline, metavar="MODULE:FUNCTION",
                     help="the pipeline: a function returning a Pipeline "
                          "(default: %(default)s)")
    if workload:
        cmd.add_argument("--workload", "-w", default=project.workload, metavar="NAME",
                         help="workload name, NAME@N for size N (default: %(default)s; "
                              "see `workbench workloads`)")
    if not params:
        return
    cmd.add_argument("--param", dest="params", action="append", type=param, default=[],
                     metavar="STAGE.KEY=VALUE",
                     help="a stage parameter (repeatable); VALUE is JSON or a string")
    cmd.add_argument("--model", default=None,
                     help="the reference pipeline's embedding model (= --param embed.model=M)")


def params_of(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The ``--param`` (and ``--model``) values as ``{stage: {key: value}}``."""
    out: dict[str, dict[str, Any]] = {}
    for stage, key, value in getattr(args, "params", None) or ():
        out.setdefault(stage, {})[key] = value
    if getattr(args, "model", None):
        out.setdefault("embed", {})["model"] = args.model
    return out


def decided_log(args: argparse.Namespace) -> Path | None:
    """The decision log ``run --decided`` reads (None without ``--decided``); ``--log``
    without ``--decided`` is refused rather than ignored."""
    if not args.decided:
        if args.log is not None:
            raise InvalidInputError(f"--log {args.log} is read only with --decided; add "
                                    "--decided or leave --log out")
        return None
    return Path(args.log or args.project_log)


# -- measurement settings --------------------------------------------------------------

def add_measure_flags(cmd: argparse.ArgumentParser, *, output: bool = True,
                      inprocess: bool = True) -> None:
    """The measurement settings (``--workers``, ``--samples``, ...); the defaults shown
    are :class:`~workbench.measure.config.MeasureConfig`'s. With ``output``, also
    ``--json PATH|-`` and ``--no-progress`` (the CLI's; a magic leaves them out). Without
    ``inprocess`` there is no ``--inprocess`` (commands that always use worker processes
    or Cachegrind: argparse refuses the flag rather than ignore it)."""
    from workbench.measure.config import CACHE_STATES, GC_POLICIES, MeasureConfig

    d = MeasureConfig()
    settings: tuple[tuple[str, Any, str], ...] = (
        ("--workers", positive_int, f"worker processes per variant (default {d.workers})"),
        ("--samples", positive_int, f"timed samples per worker (default {d.samples})"),
        ("--warmup-calls", positive_int, f"warm-up calls (default {d.warmup_calls})"),
        ("--warmup-seconds", non_negative_seconds,
         f"warm-up time in seconds (default {d.warmup_seconds:g})"),
        ("--timeout", positive_float, f"seconds allowed per worker (default {d.timeout:g})"),
        ("--threads", positive_int, f"threads (and CPUs) per worker (default {d.threads})"),
    )
    for flag, kind, text in settings:
        cmd.add_argument(flag, type=kind, default=None, help=text)
    cmd.add_argument("--gc", choices=GC_POLICIES, default=None,
                     help=f"garbage collector during samples (default {d.gc})")
    cmd.add_argument("--cache-state", choices=CACHE_STATES, default=None,
                     help="the memo-table state a cached variant is timed in: cold (emptied "
                          "before every call), warm (filled by a batch sequence's first "
                          "batches, the rest timed), steady (every batch from empty); "
                          f"default {d.cache}")
    cmd.add_argument("--contention-threads", type=_at_least_two, default=None,
                     metavar="N", help="threads sharing a cached variant's memo tables when "
                     f"its contention is measured, against 1 (default {d.contention_threads})")
    if inprocess:
        cmd.add_argument("--inprocess", action="store_true",
                         help="measure in this process (no isolation; interactive use)")
    if output:
        from workbench.terminal import json_path

        cmd.add_argument("--json", type=json_path, metavar="PATH",
                         help="write the result as JSON to PATH ('-': stdout, with the "
                              "text on stderr)")
        cmd.add_argument("--no-progress", action="store_true", help="no progress bar")


def config_of(args: argparse.Namespace) -> MeasureConfig:
    """The MeasureConfig the flags of :func:`add_measure_flags` ask for."""
    from workbench.measure.config import MeasureConfig

    flags = {"workers": args.workers, "samples": args.samples,
             "warmup_calls": args.warmup_calls, "warmup_seconds": args.warmup_seconds,
             "timeout": args.timeout, "gc": args.gc, "threads": args.threads,
             "cache": getattr(args, "cache_state", None),
             "contention_threads": getattr(args, "contention_threads", None)}
    chosen = {k: v for k, v in flags.items() if v is not None}
    if getattr(args, "inprocess", False):
        chosen["mode"] = "inprocess"
    return MeasureConfig(**chosen)


# -- the cluster -----------------------------------------------------------------------

def add_cluster_flag(cmd: argparse.ArgumentParser, configured: str | None) -> None:
    """``--cluster ADDRESS``: measure on a Dask cluster (``configured``: the project's
    ``[tool.workbench] cluster``, used when the flag is not given)."""
    where = f"the project's {configured}" if configured else \
        "$DASK_SCHEDULER_ADDRESS if set, else this machine alone"
    cmd.add_argument("--cluster", metavar="ADDRESS", default=None,
                     help="measure on the Dask cluster whose scheduler is at ADDRESS "
                          "(tcp://HOST:PORT), or on a local cluster of N worker processes "
                          f"started for this command (local:N); default: {where}")
    cmd.set_defaults(project_cluster=configured)


@contextmanager
def fanout_of(args: argparse.Namespace) -> Iterator[Fanout]:
    """The fan-out ``--cluster`` (or the project, or ``DASK_SCHEDULER_ADDRESS``) asks for:
    connected for the length of the command; this machine's when none is named."""
    from workbench.cluster.address import cluster_address
    from workbench.cluster.connect import connected
    from workbench.cluster.fanout import fanout_for

    address = cluster_address(getattr(args, "cluster", None),
                              getattr(args, "project_cluster", None))
    if address is not None and getattr(args, "inprocess", False):
        raise InvalidInputError(f"--inprocess measures in this process; it cannot run on "
                                f"the cluster {address}: leave one of them out")
    with connected(address) as cluster:
        yield fanout_for(cluster)


# -- decisions -------------------------------------------------------------------------

def add_limit_flags(cmd: argparse.ArgumentParser) -> None:
    """The limits ``decide`` holds the chosen variant to (``--latency 2ms --rss 1.5x``)
    and their ``--level``."""
    from workbench.budget.limits import FLAG_METRICS
    from workbench.measure.metrics import METRICS

    limits = cmd.add_argument_group(
        "limits the chosen variant is held to (absolute: 2ms, 800MB, 500/s; relative to the "
        "stored baseline: 1.1x); given limits are written to the budgets file")
    for flag in FLAG_METRICS:
        limits.add_argument(f"--{flag}", metavar="LIMIT",
                            help=METRICS[FLAG_METRICS[flag]].help_for())
    limits.add_argument("--level", choices=("error", "warn"), default=None,
                        help="level of the limits given (default: error)")


def limit_rules(args: argparse.Namespace, stage: str, variant: str) -> tuple[Rule, ...]:
    """The limits given as flags, as rules of ``stage``/``variant``."""
    from workbench.budget.limits import FLAG_METRICS, flag_rules

    values = {flag: getattr(args, flag.replace("-", "_"), None) for flag in FLAG_METRICS}
    if not any(values.values()):
        lone = [flag for flag, given in (("--level", args.level is not None),
                                         ("--no-budget-update", args.no_budget_update))
                if given]
        if lone:
            raise InvalidInputError(
                f"{' and '.join(lone)} apply to limits given as flags (--"
                + ", --".join(FLAG_METRICS) + "); none was given")
    return flag_rules(values, stage, variant, source="limits", level=args.level or "error")


def refuse_show_filters(args: argparse.Namespace) -> None:
    """``decisions --stage/--since ... show ID``: show prints one decision, so the filters
    would be ignored; refuse them instead."""
    given = [f"--{name} {getattr(args, name)}" for name in ("stage", "since")
             if getattr(args, name, None)]
    if args.action == "show" and given:
        raise InvalidInputError(f"decisions show ID takes no {' or '.join(given)}; the "
                                "filters apply to list and export")


def log_filters(args: argparse.Namespace) -> tuple[str | None, datetime | None]:
    """``decisions --stage --since``: the stage and the time the listing starts at."""
    from workbench.decisions.store import parse_since

    since = parse_since(args.since) if getattr(args, "since", None) else None
    return getattr(args, "stage", None), since
