"""``exact``: the outputs are equal, value for value, in the same structure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.predicates.describe import judged
from workbench.predicates.result import EquivalenceResult, materialize
from workbench.predicates.tolerance import EXACT
from workbench.predicates.walk import frame_library, is_array, tally

__all__ = ["exact", "family"]


def family(value: Any) -> str:
    """The predicate family a hint names for an output like ``value``."""
    if is_array(value):
        return "arrays"
    if frame_library(value) is not None:
        return "frames"
    return "floats"


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # arrays and frames: == gives no single truth value
        return False


def exact(
    reference: Any, candidate: Any, *, variant: str, params: Mapping[str, Any]
) -> EquivalenceResult:
    """Equivalence by equality of the materialized outputs (iterators become tuples).

    Containers must match in type and length; NumPy arrays in shape and dtype, element by
    element; frames in rows, columns and dtypes, value by value; a NaN equals a NaN in the
    same place. The detail says how the outputs differ: the first differing place with
    both values, how many items differ, the largest difference between numbers and, when
    floats differ only by rounding, the tolerant predicate to declare instead.
    """
    ref, cand = materialize(reference), materialize(candidate)
    if _equal(ref, cand):
        return EquivalenceResult(True, "identical output")
    return judged(tally(ref, cand, EXACT, variant), EXACT, family(ref), "workbench.exact")
