"""The measured calls' own memory, from memray's allocation stream replayed in order.

memray's high-water mark is the whole process's: for a target that imports large
libraries or loads a model, it is mostly the preparation's memory and says little about
the calls. Here every allocation and deallocation of a capture is replayed in the order
memray wrote them (one stream for all threads). The runner's frames mark the phases in
the stream: an allocation under its ``prepare`` call is the preparation's, and the first
and the last allocation under its loop (:data:`~workbench.profile._protocol.LOOP_FRAME`)
bound the measured calls. Every allocation made between those two, in any thread, is one
of the calls' own; their peak is the most they held together, and the stacks and sites
holding it then are the calls' view (:class:`~workbench.profile.memory.CallsPeak`).
What the preparation and the warm-up (everything after the last preparing allocation
and before the loop) still hold when the calls start is summed by what made it:
``imports`` (a stack through importlib) or the package of the allocating Python frame
(:class:`~workbench.profile.memory.Holding`).

The replay counts bytes as memray's own high-water mark does (its peak of the whole
stream equals memray's ``peak_memory``): a ``realloc`` is a free and an allocation,
``munmap`` may release part of a mapping.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from workbench.profile._common import short_path
from workbench.profile._protocol import LOOP_FRAME
from workbench.profile.cells import is_cell_file
from workbench.profile.flame import is_harness_frame, split_frame
from workbench.profile.memory import (
    AllocationSite,
    AllocationStack,
    CallsPeak,
    Holding,
)

__all__ = ["CallsView", "frame_name", "ranked", "replay", "rooted"]

NO_FRAME = "(no Python frame)"
OTHER = "(smaller allocations)"
IMPORTS = "imports"
#: The runner's function that prepares the target and calls it (its callees mark phases).
RUNNER_FUNCTION = ("_run", "workbench/profile/run_target.py")
PREPARE = "prepare"  # workbench.measure.targets.prepare, called by the runner's _run

# memray.AllocatorType values (memray is imported only when a capture is read)
_FREES = frozenset({1, 5})  # PYMALLOC_FREE, FREE
_MMAP, _MUNMAP = 14, 15

Key = tuple[int, int, int]  # Python stack id, native stack id, native segment generation


class CallsView(NamedTuple):
    """What :func:`replay` found: the calls' peak (all zero when no allocation was made
    under the runner's loop), the stacks and sites holding it, and the phases' holdings
    when the calls started (empty when the phases were not found in the stream)."""

    calls: CallsPeak
    stacks: tuple[AllocationStack, ...]
    sites: tuple[AllocationSite, ...]
    holdings: tuple[Holding, ...]
    stream_peak_bytes: int  # the most the whole process held: memray's peak_memory


def frame_name(function: str, filename: str, line: int) -> str:
    return f"{function} ({short_path(filename)}:{line})"


def _is_python(frame: str) -> bool:
    file = split_frame(frame)[1].rpartition(":")[0]
    return file.endswith(".py") or file.startswith("<")


def rooted(frames: Sequence[str]) -> tuple[str, ...]:
    """``frames`` (root first) from the stage's first Python frame down: the leading
    harness frames (runpy, memray, the runner, its loop, the call wrapper,
    ``materialize``) dropped with the native frames above and among them (the
    interpreter's). A stack of harness frames only keeps what is below the last of them,
    or its leaf; a stack whose first Python frame is not the harness's is kept whole."""
    cut, above = 0, False
    for i, frame in enumerate(frames):
        if not _is_python(frame):
            continue
        above = is_harness_frame(frame, after_harness=above)
        if not above:
            return tuple(frames[i:])
        cut = i + 1
    return tuple(frames[cut:]) or tuple(frames[-1:])


def _marker(trace: Sequence[tuple[str, str, int]]) -> str | None:
    """The phase a Python stack (leaf first, as memray gives it) marks, if any."""
    names = [(function, file) for function, file, _ in reversed(trace)]
    run = next((i for i, (function, file) in enumerate(names)
                if function == RUNNER_FUNCTION[0] and file.endswith(RUNNER_FUNCTION[1])),
               None)
    if run is None:
        return None
    if any(function == LOOP_FRAME for function, _ in names[run + 1:]):
        return "measured"
    if len(names) > run + 1 and names[run + 1][0] == PREPARE:
        return "prepare"
    return None


def _category(trace: Sequence[tuple[str, str, int]]) -> str:
    """What made an allocation: ``imports``, or the package of its Python leaf frame (a
    notebook cell's file: the file, which the track names by its cell)."""
    if not trace:
        return NO_FRAME
    if any(file.startswith("<frozen importlib.") for _, file, _ in trace):
        return IMPORTS
    path = short_path(trace[0][1])
    if is_cell_file(path):
        return path
    if path.startswith("<frozen "):
        return path.removeprefix("<frozen ").rstrip(">")
    if path.startswith("/"):
        return Path(path).stem
    return path.split("/", 1)[0].removesuffix(".py")


class _Stacks:
    """Each stack of the capture resolved once: the phase it marks, what made it, and
    (for the calls' allocations) its frames rooted at the stage and its site."""

    def __init__(self, native: bool, max_depth: int) -> None:
        self.native, self.max_depth = native, max_depth
        self.marks: dict[int, tuple[str | None, str]] = {}
        self.views: dict[Key, tuple[tuple[str, ...], tuple[str, str]]] = {}

    def mark(self, record: Any) -> tuple[str | None, str]:
        found = self.marks.get(record.stack_id)
        if found is None:
            trace = record.stack_trace()
            found = self.marks[record.stack_id] = (_marker(trace), _category(trace))
        return found

    def view(self, record: Any, key: Key) -> None:
        if key in self.views:
            return
        trace = (record.hybrid_stack_trace(self.max_depth) if self.native
                 else record.stack_trace(self.max_depth))
        frames = tuple(frame_name(f, file, line) for f, file, line in reversed(trace))
        site = ((trace[0][0], f"{short_path(trace[0][1])}:{trace[0][2]}") if trace
                else (NO_FRAME, ""))
        self.views[key] = (rooted(frames) if frames else (NO_FRAME,), site)


class _Replay:
    """The stream replayed: live allocations, the phase marks, the calls' events."""

    def __init__(self, stacks: _Stacks) -> None:
        self.stacks = stacks
        self.live: dict[int, tuple[int, int, Key]] = {}  # address -> size, index, key
        self.maps: dict[int, list[Any]] = {}  # start -> [end, index, key, counted]
        self.last_prepare: int | None = None
        self.first_loop: int | None = None
        self.last_loop = -1
        self.held_at_start: dict[tuple[str, str], int] = {}
        self.total = self.peak = 0  # bytes live in the whole process, and their most
        # from the first loop allocation on: (index, bytes, count, key, made at index)
        self.events: list[tuple[int, int, int, Key, int]] = []

    def run(self, records: Iterable[Any]) -> None:
        for index, record in enumerate(records):
            kind = int(record.allocator)
            if kind in _FREES:
                self._free(index, record.address)
            elif kind == _MUNMAP:
                self._unmap(index, record.address, int(record.size))
            else:
                self._allocate(index, record, kind == _MMAP)

    def _allocate(self, index: int, record: Any, mapped: bool) -> None:
        marker, _ = self.stacks.mark(record)
        if marker == "prepare":
            self.last_prepare = index
        elif marker == "measured":
            if self.first_loop is None:
                self.first_loop = index
                self.held_at_start = self._holdings()
            self.last_loop = index
        key: Key = (record.stack_id, record.native_stack_id,
                    record.native_segment_generation)
        size, address = int(record.size), record.address
        if self.first_loop is not None:
            self.stacks.view(record, key)
            self.events.append((index, size, 1, key, index))
        if mapped:
            self.maps[address] = [address + size, index, key, True]
        else:
            self.live[address] = (size, index, key)
        self.total += size
        self.peak = max(self.peak, self.total)

    def _free(self, index: int, address: int) -> None:
        entry = self.live.pop(address, None)
        if entry is None:
            return
        self.total -= entry[0]
        if self._in_calls(entry[1]):
            self.events.append((index, -entry[0], -1, entry[2], entry[1]))

    def _unmap(self, index: int, address: int, size: int) -> None:
        end = address + size
        exact = self.maps.get(address)
        starts = ([address] if exact is not None and exact[0] == end
                  else [s for s, m in self.maps.items() if s < end and m[0] > address])
        for start in starts:
            stop, made, key, counted = self.maps.pop(start)
            if start < address:
                self.maps[start] = [address, made, key, counted]
                counted = False
            if stop > end:
                self.maps[end] = [stop, made, key, counted]
                counted = False
            freed = min(stop, end) - max(start, address)
            self.total -= freed
            if self._in_calls(made):
                self.events.append((index, -freed, -1 if counted else 0, key, made))

    def _in_calls(self, made: int) -> bool:
        return self.first_loop is not None and made >= self.first_loop

    def _holdings(self) -> dict[tuple[str, str], int]:
        """Bytes live now (the first allocation of the calls) by phase and what made them."""
        if self.last_prepare is None:
            return {}
        held: dict[tuple[str, str], int] = {}
        entries = [*self.live.values(), *((m[0] - s, m[1], m[2]) for s, m in self.maps.items())]
        for size, made, key in entries:
            phase = "prepare" if made <= self.last_prepare else "warmup"
            what = self.stacks.marks[key[0]][1]
            held[phase, what] = held.get((phase, what), 0) + size
        return held

    def calls(self) -> tuple[CallsPeak, dict[Key, list[int]]] | None:
        """The calls' peak and what each stack held then (bytes, allocations)."""
        if self.first_loop is None:
            return None
        last = self.last_loop
        window = [e for e in self.events if e[0] <= last and e[4] <= last]
        running = best = made = made_bytes = 0
        best_at = self.first_loop - 1
        for index, size, count, _, at in window:
            running += size
            if count == 1 and index == at:
                made, made_bytes = made + 1, made_bytes + size
            if running > best:
                best, best_at = running, index
        per_key: dict[Key, list[int]] = {}
        for index, size, count, key, _ in window:
            if index > best_at:
                break
            entry = per_key.setdefault(key, [0, 0])
            entry[0] += size
            entry[1] += count
        return CallsPeak(best, made, made_bytes), per_key


def ranked(per_stack: dict[tuple[str, ...], list[int]],
           per_site: dict[tuple[str, str], list[int]], *, max_stacks: int,
           max_sites: int = 50) -> tuple[tuple[AllocationStack, ...], tuple[AllocationSite, ...]]:
    """The ``max_stacks`` largest stacks (the rest merged into one "smaller" stack) and
    the ``max_sites`` largest sites, largest first; empty ones left out."""
    order = sorted(((f, v) for f, v in per_stack.items() if v[0] > 0), key=lambda kv: -kv[1][0])
    stacks = [AllocationStack(f, b, c) for f, (b, c) in order[:max_stacks]]
    rest = order[max_stacks:]
    if rest:
        stacks.append(AllocationStack((OTHER,), sum(v[0] for _, v in rest),
                                      sum(v[1] for _, v in rest)))
    sites = sorted((AllocationSite(f, loc, b, c) for (f, loc), (b, c) in per_site.items()
                    if b > 0), key=lambda s: -s.bytes)
    return tuple(stacks), tuple(sites[:max_sites])


_PHASE_ORDER = {"prepare": 0, "warmup": 1}


def replay(reader: Any, *, native: bool, max_stacks: int = 300,
           max_depth: int = 64) -> CallsView:
    """Replay ``reader``'s (a ``memray.FileReader``) allocation stream: the measured
    calls' own peak, its stacks (rooted at the stage) and sites, and what preparing and
    the warm-up still held when the calls started."""
    stacks = _Stacks(native, max_depth)
    state = _Replay(stacks)
    state.run(reader.get_allocation_records())
    holdings = tuple(Holding(phase, what, size) for (phase, what), size in sorted(
        state.held_at_start.items(), key=lambda kv: (_PHASE_ORDER[kv[0][0]], -kv[1]))
        if size > 0)
    found = state.calls()
    if found is None:  # no allocation under the runner's loop: none that memray saw
        return CallsView(CallsPeak(0, 0, 0), (), (), holdings, state.peak)
    calls, per_key = found
    per_stack: dict[tuple[str, ...], list[int]] = {}
    per_site: dict[tuple[str, str], list[int]] = {}
    for key, (size, count) in per_key.items():
        frames, site = stacks.views[key]
        for entry in (per_stack.setdefault(frames, [0, 0]), per_site.setdefault(site, [0, 0])):
            entry[0] += size
            entry[1] += count
    view_stacks, view_sites = ranked(per_stack, per_site, max_stacks=max_stacks)
    return CallsView(calls, view_stacks, view_sites, holdings, state.peak)

