"""The latency ECDF of a comparison as inline SVG: one step line per variant, log time axis.

The empirical cumulative distribution of every sample of every worker (per call, or per
batch when calls were batched): read across at 0.5 for the median, at 0.95 for p95; a
line to the left is faster. Like :mod:`.charts` and :mod:`.bars`: no script, no external
URL, every label escaped, one ``<svg>`` that is also a standalone SVG document.
"""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING

from workbench import formatting as fmt

if TYPE_CHECKING:
    from workbench.measure.comparison import Comparison

__all__ = ["latency_ecdf_svg"]

_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3")
_STEPS = (1.0, 2.0, 5.0)


def _ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks inside [lo, hi] (ns), thinned to at most 7; in a range too narrow for
    three of those, five evenly spaced (on the log scale) ticks."""
    out: list[float] = []
    for exp in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        out += [s * 10.0**exp for s in _STEPS if lo <= s * 10.0**exp <= hi]
    while len(out) > 7:
        out = out[::2]
    if len(out) < 3:
        out = [lo * (hi / lo) ** (i / 4) for i in range(5)]
    return out


def _short(name: str, limit: int = 18) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "\u2026"


# One SVG document written top to bottom (axes, then one step line per variant, then the
# legend); splitting it would pass the same dozen layout numbers around.
def latency_ecdf_svg(comparison: Comparison, *, width: int = 620, height: int = 280) -> str:
    """The ECDF of each variant's samples in ``comparison`` as one ``<svg>``."""
    series = [(r.variant, sorted(r.measurement.samples)) for r in comparison.results]
    per = "batch" if any(r.measurement.per_batch for r in comparison.results) else "call"
    title = (f"{comparison.stage} on {comparison.workload}: latency per {per}, "
             "empirical CDF (log scale)")
    left, right, top, bottom = 56, 150, 26, 38
    pw, ph = width - left - right, height - top - bottom
    head = (f"<svg xmlns='http://www.w3.org/2000/svg' class='wb-ecdf' width='{width}' "
            f"height='{height}' viewBox='0 0 {width} {height}' font-family='sans-serif' "
            f"font-size='11' role='img' aria-label='{escape(title)}'>"
            f"<title>{escape(title)}</title><text x='{left}' y='14'>{escape(title)}</text>")
    values = [x for _, s in series for x in s if x > 0]
    if not values:
        return head + f"<text x='{left}' y='{top + 20}'>no samples to draw</text></svg>"
    lo, hi = min(values), max(values)
    if hi / lo < 1.5:  # a narrow spread still gets a readable axis
        mid = math.sqrt(lo * hi)
        lo, hi = mid / 1.25, mid * 1.25
    lo, hi = lo / 1.05, hi * 1.05

    def x(ns: float) -> float:
        return left + pw * (math.log(max(ns, lo)) - math.log(lo)) / (math.log(hi) - math.log(lo))

    def y(frac: float) -> float:
        return top + ph * (1.0 - frac)

    parts = [head, f"<rect x='{left}' y='{top}' width='{pw}' height='{ph}' fill='#fafafa' "
             "stroke='#999'/>"]
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f"<line x1='{left}' x2='{left + pw}' y1='{y(frac):.1f}' y2='{y(frac):.1f}' "
                     f"stroke='#e2e2e2'/><text x='{left - 4}' y='{y(frac) + 4:.1f}' "
                     f"text-anchor='end'>{frac:g}</text>")
    for tick in _ticks(lo, hi):
        parts.append(f"<line x1='{x(tick):.1f}' x2='{x(tick):.1f}' y1='{top}' "
                     f"y2='{top + ph}' stroke='#e2e2e2'/><text x='{x(tick):.1f}' "
                     f"y='{top + ph + 15}' text-anchor='middle'>"
                     f"{escape(fmt.duration(tick))}</text>")
    for i, (name, samples) in enumerate(series):
        colour = _COLOURS[i % len(_COLOURS)]
        ly = top + 10 + 18 * i
        lx = left + pw + 12
        shown = _short(name)
        if samples:
            n = len(samples)
            points = [f"{x(samples[0]):.1f},{y(0.0):.1f}"]
            for k, s in enumerate(samples):
                points += [f"{x(s):.1f},{y(k / n):.1f}", f"{x(s):.1f},{y((k + 1) / n):.1f}"]
            points.append(f"{left + pw:.1f},{y(1.0):.1f}")
            median = fmt.duration(samples[(n - 1) // 2])
            parts.append(f"<polyline class='wb-ecdf-line' fill='none' stroke='{colour}' "
                         f"stroke-width='1.6' points='{' '.join(points)}'><title>"
                         f"{escape(name)}: {n} samples, median {escape(median)}</title>"
                         "</polyline>")
            shown += f" ({n})"
        else:
            shown += " (no samples)"
        parts.append(f"<line x1='{lx}' x2='{lx + 18}' y1='{ly - 4}' y2='{ly - 4}' "
                     f"stroke='{colour}' stroke-width='2'/><text x='{lx + 22}' y='{ly}'>"
                     f"<title>{escape(name)}</title>{escape(shown)}</text>")
    parts.append(f"<text x='{left + pw / 2:.1f}' y='{height - 6}' text-anchor='middle'>"
                 f"time per {per} (log scale); y: fraction of samples at or below</text></svg>")
    return "".join(parts)
