"""When two numbers count as the same: a relative and an absolute tolerance.

Two rules, each the semantics of a well-known function:

- symmetric (``math.isclose``): ``|a - b| <= max(rel * max(|a|, |b|), abs)``;
- against the reference (``numpy.allclose``, Polars' ``assert_frame_equal``):
  ``|candidate - reference| <= abs + rel * |reference|``.

Equal values always pass (so ``inf == inf``); a NaN matches a NaN when ``nan_equal``;
any other pair with an infinity or a NaN fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["EXACT", "Tolerance", "pow10_at_least"]


@dataclass(frozen=True, slots=True)
class Tolerance:
    """A tolerance rule (see the module docstring); ``rel = abs = 0`` is exact equality."""

    rel: float = 0.0
    abs: float = 0.0
    against_reference: bool = False
    nan_equal: bool = True

    @property
    def exact(self) -> bool:
        return self.rel == 0.0 and self.abs == 0.0

    def scale(self, reference: float, candidate: float) -> float:
        """The magnitude a relative difference is measured against."""
        if self.against_reference:
            return abs(reference)
        return max(abs(reference), abs(candidate))

    def allows(self, reference: float, candidate: float) -> bool:
        """Whether ``candidate`` counts as the same number as ``reference``."""
        if reference == candidate:
            return True
        if math.isnan(reference) or math.isnan(candidate):
            return self.nan_equal and math.isnan(reference) and math.isnan(candidate)
        diff = abs(reference - candidate)
        if math.isinf(diff):
            return False
        if self.against_reference:
            return diff <= self.abs + self.rel * abs(reference)
        return diff <= max(self.rel * self.scale(reference, candidate), self.abs)

    def text(self) -> str:
        """The rule in a few words, for messages: ``within rel 1e-09``."""
        if self.exact:
            return "exactly"
        if self.against_reference:
            return f"within {self.abs:g} + {self.rel:g} x |pure|"
        parts = [f"rel {self.rel:g}"] if self.rel else []
        parts += [f"abs {self.abs:g}"] if self.abs else []
        return "within " + " or ".join(parts)


EXACT = Tolerance()


def pow10_at_least(value: float) -> float:
    """The smallest power of ten >= ``value`` (> 0)."""
    exponent = math.ceil(math.log10(value))
    power = 10.0 ** exponent
    return power if power >= value else 10.0 ** (exponent + 1)
