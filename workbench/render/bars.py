"""Speed-up bars as inline SVG: one bar per variant, its interval as a whisker, a line at 1x.

Drawn on a log scale so that 2x faster and 2x slower are the same distance from 1x.
No script, no external URL; every label is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from workbench import formatting as fmt

if TYPE_CHECKING:
    from workbench.measure.stats import Estimate

__all__ = ["speedup_svg"]


def speedup_svg(bars: Sequence[tuple[str, Estimate]], baseline: str, *, width: int = 560,
                row: int = 24) -> str:
    """Horizontal bars of each variant's speed-up over ``baseline`` (log scale)."""
    values = [e.value for _, e in bars if e.value]
    ends = [x for _, e in bars if e.interval for x in (e.interval.low, e.interval.high) if x > 0]
    lo = min([1.0, *values, *ends]) / 1.25
    hi = max([1.0, *values, *ends]) * 1.25
    left, right, top = 110, 70, 22
    plot = width - left - right
    height = top + row * len(bars) + 26

    def x(v: float) -> float:
        return left + plot * (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo))

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' class='wb-speedup' width='{width}' "
             f"height='{height}' viewBox='0 0 {width} {height}' font-family='sans-serif' "
             "font-size='11' role='img'>",
             f"<title>speed-up over {escape(baseline)}, 95% intervals (log scale)</title>",
             f"<text x='{left}' y='13'>speed-up over {escape(baseline)} (log scale; "
             "whiskers: 95% interval)</text>"]
    one = x(1.0)
    for i, (name, est) in enumerate(bars):
        if not est.value:
            continue
        y = top + i * row
        v = est.value
        colour = "#2e7d32" if v >= 1 else "#c62828"
        x0, x1 = sorted((one, x(v)))
        short = name if len(name) <= 16 else name[:15] + "\u2026"
        parts.append(f"<text x='{left - 6}' y='{y + row / 2 + 4:.1f}' text-anchor='end'>"
                     f"<title>{escape(name)}</title>{escape(short)}</text>"
                     f"<rect x='{x0:.1f}' y='{y + 5}' width='{max(x1 - x0, 1):.1f}' "
                     f"height='{row - 10}' fill='{colour}' opacity='0.75'>"
                     f"<title>{escape(name)}: {escape(fmt.estimate(est, 'ratio'))}</title></rect>")
        if est.interval and est.interval.low > 0:
            a, b = x(est.interval.low), x(est.interval.high)
            mid = y + row / 2
            parts.append(f"<line x1='{a:.1f}' x2='{b:.1f}' y1='{mid:.1f}' y2='{mid:.1f}' "
                         f"stroke='#222' stroke-width='1.5'/>"
                         f"<line x1='{a:.1f}' x2='{a:.1f}' y1='{mid - 5:.1f}' y2='{mid + 5:.1f}' "
                         f"stroke='#222'/><line x1='{b:.1f}' x2='{b:.1f}' y1='{mid - 5:.1f}' "
                         f"y2='{mid + 5:.1f}' stroke='#222'/>")
        parts.append(f"<text x='{max(x1, x(est.interval.high) if est.interval else x1) + 6:.1f}' "
                     f"y='{y + row / 2 + 4:.1f}'>{escape(fmt.ratio(v))}</text>")
    bottom = top + row * len(bars)
    parts.append(f"<line x1='{one:.1f}' x2='{one:.1f}' y1='{top - 2}' y2='{bottom + 2}' "
                 "stroke='#666' stroke-dasharray='4 3'/>"
                 f"<text x='{one:.1f}' y='{bottom + 16}' text-anchor='middle'>1x</text>")
    parts.append("</svg>")
    return "".join(parts)
