"""A :class:`MemoryTrack`: memray's record of a target's memory, as data and pictures.

Peak heap (memray's tracked allocations), peak RSS, allocation count, RSS/heap over time,
the allocation sites holding the most memory at the high-water mark, and their stacks.
``to_html()`` draws all of it itself (inline SVG, no script, no external URL): memray's
own flame graph HTML loads its libraries from a CDN and shows an empty page offline.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from workbench._optional import require
from workbench.measure.targets import TargetSpec
from workbench.profile._common import (
    RESULT_SCHEMA,
    Overhead,
    check_schema,
    html_table,
    save_text,
)
from workbench.profile.icicle import icicle_svg

__all__ = ["AllocationSite", "AllocationStack", "MemoryTrack", "format_bytes"]


def format_bytes(n: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


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
    ms: float  # since tracking started
    rss: int
    heap: int


@dataclass(frozen=True)
class MemoryTrack:
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

    def top_sites(self, n: int = 10) -> list[AllocationSite]:
        return sorted(self.sites, key=lambda s: -s.bytes)[:n]

    # -- persistence -------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": RESULT_SCHEMA, "kind": "memory_track",
            "target": self.target.to_json(), "peak_heap_bytes": self.peak_heap_bytes,
            "peak_rss_bytes": self.peak_rss_bytes, "total_allocations": self.total_allocations,
            "native": self.native, "snapshots": [list(s) for s in self.snapshots],
            "sites": [list(s) for s in self.sites],
            "stacks": [[list(s.frames), s.bytes, s.allocations] for s in self.stacks],
            "overhead": self.overhead.to_json(), "tool": self.tool,
            "created_at": self.created_at, "artifacts": self.artifacts,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MemoryTrack:
        check_schema(data, "memory_track")
        return cls(
            TargetSpec.from_json(data["target"]), int(data["peak_heap_bytes"]),
            int(data["peak_rss_bytes"]), int(data["total_allocations"]), bool(data["native"]),
            tuple(Snapshot(float(t), int(r), int(h)) for t, r, h in data["snapshots"]),
            tuple(AllocationSite(str(f), str(loc), int(b), int(c))
                  for f, loc, b, c in data["sites"]),
            tuple(AllocationStack(tuple(map(str, fr)), int(b), int(c))
                  for fr, b, c in data["stacks"]),
            Overhead.from_json(data["overhead"]), str(data["tool"]), str(data["created_at"]),
            data.get("artifacts"),
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``.json`` (the record), ``.html`` (self-contained) or ``.txt``."""
        return save_text(path, {"json": lambda: json.dumps(self.to_json()),
                                "html": self.to_html, "txt": self.to_text})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MemoryTrack:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    # -- renderings --------------------------------------------------------------------
    def _head(self) -> str:
        return (f"memory of {self.target.label} on {self.target.workload or '-'}: peak heap "
                f"{format_bytes(self.peak_heap_bytes)}, peak RSS "
                f"{format_bytes(self.peak_rss_bytes)}, {self.total_allocations:,} allocations "
                f"({self.tool}{', native stacks' if self.native else ''})")

    def to_text(self, n: int = 10) -> str:
        lines = [self._head(), f"  {self.overhead.to_text()}",
                 "  top allocation sites at the high-water mark:"]
        lines += [f"  {format_bytes(s.bytes):>10} {s.allocations:>8,}x  {s.function} ({s.location})"
                  for s in self.top_sites(n)]
        return "\n".join(lines)

    def figure(self) -> Any:
        """RSS and heap over time as a matplotlib Figure (returned, never shown or saved)."""
        require("matplotlib", feature="memory plots", extra="analysis")
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7.0, 3.2), layout="constrained")
        ax = fig.add_subplot()
        t = [s.ms / 1000 for s in self.snapshots]
        ax.plot(t, [s.rss / 2**20 for s in self.snapshots], label="RSS")
        ax.plot(t, [s.heap / 2**20 for s in self.snapshots], label="heap (tracked)")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("MiB")
        ax.set_title(f"{self.target.label} on {self.target.workload or '-'}")
        ax.legend()
        return fig

    def chart_svg(self, width: int = 720, height: int = 220) -> str:
        """RSS and heap over time as inline SVG (drawn here; no plotting library)."""
        return _chart(self.snapshots, width, height)

    def to_html(self, n: int = 15) -> str:
        rows = [(s.function, s.location, format_bytes(s.bytes), f"{s.allocations:,}")
                for s in self.top_sites(n)]
        table = html_table(("function", "location", "held at peak", "allocations"), rows,
                           (False, False, True, True))
        flame = icicle_svg(((s.frames, s.bytes) for s in self.stacks), unit=format_bytes)
        style = "font-family:sans-serif;font-size:13px"
        return (f"<div class='wb-profile wb-memory'><p style='{style}'>"
                f"<b>{html.escape(self._head())}</b><br>{html.escape(self.overhead.to_text())}"
                f"</p>{self.chart_svg()}<p style='{style}'>Top allocation sites at the "
                f"high-water mark</p>{table}<p style='{style}'>Memory held at the high-water "
                "mark, by call stack (root at the top; hover for details)</p>"
                f"<div style='overflow-x:auto'>{flame}</div></div>")

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_text()


def _chart(snapshots: Sequence[Snapshot], width: int, height: int) -> str:
    left, right, top, bottom = 60, 110, 10, 30
    pw, ph = width - left - right, height - top - bottom
    t_max = max((s.ms for s in snapshots), default=0.0) or 1.0
    y_max = max((max(s.rss, s.heap) for s in snapshots), default=0) or 1
    parts = [f"<svg class='wb-memory-chart' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' font-family='sans-serif' font-size='11'>",
             f"<rect x='{left}' y='{top}' width='{pw}' height='{ph}' fill='#fafafa' "
             "stroke='#999'/>"]
    for i in range(5):
        value = y_max * i / 4
        y = top + ph - ph * i / 4
        parts.append(f"<line x1='{left}' x2='{left + pw}' y1='{y:.1f}' y2='{y:.1f}' "
                     f"stroke='#ddd'/><text x='{left - 4}' y='{y + 4:.1f}' text-anchor='end'>"
                     f"{value / 2**20:.0f} MiB</text>")
        x = left + pw * i / 4
        parts.append(f"<text x='{x:.1f}' y='{top + ph + 16}' text-anchor='middle'>"
                     f"{t_max * i / 4 / 1000:.2g} s</text>")
    for key, colour, name in (("rss", "#1f77b4", "RSS"), ("heap", "#ff7f0e", "heap")):
        points = " ".join(f"{left + pw * s.ms / t_max:.1f},"
                          f"{top + ph - ph * getattr(s, key) / y_max:.1f}" for s in snapshots)
        y = top + 14 + (0 if key == "rss" else 16)
        parts.append(f"<polyline fill='none' stroke='{colour}' stroke-width='1.5' "
                     f"points='{points}'/><line x1='{left + pw + 10}' x2='{left + pw + 30}' "
                     f"y1='{y - 4}' y2='{y - 4}' stroke='{colour}' stroke-width='2'/>"
                     f"<text x='{left + pw + 34}' y='{y}'>{name}</text>")
    parts.append(f"<text x='{left + pw / 2}' y='{height - 2}' text-anchor='middle'>time</text>")
    parts.append("</svg>")
    return "".join(parts)
