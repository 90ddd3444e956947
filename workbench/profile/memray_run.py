"""The memray adapter: track a stage variant's memory on a workload.

``python -m memray run --output FILE -m workbench.profile.run_target --job JOB`` records
every allocation (and RSS/heap snapshots) of the whole process -- imports, loading the
workload and any model, the warm-up call and ``calls`` measured calls -- and
:func:`read_capture` turns the capture into data with memray's reader API. The runner's
report gives the phases' wall-clock bounds, placed on the snapshots' time axis.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench._optional import require
from workbench.errors import InvalidInputError
from workbench.measure.targets import TargetSpec, WorkloadArg
from workbench.profile._common import (
    now,
    profiled_run,
    runner_argv,
    short_path,
    target_spec,
    workdir,
)
from workbench.profile.memory import (
    AllocationSite,
    AllocationStack,
    MemoryTrack,
    Phase,
    Snapshot,
)
from workbench.refs import PipelineArg

__all__ = ["memory_track", "memray_argv", "read_capture"]

FEATURE = "memory tracking (memray)"
NO_FRAME = "(no Python frame)"
OTHER = "(smaller allocations)"
RUNNER_FILE = "workbench/profile/run_target.py:"


def memray_argv(output: Path, program: Sequence[str], *, native: bool = False,
                python: str = sys.executable) -> list[str]:
    """``python -m memray run`` recording ``program`` (``-m module args...``) into ``output``."""
    argv = [python, "-m", "memray", "run", "--quiet", "--force", "--output", str(output)]
    if native:
        argv.append("--native")
    return [*argv, *program]


def _frame(function: str, filename: str, line: int) -> str:
    return f"{function} ({short_path(filename)}:{line})"


def _from_runner(frames: tuple[str, ...]) -> tuple[str, ...]:
    """Drop memray's and runpy's frames above the runner's module (the same in every stack)."""
    for i, frame in enumerate(frames):
        if RUNNER_FILE in frame:
            return frames[i:]
    return frames


def _phases(bounds: Mapping[str, Sequence[float]] | None, start_ms: float,
            ) -> tuple[Phase, ...]:
    """The runner's phases (epoch milliseconds) relative to the start of tracking."""
    phases = [Phase(str(name), float(span[0]) - start_ms, float(span[1]) - start_ms)
              for name, span in (bounds or {}).items() if len(span) == 2]
    return tuple(sorted(phases, key=lambda p: p.start_ms))


def read_capture(path: Path, *, native: bool = False, max_stacks: int = 300,
                 max_depth: int = 64,
                 phases: Mapping[str, Sequence[float]] | None = None) -> dict[str, Any]:
    """Peak heap and RSS, allocation count, snapshots, phases, sites and stacks of a
    capture.

    Sites and stacks are the allocations live at the heap's high-water mark; the
    ``max_stacks`` largest stacks are kept, the rest merged into one "smaller" stack.
    ``phases`` are the runner's phase bounds in epoch milliseconds.
    """
    memray = require("memray", feature=FEATURE, extra="profile")
    reader = memray.FileReader(str(path))
    try:
        meta = reader.metadata
        start_ms = meta.start_time.timestamp() * 1000.0
        snapshots = tuple(Snapshot(max(s.time - start_ms, 0.0), int(s.rss), int(s.heap))
                          for s in reader.get_memory_snapshots())
        per_stack: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0])
        per_site: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for record in reader.get_high_watermark_allocation_records(merge_threads=True):
            trace = (record.hybrid_stack_trace(max_depth) if native
                     else record.stack_trace(max_depth))
            frames = _from_runner(tuple(_frame(f, file, line)
                                        for f, file, line in reversed(trace)))
            size, count = int(record.size), int(record.n_allocations)
            entry = per_stack[frames or (NO_FRAME,)]
            entry[0] += size
            entry[1] += count
            site = ((trace[0][0], f"{short_path(trace[0][1])}:{trace[0][2]}") if trace
                    else (NO_FRAME, ""))
            per_site[site][0] += size
            per_site[site][1] += count
        total_allocations = int(meta.total_allocations)
        peak_heap = int(meta.peak_memory)
    finally:
        reader.close()
    ranked = sorted(per_stack.items(), key=lambda kv: -kv[1][0])
    stacks = [AllocationStack(f, b, c) for f, (b, c) in ranked[:max_stacks]]
    rest = ranked[max_stacks:]
    if rest:
        stacks.append(AllocationStack((OTHER,), sum(v[0] for _, v in rest),
                                      sum(v[1] for _, v in rest)))
    sites = sorted((AllocationSite(f, loc, b, c) for (f, loc), (b, c) in per_site.items()),
                   key=lambda s: -s.bytes)
    return {"peak_heap_bytes": peak_heap,
            "peak_rss_bytes": max((s.rss for s in snapshots), default=0),
            "total_allocations": total_allocations, "snapshots": snapshots,
            "phases": _phases(phases, start_ms),
            "sites": tuple(sites[:50]), "stacks": tuple(stacks)}


def memory_track(
    stage: str | TargetSpec,
    workload: WorkloadArg | None = None,
    variant: str = "pure",
    *,
    pipeline: PipelineArg = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    calls: int = 2,
    native: bool = False,
    threads: int = 1,
    timeout: float = 300.0,
    keep_artifacts: bool = False,
) -> MemoryTrack:
    """Track ``stage``'s ``variant`` on ``workload`` with memray (one warm-up + ``calls``).

    The whole process is tracked, model and workload loading included: the peak is what
    running the variant needs. ``native`` records C/C++ frames too (slower).
    """
    if not isinstance(calls, int) or isinstance(calls, bool) or calls < 1:
        raise InvalidInputError(f"calls must be an integer >= 1; got {calls!r}")
    spec = target_spec(stage, workload, variant, params, pipeline)
    memray = require("memray", feature=FEATURE, extra="profile")
    with workdir(keep_artifacts) as directory:
        capture = directory / "capture.bin"
        run = profiled_run(
            directory, spec, lambda job: memray_argv(capture, runner_argv(job), native=native),
            what="memray", seconds=0.0, calls=calls, threads=threads, timeout=timeout,
            outputs=(capture,))
        data = read_capture(capture, native=native, phases=run.report.get("phases"))
        return MemoryTrack(
            target=spec, native=native, overhead=run.overhead,
            tool=f"memray {getattr(memray, '__version__', '')}".strip(), created_at=now(),
            artifacts=str(directory) if keep_artifacts else None, **data,
        )
