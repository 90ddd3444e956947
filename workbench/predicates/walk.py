"""Walk two outputs side by side and tally how they differ.

Containers are followed: tuples and lists by position (``[3]``; a long one of floats only
is compared as one NumPy array, with the same result), mappings by key
(``['total']``), dataclasses by field (``.score``), NumPy arrays element by element
(``[2, 5]``) and Polars/pandas frames by row and column. Numbers are compared under a
:class:`~workbench.predicates.tolerance.Tolerance`; anything else by ``==``. Containers
of different types (a tuple and a list), lengths or keys differ in shape. NumPy, Polars
and pandas are never imported to find out what a value is: an array or a frame can only
come from a library that is already loaded.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

from workbench.predicates.result import materialize
from workbench.predicates.tally import Tally, show
from workbench.predicates.tolerance import Tolerance

__all__ = ["frame_library", "is_array", "tally"]

_TEXT = (str, bytes, bytearray, memoryview)
UNITS = {"array": "element", "frame": "value"}
#: A sequence of at least this many floats (and nothing else) is compared in NumPy.
VECTORIZED = 32


@dataclass(frozen=True, slots=True)
class _Walk:
    tol: Tolerance
    tally: Tally
    dtypes: str  # "same": dtypes must be equal; "kind": of one kind (float, integer, ...)


def tally(reference: Any, candidate: Any, tol: Tolerance, variant: str, *,
          dtypes: str = "same") -> Tally:
    """How ``candidate`` differs from ``reference`` under ``tol``."""
    reference, candidate = materialize(reference), materialize(candidate)
    found = Tally(variant, unit=UNITS.get(_kind(reference), "item"))
    _walk(reference, candidate, "", _Walk(tol, found, dtypes))
    return found


def is_array(value: Any) -> bool:
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.ndarray)


def frame_library(value: Any) -> str | None:
    """``"polars"`` or ``"pandas"`` for a frame or series of that library, else None."""
    library = type(value).__module__.partition(".")[0]
    if library in ("polars", "pandas") and type(value).__name__ in (
            "DataFrame", "LazyFrame", "Series"):
        return library
    return None


def _kind(value: Any) -> str:
    if is_array(value):
        return "array"
    if frame_library(value) is not None:
        return "frame"
    if isinstance(value, Real) and not isinstance(value, bool):
        return "number"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, Sequence) and not isinstance(value, _TEXT):
        return "sequence"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return "dataclass"
    return "leaf"


def _type_name(value: Any) -> str:
    return type(value).__name__


def _walk(a: Any, b: Any, where: str, w: _Walk) -> None:
    a, b = materialize(a), materialize(b)
    kind = _kind(a)
    if kind != _kind(b) or (kind not in ("number", "leaf") and type(a) is not type(b)):
        w.tally.compared += 1
        w.tally.structure(where, f"{w.tally.variant} gave a {_type_name(b)}, pure a "
                                 f"{_type_name(a)}")
    elif kind == "number":
        w.tally.number(where, a, b, w.tol)
    elif kind == "sequence":
        _sequences(a, b, where, w)
    elif kind == "mapping":
        _mappings(a, b, where, w)
    elif kind == "dataclass":
        for f in dataclasses.fields(a):
            _walk(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}", w)
    elif kind == "array":
        from workbench.predicates.arraydiff import tally_arrays

        tally_arrays(a, b, where, w.tol, w.tally, w.dtypes)
    elif kind == "frame":
        from workbench.predicates.framediff import tally_frames

        tally_frames(a, b, where, w.tol, w.tally, w.dtypes)
    else:
        w.tally.leaf(where, a, b, _equal(a, b))


def _equal(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # an == that returns no truth value (an array inside an object)
        return False


def _floats_only(items: Sequence[Any]) -> bool:
    return all(type(x) is float for x in items)


def _sequences(a: Sequence[Any], b: Sequence[Any], where: str, w: _Walk) -> None:
    if len(a) == len(b) >= VECTORIZED and _floats_only(a) and _floats_only(b):
        import numpy as np

        from workbench.predicates.arraydiff import tally_values

        tally_values(np.array(a, dtype=np.float64), np.array(b, dtype=np.float64),
                     lambda i: f"{where}[{i}]", w.tol, w.tally)
        return
    if len(a) != len(b):
        extra = abs(len(a) - len(b))
        w.tally.compared += extra
        w.tally.structure(where, f"{w.tally.variant} gave {len(b)} items, pure {len(a)}",
                          items=extra)
    for i, (x, y) in enumerate(zip(a, b, strict=False)):  # lengths told apart above
        _walk(x, y, f"{where}[{i}]", w)


def _mappings(a: Mapping[Any, Any], b: Mapping[Any, Any], where: str, w: _Walk) -> None:
    only_a = [k for k in a if k not in b]
    only_b = [k for k in b if k not in a]
    if only_a or only_b:
        w.tally.compared += len(only_a) + len(only_b)
        parts = [f"pure only {_keys(only_a)}"] if only_a else []
        parts += [f"{w.tally.variant} only {_keys(only_b)}"] if only_b else []
        w.tally.structure(where, "keys differ: " + "; ".join(parts),
                          items=len(only_a) + len(only_b))
    for key in a:
        if key in b:
            _walk(a[key], b[key], f"{where}[{show(key)}]", w)


def _keys(keys: list[Any], most: int = 3) -> str:
    shown = ", ".join(show(k) for k in keys[:most])
    return shown + (f" and {len(keys) - most} more" if len(keys) > most else "")
