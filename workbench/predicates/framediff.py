"""How two Polars or pandas frames differ: rows, columns, dtypes, then value by value.

A place is named ``row 3, column 'total'`` (the row's position, not a pandas label). A
series is a frame of one column; a Polars ``LazyFrame`` is collected first. Imported
only when a frame is compared, so its library is already loaded.
"""

from __future__ import annotations

from typing import Any

from workbench.predicates.arraydiff import tally_values
from workbench.predicates.tally import Tally, show
from workbench.predicates.tolerance import Tolerance

__all__ = ["as_frame", "tally_frames"]


def as_frame(value: Any) -> Any:
    """A DataFrame for a DataFrame, a (collected) LazyFrame or a Series."""
    name = type(value).__name__
    if name == "LazyFrame":
        return value.collect()
    if name == "Series":
        return value.to_frame()
    return value


def _height(frame: Any) -> int:
    return len(frame)


def _columns(frame: Any) -> list[Any]:
    return list(frame.columns)


def _dtype(frame: Any, column: Any) -> str:
    return str(frame[column].dtype)


def _listed(names: list[Any], most: int = 3) -> str:
    shown = ", ".join(show(n) for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def tally_frames(a: Any, b: Any, where: str, tol: Tolerance, tally: Tally,
                 dtypes: str) -> None:
    """Add how frame ``b`` (the variant's) differs from ``a`` (pure's) to ``tally``.

    ``dtypes``: ``"same"`` (a column's dtypes must be equal), ``"kind"`` (of one kind:
    numeric or not) or ``"any"`` (not checked)."""
    a, b = as_frame(a), as_frame(b)
    prefix = f"{where} " if where else ""
    rows_a, rows_b = _height(a), _height(b)
    if rows_a != rows_b:
        tally.compared += abs(rows_a - rows_b)
        tally.structure(where, f"{tally.variant} gave {rows_b} rows, pure {rows_a}",
                        items=abs(rows_a - rows_b))
    cols_a, cols_b = _columns(a), _columns(b)
    only_a = [c for c in cols_a if c not in cols_b]
    only_b = [c for c in cols_b if c not in cols_a]
    if only_a or only_b:
        parts = [f"pure only {_listed(only_a)}"] if only_a else []
        parts += [f"{tally.variant} only {_listed(only_b)}"] if only_b else []
        tally.structure(where, "columns differ: " + "; ".join(parts),
                        items=(len(only_a) + len(only_b)) * max(rows_a, rows_b))
    elif cols_a != cols_b:
        tally.structure(where, f"column order differs: pure {_listed(cols_a, 6)}, "
                               f"{tally.variant} {_listed(cols_b, 6)}", items=0)
    _index(a, b, where, tally)
    for column in (c for c in cols_a if c in cols_b):
        _column(a, b, column, prefix, tol, tally, dtypes, min(rows_a, rows_b))


def _index(a: Any, b: Any, where: str, tally: Tally) -> None:
    index_a, index_b = getattr(a, "index", None), getattr(b, "index", None)
    if index_a is not None and index_b is not None and not index_a.equals(index_b):
        tally.structure(where, f"the index differs: pure {show(list(index_a[:3]))}..., "
                               f"{tally.variant} {show(list(index_b[:3]))}...", items=0)


def _column(a: Any, b: Any, column: Any, prefix: str, tol: Tolerance, tally: Tally,
            dtypes: str, rows: int) -> None:
    x, y = a[column].to_numpy()[:rows], b[column].to_numpy()[:rows]
    place = f"{prefix}column {show(column)}"
    dtype_a, dtype_b = _dtype(a, column), _dtype(b, column)
    numeric = (x.dtype.kind in "iufc", y.dtype.kind in "iufc")
    if (dtypes == "same" and dtype_a != dtype_b) or (
            dtypes == "kind" and numeric[0] != numeric[1]):
        tally.structure(place, f"{tally.variant} gave dtype {dtype_b}, pure {dtype_a}",
                        items=0)
    tally_values(x, y, lambda i: f"{prefix}row {i}, column {show(column)}", tol, tally)
