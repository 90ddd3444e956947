"""Validation of the predicates' arguments: a bad value is refused when it is declared,
with a message that names it and what is accepted."""

from __future__ import annotations

import math
from numbers import Real

from workbench.errors import InvalidInputError

__all__ = ["check_flag", "check_threshold", "check_tolerance"]


def _real(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def check_tolerance(where: str, name: str, value: object) -> float:
    """A tolerance: a finite number >= 0."""
    if not _real(value) or not math.isfinite(float(value)) or float(value) < 0:  # type: ignore[arg-type]
        raise InvalidInputError(
            f"{where}: {name} must be a finite number >= 0 (0 turns it off); got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_threshold(where: str, value: object) -> float:
    """A cosine threshold: a number in (0, 1]."""
    if not _real(value) or not 0.0 < float(value) <= 1.0:  # type: ignore[arg-type]
        raise InvalidInputError(
            f"{where}: threshold must be a cosine in (0, 1] (1 means the same direction); "
            f"got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_flag(where: str, name: str, value: object) -> bool:
    """A switch: True or False."""
    if not isinstance(value, bool):
        raise InvalidInputError(f"{where}: {name} must be True or False; got {value!r}")
    return value
