"""How two NumPy arrays differ: shape, dtype, and element by element (vectorized).

Imported only when an array is compared, so NumPy is already loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from workbench.predicates.tally import Tally
from workbench.predicates.tolerance import Tolerance

__all__ = ["dtype_kind", "tally_arrays", "tally_values"]

Locate = Callable[[int], str]

_KINDS = {"b": "bool", "i": "integer", "u": "integer", "f": "float", "c": "complex",
          "M": "datetime", "m": "timedelta", "U": "text", "S": "bytes", "O": "object"}
_NUMERIC = "iufc"


def dtype_kind(array: npt.NDArray[Any]) -> str:
    """The kind of an array's dtype in a word: float, integer, complex, bool, text, ..."""
    return _KINDS.get(array.dtype.kind, array.dtype.kind)


def _at(where: str, shape: tuple[int, ...], flat: int) -> str:
    if not shape:
        return where
    index = np.unravel_index(flat, shape)
    return f"{where}[{', '.join(str(int(i)) for i in index)}]"


def tally_arrays(a: npt.NDArray[Any], b: npt.NDArray[Any], where: str, tol: Tolerance,
                 tally: Tally, dtypes: str) -> None:
    """Add how array ``b`` (the variant's) differs from ``a`` (pure's) to ``tally``.

    ``dtypes`` is ``"same"`` (the dtypes must be equal) or ``"kind"`` (of one kind:
    float32 and float64 match, an integer and a float array do not)."""
    if a.shape != b.shape:
        tally.compared += 1
        tally.structure(where, f"{tally.variant} gave shape {b.shape}, pure {a.shape}")
        return
    if (a.dtype != b.dtype) if dtypes == "same" else (dtype_kind(a) != dtype_kind(b)):
        tally.structure(where, f"{tally.variant} gave dtype {b.dtype}, pure {a.dtype}",
                        items=0)
    tally_values(a, b, lambda i: _at(where, a.shape, i), tol, tally)


def tally_values(a: npt.NDArray[Any], b: npt.NDArray[Any], locate: Locate, tol: Tolerance,
                 tally: Tally) -> None:
    """Add the element-by-element differences of two arrays of one shape to ``tally``;
    ``locate(i)`` names the place of flat index ``i``."""
    if a.dtype.kind in _NUMERIC and b.dtype.kind in _NUMERIC:
        _numeric(a, b, locate, tol, tally)
    else:
        _elementwise(a, b, locate, tally)


def _numeric(a: npt.NDArray[Any], b: npt.NDArray[Any], locate: Locate, tol: Tolerance,
             tally: Tally) -> None:
    wide = np.complex128 if "c" in (a.dtype.kind + b.dtype.kind) else np.float64
    x, y = a.astype(wide).ravel(), b.astype(wide).ravel()
    with np.errstate(all="ignore"):
        same = np.asarray(a == b).ravel()
        diff = np.abs(x - y)
        finite = np.isfinite(x) & np.isfinite(y)
        scale = np.abs(x) if tol.against_reference else np.maximum(np.abs(x), np.abs(y))
        if not tol.exact:
            bound = (tol.abs + tol.rel * scale if tol.against_reference
                     else np.maximum(tol.rel * scale, tol.abs))
            same = same | (finite & (diff <= bound))
        if tol.nan_equal:
            same = same | (np.isnan(x) & np.isnan(y))
    tally.compared += x.size
    tally.numbers += x.size
    tally.floats = tally.floats or a.dtype.kind in "fc" or b.dtype.kind in "fc"
    bad = ~same
    count = int(bad.sum())
    tally.nonfinite += int((bad & ~finite).sum())
    if count:
        i = int(np.flatnonzero(bad)[0])
        tally.differing += count
        if tally.first is None:
            tally.first = (locate(i), a.flat[i], b.flat[i])
    if finite.any():
        _largest(np.where(finite, diff, 0.0), np.where(finite, scale, 0.0), locate, tally)
        magnitude = np.where(finite, np.maximum(np.abs(x), np.abs(y)), 0.0)
        tally.largest = max(tally.largest, float(np.max(magnitude)))


def _largest(diff: npt.NDArray[np.float64], scale: npt.NDArray[np.float64], locate: Locate,
             tally: Tally) -> None:
    j = int(np.argmax(diff))
    if diff[j] > tally.max_abs:
        tally.max_abs, tally.max_abs_at = float(diff[j]), locate(j)
    with np.errstate(all="ignore"):
        rel = np.where((diff > 0) & (scale > 0), diff / scale, 0.0)
    k = int(np.argmax(rel))
    if rel[k] > tally.max_rel:
        tally.max_rel, tally.max_rel_at = float(rel[k]), locate(k)


def _elementwise(a: npt.NDArray[Any], b: npt.NDArray[Any], locate: Locate,
                 tally: Tally) -> None:
    try:
        same = np.asarray(a == b, dtype=bool)
        if same.shape != a.shape:
            raise ValueError("no elementwise ==")
    except Exception:  # objects whose == gives no truth value: one pair at a time
        same = np.array([_equal(x, y) for x, y in zip(a.flat, b.flat, strict=True)],
                        dtype=bool).reshape(a.shape)
    bad = ~same.ravel()
    count = int(bad.sum())
    tally.compared += a.size
    if count:
        i = int(np.flatnonzero(bad)[0])
        tally.differing += count
        tally.other += count
        if tally.first is None:
            tally.first = (locate(i), a.flat[i], b.flat[i])


def _equal(x: Any, y: Any) -> bool:
    try:
        return x is y or bool(x == y)
    except Exception:
        return False
