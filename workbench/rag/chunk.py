"""The chunk stage: fixed-size character windows with overlap over each cleaned abstract.

For a text of ``n`` code points, ``step = size - overlap``: window ``i`` is
``[i * step, min(i * step + size, n))`` for ``i`` in ``0 .. m-1`` where ``m = 0`` for
an empty text, ``1`` when ``n <= size``, else ``1 + ceil((n - size) / step)``. So
windows cover the text, consecutive windows share ``overlap`` characters (the last may
share more), and no window lies inside the one before it.

Variants: ``pure`` (a generator of slices), ``vectorized`` (NumPy offset arithmetic
for the whole batch; inside a fused segment, Polars ``int_ranges``/``str.slice``), and
``native`` (a Numba kernel, GIL released, that computes every window of the batch).
Offsets are code points, as Python slicing counts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from workbench._optional import require
from workbench.errors import InvalidInputError
from workbench.rag.clean import _collect, _pl, docs_to_frame
from workbench.rag.types import Chunk, CleanDoc
from workbench.stages import FrameStep, exact, stage

__all__ = ["DEFAULT_OVERLAP", "DEFAULT_SIZE", "check_chunk_params", "chunk", "window_count"]

DEFAULT_SIZE = 256
DEFAULT_OVERLAP = 32


def check_chunk_params(params: Mapping[str, Any]) -> None:
    size, overlap = params["size"], params["overlap"]
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise InvalidInputError(f"chunk size must be a positive integer; got {size!r}")
    if not isinstance(overlap, int) or isinstance(overlap, bool) or not 0 <= overlap < size:
        raise InvalidInputError(
            f"chunk overlap must be an integer with 0 <= overlap < size ({size}); got {overlap!r}"
        )


def window_count(n: int, size: int, overlap: int) -> int:
    """How many windows a text of ``n`` code points yields."""
    if n == 0:
        return 0
    step = size - overlap
    return 1 if n <= size else 1 + -(-(n - size) // step)


@stage(
    input="Iterable[CleanDoc]",
    output="Iterator[Chunk]",
    equivalence=exact,
    check_params=check_chunk_params,
)
def chunk(
    docs: Iterable[CleanDoc], *, size: int = DEFAULT_SIZE, overlap: int = DEFAULT_OVERLAP
) -> Iterator[Chunk]:
    """Fixed-size character windows with overlap, as a lazy generator of slices."""
    step = size - overlap
    for doc in docs:
        text = doc.abstract
        for i in range(window_count(len(text), size, overlap)):
            start = i * step
            piece = text[start : start + size]
            yield Chunk(doc.doc_id, piece, start, start + len(piece))


# -- vectorized ------------------------------------------------------------------------

def _windows_numpy(
    lengths: npt.NDArray[np.int64], size: int, overlap: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(document index, start, end) of every window, by offset arithmetic."""
    step = size - overlap
    counts = np.where(lengths == 0, 0, 1 + np.maximum(0, -(-(lengths - size) // step)))
    doc_index = np.repeat(np.arange(lengths.shape[0], dtype=np.int64), counts)
    first = np.cumsum(counts) - counts  # index of each document's first window
    within = np.arange(doc_index.shape[0], dtype=np.int64) - np.repeat(first, counts)
    starts = within * step
    ends = np.minimum(starts + size, lengths[doc_index])
    return doc_index, starts, ends


def _build(
    docs: list[CleanDoc],
    doc_index: npt.NDArray[np.int64],
    starts: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
) -> Iterator[Chunk]:
    return iter([
        Chunk(docs[d].doc_id, docs[d].abstract[s:e], s, e)
        for d, s, e in zip(doc_index.tolist(), starts.tolist(), ends.tolist(), strict=True)
    ])


def _lengths(docs: list[CleanDoc]) -> npt.NDArray[np.int64]:
    return np.fromiter((len(d.abstract) for d in docs), dtype=np.int64, count=len(docs))


def chunk_frame(frame: Any, params: Mapping[str, Any]) -> Any:
    """Polars: explode each document into its windows, slicing in the plan."""
    pl = _pl()
    size, overlap = params["size"], params["overlap"]
    step = size - overlap
    n = pl.col("abstract").str.len_chars().cast(pl.Int64)
    count = pl.when(n == 0).then(0).when(n <= size).then(1).otherwise(
        1 + (n - size + step - 1) // step
    )
    return (
        frame.select("doc_id", "abstract", count.alias("_m"))
        .filter(pl.col("_m") > 0)
        .with_columns(pl.int_ranges(0, pl.col("_m") * step, step, dtype=pl.Int64).alias("start"))
        .explode("start")
        .with_columns(pl.col("abstract").str.slice(pl.col("start"), size).alias("text"))
        .select(
            "doc_id",
            "text",
            "start",
            (pl.col("start") + pl.col("text").str.len_chars()).cast(pl.Int64).alias("end"),
        )
    )


def frame_to_chunks(df: Any, _: Mapping[str, Any]) -> Iterator[Chunk]:
    columns = (df["doc_id"].to_list(), df["text"].to_list(), df["start"].to_list(),
               df["end"].to_list())
    return iter([Chunk(d, t, s, e) for d, t, s, e in zip(*columns, strict=True)])


CHUNK_FRAME = FrameStep(
    frame_in="docs",
    frame_out="chunks",
    to_frame=docs_to_frame,
    apply=chunk_frame,
    collect=_collect,
    from_frame=frame_to_chunks,
)


@chunk.variant(
    "vectorized",
    materializes_input="list() and a NumPy array of lengths",
    materializes_output="list of chunks",
    frame=CHUNK_FRAME,
)
def chunk_vectorized(
    docs: Iterable[CleanDoc], *, size: int = DEFAULT_SIZE, overlap: int = DEFAULT_OVERLAP
) -> Iterator[Chunk]:
    """NumPy offset arithmetic for the whole batch, then one slicing pass."""
    rows = list(docs)
    return _build(rows, *_windows_numpy(_lengths(rows), size, overlap))


# -- native ----------------------------------------------------------------------------

@cache
def _window_kernel() -> Any:
    numba = require("numba", feature="the native variants", extra="native")

    @numba.njit(nogil=True, cache=True)  # type: ignore[untyped-decorator]
    def windows(lengths: npt.NDArray[np.int64], size: int, overlap: int) -> Any:
        step = size - overlap
        total = 0
        for n in lengths:
            if n > 0:
                total += 1 if n <= size else 1 + (n - size + step - 1) // step
        doc_index = np.empty(total, dtype=np.int64)
        starts = np.empty(total, dtype=np.int64)
        ends = np.empty(total, dtype=np.int64)
        k = 0
        for d in range(lengths.shape[0]):
            n = lengths[d]
            start = 0
            while n > 0:
                doc_index[k] = d
                starts[k] = start
                ends[k] = min(start + size, n)
                k += 1
                if start + size >= n:
                    break
                start += step
        return doc_index, starts, ends

    return windows


@chunk.variant(
    "native",
    materializes_input="list() and a NumPy array of lengths",
    materializes_output="list of chunks",
)
def chunk_native(
    docs: Iterable[CleanDoc], *, size: int = DEFAULT_SIZE, overlap: int = DEFAULT_OVERLAP
) -> Iterator[Chunk]:
    """A Numba kernel (nogil) computes every window of the batch; then one slicing pass."""
    rows = list(docs)
    return _build(rows, *_window_kernel()(_lengths(rows), size, overlap))
