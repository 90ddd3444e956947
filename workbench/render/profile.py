"""Renderers of the profiles: flame graphs, memory tracks and line profiles.

Text is for a terminal; the HTML bodies come from the ``flamegraph``, ``memory_track``
and ``line_profile`` templates, with charts drawn by :mod:`.charts` (inline SVG, no
script, no URL). A flame graph is drawn from the stacks rooted at the stage
(:meth:`~workbench.profile.flame.Flamegraph.stage_stacks`); the whole process (harness,
setup and warm-up) is behind a toggle. A memory track leads with the measured calls' own
allocations (their sites and an icicle rooted at the stage), preparing and the warm-up in
one line each; the whole process's high-water mark is behind a toggle.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from workbench import formatting as fmt
from workbench.render import Renderer
from workbench.render.charts import PHASE_LABELS, icicle_svg, memory_chart_svg, share_bar_svg
from workbench.render.fragments import render
from workbench.render.tables import table

if TYPE_CHECKING:
    from workbench.profile._common import Overhead
    from workbench.profile.cells import CellNamed
    from workbench.profile.flame import Flamegraph, FrameStat
    from workbench.profile.lines import LineProfile
    from workbench.profile.memory import AllocationSite, MemoryTrack

__all__ = ["RENDERERS", "calls_text", "flame_svg", "measured_text", "memory_figure",
           "overhead_text", "phase_line"]


def _on(target: Any) -> str:
    return f"{target.label} on {target.workload or '-'}"


def overhead_text(o: Overhead) -> str:
    """``"10 calls took 1 s without the profiler and 1.05 s with it (overhead +5 %)"``."""
    return (f"{o.calls} calls took {fmt.seconds(o.plain_s)} without the profiler and "
            f"{fmt.seconds(o.profiled_s)} with it (overhead {fmt.signed_percent(o.pct)})")


# -- flame graphs ------------------------------------------------------------------------

def _frame_name(frame: str) -> str:
    from workbench.profile.flame import split_frame

    return split_frame(frame)[0]


def _flame_headline(fg: Flamegraph) -> str:
    native = ", native frames" if fg.native else ""
    return (f"flame graph of {_on(fg.target)}: {fg.samples} samples at {fg.rate} Hz "
            f"({fg.loop_samples} in the measured calls{native}) by {fg.tool}")


def _roots(fg: Flamegraph) -> list[tuple[str, float]]:
    counts: dict[str, int] = {}
    for stack, count in fg.stage_stacks():
        first = fg.named_frame(stack.split(";", 1)[0])
        counts[first] = counts.get(first, 0) + count
    total = sum(counts.values())
    return sorted(((f, 100.0 * c / total) for f, c in counts.items()), key=lambda r: -r[1])


def _flame_text(fg: Flamegraph, *, n: int = 10, by: str = "self") -> str:
    rows = [(fmt.percent(r.self_pct), fmt.percent(r.total_pct), f"{r.function} ({r.location})")
            for r, _ in _named_rows(fg, n, by)]
    roots = ", ".join(f"{f} {fmt.percent(p)}" for f, p in _roots(fg)[:3]) or "-"
    harness = fg.loop_samples - fg.stage_samples
    lines = [_flame_headline(fg), f"  {overhead_text(fg.overhead)}",
             f"  {fg.stage_samples} samples in the stage ({harness} in the harness itself "
             f"left out), rooted at: {roots}"]
    lines += table(("self", "total", "function (location)"), rows,
                   right=(True, True, False), indent="  ")
    return "\n".join(lines)


def _named_rows(fg: Flamegraph, n: int, by: str) -> list[tuple[FrameStat, str]]:
    """The top frames, a notebook cell's location named ``In [3], line 14``, each with
    its raw location (the HTML's tooltip)."""
    return [(r._replace(location=fg.where(r.location)), r.location)
            for r in fg.top_frames(n, by=by)]


def _named_stacks(result: CellNamed, stacks: Iterable[tuple[Sequence[str], int]],
                  ) -> Iterator[tuple[list[str], int]]:
    """``stacks`` with the frames in notebook cells named by their cell."""
    named: dict[str, str] = {}
    for frames, weight in stacks:
        yield [named.get(f) or named.setdefault(f, result.named_frame(f)) for f in frames], weight


def flame_svg(fg: Flamegraph, *, keep_harness: bool = False, width: int = 1000) -> str:
    """The flame graph (icicle, root on top) of the stacks rooted at the stage, or of
    every stack with ``keep_harness``; one standalone ``<svg>``. Frames in notebook
    cells are named by their cell (``In [3], line 14``)."""
    stacks = _named_stacks(fg, ((s.split(";") if s else [], c)
                                for s, c in fg.stage_stacks(keep_harness)))
    scope = "whole process" if keep_harness else "measured calls"
    return icicle_svg(
        stacks, unit=lambda c: f"{c} samples", label=_frame_name, width=width,
        root=f"{fg.target.label} ({scope})", title=f"flame graph of {_on(fg.target)}",
        css_class="wb-flame wb-flame-full" if keep_harness else "wb-flame",
        empty="no samples in the measured calls")


def _flame_body(fg: Flamegraph, *, n: int = 10, by: str = "self") -> str:
    return render("flamegraph.html.j2", headline=_flame_headline(fg),
                  overhead=overhead_text(fg.overhead), rows=_named_rows(fg, n, by),
                  stage_samples=fg.stage_samples, loop_samples=fg.loop_samples,
                  samples=fg.samples, rooted=Markup(flame_svg(fg)),
                  full=Markup(flame_svg(fg, keep_harness=True)))


# -- memory tracks -----------------------------------------------------------------------

def _memory_headline(track: MemoryTrack) -> str:
    native = ", native stacks" if track.native else ""
    calls = ("" if track.calls is None else
             f"the measured calls held {fmt.size(track.calls.held_bytes)} at their peak; ")
    return (f"memory of {_on(track.target)}: {calls}peak heap "
            f"{fmt.size(track.peak_heap_bytes)}, peak RSS {fmt.size(track.peak_rss_bytes)}, "
            f"{track.total_allocations:,} allocations ({track.tool}{native})")


def _span(start_ms: float, end_ms: float) -> str:
    return f"{fmt.seconds(start_ms / 1000)} to {fmt.seconds(end_ms / 1000)}"


def measured_text(track: MemoryTrack) -> str:
    """The measured calls' memory in one sentence, or why there is none."""
    phase = track.phase("measured")
    if phase is None:
        return "the phases were not recorded (an older record): whole-process peaks only"
    m = track.measured()
    if m is None:
        span = _span(phase.start_ms, phase.end_ms)
        took = fmt.seconds((phase.end_ms - phase.start_ms) / 1000)
        return (f"no memory snapshot fell within the measured calls ({span}, {took}): "
                "their RSS and heap were not sampled")
    count = f"{m.snapshots} snapshot{'' if m.snapshots == 1 else 's'}"
    return (f"measured calls ({_span(m.start_ms, m.end_ms)}, {count}): peak "
            f"RSS {fmt.size(m.peak_rss_bytes)} ({fmt.signed_size(m.rss_growth_bytes)}), peak "
            f"heap {fmt.size(m.peak_heap_bytes)} ({fmt.signed_size(m.heap_growth_bytes)})")


def calls_text(track: MemoryTrack) -> str:
    """The measured calls' own allocations in one sentence, or why they are not known."""
    c = track.calls
    if c is None:
        if track.sites or track.stacks:
            return "the measured calls' allocations, at their peak"
        return ("this record has no view of the measured calls' own allocations (it was "
                "written before the workbench recorded them): the whole process's only")
    if not c.allocations:
        return "the measured calls made no allocation that memray saw"
    return (f"the measured calls' own allocations: {fmt.size(c.held_bytes)} held at their "
            f"peak; {c.allocations:,} allocations of {fmt.size(c.allocated_bytes)} in all "
            "during the calls")


def phase_line(track: MemoryTrack, name: str) -> str | None:
    """One phase (``prepare``, ``warmup``) in one line, or None when it was not recorded:
    ``"preparing: 182 MiB peak RSS, +160 MiB, 2.1 s (still held when the calls start:
    150 MiB, of which imports 90 MiB, torch 60 MiB)"``."""
    s = track.phase_summary(name)
    if s is None:
        return None
    rss = ("no RSS snapshot" if s.peak_rss_bytes is None else
           f"{fmt.size(s.peak_rss_bytes)} peak RSS, {fmt.signed_size(s.rss_growth_bytes)}")
    line = f"{PHASE_LABELS.get(name, name)}: {rss}, {fmt.seconds((s.end_ms - s.start_ms) / 1000)}"
    if s.holdings:  # the three largest, each 1 % of the held bytes or more
        cells = track.cell_names
        top = ", ".join(f"{cells.get(what, what)} {fmt.size(b)}" for what, b in s.holdings[:3]
                        if b >= s.held_bytes / 100 or what == s.holdings[0][0])
        line += (f" (still held when the calls start: {fmt.size(s.held_bytes)}, of which "
                 f"{top})")
    return line


def _phase_lines(track: MemoryTrack) -> list[str]:
    return [line for line in (phase_line(track, n) for n in ("prepare", "warmup")) if line]


def _named_sites(track: MemoryTrack, sites: list[AllocationSite],
                 ) -> list[tuple[AllocationSite, str]]:
    """``sites``, a notebook cell's location named ``In [3], line 14``, each with its raw
    location (the HTML's tooltip)."""
    return [(s._replace(location=track.where(s.location)), s.location) for s in sites]


def _site_rows(sites: list[tuple[AllocationSite, str]]) -> list[tuple[str, str, str]]:
    return [(fmt.size(s.bytes), f"{s.allocations:,}x", f"{s.function} ({s.location})")
            for s, _ in sites]


def _memory_text(track: MemoryTrack, *, n: int = 10) -> str:
    lines = [_memory_headline(track), f"  {overhead_text(track.overhead)}",
             f"  {measured_text(track)}", f"  {calls_text(track)}"]
    if track.sites:
        lines.append("  top allocation sites of the measured calls, at their peak:")
        lines += table(("held", "allocations", "function (location)"),
                       _site_rows(_named_sites(track, track.top_sites(n))),
                       right=(True, True, False), indent="  ")
    lines += [f"  {line}" for line in _phase_lines(track)]
    if track.whole_process_sites:
        lines.append("  the whole process, at its heap high-water mark (imports, loading and "
                     "warm-up included):")
        lines += table(("held", "allocations", "function (location)"),
                       _site_rows(_named_sites(
                           track, track.top_whole_process_sites(5 if track.sites else n))),
                       right=(True, True, False), indent="  ")
    return "\n".join(lines)


def _memory_icicle(track: MemoryTrack, *, whole: bool) -> str:
    if whole:
        return icicle_svg(_named_stacks(track, ((s.frames, s.bytes)
                                                for s in track.whole_process_stacks)),
                          unit=fmt.size, label=_frame_name, css_class="wb-icicle wb-icicle-full",
                          title="memory held at the whole process's high-water mark",
                          root=f"{track.target.label} (whole process)",
                          empty="no allocations", max_depth=48)
    return icicle_svg(_named_stacks(track, ((s.frames, s.bytes) for s in track.stacks)),
                      unit=fmt.size,
                      label=_frame_name, root=f"{track.target.label} (measured calls)",
                      title="memory the measured calls held at their peak",
                      empty="no allocation of the measured calls", max_depth=48)


def _memory_body(track: MemoryTrack, *, n: int = 15) -> str:
    chart = memory_chart_svg(track.snapshots, track.phases,
                             title=f"RSS and heap of {_on(track.target)} over time")
    m = track.measured()
    peaks = [("peak RSS", fmt.size(track.peak_rss_bytes),
              fmt.size(m.peak_rss_bytes if m else None),
              fmt.signed_size(m.rss_growth_bytes if m else None)),
             ("peak heap", fmt.size(track.peak_heap_bytes),
              fmt.size(m.peak_heap_bytes if m else None),
              fmt.signed_size(m.heap_growth_bytes if m else None))]
    calls_view = bool(track.sites or track.stacks or track.calls is not None)
    return render("memory_track.html.j2", headline=_memory_headline(track),
                  overhead=overhead_text(track.overhead), peaks=peaks,
                  measured=m, measured_note=measured_text(track),
                  calls_view=calls_view, calls_note=calls_text(track),
                  phase_lines=_phase_lines(track),
                  phases=[(PHASE_LABELS.get(p.name, p.name), _span(p.start_ms, p.end_ms))
                          for p in track.phases],
                  sites=_named_sites(track, track.top_sites(n)), chart=Markup(chart),
                  stacks=Markup(_memory_icicle(track, whole=False)) if calls_view else "",
                  whole_sites=_named_sites(track, track.top_whole_process_sites(n)),
                  whole_stacks=Markup(_memory_icicle(track, whole=True)))


def memory_figure(track: MemoryTrack) -> Any:
    """RSS and heap over time with the phases shaded, as a matplotlib Figure."""
    from workbench._optional import require

    require("matplotlib", feature="memory plots", extra="analysis")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 3.2), layout="constrained")
    ax = fig.add_subplot()
    t = [s.ms / 1000 for s in track.snapshots]
    ax.plot(t, [s.rss / 2**20 for s in track.snapshots], label="RSS")
    ax.plot(t, [s.heap / 2**20 for s in track.snapshots], label="heap (tracked)")
    colours = {"prepare": "#bbbbbb", "warmup": "#f2c14e", "measured": "#6ab04c"}
    for p in track.phases:
        ax.axvspan(p.start_ms / 1000, p.end_ms / 1000, alpha=0.2, lw=0,
                   color=colours.get(p.name, "#9999cc"), label=PHASE_LABELS.get(p.name, p.name))
    ax.set_xlabel("time since tracking started (s)")
    ax.set_ylabel("MiB")
    ax.set_title(_on(track.target))
    ax.legend()
    return fig


# -- line profiles -----------------------------------------------------------------------

def _lines_headline(lp: LineProfile) -> str:
    total = sum(fn.total_s for fn in lp.functions)
    n = len(lp.functions)
    return (f"line profile of {_on(lp.target)}: {n} function{'' if n == 1 else 's'}, "
            f"{fmt.seconds(total)} in {'its' if n == 1 else 'their'} lines ({lp.tool})")


def _lines_text(lp: LineProfile) -> str:
    """kernprof's table, per function (Time and Per Hit in microseconds)."""
    out = [_lines_headline(lp), overhead_text(lp.overhead), "", "Timer unit: 1e-06 s"]
    for fn in lp.functions:
        cell = lp.cell_at(f"{fn.file}:{fn.first_line}")
        out += ["", f"Total time: {fn.total_s:g} s", f"File: {fn.file}",
                f"Function: {fn.name} at {cell or f'line {fn.first_line}'}", "",
                f"{'Line #':>6} {'Hits':>9} {'Time':>12} {'Per Hit':>8} {'% Time':>8}  "
                "Line Contents", "=" * 62]
        for r in fn.rows:
            if r.hits:
                us = r.time_s * 1e6
                out.append(f"{r.line:>6} {r.hits:>9} {us:>12.1f} {us / r.hits:>8.1f} "
                           f"{fn.pct(r):>8.1f}  {r.source}")
            else:
                out.append(f"{r.line:>6} {'':>9} {'':>12} {'':>8} {'':>8}  {r.source}")
    return "\n".join(out)


def _lines_body(lp: LineProfile) -> str:
    from workbench.profile._common import short_path

    functions = [{"name": fn.name,
                  "where": (lp.cell_at(f"{fn.file}:{fn.first_line}")
                            or f"{short_path(fn.file)}:{fn.first_line}"),
                  "total": fmt.seconds(fn.total_s),
                  "rows": [(r, fn.pct(r), Markup(share_bar_svg(fn.pct(r))) if r.hits else "")
                           for r in fn.rows]}
                 for fn in lp.functions]
    return render("line_profile.html.j2", headline=_lines_headline(lp),
                  overhead=overhead_text(lp.overhead), functions=functions)


RENDERERS = {
    "flamegraph": Renderer(_flame_headline, _flame_text, _flame_body,
                           files=lambda f: {"svg": lambda: flame_svg(f)}),
    # RSS and heap over time with the phases
    "memory_track": Renderer(_memory_headline, _memory_text, _memory_body,
                             figure=lambda m: memory_figure(m)),
    "line_profile": Renderer(_lines_headline, _lines_text, _lines_body),
}
