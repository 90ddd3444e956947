"""The memray adapter: track a stage variant's memory on a workload.

``python -m memray run --output FILE -m workbench.profile.run_target --job JOB`` records
every allocation (and RSS/heap snapshots) of the whole process -- imports, loading the
workload and any model, the warm-up call and ``calls`` measured calls -- and
:func:`read_capture` turns the capture into data with memray's reader API: the whole
process's high-water mark, and the measured calls' own peak from the allocation stream
replayed (:mod:`workbench.profile.memray_replay`). The runner's report gives the phases'
wall-clock bounds, placed on the snapshots' time axis.
"""

from __future__ import annotations

import sys
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
from workbench.profile.memray_replay import NO_FRAME, frame_name, ranked, replay
from workbench.refs import PipelineArg

__all__ = ["memory_track", "memray_argv", "read_capture"]

FEATURE = "memory tracking (memray)"
RUNNER_FILE = "workbench/profile/run_target.py:"


def memray_argv(output: Path, program: Sequence[str], *, native: bool = False,
                python: str = sys.executable) -> list[str]:
    """``python -m memray run`` recording ``program`` (``-m module args...``) into ``output``."""
    argv = [python, "-m", "memray", "run", "--quiet", "--force", "--output", str(output)]
    if native:
        argv.append("--native")
    return [*argv, *program]


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


def _whole_process(reader: Any, *, native: bool, max_stacks: int, max_depth: int,
                   ) -> tuple[tuple[AllocationStack, ...], tuple[AllocationSite, ...]]:
    """The stacks and sites of the allocations live at the heap's high-water mark."""
    per_stack: dict[tuple[str, ...], list[int]] = {}
    per_site: dict[tuple[str, str], list[int]] = {}
    for record in reader.get_high_watermark_allocation_records(merge_threads=True):
        trace = (record.hybrid_stack_trace(max_depth) if native
                 else record.stack_trace(max_depth))
        frames = _from_runner(tuple(frame_name(f, file, line)
                                    for f, file, line in reversed(trace)))
        site = ((trace[0][0], f"{short_path(trace[0][1])}:{trace[0][2]}") if trace
                else (NO_FRAME, ""))
        size, count = int(record.size), int(record.n_allocations)
        for entry in (per_stack.setdefault(frames or (NO_FRAME,), [0, 0]),
                      per_site.setdefault(site, [0, 0])):
            entry[0] += size
            entry[1] += count
    return ranked(per_stack, per_site, max_stacks=max_stacks)


def read_capture(path: Path, *, native: bool = False, max_stacks: int = 300,
                 max_depth: int = 64,
                 phases: Mapping[str, Sequence[float]] | None = None) -> dict[str, Any]:
    """Peak heap and RSS, allocation count, snapshots, phases, and both views of a
    capture: the measured calls' (their peak, sites, stacks rooted at the stage, and
    what preparing and warm-up still held when they started:
    :func:`~workbench.profile.memray_replay.replay`) and the whole process's (sites and
    stacks live at the heap's high-water mark).

    The ``max_stacks`` largest stacks of each view are kept, the rest merged into one
    "smaller" stack. ``phases`` are the runner's phase bounds in epoch milliseconds.
    """
    memray = require("memray", feature=FEATURE, extra="profile")
    reader = memray.FileReader(str(path))
    try:
        meta = reader.metadata
        start_ms = meta.start_time.timestamp() * 1000.0
        snapshots = tuple(Snapshot(max(s.time - start_ms, 0.0), int(s.rss), int(s.heap))
                          for s in reader.get_memory_snapshots())
        whole_stacks, whole_sites = _whole_process(reader, native=native,
                                                   max_stacks=max_stacks, max_depth=max_depth)
        calls = replay(reader, native=native, max_stacks=max_stacks, max_depth=max_depth)
        total_allocations = int(meta.total_allocations)
        peak_heap = int(meta.peak_memory)
    finally:
        reader.close()
    return {"peak_heap_bytes": peak_heap,
            "peak_rss_bytes": max((s.rss for s in snapshots), default=0),
            "total_allocations": total_allocations, "snapshots": snapshots,
            "phases": _phases(phases, start_ms), "calls": calls.calls,
            "sites": calls.sites, "stacks": calls.stacks, "holdings": calls.holdings,
            "whole_process_sites": whole_sites, "whole_process_stacks": whole_stacks}


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

    The whole process is tracked, model and workload loading included: its peak is what
    running the variant needs; the calls' own allocations are read apart from it.
    ``native`` records C/C++ frames too (slower).
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
