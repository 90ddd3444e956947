"""Plain-text tables: columns padded to their widest cell."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["table"]


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *,
          right: Sequence[bool] | None = None, indent: str = "") -> list[str]:
    """The lines of a table; ``right`` marks right-aligned (numeric) columns."""
    align = list(right) if right is not None else [False] * len(headers)
    cells = [list(headers), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = []
    for row in cells:
        parts = [c.rjust(w) if a else c.ljust(w)
                 for c, w, a in zip(row, widths, align, strict=True)]
        out.append(indent + "  ".join(parts).rstrip())
    return out
