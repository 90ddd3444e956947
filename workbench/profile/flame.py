"""A :class:`Flamegraph`: py-spy's samples of a target, as data.

The data are collapsed stacks (``frame;frame;...;leaf COUNT``, root first), each frame
``function (file:line)``. :meth:`Flamegraph.top_frames` computes each frame's self share
(samples where it is the leaf) and total share (samples where it is on the stack) -- by
default over the samples taken inside the runner's measured loop only, so setup (imports,
loading the workload, the warm-up call) does not dilute the figures.
:meth:`Flamegraph.stage_stacks` gives the measured samples rooted at the stage: the
harness frames above the variant's function (the runner, the call wrapper) dropped. The
picture is drawn from these stacks by :mod:`workbench.render.profile`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, Self

from workbench.errors import InvalidInputError
from workbench.measure.targets import TargetSpec
from workbench.profile._common import Overhead, split_frame
from workbench.profile._protocol import LOOP_FRAME
from workbench.profile.cells import CellLabels, CellNamed, cells_from_json, label_files
from workbench.results import Result

__all__ = [
    "Flamegraph",
    "FrameStat",
    "frame_stats",
    "is_harness_frame",
    "parse_collapsed",
    "split_frame",
    "strip_harness",
]

Stack = tuple[str, int]  # ("root;...;leaf", samples)



class FrameStat(NamedTuple):
    """One frame's share of the samples: ``(function, "file:line", self %, total %)``."""

    function: str
    location: str
    self_pct: float
    total_pct: float


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


# The harness: the runner, the call wrapper of workbench.measure.targets.prepare
# (``prepare.<locals>.call``, or a ``<lambda>`` for a callable), runpy and memray above
# the runner, and the stage wrapper that iterates a lazy output (``materialize``).
_HARNESS_FILES = ("workbench/profile/run_target.py", "workbench/measure/targets.py",
                  "<frozen runpy>", "runpy.py")
_HARNESS_FUNCTIONS = (("workbench/predicates/result.py", "materialize"),
                      ("workbench/stages.py", "materialize"))  # where it was before
# What ``materialize``'s isinstance check calls: harness work, though in the stdlib.
_HARNESS_CALLEES = ("<frozen abc>", "abc.py")


def _is_file(file: str, path: str) -> bool:
    return file == path or file.endswith("/" + path)


def is_harness_frame(frame: str, *, after_harness: bool = False) -> bool:
    """Whether ``frame`` is one of the runner's or workbench's own call wrappers.

    ``after_harness`` says the frame above it is a harness frame: then the abc frames of
    ``materialize``'s isinstance check count as harness too.
    """
    function, location = split_frame(frame)
    file = location.rpartition(":")[0] if ":" in location else location
    if any(_is_file(file, path) for path in _HARNESS_FILES):
        return True
    if file.startswith("memray/") or "/memray/" in file:
        return True
    if any(_is_file(file, path) and function == fn for path, fn in _HARNESS_FUNCTIONS):
        return True
    return after_harness and file in _HARNESS_CALLEES


def strip_harness(frames: Sequence[str]) -> list[str]:
    """``frames`` (root first) without their leading run of harness frames.

    Only the leading run goes: every frame from the first non-harness frame down is kept,
    harness-like or not. A stack of harness frames only gives ``[]``.
    """
    above = False
    for i, frame in enumerate(frames):
        above = is_harness_frame(frame, after_harness=above)
        if not above:
            return list(frames[i:])
    return []


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
class Flamegraph(CellNamed, Result):
    """py-spy's samples of a target: collapsed stacks, sampling rate and overhead.

    ``stacks`` hold every sample of the profiled process (setup, warm-up and the
    measured calls); :meth:`stage_stacks` and :meth:`top_frames` look at the measured
    calls. ``cells`` names the notebook cells among the frames' files (``"In [3]"``;
    :mod:`workbench.profile.cells`), made where the profile was taken. Schema 2 dropped
    the ``svg`` of py-spy's second recording: the picture is drawn from the stacks;
    schema 3 added ``cells``.
    """

    kind: ClassVar[str] = "flamegraph"
    schema_version: ClassVar[int] = 3

    target: TargetSpec
    rate: int
    native: bool
    by_line: bool
    stacks: tuple[Stack, ...]
    overhead: Overhead
    tool: str
    created_at: str
    artifacts: str | None = None
    cells: CellLabels | None = None  # None: named from this process's IPython shell

    def _cell_files(self) -> Iterable[str]:
        return _frame_files(s for s, _ in self.stacks)

    # -- what the samples say ----------------------------------------------------------
    @property
    def samples(self) -> int:
        return sum(count for _, count in self.stacks)

    @property
    def loop_samples(self) -> int:
        """Samples taken inside the measured calls (setup and warm-up excluded)."""
        return sum(c for s, c in self.stacks if s and _in_loop(s.split(";")) is not None)

    @property
    def stage_samples(self) -> int:
        """Measured samples below the harness: those :meth:`stage_stacks` keeps."""
        return sum(c for _, c in self.stage_stacks())

    def stage_stacks(self, keep_harness: bool = False) -> tuple[Stack, ...]:
        """The stacks rooted at the stage: samples inside the measured calls, each
        without its leading harness frames (the runner, the call wrapper), so the first
        frame is the variant's function. Samples in the harness alone are left out.
        ``keep_harness=True`` gives every stack unchanged (setup, warm-up, harness).
        """
        if keep_harness:
            return self.stacks
        rooted: Counter[str] = Counter()
        for stack, count in self.stacks:
            frames = _in_loop(stack.split(";")) if stack else None
            kept = strip_harness(frames) if frames else []
            if kept:
                rooted[";".join(kept)] += count
        return tuple(sorted(rooted.items(), key=lambda item: (-item[1], item[0])))

    def top_frames(self, n: int = 10, *, scope: str = "loop",
                   by: str = "self") -> list[FrameStat]:
        """The ``n`` frames with the largest ``by`` ("self" or "total") share of samples."""
        rows = frame_stats(self.stacks, scope=scope)
        if by == "total":
            rows.sort(key=lambda r: (-r.total_pct, -r.self_pct, r.function))
        elif by != "self":
            raise InvalidInputError(f"by must be 'self' or 'total'; got {by!r}")
        return rows[:n]

    # -- the record --------------------------------------------------------------------
    def _payload(self) -> dict[str, Any]:
        return {
            "target": self.target.to_json(), "rate": self.rate, "native": self.native,
            "by_line": self.by_line, "stacks": [list(s) for s in self.stacks],
            "overhead": self.overhead.to_json(), "tool": self.tool,
            "created_at": self.created_at, "artifacts": self.artifacts,
            "cells": self.cell_names,
        }

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> Self:
        # a version-1 record also holds py-spy's own "svg": not read
        artifacts = data.get("artifacts")
        stacks = tuple((str(s), int(c)) for s, c in data["stacks"])
        # before schema 3: the cells that name themselves (<ipython-input-3-...>)
        cells = (cells_from_json(data["cells"]) if data["schema_version"] >= 3
                 else label_files(_frame_files(s for s, _ in stacks), {}))
        return cls(
            TargetSpec.from_json(data["target"]), int(data["rate"]), bool(data["native"]),
            bool(data["by_line"]), stacks, Overhead.from_json(data["overhead"]),
            str(data["tool"]), str(data["created_at"]),
            None if artifacts is None else str(artifacts), cells,
        )

    def summary_json(self) -> dict[str, Any]:
        return {"samples": self.samples, "loop_samples": self.loop_samples,
                "stage_samples": self.stage_samples,
                "top_frames": [{**r._asdict(), "cell": self.cell_at(r.location)}
                               for r in self.top_frames(10)]}


def _frame_files(stacks: Iterable[str]) -> set[str]:
    """The file names of the frames of collapsed ``stacks``."""
    frames = {f for stack in stacks if stack for f in stack.split(";")}
    return {split_frame(f)[1].rpartition(":")[0] for f in frames} - {""}
