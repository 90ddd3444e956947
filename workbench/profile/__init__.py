"""Profilers around a stage variant on a workload: py-spy, memray and line_profiler.

Each adapter runs the target in fresh processes (``python -m workbench.profile.run_target``)
under the external tool and parses the tool's artifacts into an immutable result (a
:class:`workbench.results.Result`: JSON record, text, self-contained HTML drawn by
:mod:`workbench.render.profile`), with the profiler's wall-time overhead against a plain
run of the same calls.

- :func:`flamegraph` -> :class:`Flamegraph` (py-spy: collapsed stacks; the flame graph
  is drawn from them, rooted at the stage)
- :func:`memory_track` -> :class:`MemoryTrack` (memray: the measured calls' own
  allocations at their peak by site and stack, preparing and warm-up in one summary each,
  peaks and RSS/heap over time with the phases, the whole process's high-water mark)
- :func:`line_profile` -> :class:`LineProfile` (line_profiler: per-line hits and time)

Names are imported on first use: importing this package imports none of the profilers
(nor matplotlib or IPython), and the runner process imports none of the adapters.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.profile._common import Overhead
    from workbench.profile.flame import Flamegraph, FrameStat, parse_collapsed
    from workbench.profile.lines import LineProfile, line_profile, parse_line_stats
    from workbench.profile.memory import (
        AllocationSite,
        AllocationStack,
        CallsPeak,
        Holding,
        MeasuredMemory,
        MemoryTrack,
        Phase,
        PhaseSummary,
    )
    from workbench.profile.memray_run import memory_track
    from workbench.profile.pyspy import flamegraph

__all__ = [
    "AllocationSite",
    "AllocationStack",
    "CallsPeak",
    "Flamegraph",
    "FrameStat",
    "Holding",
    "LineProfile",
    "MeasuredMemory",
    "MemoryTrack",
    "Overhead",
    "Phase",
    "PhaseSummary",
    "flamegraph",
    "line_profile",
    "memory_track",
    "parse_collapsed",
    "parse_line_stats",
]

_WHERE = {
    "Overhead": "_common", "Flamegraph": "flame", "FrameStat": "flame",
    "parse_collapsed": "flame", "LineProfile": "lines", "line_profile": "lines",
    "parse_line_stats": "lines", "AllocationSite": "memory", "AllocationStack": "memory",
    "MemoryTrack": "memory", "MeasuredMemory": "memory", "Phase": "memory",
    "CallsPeak": "memory", "Holding": "memory", "PhaseSummary": "memory",
    "memory_track": "memray_run", "flamegraph": "pyspy",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"workbench.profile.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'workbench.profile' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
