"""A self-contained icicle (top-down flame) chart as inline SVG: no script, no external URL.

Used for memray's allocation stacks: each stack (root first) carries a weight (bytes);
a frame's width is the weight of the stacks that pass through it. Hovering a box shows
its ``<title>`` tooltip (frame, weight, share) -- the browser does that without script.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["icicle_svg"]


@dataclass
class _Node:
    name: str
    value: int = 0
    children: dict[str, _Node] = field(default_factory=dict)


def _tree(stacks: Iterable[tuple[Sequence[str], int]], max_depth: int) -> _Node:
    root = _Node("all")
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
    width: int = 1000,
    row: int = 17,
    min_fraction: float = 0.004,
    max_depth: int = 48,
) -> str:
    """An icicle chart of ``stacks`` (root-first frame names, weight) as one ``<svg>``.

    Boxes narrower than ``min_fraction`` of the total are left out (their weight still
    counts in their parents); ``unit`` formats a weight for the tooltips.
    """
    root = _tree(stacks, max_depth)
    if root.value <= 0:
        return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{row}'>"
                "<text x='4' y='12' font-size='11'>no allocations</text></svg>")
    boxes: list[str] = []
    depth_seen = 0
    # (node, x, depth): children are laid out left to right, largest first
    todo: list[tuple[_Node, float, int]] = [(root, 0.0, 0)]
    while todo:
        node, x, depth = todo.pop()
        w = width * node.value / root.value
        depth_seen = max(depth_seen, depth)
        share = 100.0 * node.value / root.value
        label = html.escape(node.name)
        chars = int((w - 6) / 6.6)
        text = node.name if len(node.name) <= chars else node.name[: max(chars - 2, 0)] + ".."
        boxes.append(
            f"<g><title>{label}\n{html.escape(unit(node.value))} ({share:.1f} %)</title>"
            f"<rect x='{x:.2f}' y='{depth * row}' width='{max(w - 0.5, 0.5):.2f}' "
            f"height='{row - 1}' rx='2' fill='{_colour(node.name)}'/>"
            + (f"<text x='{x + 3:.2f}' y='{depth * row + row - 5}'>{html.escape(text)}</text>"
               if chars >= 3 else "")
            + "</g>")
        child_x = x
        for child in sorted(node.children.values(), key=lambda c: -c.value):
            if child.value / root.value >= min_fraction:
                todo.append((child, child_x, depth + 1))
            child_x += width * child.value / root.value
    height = (depth_seen + 1) * row
    return (f"<svg xmlns='http://www.w3.org/2000/svg' class='wb-icicle' width='{width}' "
            f"height='{height}' viewBox='0 0 {width} {height}' font-family='monospace' "
            f"font-size='11'>{''.join(boxes)}</svg>")
