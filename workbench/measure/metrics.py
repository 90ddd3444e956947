"""The metrics, declared once: budgets' grammar and rules, ``%%budget``'s and ``decide``'s
flags, verdicts, sequential looks and instruction counts read this table.

A :class:`Metric` names what a budget limits: its unit (what an absolute limit is written
in), which way is better, the statistic the verdict uses (a percentile of the time per
call, throughput at the median, the peak of the workers' memory, the exponent of a sweep,
a count per call, a memo table's figures) and the short flags that set it (``--p95``).
:func:`register_metric` adds one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from workbench.errors import InvalidInputError

__all__ = [
    "FLAGS",
    "METRICS",
    "Direction",
    "Family",
    "FlagTable",
    "Members",
    "Metric",
    "MetricTable",
    "Unit",
    "changes",
    "flag_metrics",
    "metric_names",
    "register_metric",
    "unregister_metric",
]

Direction = Literal["lower", "higher"]
#: ``fraction``: a share from 0 to 1 (``0.8`` or ``80%``); ``ratio``: a plain positive
#: number compared within one run (``0.8``), not with a baseline.
Unit = Literal["time", "size", "throughput", "exponent", "count", "fraction", "ratio"]
#: How a verdict reads the metric: ``timing`` from the time per call (a percentile, or the
#: throughput at the median), ``memory`` from each worker's peak, ``scaling`` from a
#: sweep's exponent, ``instructions`` from a Cachegrind count per call, ``cache`` from each
#: worker's memo-table figures (:mod:`workbench.measure.cache_figures`).
Family = Literal["timing", "memory", "scaling", "instructions", "cache"]


@dataclass(frozen=True, slots=True)
class Metric:
    """One budgetable metric."""

    name: str
    kind: Unit  # what an absolute limit measures
    direction: Direction  # which way is better
    percentile: float | None = None  # the timing percentile it limits
    description: str = ""
    family: Family = "timing"
    flags: tuple[str, ...] = ()  # the %%budget / decide flags that set it
    label: str = ""  # how a verdict names it ("p95 latency")
    flag_help: str = ""  # its flags' help (default: the description)
    cell_help: str = ""  # its %%budget flag's help, about a cell (default: flag_help)

    @property
    def name_in_text(self) -> str:
        return self.label or self.name.replace("_", " ")

    def help_for(self, cell: bool = False) -> str:
        """The help of its flag: about one run of a cell (``%%budget``), or a stage."""
        general = self.flag_help or self.description
        return (self.cell_help or general) if cell else general


_TABLE: dict[str, Metric] = {}
_CHANGES = [0]


def changes() -> int:
    """How many times the table changed (front ends rebuild their flags when it moves)."""
    return _CHANGES[0]


def register_metric(m: Metric) -> Metric:
    """Add ``m`` (or replace the metric of the same name); returns it."""
    if not m.name.isidentifier():
        raise InvalidInputError(f"a metric's name must be an identifier; got {m.name!r}")
    for field, value, accepted in (("kind", m.kind, get_args(Unit)),
                                   ("direction", m.direction, get_args(Direction)),
                                   ("family", m.family, get_args(Family))):
        if value not in accepted:
            raise InvalidInputError(f"metric {m.name!r}: {field} {value!r} is not one of "
                                    + ", ".join(accepted))
    if m.percentile is not None and not 0 < m.percentile < 100:
        raise InvalidInputError(f"metric {m.name!r}: percentile must be between 0 and 100 "
                                f"(exclusive); got {m.percentile!r}")
    if m.family == "timing" and m.kind == "time" and m.percentile is None:
        raise InvalidInputError(f"metric {m.name!r}: a timing metric in time units needs "
                                "the percentile it limits")
    taken = {f: n for n, x in _TABLE.items() if n != m.name for f in x.flags}
    clash = [f for f in m.flags if f in taken]
    if clash:
        raise InvalidInputError(f"metric {m.name!r}: flag --{clash[0]} already sets "
                                f"{taken[clash[0]]}")
    _TABLE[m.name] = m
    _CHANGES[0] += 1
    return m


def unregister_metric(name: str) -> None:
    """Remove the metric ``name`` (a plugin unloading, a test)."""
    if _TABLE.pop(name, None) is not None:
        _CHANGES[0] += 1


class MetricTable(Mapping[str, Metric]):
    """The registered metrics by name, as they are now (a live view)."""

    def __getitem__(self, name: str) -> Metric:
        return _TABLE[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(_TABLE))

    def __len__(self) -> int:
        return len(_TABLE)


def metric_names(*families: Family) -> tuple[str, ...]:
    """The registered metrics of ``families`` (every metric without any), in order."""
    return tuple(n for n, m in _TABLE.items() if not families or m.family in families)


def flag_metrics() -> dict[str, str]:
    """Short flag (``p95``) -> the metric it sets: limits on time and size first, rates
    last (the order the commands' help lists them in)."""
    ordered = sorted(_TABLE.values(), key=lambda m: m.kind == "throughput")
    return {f: m.name for m in ordered for f in m.flags}


class FlagTable(Mapping[str, str]):
    """Short flag -> metric, as registered now (a live view)."""

    def __getitem__(self, flag: str) -> str:
        return flag_metrics()[flag]

    def __iter__(self) -> Iterator[str]:
        return iter(flag_metrics())

    def __len__(self) -> int:
        return len(flag_metrics())


class Members(Collection[str]):
    """The names of the registered metrics of some families, as registered now (a live
    view: ``name in Members("memory")``)."""

    def __init__(self, *families: Family) -> None:
        self.families = families

    def __contains__(self, name: object) -> bool:
        m = _TABLE.get(name) if isinstance(name, str) else None
        return m is not None and m.family in self.families

    def __iter__(self) -> Iterator[str]:
        return iter(metric_names(*self.families))

    def __len__(self) -> int:
        return len(metric_names(*self.families))


#: Every registered metric by name, and every short flag by name (live views).
METRICS = MetricTable()
FLAGS = FlagTable()


for _m in (
    Metric("latency_p50", "time", "lower", 50, "median time per call", flags=("latency",),
           label="p50 latency", flag_help="median (p50) time per call",
           cell_help="median (p50) time of one run of the cell"),
    Metric("latency_p95", "time", "lower", 95, "95th percentile time per call", flags=("p95",),
           label="p95 latency", flag_help="95th percentile time"),
    Metric("latency_p99", "time", "lower", 99, "99th percentile time per call", flags=("p99",),
           label="p99 latency", flag_help="99th percentile time"),
    Metric("throughput", "throughput", "higher", None, "items per second at the median",
           flags=("throughput",), label="throughput",
           cell_help="items per second at the median (with --items)"),
    Metric("peak_rss", "size", "lower", None, "peak resident set size (max over workers)",
           family="memory", flags=("rss",), label="peak RSS",
           flag_help="peak resident set size",
           cell_help="peak resident set size of a worker"),
    Metric("heap_peak", "size", "lower", None, "Python heap peak (max over workers)",
           family="memory", flags=("heap",), label="heap peak", flag_help="Python heap peak"),
    Metric("scaling", "exponent", "lower", None, "log-log exponent of time vs size",
           family="scaling", label="scaling exponent"),
    Metric("instructions", "count", "lower", None,
           "instructions per call under Cachegrind (simulated CPU)", family="instructions"),
    Metric("l1_misses", "count", "lower", None, "simulated first-level cache misses per call "
           "(instruction and data; Cachegrind's cache simulation)", family="instructions"),
    Metric("ll_misses", "count", "lower", None, "simulated last-level cache misses per call "
           "(Cachegrind's cache simulation)", family="instructions"),
    Metric("hit_rate", "fraction", "higher", None,
           "memo-table hits / lookups over the timed calls (median worker)", family="cache",
           flags=("hit-rate",), label="hit rate",
           flag_help="minimum memo-table hit rate over the timed calls (0.8, or a "
           "percentage)"),
    Metric("cache_bytes", "size", "lower", None,
           "memo-table bytes at their largest over the timed calls (median worker)",
           family="cache", flags=("cache-bytes",), label="cache size",
           flag_help="largest memo-table size (64MiB, 1.2x, or a share of the --rss "
           "limit: '0.25 rss')"),
    Metric("contention", "ratio", "higher", None, "throughput with the memo tables shared "
           "by N threads / with 1 thread (median worker)", family="cache",
           flags=("contention",), label="contention (throughput N threads / 1)",
           flag_help="minimum throughput at N threads sharing the memo tables, as a share "
           "of 1 thread's (0.8)"),
):
    register_metric(_m)
