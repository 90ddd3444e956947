"""The cached variants of chunk and embed: pure results kept in memo tables.

Both stages are pure, so a result computed once can be reused for the same input. What
counts as "the same input" is the key; what makes an old entry wrong is the version:

=====  ===========================================================  ====================
stage  key                                                          value
=====  ===========================================================  ====================
chunk  doc id, BLAKE2b of the cleaned abstract, size, overlap       the document's chunks
embed  BLAKE2b of the chunk's text, model                           one read-only
                                                                    ``(384,)`` float32 row
=====  ===========================================================  ====================

- ``cached`` chunk keeps one document's chunks per entry (the doc id is part of the key
  because every chunk carries it), computed by the pure window rule; its output equals
  pure's exactly. Bounded at :data:`CHUNK_ENTRIES` documents and :data:`CHUNK_BYTES`
  bytes.
- ``cached`` embed looks every chunk up, then embeds the misses in one call of the
  model's vectorized kernel (a batch, as the vectorized variant would) and keeps a
  read-only copy of each row (a copy, so an entry never holds the whole batch's matrix
  alive). Bounded at :data:`EMBED_BYTES` bytes: the cache's memory is part of the RSS
  the budget allows, and a smaller bound trades hits for memory. Its output is held to
  the same ``allclose`` as the vectorized variant's.

Each table lives once per process (:func:`workbench.memo.live_tables` lists them); a
measurement empties them before it times anything. Change :data:`CHUNK_VERSION` or
:data:`EMBED_VERSION` when the window rule or a model changes: entries of an old version
are never served.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import partial

import numpy as np
import numpy.typing as npt

from workbench.memo import MemoTable, text_hash
from workbench.rag.chunk import DEFAULT_OVERLAP, DEFAULT_SIZE, chunk
from workbench.rag.embed import DIM, embed, kernel
from workbench.rag.types import Chunk, CleanDoc, EmbeddingBatch

__all__ = ["CHUNKS", "CHUNK_VERSION", "EMBEDDINGS", "EMBED_VERSION", "chunk_cached",
           "embed_cached"]

#: What invalidates the chunk table: the window rule of :mod:`workbench.rag.chunk`.
CHUNK_VERSION = "chunk-1 (fixed windows with overlap, code points)"
#: What invalidates the embed table: the models' definitions in :mod:`workbench.rag.embed`.
EMBED_VERSION = "embed-1 (hashing uni+bigram 384 buckets; all-MiniLM-L6-v2 mean pooling)"
#: The chunk table's bounds, in documents and in bytes.
CHUNK_ENTRIES = 100_000
CHUNK_BYTES = 64 * 2**20
#: The embed table's bound, in bytes (about 40,000 rows of 384 float32).
EMBED_BYTES = 64 * 2**20

ChunkKey = tuple[str, str, int, int]
EmbedKey = tuple[str, str]
Row = npt.NDArray[np.float32]

CHUNKS: MemoTable[ChunkKey, tuple[Chunk, ...]] = MemoTable(
    "rag.chunk", key="doc id, BLAKE2b of the cleaned abstract, size, overlap",
    version=CHUNK_VERSION, max_entries=CHUNK_ENTRIES, max_bytes=CHUNK_BYTES)
EMBEDDINGS: MemoTable[EmbedKey, Row] = MemoTable(
    "rag.embed", key="BLAKE2b of the chunk text, model", version=EMBED_VERSION,
    max_bytes=EMBED_BYTES)


def _chunks_of(doc: CleanDoc, size: int, overlap: int) -> tuple[Chunk, ...]:
    """One document's chunks, by the pure variant's rule."""
    return tuple(chunk.get("pure").fn((doc,), size=size, overlap=overlap))


@chunk.variant(
    "cached",
    materializes_output="list of chunks",
    description="Pure's windows, kept per document in a memo table.",
)
def chunk_cached(
    docs: Iterable[CleanDoc], *, size: int = DEFAULT_SIZE, overlap: int = DEFAULT_OVERLAP
) -> Iterator[Chunk]:
    """Each document's windows from the chunk table, computed by pure on a miss."""
    out: list[Chunk] = []
    for doc in docs:
        key = (doc.doc_id, text_hash(doc.abstract), size, overlap)
        out.extend(CHUNKS.get_or_compute(key, partial(_chunks_of, doc, size, overlap)))
    return iter(out)


def _frozen_rows(matrix: npt.NDArray[np.float32]) -> list[Row]:
    """Each row as a read-only array of its own (a copy: an entry never keeps the batch's
    matrix alive, and its size is what the table counts)."""
    rows = []
    for row in matrix:
        own = np.array(row, dtype=np.float32)
        own.flags.writeable = False
        rows.append(own)
    return rows


@embed.variant(
    "cached",
    materializes_input="list() of chunks",
    materializes_output="to_numpy(): an (n, 384) matrix",
    description="Rows kept per chunk text in a memo table; misses in one vectorized call.",
)
def embed_cached(chunks: Iterable[Chunk], *, model: str = "hashing") -> EmbeddingBatch:
    """Each chunk's row from the embed table; the misses in one vectorized batch."""
    rows = list(chunks)
    texts = [c.text for c in rows]
    vectorized = kernel(model, "vectorized")

    def compute(positions: Sequence[int]) -> list[Row]:
        return _frozen_rows(vectorized([texts[i] for i in positions]))

    vectors = EMBEDDINGS.get_many([(text_hash(t), model) for t in texts], compute)
    matrix = np.vstack(vectors) if vectors else np.zeros((0, DIM), np.float32)
    return EmbeddingBatch.from_rows([c.chunk_id for c in rows], matrix, DIM)
