"""Single-run performance guards: :func:`guard` and :func:`budgeted_stage`.

``profile`` is the same function under the seed document's spelling
(``with profile(budget):``); it is not related to the ``workbench.profile`` package of
profilers.

A guard measures ONE run of a block or call against fixed limits and raises
:class:`PerfBudgetError` naming every broken limit with the observed figure. It is an
assertion, not a statistic: there is no warm-up, no repetition and no interval, so the
first call pays for imports, compilation and cold caches. Use ``workbench measure`` and
budget checks (:mod:`workbench.budget.verdict`) for decisions that must survive noise.

Budget keys (values: a string with a unit, or a number in the key's unit):

- ``latency`` ("120ms", or a number of seconds), ``latency_ns``, ``latency_us``,
  ``latency_ms``, ``latency_s``: wall time (``time.perf_counter_ns``);
- ``rss`` ("800MB", or bytes): the process's peak resident set size during the block;
  ``rss_growth``: that peak minus the RSS at entry. On Linux the peak counter (VmHWM) is
  reset at entry through ``/proc/self/clear_refs``; where that is not allowed the
  process-lifetime ``ru_maxrss`` is used and the figures are flagged approximate;
- ``heap`` ("64MiB", or bytes): the Python heap peak above the level at entry, traced by
  ``tracemalloc`` (started only when a heap limit is set: it slows allocation-heavy code,
  and that overhead is part of the latency measured in the same block);
- every key also takes a unit suffix, short or spelled out, and keys match in any case
  (one table, ``_SUFFIXES``, holds the grammar): ``latency_ms``,
  ``latency_seconds``, ``rss_mb``, ``rss_bytes``, ``heap_mib``, ``heap_mebibytes``,
  ``rss_growth_gib``, ... (the value is then a plain number of that unit).

A block that raises is not checked; its exception propagates unchanged.
"""

from __future__ import annotations

import functools
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from workbench import formatting as fmt
from workbench import rss
from workbench.budget.units import (
    SIZE_UNITS,
    TIME_UNITS,
    Kind,
    accepted_units,
    parse_quantity,
    unit_kind,
)
from workbench.errors import InvalidInputError, WorkbenchError

__all__ = ["Breach", "Figures", "Guard", "Limit", "PerfBudgetError", "budgeted_stage", "guard",
           "parse_budget", "profile"]

P = ParamSpec("P")
R = TypeVar("R")
_BASES: dict[str, tuple[Kind, str]] = {
    "latency": ("time", "s"), "rss": ("size", "B"), "rss_growth": ("size", "B"),
    "heap": ("size", "B"),
}
# A key's unit suffix (matched case-insensitively) -> the unit: the short symbols and the
# spelled-out names (``rss_bytes``, ``latency_seconds``), as people write them.
_SUFFIXES: dict[Kind, dict[str, str]] = {
    "time": {**{u.lower(): u for u in TIME_UNITS if u.isascii()},
             "nanoseconds": "ns", "nsec": "ns", "microseconds": "us", "usec": "us",
             "milliseconds": "ms", "msec": "ms", "millis": "ms",
             "seconds": "s", "second": "s", "secs": "s", "sec": "s"},
    "size": {**{u.lower(): u for u in SIZE_UNITS},
             "bytes": "B", "byte": "B", "kilobytes": "kB", "megabytes": "MB",
             "gigabytes": "GB", "kibibytes": "KiB", "mebibytes": "MiB", "gibibytes": "GiB"},
}


@dataclass(frozen=True, slots=True)
class Limit:
    key: str  # as written in the budget
    metric: str  # latency | rss | rss_growth | heap
    value: float  # canonical: ns or bytes
    written: str = ""  # the limit as the budget gave it


@dataclass(frozen=True, slots=True)
class Figures:
    """What one guarded run measured (None: not measured)."""

    wall_ns: int
    heap_peak_bytes: int | None
    rss_peak_bytes: int | None
    rss_start_bytes: int | None
    rss_exact: bool

    def value(self, metric: str) -> float | None:
        if metric == "latency":
            return float(self.wall_ns)
        if metric == "heap":
            return None if self.heap_peak_bytes is None else float(self.heap_peak_bytes)
        if self.rss_peak_bytes is None:
            return None
        if metric == "rss":
            return float(self.rss_peak_bytes)
        return None if self.rss_start_bytes is None else float(
            max(0, self.rss_peak_bytes - self.rss_start_bytes))

    def to_text(self) -> str:
        parts = [f"wall {fmt.value(self.wall_ns, 'time')}"]
        if self.rss_peak_bytes is not None:
            parts.append(f"peak RSS {fmt.value(self.rss_peak_bytes, 'size')}"
                         + ("" if self.rss_exact else " (approximate)"))
        if self.heap_peak_bytes is not None:
            parts.append(f"heap peak {fmt.value(self.heap_peak_bytes, 'size')}")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Breach:
    limit: Limit
    observed: float

    def to_text(self) -> str:
        kind: Kind = "time" if self.limit.metric == "latency" else "size"
        shown = self.limit.written or fmt.value(self.limit.value, kind)
        return f"{self.limit.key} {fmt.value(self.observed, kind)} > limit {shown}"


class PerfBudgetError(WorkbenchError):
    """A budget was broken. From :func:`guard`: ``breaches`` and ``figures`` carry the
    numbers of the one guarded run. From a ``%%budget`` cell
    (:class:`~workbench.budget.budgeted_block.BlockBudgetError`): ``figures`` is None and
    ``breaches`` empty; its ``block`` holds the measurement and verdicts."""

    label: str
    figures: Figures | None
    breaches: tuple[Breach, ...]

    def __init__(self, label: str, figures: Figures, breaches: tuple[Breach, ...]) -> None:
        self.label = label
        self.figures = figures
        self.breaches = breaches
        approx = "" if figures.rss_exact else " (RSS approximate)"
        super().__init__(f"performance budget exceeded in {label}: "
                         + "; ".join(b.to_text() for b in breaches)
                         + f" (single run, not a statistic){approx}")


class Guard:
    """What :func:`guard` yields; ``figures`` is filled in when the block exits."""

    def __init__(self, label: str, limits: tuple[Limit, ...]) -> None:
        self.label = label
        self.limits = limits
        self.figures: Figures | None = None

    def __repr__(self) -> str:
        done = "running" if self.figures is None else self.figures.to_text()
        return f"Guard({self.label!r}: {done})"


def _accepted() -> str:
    return ("latency, rss, rss_growth, heap, each alone or with a unit suffix (time: "
            + ", ".join(_SUFFIXES["time"]) + "; size: " + ", ".join(_SUFFIXES["size"])
            + "), e.g. latency_ms, latency_seconds, rss_mb, rss_bytes")


def _limit(key: str, raw: object) -> Limit:
    metric, suffix = key.lower(), None
    if metric not in _BASES:
        metric, _, suffix = metric.rpartition("_")
    if metric not in _BASES:
        raise InvalidInputError(f"unknown budget key {key!r}; accepted: {_accepted()}")
    kind, default_unit = _BASES[metric]
    unit = default_unit if suffix is None else _SUFFIXES[kind].get(suffix)
    if unit is None:
        raise InvalidInputError(f"budget key {key!r}: unknown {kind} unit {suffix!r}; "
                                f"accepted suffixes: {', '.join(_SUFFIXES[kind])}")
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise InvalidInputError(f"budget {key!r} must be a number of {unit} or a string with "
                                f"a unit; got {raw!r}")
    if isinstance(raw, str):
        try:
            number, given_unit = parse_quantity(raw)
        except InvalidInputError as exc:
            raise InvalidInputError(f"budget {key!r}: {exc}") from None
        if given_unit is not None:
            if suffix is not None or unit_kind(given_unit) != kind:
                example = "'120ms'" if kind == "time" else "'800MB' or '64MiB'"
                named = "bytes" if unit == "B" else unit
                raise InvalidInputError(
                    f"budget {key}={raw!r}: expected "
                    + (f"a plain number of {named} (the key's suffix sets the unit; or write "
                       f"{metric}={raw!r})" if suffix is not None else
                       f"a {kind} such as {example} (units: {accepted_units(kind)})"))
            unit = given_unit
    else:
        number = float(raw)
    if not number > 0:
        raise InvalidInputError(f"budget {key}={raw!r} must be positive")
    table = TIME_UNITS if kind == "time" else SIZE_UNITS
    written = f"{number:g} {unit}" if unit != "B" else f"{number:g} bytes"
    return Limit(key, metric, number * table[unit], written)


def parse_budget(budget: Mapping[str, float | str]) -> tuple[Limit, ...]:
    """Validate a guard budget (see the module docstring) into canonical limits."""
    if not isinstance(budget, Mapping):
        raise InvalidInputError(f"a budget is a mapping such as {{'latency': '120ms'}}; "
                                f"got {budget!r}")
    return tuple(_limit(str(k), v) for k, v in budget.items())


@contextmanager
def guard(budget: Mapping[str, float | str] | None = None, *,
            label: str = "guarded block") -> Iterator[Guard]:
    """Measure one run of the ``with`` block; raise PerfBudgetError if it broke ``budget``."""
    limits = parse_budget(budget or {})
    state = Guard(label, limits)
    trace_heap = any(lim.metric == "heap" for lim in limits)
    start_kb = rss.current_kb()
    exact = start_kb is not None and rss.reset_peak()
    started_tracing = trace_heap and not tracemalloc.is_tracing()
    heap_base = 0
    if started_tracing:
        tracemalloc.start()
    elif trace_heap:
        heap_base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
    t0 = time.perf_counter_ns()
    try:
        yield state
        wall = time.perf_counter_ns() - t0
        heap = max(0, tracemalloc.get_traced_memory()[1] - heap_base) if trace_heap else None
    finally:
        if started_tracing:
            tracemalloc.stop()
    peak_kb, own_peak = rss.peak_kb()
    exact = exact and own_peak
    figures = Figures(wall, heap, peak_kb * 1024, None if start_kb is None else start_kb * 1024,
                      exact)
    state.figures = figures
    breaches = []
    for lim in limits:
        observed = figures.value(lim.metric)
        if observed is not None and observed > lim.value:
            breaches.append(Breach(lim, observed))
    if breaches:
        raise PerfBudgetError(label, figures, tuple(breaches))


def budgeted_stage(fn: Callable[P, R], budget: Mapping[str, float | str], *,
                   label: str | None = None) -> Callable[P, R]:
    """``fn`` wrapped so each call runs inside :func:`guard` with ``budget``.

    The wrapper keeps ``fn``'s name, docstring and signature (``functools.wraps``) and
    returns what ``fn`` returns. The budget is validated now, not at the first call. Only
    the call itself is guarded: a lazy iterator or generator that ``fn`` returns is passed
    through unconsumed (preserving laziness), so the work done while consuming it is
    outside the budget; materialize inside ``fn`` to guard it.
    """
    parse_budget(budget)
    name = label if label is not None else str(getattr(fn, "__qualname__", repr(fn)))

    @functools.wraps(fn)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        with guard(budget, label=name):
            return fn(*args, **kwargs)

    return guarded


#: The seed document's spelling of :func:`guard` (``with profile(budget): ...``).
profile = guard
