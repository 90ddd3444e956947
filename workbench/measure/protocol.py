"""The measurement protocol one worker follows, and the record it produces.

warm-up (count and time) -> loop calibration -> timed samples (GC policy applied) ->
one extra call under tracemalloc for the Python heap peak -> peak RSS. The same function
runs in a fresh worker process and, for interactive use, in the current process.
Notes the target records (:mod:`workbench.notes`: a back end chosen at warm-up,
say) travel in the record: in a fresh worker, all the process recorded; in-process, what
was recorded during this run.
"""

from __future__ import annotations

import gc
import math
import time
import traceback
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from workbench import notes, rss
from workbench.measure.cache_protocol import (
    empty_tables,
    lookup_counts,
    measure_cached,
    tables_used_since,
)
from workbench.measure.config import MeasureConfig
from workbench.measure.targets import Prepared

__all__ = ["Clock", "WorkerRun", "run_protocol", "timer_overhead_ns"]

Clock = Callable[[], int]
_MIN_SAMPLE_FLOOR_NS = 10_000


@dataclass(frozen=True, slots=True)
class WorkerRun:
    """What one worker measured: raw batch times plus everything needed to read them."""

    index: int
    ok: bool
    batch_ns: tuple[int, ...] = ()
    loops: int = 1
    items_per_call: int = 0
    warmup_calls: int = 0
    warmup_ns: int = 0
    first_call_ns: int = 0
    rss_peak_kb: int | None = None
    rss_exact: bool = True
    heap_peak_bytes: int | None = None
    error: str | None = None
    error_type: str | None = None
    fingerprint: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    #: Memo-table counters over the timed calls only (:mod:`workbench.measure.cache_protocol`),
    #: when the target looked anything up in a memo table; else None.
    cache: dict[str, Any] | None = None
    #: Throughput of the timed batches at 1 and N threads sharing the tables, when
    #: ``cache`` is recorded: ``{"threads", "items", "single_ns", "multi_ns"}``.
    contention: dict[str, Any] | None = None

    @property
    def per_call_ns(self) -> tuple[float, ...]:
        return tuple(b / self.loops for b in self.batch_ns)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["batch_ns"] = list(self.batch_ns)
        for key in ("notes", "cache", "contention"):  # absent when empty: older records
            if not data[key]:
                del data[key]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkerRun:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        values["batch_ns"] = tuple(int(x) for x in values.get("batch_ns", ()))
        values["notes"] = {str(k): str(v) for k, v in (values.get("notes") or {}).items()}
        return cls(**values)

    @classmethod
    def failed(cls, index: int, error: BaseException | str, error_type: str | None = None,
               fingerprint: dict[str, Any] | None = None) -> WorkerRun:
        if isinstance(error, BaseException):
            message = "".join(traceback.format_exception_only(error)).strip()
            error_type = type(error).__name__
        else:
            message = error
        return cls(index, False, error=message, error_type=error_type or "Error",
                   fingerprint=fingerprint or {})


def timer_overhead_ns(clock: Clock, rounds: int = 200) -> int:
    """The smallest gap two consecutive clock reads show: the timer's effective resolution."""
    best = math.inf
    for _ in range(rounds):
        a = clock()
        b = clock()
        if b > a:
            best = min(best, b - a)
    return int(best) if best != math.inf else 1


def _heap_peak(call: Callable[[], Any]) -> int:
    """The Python heap's peak during one more call (tracemalloc)."""
    tracemalloc.start()
    try:
        call()
        return int(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def run_protocol(
    prepared: Prepared,
    config: MeasureConfig,
    *,
    index: int = 0,
    clock: Clock = time.perf_counter_ns,
    fresh_process: bool = True,
) -> WorkerRun:
    """Warm up, calibrate, sample; never raises for a failing target (records it)."""
    with notes.collecting() as during:
        run = _protocol(prepared, config, index, clock, fresh_process)
    recorded = {**notes.collected(), **during} if fresh_process else during
    return replace(run, notes=recorded) if recorded else run


def _protocol(prepared: Prepared, config: MeasureConfig, index: int, clock: Clock,
              fresh_process: bool) -> WorkerRun:
    call = prepared.call
    reset = fresh_process or rss.reset_peak()
    before = lookup_counts()
    try:
        warm_call = prepared.steps[0] if prepared.steps else call
        started = clock()
        warm_call()
        first = clock() - started
        calls = 1
        while calls < config.warmup_calls or clock() - started < config.warmup_seconds * 1e9:
            warm_call()
            calls += 1
        warmup_ns = clock() - started
        tables = tables_used_since(before)
        if prepared.steps or tables:  # batches, or memo tables: the cache protocol
            phase = measure_cached(prepared, config, clock, tables)
            heap = _heap_peak(call) if config.heap else None
            empty_tables(tables)  # left empty: what the next run finds is its own doing
            rss_kb, own_peak = rss.peak_kb()
            return WorkerRun(index=index, ok=True, batch_ns=phase.batch_ns, loops=1,
                             items_per_call=phase.items_per_call, warmup_calls=calls,
                             warmup_ns=warmup_ns, first_call_ns=first, rss_peak_kb=rss_kb,
                             rss_exact=reset and own_peak, heap_peak_bytes=heap,
                             cache=phase.cache, contention=phase.contention)
        per_call = max(1, (warmup_ns - first) // max(1, calls - 1)) if calls > 1 else first
        floor = config.min_sample_ns or max(_MIN_SAMPLE_FLOOR_NS, 10 * timer_overhead_ns(clock))
        loops = max(1, math.ceil(floor / per_call)) if per_call < floor else 1
        batches = []
        was_enabled = gc.isenabled()
        try:
            for _ in range(config.samples):
                if config.gc != "enabled":
                    gc.collect()
                if config.gc == "disabled":
                    gc.disable()
                t0 = clock()
                for _ in range(loops):
                    call()
                batches.append(clock() - t0)
                if config.gc == "disabled" and was_enabled:
                    gc.enable()
        finally:
            if was_enabled:
                gc.enable()
        heap = _heap_peak(call) if config.heap else None
    except Exception as exc:  # the target failed: a failed run, not a crashed harness
        return WorkerRun.failed(index, exc)
    rss_kb, own_peak = rss.peak_kb()
    return WorkerRun(
        index=index,
        ok=True,
        batch_ns=tuple(batches),
        loops=loops,
        items_per_call=prepared.items,
        warmup_calls=calls,
        warmup_ns=warmup_ns,
        first_call_ns=first,
        rss_peak_kb=rss_kb,
        rss_exact=reset and own_peak,
        heap_peak_bytes=heap,
    )
