"""A :class:`MemoryTrack`: memray's record of a target's memory, as data.

Peak heap (memray's tracked allocations), peak RSS, allocation count, RSS/heap over time,
the phases of the run (preparing the target, the warm-up call, the measured calls), the
allocation sites holding the most memory at the high-water mark, and their stacks.
:meth:`MemoryTrack.measured` reads the measured calls alone from the snapshots. The
pictures (an RSS/heap chart with the phases, an icicle of the stacks) are drawn by
:mod:`workbench.render.profile`, inline and offline: memray's own flame graph HTML loads
its libraries from a CDN and shows an empty page offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, Self

from workbench.measure.targets import TargetSpec
from workbench.profile._common import Overhead
from workbench.results import Result

__all__ = [
    "AllocationSite",
    "AllocationStack",
    "MeasuredMemory",
    "MemoryTrack",
    "Phase",
    "Snapshot",
]

#: The phase the measured calls run in.
MEASURED = "measured"


class AllocationSite(NamedTuple):
    """Memory held at the high-water mark by allocations made at one place."""

    function: str
    location: str  # "file:line"
    bytes: int
    allocations: int


class AllocationStack(NamedTuple):
    """One call stack (root first, ``"function (file:line)"``) and what it held at the peak."""

    frames: tuple[str, ...]
    bytes: int
    allocations: int


class Snapshot(NamedTuple):
    """RSS and heap at one moment, ``ms`` after tracking started."""

    ms: float
    rss: int
    heap: int


class Phase(NamedTuple):
    """One phase of the run (``prepare``, ``warmup``, ``measured``), in milliseconds
    since tracking started (the snapshots' clock)."""

    name: str
    start_ms: float
    end_ms: float


class MeasuredMemory(NamedTuple):
    """Memory during the measured calls alone, from the snapshots that fell in them.

    The peaks are the largest sampled values during the calls; the growth is the peak
    less the value at the start of the calls (the last snapshot before them, else the
    first one in them).
    """

    start_ms: float
    end_ms: float
    snapshots: int
    peak_rss_bytes: int
    peak_heap_bytes: int
    rss_growth_bytes: int
    heap_growth_bytes: int


@dataclass(frozen=True)
class MemoryTrack(Result):
    """memray's record of the whole profiled process: its peaks, snapshots, phases,
    and the sites and stacks holding memory at the high-water mark."""

    kind: ClassVar[str] = "memory_track"
    schema_version: ClassVar[int] = 2

    target: TargetSpec
    peak_heap_bytes: int
    peak_rss_bytes: int
    total_allocations: int
    native: bool
    snapshots: tuple[Snapshot, ...]
    sites: tuple[AllocationSite, ...]
    stacks: tuple[AllocationStack, ...]
    overhead: Overhead
    tool: str
    created_at: str
    artifacts: str | None = None
    phases: tuple[Phase, ...] = ()

    def top_sites(self, n: int = 10) -> list[AllocationSite]:
        return sorted(self.sites, key=lambda s: -s.bytes)[:n]

    def phase(self, name: str) -> Phase | None:
        """The phase called ``name``, or None (a schema-1 record has no phases)."""
        return next((p for p in self.phases if p.name == name), None)

    def measured(self) -> MeasuredMemory | None:
        """The measured calls alone: peak RSS and heap during them and their growth over
        the start; None when the phases are unknown or no snapshot fell in the calls."""
        span = self.phase(MEASURED)
        if span is None:
            return None
        inside = [s for s in self.snapshots if span.start_ms <= s.ms <= span.end_ms]
        if not inside:
            return None
        before = [s for s in self.snapshots if s.ms < span.start_ms]
        start = before[-1] if before else inside[0]
        rss = max(s.rss for s in inside)
        heap = max(s.heap for s in inside)
        return MeasuredMemory(span.start_ms, span.end_ms, len(inside), rss, heap,
                              rss - start.rss, heap - start.heap)

    # -- the record --------------------------------------------------------------------
    def _payload(self) -> dict[str, Any]:
        return {
            "target": self.target.to_json(), "peak_heap_bytes": self.peak_heap_bytes,
            "peak_rss_bytes": self.peak_rss_bytes, "total_allocations": self.total_allocations,
            "native": self.native, "snapshots": [list(s) for s in self.snapshots],
            "phases": [list(p) for p in self.phases],
            "sites": [list(s) for s in self.sites],
            "stacks": [[list(s.frames), s.bytes, s.allocations] for s in self.stacks],
            "overhead": self.overhead.to_json(), "tool": self.tool,
            "created_at": self.created_at, "artifacts": self.artifacts,
        }

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> Self:
        artifacts = data.get("artifacts")
        return cls(
            TargetSpec.from_json(data["target"]), int(data["peak_heap_bytes"]),
            int(data["peak_rss_bytes"]), int(data["total_allocations"]), bool(data["native"]),
            tuple(Snapshot(float(t), int(r), int(h)) for t, r, h in data["snapshots"]),
            tuple(AllocationSite(str(f), str(loc), int(b), int(c))
                  for f, loc, b, c in data["sites"]),
            tuple(AllocationStack(tuple(map(str, fr)), int(b), int(c))
                  for fr, b, c in data["stacks"]),
            Overhead.from_json(data["overhead"]), str(data["tool"]), str(data["created_at"]),
            None if artifacts is None else str(artifacts),
            tuple(Phase(str(n), float(s), float(e)) for n, s, e in data.get("phases") or ()),
        )

    def summary_json(self) -> dict[str, Any]:
        measured = self.measured()
        return {"peak_heap_bytes": self.peak_heap_bytes,
                "peak_rss_bytes": self.peak_rss_bytes,
                "measured": None if measured is None else measured._asdict()}
