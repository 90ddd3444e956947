"""``allclose`` and ``arrays``: NumPy arrays equal within ``numpy.allclose`` tolerances."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.predicates.checks import check_flag, check_tolerance
from workbench.predicates.describe import judged
from workbench.predicates.result import EquivalenceResult, materialize
from workbench.predicates.tolerance import Tolerance
from workbench.predicates.walk import tally

__all__ = ["AllClose", "allclose", "arrays"]


@dataclass(frozen=True, slots=True)
class AllClose:
    """Arrays of one shape and one dtype kind (float32 matches float64; an integer array
    does not match a float one) whose elements satisfy ``numpy.allclose``:
    ``|candidate - reference| <= atol + rtol * |reference|``. Not symmetric: the relative
    tolerance is measured against pure's value. NaN matches NaN in the same place when
    ``equal_nan`` (the default); ``inf`` matches only ``inf`` of the same sign. Outputs
    that are not arrays (lists of numbers) are turned into arrays first."""

    rtol: float = 1e-5
    atol: float = 1e-8
    equal_nan: bool = True

    def __post_init__(self) -> None:
        check_tolerance("allclose()", "rtol", self.rtol)
        check_tolerance("allclose()", "atol", self.atol)
        check_flag("allclose()", "equal_nan", self.equal_nan)

    @property
    def code(self) -> str:
        """How this predicate is written in a declaration."""
        if self == AllClose():
            return "workbench.arrays"
        extra = "" if self.equal_nan else ", equal_nan=False"
        return f"workbench.allclose(rtol={self.rtol:g}, atol={self.atol:g}{extra})"

    def __call__(self, reference: Any, candidate: Any, *, variant: str,
                 params: Mapping[str, Any]) -> EquivalenceResult:
        import numpy as np

        arrays = []
        for who, value in (("pure", reference), (variant, candidate)):
            try:
                arrays.append(np.asarray(materialize(value)))
            except (ValueError, TypeError) as exc:
                return EquivalenceResult(False, f"{who}'s output is not an array: {exc}")
        tol = Tolerance(self.rtol, self.atol, against_reference=True, nan_equal=self.equal_nan)
        found = tally(arrays[0], arrays[1], tol, variant, dtypes="kind")
        return judged(found, tol, None, self.code)


def allclose(rtol: float = 1e-5, atol: float = 1e-8, *, equal_nan: bool = True) -> AllClose:
    """The predicate: arrays equal within ``numpy.allclose(candidate, reference, rtol,
    atol)``, shapes equal and dtypes of one kind; ``allclose(rtol=1e-6)``."""
    return AllClose(rtol, atol, equal_nan)


#: Arrays equal with NumPy's default tolerances: ``allclose(rtol=1e-5, atol=1e-8)``.
arrays = AllClose()
