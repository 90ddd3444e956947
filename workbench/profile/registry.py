"""The profilers, declared once: every front end, the service layer, the results and the
renderers read this table.

A profiler is one module holding a function ``run(stage, workload, variant, *,
pipeline, params, threads, timeout, keep_artifacts, **options)`` that returns a
:class:`~workbench.results.Result`, and one :class:`Profiler` declaration here (or a
:func:`register` call anywhere) naming it. From the declaration come: the ``workbench``
subcommand and ``%wb`` subcommand of its ``name`` with one flag per :class:`Option`,
``app.profile(name, ...)``, the panel's tab, the session's evidence, the record's kind
(``results``: a saved result of the kind loads again) and its renderer.

Functions, result classes and renderers are named as ``"module:attribute"`` and imported
on first use, so reading the table imports no profiler and no external tool (a plugin may
give the objects themselves instead).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from workbench import results
from workbench.errors import InvalidInputError

__all__ = ["Option", "Profiler", "Ref", "by_kind", "changes", "load", "profiler", "profilers",
           "register", "unregister"]

OptionType = Literal["positive_int", "positive_float", "flag", "repeat"]
#: A reference to an object: "module:attribute" (imported when first needed) or the object.
Ref = str | object


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a profiler: a keyword of its function and a flag of its commands."""

    name: str  # the function's keyword, e.g. "by_line" (flag: --by-line)
    type: OptionType
    default: Any
    help: str
    metavar: str | None = None
    flag_name: str | None = None  # the command flag, when not --<name with dashes>

    @property
    def flag(self) -> str:
        return self.flag_name or "--" + self.name.replace("_", "-")


@dataclass(frozen=True, slots=True)
class Profiler:
    """A profiler as every front end sees it."""

    name: str  # subcommand and app.profile kind: "flame"
    kind: str  # the result's kind: "flamegraph"
    run: Ref  # the function running it ("module:function", or the function)
    result: Ref  # its result class ("module:Class", or the class)
    renderer: Ref  # renderers by kind ("module:RENDERERS", or the mapping)
    help: str  # one line, for the command's help
    outputs: str  # what -o FILE's suffixes write
    tab: str  # the panel's tab title
    button: str  # the panel's button text
    what: str  # what a panel run does, in a few words
    panel: Mapping[str, Any] = field(default_factory=dict)  # options of a panel run
    options: tuple[Option, ...] = ()
    icon: str = ""  # the panel button's Font Awesome icon

    def function(self) -> Callable[..., Any]:
        return _attr(self.run)  # type: ignore[no-any-return]


_TABLE: dict[str, Profiler] = {}
_CHANGES = [0]


def changes() -> int:
    """How many times the table changed (front ends rebuild what they derived when it
    moves)."""
    return _CHANGES[0]


def _attr(ref: Ref) -> Any:
    if not isinstance(ref, str):
        return ref
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def _ref_text(ref: Ref) -> str:
    if isinstance(ref, str):
        return ref
    return f"{getattr(ref, '__module__', '?')}:{getattr(ref, '__qualname__', '?')}"


def load(ref: Ref) -> Any:
    """The attribute named by ``"module:attribute"`` (a profiler's function, result class
    or renderer), imported now."""
    return _attr(ref)


def register(p: Profiler) -> Profiler:
    """Add ``p`` (or replace the profiler of the same name); its result kind becomes
    loadable. Returns ``p``."""
    refs = (p.run, p.result, p.renderer)
    if not p.name.isidentifier() or any(isinstance(r, str) and ":" not in r for r in refs):
        raise InvalidInputError(f"profiler {p.name!r}: the name must be an identifier and "
                                "run/result/renderer 'module:attribute' references or the "
                                "objects themselves")
    clash = [q.name for q in _TABLE.values() if q.kind == p.kind and q.name != p.name]
    if clash:
        raise InvalidInputError(f"profiler {p.name!r}: result kind {p.kind!r} is already "
                                f"the kind of profiler {clash[0]!r}")
    results.register_kind(p.kind, _ref_text(p.result))
    _TABLE[p.name] = p
    _CHANGES[0] += 1
    return p


def unregister(name: str) -> None:
    """Remove the profiler ``name`` and its result kind (a plugin unloading, a test)."""
    p = _TABLE.pop(name, None)
    if p is not None:
        results.forget_kind(p.kind)
        _CHANGES[0] += 1


def profilers() -> tuple[Profiler, ...]:
    """Every registered profiler, in registration order."""
    return tuple(_TABLE.values())


def profiler(name: str) -> Profiler:
    if name not in _TABLE:
        names = list(_TABLE)
        listed = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
        raise InvalidInputError(f"profile kind {name!r} is unknown; choose {listed}")
    return _TABLE[name]


def by_kind(kind: str) -> Profiler | None:
    """The profiler whose results are of ``kind``, if any."""
    return next((p for p in _TABLE.values() if p.kind == kind), None)


_SECONDS = "seconds of calls to {} (default {:g})"

register(Profiler(
    "flame", "flamegraph", "workbench.profile.pyspy:flamegraph",
    "workbench.profile.flame:Flamegraph", "workbench.render.profile:RENDERERS",
    "sample a stage variant with py-spy (flame graph)",
    ".svg the flame graph of the stage, .html, .json or .txt",
    "Flame graph", "Run flame graph", "py-spy samples about 1 s of calls",
    {"duration": 1.0, "native": True},
    (Option("rate", "positive_int", 100, "samples per second"),
     Option("duration", "positive_float", 2.0, _SECONDS.format("sample", 2)),
     Option("native", "flag", True, "include C/C++ frames, so the hotspot hint can tell "
            "array kernels, C extensions and Python apart (--no-native: Python frames "
            "only; py-spy falls back to that by itself where it cannot unwind them)"),
     Option("by_line", "flag", False, "one frame per line instead of per function")),
    icon="fire"))
register(Profiler(
    "memory", "memory_track", "workbench.profile.memray_run:memory_track",
    "workbench.profile.memory:MemoryTrack", "workbench.render.profile:RENDERERS",
    "track a stage variant's memory with memray", ".html, .json or .txt",
    "Memory", "Run memory track", "memray tracks a warm-up call and 2 calls", {"calls": 2},
    (Option("calls", "positive_int", 2, "measured calls after the warm-up call (default 2)"),
     Option("native", "flag", False, "record C/C++ frames too"))))
register(Profiler(
    "lines", "line_profile", "workbench.profile.lines:line_profile",
    "workbench.profile.lines:LineProfile", "workbench.render.profile:RENDERERS",
    "line-profile a stage variant with line_profiler", ".txt kernprof's table, .html or .json",
    "Lines", "Run line profile", "line_profiler times about 1 s of calls, line by line",
    {"duration": 1.0},
    (Option("duration", "positive_float", 1.0, _SECONDS.format("profile", 1)),
     Option("functions", "repeat", None, "a function to profile (repeatable; default: the "
            "variant's own)", metavar="MOD:QUALNAME", flag_name="--function"))))
