"""A :class:`MemoryTrack`: memray's record of a target's memory, as data.

The main view is the measured calls' own memory (:class:`CallsPeak`): the allocations
made during the calls, at the most they held together, by site and by stack rooted at
the stage (read by :mod:`workbench.profile.memray_replay`). Preparing the target and the
warm-up call each come to one summary (:meth:`MemoryTrack.phase_summary`): their time,
peak RSS and growth, and what their allocations still held when the calls started
(:class:`Holding`). The whole process's view -- the sites and stacks holding memory at
its heap high-water mark, usually the preparation's imports and model -- is kept beside
it (``whole_process_sites`` and ``whole_process_stacks``), with peak heap, peak RSS,
allocation count, RSS/heap over time and the phases of the run (preparing, warm-up,
measured calls). :meth:`MemoryTrack.measured` reads the measured calls alone from the
snapshots. The pictures (an RSS/heap chart with the phases, icicles of the stacks) are
drawn by :mod:`workbench.render.profile`, inline and offline: memray's own flame graph
HTML loads its libraries from a CDN and shows an empty page offline.

Schema 3 made ``sites`` and ``stacks`` the calls' view; a record of schema 1 or 2 reads
with its sites and stacks as the whole process's and no calls' view. Schema 4 added
``cells``: the notebook cells among the record's files, named ``"In [3]"`` where the
track was made (:mod:`workbench.profile.cells`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, Self

from workbench.errors import InvalidInputError
from workbench.measure.targets import TargetSpec
from workbench.profile._common import Overhead, split_frame
from workbench.profile.cells import CellLabels, CellNamed, cells_from_json, label_files
from workbench.results import Result

__all__ = [
    "AllocationSite",
    "AllocationStack",
    "CallsPeak",
    "Holding",
    "MeasuredMemory",
    "MemoryTrack",
    "Phase",
    "PhaseSummary",
    "Snapshot",
]

#: The phase the measured calls run in.
MEASURED = "measured"


class AllocationSite(NamedTuple):
    """Memory held at a peak by allocations made at one place."""

    function: str
    location: str  # "file:line"
    bytes: int
    allocations: int


class AllocationStack(NamedTuple):
    """One call stack (root first, ``"function (file:line)"``) and what it held at a peak."""

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


class CallsPeak(NamedTuple):
    """The measured calls' own allocations: every allocation made from the first one
    under the runner's loop to its last, in any thread. ``held_bytes`` is the most they
    held together (their peak; earlier memory the calls freed does not count against
    it), ``allocations`` and ``allocated_bytes`` how many they made in all and their
    bytes."""

    held_bytes: int
    allocations: int
    allocated_bytes: int


class Holding(NamedTuple):
    """Bytes that allocations made in one phase (``prepare``, with the runner's start,
    or ``warmup``) still held when the measured calls started, by what made them
    (``imports``, or the package of the allocating Python frame)."""

    phase: str
    what: str
    bytes: int


class PhaseSummary(NamedTuple):
    """One phase in one line: its span, peak RSS and RSS growth (from the snapshots
    around it: memray samples RSS every ~10 ms, so a short phase is read from its
    neighbours; None without a snapshot), and what its allocations still held when the
    calls started, largest first (empty when the record does not say)."""

    name: str
    start_ms: float
    end_ms: float
    peak_rss_bytes: int | None
    rss_growth_bytes: int | None
    holdings: tuple[tuple[str, int], ...]

    @property
    def held_bytes(self) -> int:
        return sum(b for _, b in self.holdings)


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
class MemoryTrack(CellNamed, Result):
    """memray's record of the whole profiled process: its peaks, snapshots and phases;
    the measured calls' own peak with the sites and stacks holding it; and the sites and
    stacks holding memory at the whole process's high-water mark."""

    kind: ClassVar[str] = "memory_track"
    schema_version: ClassVar[int] = 4

    target: TargetSpec
    peak_heap_bytes: int
    peak_rss_bytes: int
    total_allocations: int
    native: bool
    snapshots: tuple[Snapshot, ...]
    sites: tuple[AllocationSite, ...]  # the measured calls', at their peak
    stacks: tuple[AllocationStack, ...]  # the same, rooted at the stage
    overhead: Overhead
    tool: str
    created_at: str
    artifacts: str | None = None
    phases: tuple[Phase, ...] = ()
    calls: CallsPeak | None = None  # None: not recorded (a record before schema 3)
    holdings: tuple[Holding, ...] = ()
    whole_process_sites: tuple[AllocationSite, ...] = ()  # at the process's high-water mark
    whole_process_stacks: tuple[AllocationStack, ...] = ()
    cells: CellLabels | None = None  # None: named from this process's IPython shell

    def _cell_files(self) -> Iterable[str]:
        return _files(self.sites + self.whole_process_sites,
                      self.stacks + self.whole_process_stacks, self.holdings)

    def top_sites(self, n: int = 10) -> list[AllocationSite]:
        """The measured calls' sites holding the most at their peak."""
        return sorted(self.sites, key=lambda s: -s.bytes)[:n]

    def top_whole_process_sites(self, n: int = 10) -> list[AllocationSite]:
        """The sites holding the most at the whole process's high-water mark."""
        return sorted(self.whole_process_sites, key=lambda s: -s.bytes)[:n]

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

    def phase_summary(self, name: str) -> PhaseSummary | None:
        """Phase ``name`` in one line (None when it was not recorded): the snapshots from
        the last one at or before its start to the first one at or after its end give
        its peak RSS and growth; its holdings come from the record."""
        span = self.phase(name)
        if span is None:
            return None
        before = [s for s in self.snapshots if s.ms <= span.start_ms][-1:]
        after = [s for s in self.snapshots if s.ms >= span.end_ms][:1]
        around = [*before, *(s for s in self.snapshots
                             if span.start_ms < s.ms < span.end_ms), *after]
        held = tuple((h.what, h.bytes) for h in self.holdings if h.phase == name)
        if not around:
            return PhaseSummary(name, span.start_ms, span.end_ms, None, None, held)
        return PhaseSummary(name, span.start_ms, span.end_ms, max(s.rss for s in around),
                            around[-1].rss - around[0].rss, held)

    # -- the record --------------------------------------------------------------------
    def _payload(self) -> dict[str, Any]:
        return {
            "target": self.target.to_json(), "peak_heap_bytes": self.peak_heap_bytes,
            "peak_rss_bytes": self.peak_rss_bytes, "total_allocations": self.total_allocations,
            "native": self.native, "snapshots": [list(s) for s in self.snapshots],
            "phases": [list(p) for p in self.phases],
            "calls": None if self.calls is None else list(self.calls),
            "sites": [list(s) for s in self.sites], "stacks": _stacks_json(self.stacks),
            "holdings": [list(h) for h in self.holdings],
            "whole_process_sites": [list(s) for s in self.whole_process_sites],
            "whole_process_stacks": _stacks_json(self.whole_process_stacks),
            "overhead": self.overhead.to_json(), "tool": self.tool,
            "created_at": self.created_at, "artifacts": self.artifacts,
            "cells": self.cell_names,
        }

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> Self:
        artifacts = data.get("artifacts")
        sites, stacks = _sites(data["sites"]), _stacks(data["stacks"])
        if data["schema_version"] < 3:  # sites and stacks were the whole process's
            views: dict[str, Any] = {"whole_process_sites": sites,
                                     "whole_process_stacks": stacks}
            sites, stacks = (), ()
        else:
            views = {"calls": _calls(data["calls"]), "holdings": _holdings(data["holdings"]),
                     "whole_process_sites": _sites(data["whole_process_sites"]),
                     "whole_process_stacks": _stacks(data["whole_process_stacks"])}
        if data["schema_version"] >= 4:
            views["cells"] = cells_from_json(data["cells"])
        else:  # the cells that name themselves (<ipython-input-3-...>)
            views["cells"] = label_files(_files(
                sites + views["whole_process_sites"], stacks + views["whole_process_stacks"],
                views.get("holdings", ())), {})
        return cls(
            TargetSpec.from_json(data["target"]), int(data["peak_heap_bytes"]),
            int(data["peak_rss_bytes"]), int(data["total_allocations"]), bool(data["native"]),
            tuple(Snapshot(float(t), int(r), int(h)) for t, r, h in data["snapshots"]),
            sites, stacks,
            Overhead.from_json(data["overhead"]), str(data["tool"]), str(data["created_at"]),
            None if artifacts is None else str(artifacts),
            tuple(Phase(str(n), float(s), float(e)) for n, s, e in data.get("phases") or ()),
            **views,
        )

    def summary_json(self) -> dict[str, Any]:
        measured = self.measured()
        return {"peak_heap_bytes": self.peak_heap_bytes,
                "peak_rss_bytes": self.peak_rss_bytes,
                "measured": None if measured is None else measured._asdict(),
                "calls_held_bytes": None if self.calls is None else self.calls.held_bytes,
                "top_sites": [{**s._asdict(), "cell": self.cell_at(s.location)}
                              for s in self.top_sites(10)]}


def _files(sites: Iterable[AllocationSite], stacks: Iterable[AllocationStack],
           holdings: Iterable[Holding]) -> set[str]:
    """The file names in ``sites``, the frames of ``stacks`` and the holdings' makers
    (a cell's file is its own maker)."""
    files = {s.location.rpartition(":")[0] for s in sites}
    frames = {f for s in stacks for f in s.frames}
    files |= {split_frame(f)[1].rpartition(":")[0] for f in frames}
    return (files | {h.what for h in holdings}) - {""}


def _stacks_json(stacks: tuple[AllocationStack, ...]) -> list[list[Any]]:
    return [[list(s.frames), s.bytes, s.allocations] for s in stacks]


def _count(value: Any, what: str) -> int:
    """A byte or allocation count of a stored record: an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(f"{what} must be an integer >= 0; got {value!r}")
    return value


def _sites(rows: Any) -> tuple[AllocationSite, ...]:
    return tuple(AllocationSite(str(f), str(loc), _count(b, "a site's bytes"),
                                _count(c, "a site's allocations")) for f, loc, b, c in rows)


def _stacks(rows: Any) -> tuple[AllocationStack, ...]:
    out = []
    for frames, b, c in rows:
        if isinstance(frames, str) or not isinstance(frames, list):
            raise InvalidInputError(f"a stack's frames must be a list of strings; got "
                                    f"{frames!r:.80}")
        out.append(AllocationStack(tuple(map(str, frames)), _count(b, "a stack's bytes"),
                                   _count(c, "a stack's allocations")))
    return tuple(out)


def _calls(value: Any) -> CallsPeak | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 3:
        raise InvalidInputError(f"the calls' figures must be [held bytes, allocations, "
                                f"allocated bytes] or null; got {value!r:.80}")
    held, made, made_bytes = value
    return CallsPeak(_count(held, "the calls' held bytes"),
                     _count(made, "the calls' allocations"),
                     _count(made_bytes, "the calls' allocated bytes"))


def _holdings(rows: Any) -> tuple[Holding, ...]:
    out = []
    for phase, what, size in rows:
        if phase not in ("prepare", "warmup"):
            raise InvalidInputError(f"a holding's phase must be 'prepare' or 'warmup'; got "
                                    f"{phase!r:.80}")
        out.append(Holding(phase, str(what), _count(size, "a holding's bytes")))
    return tuple(out)
