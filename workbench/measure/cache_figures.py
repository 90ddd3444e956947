"""What a measurement says about a cached variant's memo tables, worker by worker.

Each worker records its tables' counters over its timed calls only (``WorkerRun.cache``)
and its throughput at 1 and N threads sharing the tables (``WorkerRun.contention``). The
worker is the unit, as for every other metric: one hit rate, one cache size and one
contention ratio per worker, and a distribution-free interval for their median (the
order statistics of the sign test, :func:`workbench.measure.stats.order_statistic_ranks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.measure import stats

if TYPE_CHECKING:
    from workbench.measure.measurement import Measurement

__all__ = ["CacheFigures", "Spread", "cache_bytes", "cache_figures", "cache_summary",
           "contention_ratios", "hit_rates", "rss_share", "throughputs"]


def _caches(m: Measurement) -> list[dict[str, Any]]:
    return [r.cache for r in m.runs if r.ok and r.cache]


def hit_rates(m: Measurement) -> list[float]:
    """Each worker's hits / lookups over its timed calls."""
    out = []
    for c in _caches(m):
        lookups = int(c["hits"]) + int(c["misses"])
        if lookups:
            out.append(int(c["hits"]) / lookups)
    return out


def cache_bytes(m: Measurement) -> list[float]:
    """Each worker's largest memo-table size (bytes, all tables) over its timed calls."""
    return [float(c["bytes"]) for c in _caches(m)]


def _median_ns(values: Sequence[int]) -> float:
    return stats.percentile([float(v) for v in values], 50) if values else 0.0


def throughputs(m: Measurement) -> list[tuple[float, float]]:
    """Each worker's (items/s at 1 thread, items/s at N threads) on the same batches."""
    out = []
    for r in m.runs:
        c = r.contention if r.ok else None
        if not c:
            continue
        one, many = _median_ns(c["single_ns"]), _median_ns(c["multi_ns"])
        if one > 0 and many > 0:
            items = float(c["items"])
            out.append((items * 1e9 / one, items * 1e9 / many))
    return out


def contention_ratios(m: Measurement) -> list[float]:
    """Each worker's throughput at N threads / at 1 thread (1.0: no loss, no gain)."""
    return [many / one for one, many in throughputs(m)]


def rss_share(m: Measurement) -> float | None:
    """The largest cache size as a share of the largest peak RSS (None: not recorded)."""
    sizes, peak = cache_bytes(m), m.peak_rss_kb
    if not sizes or not peak:
        return None
    return max(sizes) / (peak * 1024.0)


@dataclass(frozen=True, slots=True)
class Spread:
    """The median of the workers' values with a distribution-free interval: 95 %, or, with
    too few workers for that (fewer than 6), the range of all of them and the confidence
    it reaches (``1 - 2 / 2**n``: 93.8 % with 5 workers); None ends with one worker."""

    value: float
    low: float | None
    high: float | None
    workers: int
    confidence: float = 0.95

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        ordered = sorted(values)
        n = len(ordered)
        ranks = stats.order_statistic_ranks(n, 50, 0.95)
        point = stats.percentile(ordered, 50)
        if ranks is not None:
            return cls(point, ordered[ranks[0] - 1], ordered[ranks[1] - 1], n)
        if n < 2:
            return cls(point, None, None, n, 0.0)
        return cls(point, ordered[0], ordered[-1], n, 1 - 2 * 0.5 ** n)

    def text(self, show: Any = lambda x: f"{x:.3g}") -> str:
        if self.low is None or self.high is None:
            return f"{show(self.value)} ({self.workers} worker, no interval)"
        level = "" if self.confidence >= 0.95 else \
            f" ({100 * self.confidence:.3g} %: the range of {self.workers} workers)"
        return f"{show(self.value)} [{show(self.low)}, {show(self.high)}]{level}"


@dataclass(frozen=True, slots=True)
class CacheFigures:
    """The cache figures of one measurement (see the module)."""

    state: str
    hit_rate: Spread | None
    hits: int
    misses: int
    evictions: int
    entries: int
    bytes: Spread
    rss_share: float | None
    contention: Spread | None
    threads: int | None
    single: Spread | None  # items/s at 1 thread
    multi: Spread | None  # items/s at ``threads`` threads
    tables: tuple[dict[str, Any], ...]
    note: str = ""
    cpus: int | None = None  # the CPUs the N threads could use (None: not recorded)

    @property
    def versioned(self) -> bool:
        """Every table names what its key is made of and has a version (rule (a))."""
        return bool(self.tables) and all(t.get("key") and t.get("version") for t in self.tables)


def cache_figures(m: Measurement) -> CacheFigures | None:
    """The cache figures of ``m``, or None when no timed call used a memo table."""
    caches = _caches(m)
    if not caches:
        return None
    rates, tps = hit_rates(m), throughputs(m)
    first = caches[0]
    return CacheFigures(
        state=str(first.get("state", "")),
        hit_rate=Spread.of(rates) if rates else None,
        hits=sum(int(c["hits"]) for c in caches),
        misses=sum(int(c["misses"]) for c in caches),
        evictions=sum(int(c["evictions"]) for c in caches),
        entries=max(int(c["entries"]) for c in caches),
        bytes=Spread.of(cache_bytes(m)),
        rss_share=rss_share(m),
        contention=Spread.of(contention_ratios(m)) if tps else None,
        threads=next((int(r.contention["threads"]) for r in m.runs if r.ok and r.contention),
                     None),
        single=Spread.of([a for a, _ in tps]) if tps else None,
        multi=Spread.of([b for _, b in tps]) if tps else None,
        tables=tuple(first.get("tables", ())),
        note=str(first.get("note", "")),
        cpus=next((int(r.contention["cpus"]) for r in m.runs
                   if r.ok and r.contention and r.contention.get("cpus")), None),
    )


def _spread_json(s: Spread | None) -> dict[str, Any] | None:
    return None if s is None else {"value": s.value, "low": s.low, "high": s.high,
                                   "workers": s.workers, "confidence": s.confidence}


def cache_summary(m: Measurement) -> dict[str, Any] | None:
    """The cache figures as JSON (a measurement's summary), or None without a cache."""
    f = cache_figures(m)
    if f is None:
        return None
    return {"state": f.state, "hit_rate": _spread_json(f.hit_rate), "hits": f.hits,
            "misses": f.misses, "evictions": f.evictions, "entries": f.entries,
            "bytes": _spread_json(f.bytes), "rss_share": f.rss_share,
            "contention": _spread_json(f.contention), "threads": f.threads, "cpus": f.cpus,
            "throughput_1": _spread_json(f.single), "throughput_n": _spread_json(f.multi),
            "tables": list(f.tables), **({"note": f.note} if f.note else {})}
