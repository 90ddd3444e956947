"""A :class:`Flamegraph`: py-spy's samples of a target as data, and its SVG flame graph.

The data are collapsed stacks (``frame;frame;...;leaf COUNT``, root first), each frame
``function (file:line)``. :meth:`Flamegraph.top_frames` computes each frame's self share
(samples where it is the leaf) and total share (samples where it is on the stack) -- by
default over the samples taken inside the runner's measured loop only, so setup (imports,
loading the workload, the warm-up call) does not dilute the figures.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from workbench.errors import InvalidInputError
from workbench.measure.targets import TargetSpec
from workbench.profile._common import (
    RESULT_SCHEMA,
    Overhead,
    check_schema,
    html_table,
    save_text,
)
from workbench.profile._protocol import LOOP_FRAME

__all__ = ["Flamegraph", "FrameStat", "frame_stats", "parse_collapsed", "split_frame"]

Stack = tuple[str, int]  # ("root;...;leaf", samples)

_FRAME = re.compile(r"^(?P<function>.*?) \((?P<location>[^()]*)\)$")


class FrameStat(NamedTuple):
    """One frame's share of the samples: ``(function, "file:line", self %, total %)``."""

    function: str
    location: str
    self_pct: float
    total_pct: float


def split_frame(frame: str) -> tuple[str, str]:
    """``"chunk (workbench/rag/chunk.py:57)"`` -> ``("chunk", "workbench/rag/chunk.py:57")``."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip(), ""
    return match["function"], match["location"]


def parse_collapsed(text: str) -> tuple[Stack, ...]:
    """Parse collapsed stacks (py-spy ``--format raw``, Brendan Gregg's format)."""
    stacks: Counter[str] = Counter()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        stack, _, count = line.strip().rpartition(" ")  # an empty stack: no Python frame
        if not count.isdigit():
            raise InvalidInputError(
                f"line {number} of the collapsed stacks is not 'frame;frame;... COUNT': "
                f"{line[:120]!r}")
        stacks[stack] += int(count)
    return tuple(sorted(stacks.items(), key=lambda item: (-item[1], item[0])))


def _in_loop(frames: list[str]) -> list[str] | None:
    """The frames below the runner's loop frame, or None for a sample outside the loop."""
    for i, frame in enumerate(frames):
        if split_frame(frame)[0] == LOOP_FRAME:
            return frames[i + 1:]
    return None


def frame_stats(stacks: Iterable[Stack], *, scope: str = "loop") -> list[FrameStat]:
    """Every frame's self and total share, most self time first (``scope``: loop or all)."""
    if scope not in ("loop", "all"):
        raise InvalidInputError(f"scope must be 'loop' or 'all'; got {scope!r}")
    self_counts: Counter[str] = Counter()
    total_counts: Counter[str] = Counter()
    samples = 0
    for stack, count in stacks:
        frames: list[str] | None = stack.split(";") if stack else []
        if scope == "loop":
            frames = _in_loop(frames or [])
        if frames is None:
            continue
        samples += count
        if frames:
            self_counts[frames[-1]] += count
        for frame in set(frames):  # a recursive frame counts once per sample
            total_counts[frame] += count
    if not samples:
        return []
    rows = [FrameStat(*split_frame(f), 100.0 * self_counts[f] / samples,
                      100.0 * total / samples) for f, total in total_counts.items()]
    rows.sort(key=lambda r: (-r.self_pct, -r.total_pct, r.function))
    return rows


@dataclass(frozen=True)
class Flamegraph:
    """py-spy's view of a target: collapsed stacks, the SVG, rate and overhead."""

    target: TargetSpec
    rate: int
    native: bool
    by_line: bool
    stacks: tuple[Stack, ...]
    svg: str
    overhead: Overhead
    tool: str
    created_at: str
    artifacts: str | None = None

    # -- what the samples say ----------------------------------------------------------
    @property
    def samples(self) -> int:
        return sum(count for _, count in self.stacks)

    @property
    def loop_samples(self) -> int:
        """Samples taken inside the measured calls (setup and warm-up excluded)."""
        return sum(c for s, c in self.stacks if s and _in_loop(s.split(";")) is not None)

    def top_frames(self, n: int = 10, *, scope: str = "loop",
                   by: str = "self") -> list[FrameStat]:
        """The ``n`` frames with the largest ``by`` ("self" or "total") share of samples."""
        rows = frame_stats(self.stacks, scope=scope)
        if by == "total":
            rows.sort(key=lambda r: (-r.total_pct, -r.self_pct, r.function))
        elif by != "self":
            raise InvalidInputError(f"by must be 'self' or 'total'; got {by!r}")
        return rows[:n]

    # -- persistence -------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": RESULT_SCHEMA, "kind": "flamegraph",
            "target": self.target.to_json(), "rate": self.rate, "native": self.native,
            "by_line": self.by_line, "stacks": [list(s) for s in self.stacks],
            "svg": self.svg, "overhead": self.overhead.to_json(), "tool": self.tool,
            "created_at": self.created_at, "artifacts": self.artifacts,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Flamegraph:
        check_schema(data, "flamegraph")
        return cls(
            TargetSpec.from_json(data["target"]), int(data["rate"]), bool(data["native"]),
            bool(data["by_line"]), tuple((str(s), int(c)) for s, c in data["stacks"]),
            str(data["svg"]), Overhead.from_json(data["overhead"]), str(data["tool"]),
            str(data["created_at"]), data.get("artifacts"),
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``.json`` (the record), ``.svg`` (py-spy's flame graph), ``.html`` or ``.txt``."""
        return save_text(path, {"json": lambda: json.dumps(self.to_json()),
                                "svg": lambda: self.svg, "html": self.to_html,
                                "txt": self.to_text})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Flamegraph:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    # -- renderings --------------------------------------------------------------------
    def _head(self) -> str:
        mode = ", native frames" if self.native else ""
        return (f"flame graph of {self.target.label} on {self.target.workload or '-'}: "
                f"{self.samples} samples at {self.rate} Hz ({self.loop_samples} in the "
                f"measured calls{mode}) by {self.tool}")

    def to_text(self, n: int = 10) -> str:
        lines = [self._head(), f"  {self.overhead.to_text()}",
                 f"  {'self %':>7} {'total %':>7}  function (location)"]
        lines += [f"  {r.self_pct:7.1f} {r.total_pct:7.1f}  {r.function} ({r.location})"
                  for r in self.top_frames(n)]
        return "\n".join(lines)

    def svg_data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()

    def to_html(self, n: int = 10) -> str:
        """One self-contained fragment: summary, top frames, py-spy's interactive SVG."""
        rows = [(r.function, r.location, f"{r.self_pct:.1f}", f"{r.total_pct:.1f}")
                for r in self.top_frames(n)]
        table = html_table(("function", "location", "self %", "total %"), rows,
                           (False, False, True, True))
        width, height = _svg_size(self.svg)
        # The SVG is its own document in the iframe: its script runs (search, zoom,
        # details) and its ids cannot clash with another flame graph on the page. It is
        # drawn at the iframe's width; the aspect ratio keeps all of it in view.
        frame = (f"<iframe class='wb-flamegraph-svg' title='flame graph' "
                 f"style='width:100%;max-width:{width * 1.5:.0f}px;aspect-ratio:{width}/{height};"
                 f"border:0;display:block' "
                 f"srcdoc=\"{html.escape(_srcdoc(self.svg), quote=True)}\"></iframe>")
        return (f"<div class='wb-profile wb-flamegraph'><p style='font-family:sans-serif;"
                f"font-size:13px'><b>{html.escape(self._head())}</b><br>"
                f"{html.escape(self.overhead.to_text())}</p>{table}{frame}</div>")

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_svg_(self) -> str:
        return self.svg

    def __str__(self) -> str:
        return self.to_text()


def _svg_size(svg: str) -> tuple[int, int]:
    head = re.search(r"<svg\b[^>]*>", svg)
    tag = head.group(0) if head else ""
    width = re.search(r"\swidth=\"(\d+)", tag)
    height = re.search(r"\sheight=\"(\d+)", tag)
    return (int(width.group(1)) if width else 1200, int(height.group(1)) if height else 600)


def _srcdoc(svg: str) -> str:
    body = re.sub(r"^\s*(<\?xml[^>]*\?>)?\s*(<!DOCTYPE[^>]*>)?\s*", "", svg)
    body = re.sub(r"<!--.*?-->", "", body, flags=re.DOTALL)  # comments only (credits, urls)
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><style>html,body{margin:0}"
            "svg{display:block;width:100%;height:auto}</style></head>"
            f"<body>{body}</body></html>")
