"""Charts as inline SVG: no script, no external URL, every data string escaped.

- :func:`icicle_svg`: a flame graph drawn top-down (root on top) from weighted stacks --
  py-spy's samples or memray's bytes; hovering a box shows its ``<title>`` tooltip
  (frame, weight, share), which the browser does without script.
- :func:`memory_chart_svg`: RSS and heap over time, with the run's phases (preparing,
  warm-up, measured calls) shaded on the time axis.
- :func:`share_bar_svg`: a small horizontal bar for a share in percent.

Each returns one ``<svg>`` element that is also a valid standalone SVG document.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from workbench import formatting as fmt

__all__ = ["PHASE_LABELS", "icicle_svg", "memory_chart_svg", "share_bar_svg"]

_SVG = "<svg xmlns='http://www.w3.org/2000/svg'"
#: How the runner's phases are named on charts and in tables.
PHASE_LABELS = {"prepare": "preparing", "warmup": "warm-up", "measured": "measured calls"}
_PHASE_FILL = {"prepare": "#e6e6e6", "warmup": "#fbe7b5", "measured": "#cfe8cc"}


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass
class _Node:
    name: str
    value: int = 0
    children: dict[str, _Node] = field(default_factory=dict)


def _tree(stacks: Iterable[tuple[Sequence[str], int]], root_name: str,
          max_depth: int) -> _Node:
    root = _Node(root_name)
    for frames, weight in stacks:
        if weight <= 0:
            continue
        root.value += weight
        node = root
        for frame in list(frames)[:max_depth]:
            node = node.children.setdefault(frame, _Node(frame))
            node.value += weight
    return root


def _colour(name: str) -> str:
    digest = hashlib.blake2s(name.encode(), digest_size=2).digest()
    return f"hsl({20 + digest[0] % 40},{65 + digest[1] % 25}%,{62 + digest[0] % 14}%)"


def icicle_svg(
    stacks: Iterable[tuple[Sequence[str], int]],
    *,
    unit: Callable[[int], str] = str,
    label: Callable[[str], str] = str,
    root: str = "all",
    title: str = "",
    css_class: str = "wb-icicle",
    width: int = 1000,
    row: int = 17,
    min_fraction: float = 0.004,
    max_depth: int = 64,
    empty: str = "nothing recorded",
) -> str:
    """An icicle chart of ``stacks`` (root-first frame names, weight) as one ``<svg>``.

    A box's width is the weight of the stacks through it; boxes narrower than
    ``min_fraction`` of the total are left out (their weight still counts in their
    parents). ``label`` shortens a frame for its box (the tooltip shows it whole),
    ``unit`` formats a weight, ``title`` names the chart for assistive technology.
    """
    tree = _tree(stacks, root, max_depth)
    aria = f" role='img' aria-label='{_esc(title)}'" if title else ""
    if tree.value <= 0:
        return (f"{_SVG} class='{_esc(css_class)}'{aria} width='{width}' height='{row}' "
                f"viewBox='0 0 {width} {row}' font-family='sans-serif' font-size='11'>"
                f"<text x='4' y='12'>{_esc(empty)}</text></svg>")
    boxes: list[str] = []
    deepest = 0
    todo: list[tuple[_Node, float, int]] = [(tree, 0.0, 0)]  # node, x, depth
    while todo:
        node, x, depth = todo.pop()
        w = width * node.value / tree.value
        deepest = max(deepest, depth)
        share = 100.0 * node.value / tree.value
        shown = label(node.name) if depth else node.name
        chars = int((w - 6) / 6.6)
        text = shown if len(shown) <= chars else shown[: max(chars - 2, 0)] + ".."
        boxes.append(
            f"<g><title>{_esc(node.name)}\n{_esc(unit(node.value))} "
            f"({_esc(fmt.percent(share))})</title>"
            f"<rect x='{x:.2f}' y='{depth * row}' width='{max(w - 0.5, 0.5):.2f}' "
            f"height='{row - 1}' rx='2' fill='{_colour(node.name)}'/>"
            + (f"<text x='{x + 3:.2f}' y='{depth * row + row - 5}'>{_esc(text)}</text>"
               if chars >= 3 else "")
            + "</g>")
        child_x = x
        for child in sorted(node.children.values(), key=lambda c: (-c.value, c.name)):
            if child.value / tree.value >= min_fraction:
                todo.append((child, child_x, depth + 1))
            child_x += width * child.value / tree.value
    height = (deepest + 1) * row
    return (f"{_SVG} class='{_esc(css_class)}'{aria} width='{width}' height='{height}' "
            f"viewBox='0 0 {width} {height}' font-family='monospace' font-size='11'>"
            f"{''.join(boxes)}</svg>")


def _tick_s(ms: float) -> str:
    return "0" if ms == 0 else fmt.seconds(ms / 1000)


def memory_chart_svg(
    snapshots: Sequence[tuple[float, int, int]],
    phases: Sequence[tuple[str, float, float]] = (),
    *,
    width: int = 760,
    height: int = 240,
    title: str = "",
) -> str:
    """RSS and heap over time (snapshots ``(ms, rss, heap)``) with the ``phases``
    (``(name, start_ms, end_ms)``) shaded on the time axis, as one ``<svg>``."""
    left, right, top, bottom = 70, 140, 10, 32
    pw, ph = width - left - right, height - top - bottom
    ends = [s[0] for s in snapshots] + [p[2] for p in phases]
    t_max = max(ends, default=0.0) or 1.0
    y_max = max((max(s[1], s[2]) for s in snapshots), default=0) or 1
    aria = f" role='img' aria-label='{_esc(title)}'" if title else ""
    parts = [f"{_SVG} class='wb-memory-chart'{aria} width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' font-family='sans-serif' font-size='11'>",
             f"<rect x='{left}' y='{top}' width='{pw}' height='{ph}' fill='#fafafa' "
             "stroke='#999'/>"]
    for name, start, end in phases:
        x0 = left + pw * max(start, 0.0) / t_max
        w = max(pw * (end - max(start, 0.0)) / t_max, 2.0)
        shown = PHASE_LABELS.get(name, name)
        parts.append(f"<g class='wb-phase'><title>{_esc(shown)}: {_esc(_tick_s(start))} to "
                     f"{_esc(_tick_s(end))}</title><rect x='{x0:.1f}' y='{top}' "
                     f"width='{w:.1f}' height='{ph}' fill='{_PHASE_FILL.get(name, '#e3e3f3')}'"
                     " opacity='0.8'/></g>")
    for i in range(5):
        y = top + ph - ph * i / 4
        x = left + pw * i / 4
        parts.append(f"<line x1='{left}' x2='{left + pw}' y1='{y:.1f}' y2='{y:.1f}' "
                     f"stroke='#ddd'/><text x='{left - 4}' y='{y + 4:.1f}' text-anchor='end'>"
                     f"{_esc(fmt.size(y_max * i / 4))}</text>"
                     f"<text x='{x:.1f}' y='{top + ph + 15}' text-anchor='middle'>"
                     f"{_esc(_tick_s(t_max * i / 4))}</text>")
    legend = [("#1f77b4", "RSS", "line"), ("#ff7f0e", "heap (tracked)", "line")]
    legend += [(_PHASE_FILL.get(n, "#e3e3f3"), PHASE_LABELS.get(n, n), "box")
               for n, _, _ in phases]
    for key, colour in ((1, "#1f77b4"), (2, "#ff7f0e")):
        points = " ".join(f"{left + pw * s[0] / t_max:.1f},{top + ph - ph * s[key] / y_max:.1f}"
                          for s in snapshots)
        parts.append(f"<polyline fill='none' stroke='{colour}' stroke-width='1.5' "
                     f"points='{points}'/>")
    for i, (colour, name, shape) in enumerate(legend):
        y = top + 12 + 16 * i
        x = left + pw + 10
        parts.append(f"<line x1='{x}' x2='{x + 20}' y1='{y - 4}' y2='{y - 4}' "
                     f"stroke='{colour}' stroke-width='2'/>" if shape == "line" else
                     f"<rect x='{x}' y='{y - 9}' width='20' height='10' fill='{colour}'/>")
        parts.append(f"<text x='{x + 24}' y='{y}'>{_esc(name)}</text>")
    parts.append(f"<text x='{left + pw / 2}' y='{height - 2}' text-anchor='middle'>time since "
                 "tracking started</text></svg>")
    return "".join(parts)


def share_bar_svg(pct: float, *, width: int = 100, height: int = 9) -> str:
    """A bar ``pct`` percent of ``width`` long (for a table cell)."""
    w = max(min(pct, 100.0), 0.0) * width / 100.0
    return (f"{_SVG} class='wb-share' width='{width}' height='{height}' "
            f"viewBox='0 0 {width} {height}'><rect width='{w:.1f}' height='{height}' "
            "fill='#e4572e'/></svg>")
