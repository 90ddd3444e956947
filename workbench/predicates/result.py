"""What an equivalence predicate answers, and the signature every predicate has."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Equivalence", "EquivalenceResult", "materialize"]


@dataclass(frozen=True, slots=True)
class EquivalenceResult:
    """Whether a variant's output is equivalent to the reference output, and how close.

    ``detail`` says how the outputs differ (or that they do not), in a line or two.
    ``worst`` is the predicate's worst per-item figure when it has one: the largest
    absolute difference for numbers, arrays and frames, the smallest cosine for
    embeddings; ``None`` otherwise.
    """

    equivalent: bool
    detail: str
    worst: float | None = None

    def __bool__(self) -> bool:
        return self.equivalent


class Equivalence(Protocol):
    """A stage's equivalence predicate: is ``candidate`` (the output of ``variant`` run
    with ``params``) the same as ``reference`` (pure's output)?"""

    def __call__(
        self, reference: Any, candidate: Any, *, variant: str, params: Mapping[str, Any]
    ) -> EquivalenceResult: ...


def materialize(output: Any) -> Any:
    """Turn a lazy stage output into a comparable value (iterators become tuples)."""
    if isinstance(output, Iterator):
        return tuple(output)
    return output
