"""Batch sequences: a workload with an access pattern, for measuring caches honestly.

A cache is only as good as the repeats it sees. A workload whose ``make`` returns a
:class:`BatchSequence` is not one input but a stream of them, in order: a re-index where
most documents come back unchanged, a query stream where popular queries repeat. Each
batch is the first stage's input; a measurement times one stage call per batch, in order,
and states the cache state it measured (``cold``, ``warm``, ``steady``: see
:mod:`workbench.measure.cache_protocol`).

The sequence states its own ``repeat_rate``: the share of the items of the batches after
the first that equal an item of an earlier batch (what a perfect, unbounded cache keyed
by the item would hit at best). :func:`observed_repeat_rate` counts it from the batches,
so a test can hold the stated figure to the data.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.errors import InvalidInputError

__all__ = ["BatchSequence", "observed_repeat_rate"]


@dataclass(frozen=True, slots=True)
class BatchSequence(Sequence[Any]):
    """Batches in order (each a first-stage input), with the access pattern they follow.

    - ``repeat_rate``: the stated share of items after the first batch that repeat an
      earlier item (0 for a stream of all-new items).
    - ``warm``: how many leading batches fill the cache before a ``warm`` measurement
      times the rest (at least 1, fewer than the batches).
    - ``description``: how the sequence was made (seed, sizes, the pattern).
    """

    batches: tuple[Any, ...]
    repeat_rate: float
    warm: int = 1
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.batches, tuple) or len(self.batches) < 2:
            raise InvalidInputError(
                "a batch sequence needs a tuple of at least 2 batches (one to fill a cache, "
                f"one to measure); got {type(self.batches).__name__} of "
                f"{len(self.batches) if isinstance(self.batches, Sequence) else '?'}")
        if not isinstance(self.repeat_rate, int | float) or isinstance(self.repeat_rate, bool) \
                or not 0 <= self.repeat_rate <= 1:
            raise InvalidInputError(f"repeat_rate must be a share between 0 and 1; got "
                                    f"{self.repeat_rate!r}")
        if not isinstance(self.warm, int) or isinstance(self.warm, bool) or \
                not 1 <= self.warm < len(self.batches):
            raise InvalidInputError(f"warm must be an integer from 1 to {len(self.batches) - 1}"
                                    f" (the batches that fill a cache); got {self.warm!r}")
        for i, b in enumerate(self.batches):
            if isinstance(b, Iterator) or (isinstance(b, Sequence) and len(b) == 0):
                what = "an iterator" if isinstance(b, Iterator) else "empty"
                raise InvalidInputError(f"batch {i} is {what}; every batch is a non-empty, "
                                        "re-readable value (a tuple, a list, an array)")

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: Any) -> Any:
        return self.batches[i]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.batches)

    @property
    def items(self) -> int:
        """Items over all batches (a batch without a length counts as one)."""
        return sum(len(b) if isinstance(b, Sequence) else 1 for b in self.batches)

    def summary(self) -> str:
        return (f"{len(self.batches)} batches, {self.items:,} items, stated repeat rate "
                f"{self.repeat_rate:.0%}, {self.warm} to warm a cache"
                + (f"; {self.description}" if self.description else ""))


def observed_repeat_rate(batches: Iterable[Iterable[Hashable]]) -> float:
    """The share of the items after the first batch that equal an item of an earlier
    batch (0.0 when there are no later items)."""
    seen: set[Hashable] = set()
    later = repeats = 0
    for i, batch in enumerate(batches):
        items = list(batch)
        if i:
            later += len(items)
            repeats += sum(1 for x in items if x in seen)
        seen.update(items)
    return repeats / later if later else 0.0
