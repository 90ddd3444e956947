"""Immutable value types that flow through the FuncPipe RAG reference pipeline."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["Chunk", "CleanDoc", "Embedding", "EmbeddingBatch", "Hit", "RawDoc", "chunk_id"]


@dataclass(frozen=True, slots=True)
class RawDoc:
    doc_id: str
    title: str
    abstract: str


@dataclass(frozen=True, slots=True)
class CleanDoc:
    doc_id: str
    title: str
    abstract: str


def chunk_id(doc_id: str, start: int) -> str:
    """The stable id of the chunk of ``doc_id`` that starts at character ``start``."""
    return f"{doc_id}:{start:08d}"


@dataclass(frozen=True, slots=True)
class Chunk:
    """A window of a cleaned abstract: ``clean.abstract[start:end] == text`` (code points)."""

    doc_id: str
    text: str
    start: int
    end: int

    @property
    def chunk_id(self) -> str:
        return chunk_id(self.doc_id, self.start)


@dataclass(frozen=True, slots=True, eq=False)
class Embedding:
    """One chunk's vector (a read-only float32 array)."""

    chunk_id: str
    vector: npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True, eq=False)
class EmbeddingBatch:
    """Embeddings of many chunks as one read-only ``(n, dim)`` float32 matrix.

    Row ``i`` belongs to ``ids[i]``. This is the materialized form the embed stage
    hands to retrieval; iterating yields ``Embedding`` views.
    """

    ids: tuple[str, ...]
    matrix: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        if self.matrix.ndim != 2 or self.matrix.shape[0] != len(self.ids):
            raise ValueError(
                f"EmbeddingBatch needs a (len(ids), dim) matrix; got shape "
                f"{self.matrix.shape} for {len(self.ids)} ids"
            )
        self.matrix.flags.writeable = False

    @classmethod
    def from_rows(
        cls, ids: Sequence[str], rows: npt.NDArray[np.float32], dim: int
    ) -> EmbeddingBatch:
        import numpy as np

        matrix = np.ascontiguousarray(rows, dtype=np.float32).reshape(len(ids), dim)
        return cls(tuple(ids), matrix)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def __iter__(self) -> Iterator[Embedding]:
        for i, cid in enumerate(self.ids):
            yield Embedding(cid, self.matrix[i])


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieval result: the chunk and its cosine score."""

    chunk_id: str
    score: float
