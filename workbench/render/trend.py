"""Performance history as an inline SVG trend chart: one line per label, runs along x.

The x axis is the run order (every run of every line, by ``created_at``; ties by first
appearance), so a line that misses a run keeps its other points aligned by run. The y axis
is linear from 0 (or from below the lowest value). Intervals are whiskers; level steps
(:func:`~workbench.budget.steps.detect_steps`, lines of 4 points or more) are dashed
verticals marked with their ratio. Like :mod:`.ecdf`: no script, no external URL, every
label escaped, one self-contained ``<svg>``; the same input gives the same string.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

from workbench import formatting as fmt
from workbench.budget.history import Point, Series
from workbench.budget.spec import METRICS
from workbench.budget.steps import detect_steps
from workbench.errors import InvalidInputError

__all__ = ["metric_kind", "trend_svg"]

_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3")


def metric_kind(metric: str) -> str:
    """The :func:`~workbench.formatting.value` kind of ``metric``: time, size,
    throughput or exponent."""
    if metric not in METRICS:
        raise InvalidInputError(f"unknown metric {metric!r}; choose one of: "
                                + ", ".join(METRICS))
    return METRICS[metric].kind


def _ticks(lo: float, hi: float) -> list[float]:
    """3-5 evenly spaced ticks (steps of 1, 2, 2.5 or 5 times a power of 10) covering
    [lo, hi], lo < hi."""
    base = 10.0 ** math.floor(math.log10((hi - lo) / 4))
    for step in (m * base for m in (1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 50.0)):
        first, last = math.floor(lo / step), math.ceil(hi / step)
        if last - first <= 4:
            break
    return [i * step for i in range(first, last + 1)]


def _short(name: str, limit: int = 18) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "\u2026"


def _tip(label: str, p: Point, kind: str) -> str:
    sha = f", {p.git_sha[:10]}" if p.git_sha else ""
    return (f"{label}: {fmt.with_interval(p.value, p.ci_low, p.ci_high, kind)}, "
            f"run {p.run_id}{sha}, {p.created_at}")


@dataclass(frozen=True)
class _Frame:
    """Where the plot area lies and how runs and values map onto it."""

    left: int
    top: int
    pw: int
    ph: int
    slot: Mapping[str, int]
    y_lo: float
    y_hi: float
    kind: str

    def x(self, run: str) -> float:
        return self.left + self.pw * (self.slot[run] + 0.5) / len(self.slot)

    def y(self, v: float) -> float:
        return self.top + self.ph * (self.y_hi - v) / (self.y_hi - self.y_lo)


def _axes(f: _Frame, ticks: list[float], first: str, last: str, height: int) -> list[str]:
    left, pw = f.left, f.pw
    parts = [f"<rect class='wb-trend-plot' x='{left}' y='{f.top}' width='{pw}' "
             f"height='{f.ph}' fill='#fafafa' stroke='#999'/>"]
    for tick in ticks:
        parts.append(f"<line x1='{left}' x2='{left + pw}' y1='{f.y(tick):.1f}' "
                     f"y2='{f.y(tick):.1f}' stroke='#e2e2e2'/><text class='wb-trend-tick' "
                     f"x='{left - 4}' y='{f.y(tick) + 4:.1f}' text-anchor='end'>"
                     f"{escape(fmt.value(tick, f.kind))}</text>")
    base = f.top + f.ph + 14
    parts.append(f"<text x='{left}' y='{base}'>{escape(first[:10])}</text>"
                 f"<text x='{left + pw}' y='{base}' text-anchor='end'>"
                 f"{escape(last[:10])}</text><text x='{left + pw / 2:.1f}' "
                 f"y='{height - 4}' text-anchor='middle'>runs, oldest to newest "
                 f"({len(f.slot)})</text>")
    return parts


def _line(f: _Frame, i: int, label: str, pts: list[Point]) -> tuple[list[str], list[str]]:
    """The whiskers and polyline of one label (drawn first), then its points, steps and
    legend entry (drawn over every line)."""
    colour, x, y = _COLOURS[i % len(_COLOURS)], f.x, f.y
    parts: list[str] = []
    for p in pts:
        if (p.ci_low is not None and p.ci_high is not None
                and math.isfinite(p.ci_low) and math.isfinite(p.ci_high)):
            parts.append(f"<line class='wb-trend-ci' x1='{x(p.run_id):.1f}' "
                         f"x2='{x(p.run_id):.1f}' y1='{y(p.ci_low):.1f}' "
                         f"y2='{y(p.ci_high):.1f}' stroke='{colour}' "
                         "stroke-opacity='0.35' stroke-width='4'/>")
    if pts:
        coords = " ".join(f"{x(p.run_id):.1f},{y(p.value):.1f}" for p in pts)
        parts.append(f"<polyline class='wb-trend-line' fill='none' stroke='{colour}' "
                     f"stroke-width='1.6' points='{coords}'/>")
    marks = [f"<circle class='wb-trend-pt' cx='{x(p.run_id):.1f}' cy='{y(p.value):.1f}' "
             f"r='2.5' fill='{colour}'><title>{escape(_tip(label, p, f.kind))}</title>"
             "</circle>" for p in pts]
    for step in detect_steps([p.value for p in pts]) if len(pts) >= 4 else ():
        sx = (x(pts[step.index - 1].run_id) + x(pts[step.index].run_id)) / 2
        at = pts[step.index]
        tip = (f"{label}: step {fmt.value(step.before, f.kind)} -> "
               f"{fmt.value(step.after, f.kind)} at run {at.run_id}, {at.created_at}")
        marks.append(f"<line class='wb-trend-step' x1='{sx:.1f}' x2='{sx:.1f}' "
                     f"y1='{f.top}' y2='{f.top + f.ph}' stroke='{colour}' "
                     f"stroke-dasharray='4 3'/><text class='wb-trend-step' "
                     f"x='{sx + 3:.1f}' y='{f.top + 11 + 11 * i}' fill='{colour}'>"
                     f"<title>{escape(tip)}</title>x{step.ratio:.3g}</text>")
    ly, lx = f.top + 10 + 18 * i, f.left + f.pw + 12
    shown = _short(label) + (f" ({len(pts)})" if pts else " (no points)")
    marks.append(f"<line x1='{lx}' x2='{lx + 18}' y1='{ly - 4}' y2='{ly - 4}' "
                 f"stroke='{colour}' stroke-width='2'/><text class='wb-trend-legend' "
                 f"x='{lx + 22}' y='{ly}'><title>{escape(label)}</title>"
                 f"{escape(shown)}</text>")
    return parts, marks


def trend_svg(lines: Mapping[str, Series], *, title: str, width: int = 640,
              height: int = 240) -> str:
    """One ``<svg>`` with a line per label of ``lines`` (all the same metric)."""
    metrics = sorted({s.metric for s in lines.values()})
    if len(metrics) > 1:
        raise InvalidInputError(f"a trend chart shows one metric; got {', '.join(metrics)}")
    kind = metric_kind(metrics[0]) if metrics else "time"
    if width < 300 or height < 120:
        raise InvalidInputError(f"a trend chart needs width >= 300 and height >= 120; "
                                f"got {width}x{height}")
    t = escape(title)
    drawn = {label: [p for p in s.points if math.isfinite(p.value)]
             for label, s in lines.items()}
    runs: dict[str, tuple[str, int]] = {}
    for pts in drawn.values():
        for p in pts:
            runs.setdefault(p.run_id, (p.created_at, len(runs)))
    head = ("<svg xmlns='http://www.w3.org/2000/svg' class='wb-trend' width='{w}' "
            "height='{h}' viewBox='0 0 {w} {h}' font-family='sans-serif' font-size='11' "
            "role='img' aria-label='{a}'><title>{a}</title>")
    if not runs:
        note = f"{t}: no history yet"
        return (head.format(w=width, h=40, a=note)
                + f"<text x='8' y='24'>{note}</text></svg>")
    order = sorted(runs, key=runs.__getitem__)
    ends = [v for pts in drawn.values() for p in pts
            for v in (p.value, p.ci_low, p.ci_high) if v is not None and math.isfinite(v)]
    lo, hi = min(0.0, *ends), max(0.0, *ends)
    ticks = _ticks(lo, hi if hi > lo else lo + 1.0)
    left, right, top, bottom = 64, 150, 26, 34
    frame = _Frame(left, top, width - left - right, height - top - bottom,
                   {run: i for i, run in enumerate(order)}, ticks[0], ticks[-1], kind)
    parts = [head.format(w=width, h=height, a=t), f"<text x='{left}' y='14'>{t}</text>",
             *_axes(frame, ticks, runs[order[0]][0], runs[order[-1]][0], height)]
    marks: list[str] = []
    for i, (label, pts) in enumerate(drawn.items()):
        drawn_first, drawn_over = _line(frame, i, label, pts)
        parts += drawn_first
        marks += drawn_over
    return "".join([*parts, *marks, "</svg>"])
