"""``close`` and ``floats``: numbers, and any structure of numbers, within a tolerance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.predicates.checks import check_flag, check_tolerance
from workbench.predicates.describe import judged
from workbench.predicates.result import EquivalenceResult
from workbench.predicates.tolerance import Tolerance
from workbench.predicates.walk import tally

__all__ = ["Close", "close", "floats"]


@dataclass(frozen=True, slots=True)
class Close:
    """Numbers within ``math.isclose(a, b, rel_tol=rel, abs_tol=abs)``, anywhere in the
    outputs (a number, a tuple or list of them, nested containers, mappings, dataclasses,
    NumPy arrays); everything that is not a number must be equal. Symmetric: the
    relative difference is measured against the larger of the two values. A NaN matches
    a NaN in the same place when ``nan_equal`` (the default)."""

    rel: float = 1e-9
    abs: float = 0.0
    nan_equal: bool = True

    def __post_init__(self) -> None:
        check_tolerance("close()", "rel", self.rel)
        check_tolerance("close()", "abs", self.abs)
        check_flag("close()", "nan_equal", self.nan_equal)

    @property
    def code(self) -> str:
        """How this predicate is written in a declaration."""
        if self == Close():
            return "workbench.floats"
        extra = "" if self.nan_equal else ", nan_equal=False"
        return f"workbench.close(rel={self.rel:g}, abs={self.abs:g}{extra})"

    def __call__(self, reference: Any, candidate: Any, *, variant: str,
                 params: Mapping[str, Any]) -> EquivalenceResult:
        tol = Tolerance(self.rel, self.abs, against_reference=False, nan_equal=self.nan_equal)
        return judged(tally(reference, candidate, tol, variant), tol, "floats", self.code)


def close(rel: float = 1e-9, abs: float = 0.0, *, nan_equal: bool = True) -> Close:
    """The predicate: numbers equal within ``rel`` (relative) or ``abs`` (absolute)
    tolerance, with ``math.isclose`` semantics; ``close(rel=1e-6)``."""
    return Close(rel, abs, nan_equal)


#: Floats equal to within rounding: ``close(rel=1e-9)``.
floats = Close()
