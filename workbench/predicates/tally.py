"""The running count of how two outputs differ, filled in by a walk over both.

A :class:`Tally` records how many items were compared, how many differ, the first
difference (where, and both values), the first difference of shape (a length, a key, a
type, a dtype) and, over every pair of numbers, the largest absolute and relative
difference. :mod:`workbench.predicates.describe` turns it into a sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral
from typing import Any

from workbench.predicates.tolerance import Tolerance

__all__ = ["Tally", "show"]

VALUE_CHARS = 60


def show(value: Any) -> str:
    """``repr`` of a value, cut to a readable length (NumPy scalars as plain numbers)."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0:
        value = item()
    text = repr(value)
    if len(text) > VALUE_CHARS:
        text = text[: VALUE_CHARS - 3] + "..."
    return text


@dataclass
class Tally:
    """How two outputs differ so far (mutable while one walk fills it in)."""

    variant: str
    unit: str = "item"
    compared: int = 0
    differing: int = 0
    first: tuple[str, Any, Any] | None = None
    shape: tuple[str, str] | None = None
    numbers: int = 0
    floats: bool = False
    nonfinite: int = 0
    other: int = 0
    max_abs: float = 0.0
    max_abs_at: str = ""
    max_rel: float = 0.0
    max_rel_at: str = ""
    largest: float = 0.0

    @property
    def same(self) -> bool:
        return self.differing == 0 and self.shape is None

    @property
    def only_rounding(self) -> bool:
        """Every difference is between two finite floats (no shape, text or NaN)."""
        return (self.differing > 0 and self.shape is None and self.floats
                and self.other == 0 and self.nonfinite == 0)

    def differ(self, where: str, reference: Any, candidate: Any, *, numeric: bool) -> None:
        self.differing += 1
        if not numeric:
            self.other += 1
        if self.first is None:
            self.first = (where, reference, candidate)

    def structure(self, where: str, text: str, *, items: int = 1) -> None:
        """A difference of shape at ``where``, counting ``items`` items as differing."""
        self.differing += items
        self.other += items
        if self.shape is None:
            self.shape = (where, text)

    def leaf(self, where: str, reference: Any, candidate: Any, same: bool) -> None:
        self.compared += 1
        if not same:
            self.differ(where, reference, candidate, numeric=False)

    def number(self, where: str, reference: Any, candidate: Any, tol: Tolerance) -> None:
        """Compare two numbers under ``tol`` and keep their differences."""
        try:
            a, b = float(reference), float(candidate)
        except OverflowError:  # ints too large for a float: only equality is known
            self.leaf(where, reference, candidate, reference == candidate)
            return
        self.compared += 1
        self.numbers += 1
        if not (isinstance(reference, Integral) and isinstance(candidate, Integral)):
            self.floats = True
        same = bool(reference == candidate) or (
            tol.allows(a, b) if not tol.exact else tol.nan_equal and a != a and b != b)
        if math.isfinite(a) and math.isfinite(b):
            self.keep(where, abs(a - b), tol.scale(a, b), max(abs(a), abs(b)))
        elif not same:
            self.nonfinite += 1
        if not same:
            self.differ(where, reference, candidate, numeric=True)

    def keep(self, where: str, diff: float, scale: float, magnitude: float) -> None:
        """Keep one finite difference among the largest ones."""
        self.largest = max(self.largest, magnitude)
        if diff > self.max_abs:
            self.max_abs, self.max_abs_at = diff, where
        if diff > 0 and scale > 0 and diff / scale > self.max_rel:
            self.max_rel, self.max_rel_at = diff / scale, where
