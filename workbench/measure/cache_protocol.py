"""Timing a cached variant honestly: the cache state is chosen and stated, never inherited.

A memo table (:mod:`workbench.memo`) filled by warm-up would turn every timed call into
a hit. So once warm-up is over, every live table is emptied and its counters reset, and
the timed calls see exactly the cache state the measurement names
(:data:`~workbench.measure.config.CACHE_STATES`):

- ``cold``: the tables are emptied before every timed call; only repeats inside one call
  can hit.
- ``warm`` (on a batch sequence): the tables are emptied, the sequence's first ``warm``
  batches fill them untimed, and the rest are timed in order, once: the hits come from
  the workload's own earlier batches, as in a re-index.
- ``steady`` (on a batch sequence): the tables are emptied once and every batch is timed
  in order, the first one's misses included: what the whole sequence costs per batch.

A sequence shorter than the samples asked for is replayed from the same starting state
(never carried over: a second pass would hit on the first pass's entries). A single input
(not a sequence) is always timed cold, and the record says why.

The counters are read around the timed calls only. Then the throughput of the same
batches, from the same state, is measured with 1 thread and with N threads sharing the
tables (``contention``), interleaved over a few rounds.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.measure.config import MeasureConfig
from workbench.measure.targets import Prepared
from workbench.memo import MemoTable, live_tables

__all__ = ["CONTENTION_ROUNDS", "CachePhase", "CacheRun", "contention", "empty_tables",
           "lookup_counts", "measure_cached", "run_cached", "run_sequence", "tables_used_since"]

Clock = Callable[[], int]
Call = Callable[[], Any]
#: Rounds of (1 thread, N threads) in the contention measurement.
CONTENTION_ROUNDS = 3
#: The CPUs a worker process widens its affinity to while N threads share the tables (set
#: by the worker from its job; None: the affinity is left as it is, e.g. in-process).
CONTENTION_CPUS: list[int] | None = None
_SINGLE_NOTE = ("a single input: timed cold (tables emptied before every timed call), "
                "since a warm cache would only show the same input repeated")


@dataclass
class CacheRun:
    """What the timed phase produced: per-sample times, and the cache record."""

    batch_ns: list[int] = field(default_factory=list)
    items: list[int] = field(default_factory=list)
    hits: int = 0
    misses: int = 0
    evictions: int = 0
    entries: int = 0
    bytes: int = 0

    def observe(self, tables: Sequence[MemoTable[Any, Any]]) -> None:
        """Fold in the tables' size now (their largest over the timed calls is kept)."""
        snaps = [t.stats() for t in tables]
        self.entries = max(self.entries, sum(s.entries for s in snaps))
        self.bytes = max(self.bytes, sum(s.bytes for s in snaps))

    def count(self, tables: Sequence[MemoTable[Any, Any]]) -> None:
        """Add the counters since the last reset, then reset them."""
        for t in tables:
            s = t.stats()
            self.hits += s.hits
            self.misses += s.misses
            self.evictions += s.evictions
            t.reset_counters()

    def record(self, state: str, tables: Sequence[MemoTable[Any, Any]],
               note: str = "") -> dict[str, Any] | None:
        if not self.hits + self.misses:
            return None
        described = [{k: v for k, v in t.stats().to_json().items()
                      if k in ("name", "key", "version", "max_entries", "max_bytes",
                               "hashes_payload")} for t in tables]
        out: dict[str, Any] = {
            "state": state, "batches": len(self.batch_ns), "hits": self.hits,
            "misses": self.misses, "evictions": self.evictions, "entries": self.entries,
            "bytes": self.bytes, "tables": described}
        if note:
            out["note"] = note
        return out


def empty_tables(tables: Sequence[MemoTable[Any, Any]]) -> None:
    for t in tables:
        t.clear()
        t.reset_counters()


def _timed(call: Call, config: MeasureConfig, clock: Clock) -> int:
    was_enabled = gc.isenabled()
    if config.gc != "enabled":
        gc.collect()
    if config.gc == "disabled":
        gc.disable()
    try:
        t0 = clock()
        call()
        return clock() - t0
    finally:
        if was_enabled:
            gc.enable()


def _plan(steps: int, warm: int, state: str) -> tuple[range, range]:
    """(batches that fill untimed, batches timed) of one pass."""
    if state == "warm":
        return range(warm), range(warm, steps)
    return range(0), range(steps)


def run_sequence(steps: Sequence[Call], items: Sequence[int], warm: int,
                 config: MeasureConfig, clock: Clock,
                 tables: Sequence[MemoTable[Any, Any]]) -> tuple[CacheRun, str]:
    """Time the batches of a sequence in the configured cache state (see the module)."""
    state = config.cache
    fill, timed = _plan(len(steps), max(1, warm), state)
    passes = max(1, math.ceil(config.samples / len(timed)))
    run = CacheRun()
    for _ in range(passes):
        empty_tables(tables)
        for i in fill:
            steps[i]()
        for t in tables:
            t.reset_counters()
        for i in timed:
            if state == "cold":
                for t in tables:
                    t.clear()
            run.batch_ns.append(_timed(steps[i], config, clock))
            run.items.append(items[i])
            run.observe(tables)
        run.count(tables)
    return run, state


def run_cached(call: Call, items: int, config: MeasureConfig, clock: Clock,
               tables: Sequence[MemoTable[Any, Any]]) -> CacheRun:
    """Time a single input with memo tables: cold, ``config.samples`` calls."""
    run = CacheRun()
    empty_tables(tables)  # warm-up's lookups are not the timed calls'
    for _ in range(config.samples):
        for t in tables:
            t.clear()
        run.batch_ns.append(_timed(call, config, clock))
        run.items.append(items)
        run.observe(tables)
        run.count(tables)
    return run


def _threaded(work: Sequence[Call], threads: int, clock: Clock) -> int:
    """Wall time of running ``work`` on ``threads`` threads (call i on thread i % n)."""
    shares = [work[k::threads] for k in range(threads)]
    errors: list[BaseException] = []
    gate = threading.Barrier(threads + 1)

    def worker(mine: Sequence[Call]) -> None:
        gate.wait()
        try:
            for call in mine:
                call()
        except BaseException as exc:  # re-raised in the measuring thread
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(s,), daemon=True) for s in shares]
    for th in pool:
        th.start()
    gate.wait()
    t0 = clock()
    for th in pool:
        th.join()
    elapsed = clock() - t0
    if errors:
        raise errors[0]
    return elapsed


def contention(fill: Sequence[Call], work: Sequence[Call], items: int, threads: int,
               clock: Clock, tables: Sequence[MemoTable[Any, Any]],
               clear_each: bool = False) -> dict[str, Any]:
    """The same ``work`` from the same state (tables emptied, ``fill`` run) with 1 thread
    and with ``threads`` threads, interleaved over :data:`CONTENTION_ROUNDS` rounds."""
    single: list[int] = []
    multi: list[int] = []
    with _widened(CONTENTION_CPUS) as cpus:
        for _ in range(CONTENTION_ROUNDS):
            for n, out in ((1, single), (threads, multi)):
                empty_tables(tables)
                for call in fill:
                    call()
                calls = [_clearing(c, tables) for c in work] if clear_each else list(work)
                out.append(_threaded(calls, n, clock))
    empty_tables(tables)
    return {"threads": threads, "items": items, "single_ns": single, "multi_ns": multi,
            **({"cpus": cpus} if cpus else {})}


@contextlib.contextmanager
def _widened(cpus: list[int] | None) -> Iterator[int]:
    """The process's CPU affinity widened to ``cpus`` (restored after); yields how many
    CPUs the threads may use (0: not known)."""
    if not cpus or not hasattr(os, "sched_setaffinity"):
        yield len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
        return
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, cpus)
    except OSError:  # not allowed: the threads share the worker's own CPUs
        yield len(before)
        return
    try:
        yield len(cpus)
    finally:
        os.sched_setaffinity(0, before)


def _clearing(call: Call, tables: Sequence[MemoTable[Any, Any]]) -> Call:
    def cold() -> Any:
        for t in tables:
            t.clear()
        return call()
    return cold


def lookup_counts() -> dict[int, int]:
    """Lookups so far of every live memo table, by table identity."""
    return {id(t): t.stats().lookups for t in live_tables()}


def tables_used_since(before: dict[int, int]) -> tuple[MemoTable[Any, Any], ...]:
    """The live tables that counted lookups since ``before`` (:func:`lookup_counts`):
    the ones the target uses (tables created meanwhile count from zero)."""
    return tuple(t for t in live_tables() if t.stats().lookups > before.get(id(t), 0))


@dataclass(frozen=True)
class CachePhase:
    """The timed phase of a target on a batch sequence or with memo tables."""

    batch_ns: tuple[int, ...]
    items_per_call: int
    cache: dict[str, Any] | None
    contention: dict[str, Any] | None


def measure_cached(prepared: Prepared, config: MeasureConfig, clock: Clock,
                   tables: Sequence[MemoTable[Any, Any]]) -> CachePhase:
    """Time ``prepared`` in the configured cache state, then its contention (see the
    module); ``tables`` are the memo tables it used during warm-up (maybe none)."""
    n = config.contention_threads
    if prepared.steps:
        run, state = run_sequence(prepared.steps, prepared.step_items, prepared.warm, config,
                                  clock, tables)
        fill, timed = _plan(len(prepared.steps), max(1, prepared.warm), state)
        fill_calls = [prepared.steps[i] for i in fill]
        work = [prepared.steps[i] for i in timed]
        items = sum(prepared.step_items[i] for i in timed)
        note = ""
    else:
        run, state = run_cached(prepared.call, prepared.items, config, clock, tables), "cold"
        fill_calls, work, items, note = [], [prepared.call] * n, prepared.items * n, _SINGLE_NOTE
    record = run.record(state, tables, note)
    shared = None
    if record is not None:
        shared = contention(fill_calls, work, items, n, clock, tables, state == "cold")
    per_call = round(sum(run.items) / len(run.items)) if run.items else prepared.items
    return CachePhase(tuple(run.batch_ns), per_call, record, shared)
