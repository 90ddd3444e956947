"""argparse value types shared by the CLI's subcommands: each names the bad value."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.cluster.fanout import Fanout
    from workbench.measure.config import MeasureConfig

__all__ = [
    "add_cluster_flag",
    "add_measure_flags",
    "config_of",
    "fanout_of",
    "non_negative_int",
    "non_negative_seconds",
    "positive_float",
    "positive_int",
    "selection",
    "sizes",
]


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


def add_measure_flags(cmd: argparse.ArgumentParser, *, output: bool = True,
                      inprocess: bool = True) -> None:
    """The measurement settings (``--workers``, ``--samples``, ...); the defaults shown
    are :class:`~workbench.measure.config.MeasureConfig`'s. With ``output``, also
    ``--json PATH|-`` and ``--no-progress`` (the CLI's; a magic leaves them out). Without
    ``inprocess`` there is no ``--inprocess`` (commands that always use worker processes
    or Cachegrind: argparse refuses the flag rather than ignore it)."""
    from workbench.measure.config import GC_POLICIES, MeasureConfig

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
             "timeout": args.timeout, "gc": args.gc, "threads": args.threads}
    chosen = {k: v for k, v in flags.items() if v is not None}
    if getattr(args, "inprocess", False):
        chosen["mode"] = "inprocess"
    return MeasureConfig(**chosen)


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
    from workbench.errors import InvalidInputError

    address = cluster_address(getattr(args, "cluster", None),
                              getattr(args, "project_cluster", None))
    if address is not None and getattr(args, "inprocess", False):
        raise InvalidInputError(f"--inprocess measures in this process; it cannot run on "
                                f"the cluster {address}: leave one of them out")
    with connected(address) as cluster:
        yield fanout_for(cluster)
