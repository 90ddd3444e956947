"""The clean stage: normalize, lowercase, drop controls, collapse white space.

The definition lives in :mod:`workbench.rag.textspec`. Three variants:

- ``pure``: a generator over documents using ``str.translate``, ``unicodedata`` and
  ``str.split``/``join`` (all of which CPython runs in C already);
- ``vectorized``: one Polars lazy plan of string expressions, no Python UDFs; it can
  fuse with the vectorized chunk stage into a single plan;
- ``native``: a Numba kernel over UTF-32 code points for the control and white-space
  passes of the whole batch at once; NFKC and lowercasing stay with CPython's C code,
  applied to the batch joined by NUL (a separator that blocks composition and case
  context, and that the kernel has already removed from the documents).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from workbench._optional import require
from workbench.rag.textspec import (
    CONTROL_RANGES,
    WHITESPACE_RANGES,
    control_regex,
    drop_controls_table,
    whitespace_regex,
)
from workbench.rag.types import CleanDoc, RawDoc
from workbench.stages import FrameStep, exact, stage

__all__ = ["clean", "clean_text"]

_DROP = drop_controls_table()


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def clean_text(text: str) -> str:
    """The reference definition of clean for one string."""
    lowered = _nfkc(_nfkc(text.translate(_DROP)).lower())
    # After the controls are gone, str.split()'s white space is exactly White_Space.
    return " ".join(lowered.split())


@stage(
    input="Iterable[RawDoc]",
    output="Iterator[CleanDoc]",
    equivalence=exact,
)
def clean(docs: Iterable[RawDoc]) -> Iterator[CleanDoc]:
    """Normalize (NFKC), lowercase, drop controls, collapse white space; lazily."""
    return (CleanDoc(d.doc_id, clean_text(d.title), clean_text(d.abstract)) for d in docs)


# -- vectorized: Polars ------------------------------------------------------------------

def _pl() -> Any:
    return require("polars", feature="the vectorized variants", extra="native")


def docs_to_frame(docs: Iterable[RawDoc] | Iterable[CleanDoc], _: Mapping[str, Any]) -> Any:
    """Materialize documents into a ``LazyFrame(doc_id, title, abstract)``."""
    pl = _pl()
    rows: list[RawDoc | CleanDoc] = list(docs)
    return pl.LazyFrame(
        {
            "doc_id": [d.doc_id for d in rows],
            "title": [d.title for d in rows],
            "abstract": [d.abstract for d in rows],
        },
        schema={"doc_id": pl.String, "title": pl.String, "abstract": pl.String},
    )


def _clean_expr(column: str) -> Any:
    pl = _pl()
    return (
        pl.col(column)
        .str.replace_all(control_regex(), "")
        .str.normalize("NFKC")
        .str.to_lowercase()
        .str.normalize("NFKC")
        .str.replace_all(whitespace_regex(), " ")
        .str.strip_chars(" ")
    )


def clean_frame(frame: Any, _: Mapping[str, Any]) -> Any:
    return frame.with_columns(_clean_expr("title"), _clean_expr("abstract"))


def frame_to_clean_docs(df: Any, _: Mapping[str, Any]) -> Iterator[CleanDoc]:
    columns = (df["doc_id"].to_list(), df["title"].to_list(), df["abstract"].to_list())
    return iter([CleanDoc(i, t, a) for i, t, a in zip(*columns, strict=True)])


def _collect(frame: Any) -> Any:
    return frame.collect()


CLEAN_FRAME = FrameStep(
    frame_in="docs",
    frame_out="docs",
    to_frame=docs_to_frame,
    apply=clean_frame,
    collect=_collect,
    from_frame=frame_to_clean_docs,
)


@clean.variant(
    "vectorized",
    materializes_input="list() into a Polars frame",
    materializes_output="collect() of the Polars plan",
    frame=CLEAN_FRAME,
)
def clean_vectorized(docs: Iterable[RawDoc]) -> Iterator[CleanDoc]:
    """Polars lazy string expressions (no Python UDFs), collected once."""
    frame = clean_frame(docs_to_frame(docs, {}), {})
    return frame_to_clean_docs(frame.collect(), {})


# -- native: Numba over code points ------------------------------------------------------

_CONTROL, _SPACE = 1, 2


@cache
def _char_classes() -> npt.NDArray[np.uint8]:
    """A lookup table, code point -> control / space / other, built from textspec."""
    top = max(hi for _, hi in CONTROL_RANGES + WHITESPACE_RANGES)
    table = np.zeros(top + 1, dtype=np.uint8)
    for cls, ranges in ((_CONTROL, CONTROL_RANGES), (_SPACE, WHITESPACE_RANGES)):
        for lo, hi in ranges:
            table[lo : hi + 1] = cls
    return table


@cache
def _kernels() -> tuple[Any, Any]:
    numba = require("numba", feature="the native variants", extra="native")

    @numba.njit(nogil=True, cache=True)  # type: ignore[untyped-decorator]
    def drop_controls(
        cps: npt.NDArray[np.uint32], ends: npt.NDArray[np.int64], table: npt.NDArray[np.uint8]
    ) -> Any:
        out = np.empty(cps.shape[0] + ends.shape[0], dtype=np.uint32)
        n = 0
        start = 0
        for d in range(ends.shape[0]):
            if d > 0:
                out[n] = 0  # document separator
                n += 1
            for i in range(start, ends[d]):
                c = cps[i]
                if c >= table.shape[0] or table[c] != 1:
                    out[n] = c
                    n += 1
            start = ends[d]
        return out[:n]

    @numba.njit(nogil=True, cache=True)  # type: ignore[untyped-decorator]
    def collapse_spaces(cps: npt.NDArray[np.uint32], table: npt.NDArray[np.uint8]) -> Any:
        out = np.empty(cps.shape[0], dtype=np.uint32)
        n = 0
        pending = False  # a space is owed before the next visible character
        at_start = True  # at the start of a document: leading spaces are dropped
        for i in range(cps.shape[0]):
            c = cps[i]
            if c == 0:
                out[n] = 0
                n += 1
                pending = False
                at_start = True
            elif c < table.shape[0] and table[c] == 2:
                pending = not at_start
            else:
                if pending:
                    out[n] = 32
                    n += 1
                    pending = False
                out[n] = c
                n += 1
                at_start = False
        return out[:n]

    return drop_controls, collapse_spaces


def _utf32(text: str) -> npt.NDArray[np.uint32]:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def clean_texts_native(texts: list[str]) -> list[str]:
    """Clean many strings with one pass of each kernel over the whole batch."""
    if not texts:
        return []
    drop_controls, collapse_spaces = _kernels()
    ends = np.cumsum(np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)))
    table = _char_classes()
    joined = drop_controls(_utf32("".join(texts)), ends, table).tobytes().decode("utf-32-le")
    lowered = _nfkc(_nfkc(joined).lower())
    collapsed = collapse_spaces(_utf32(lowered), table)
    cleaned: list[str] = collapsed.tobytes().decode("utf-32-le").split("\x00")
    return cleaned


@clean.variant(
    "native",
    materializes_input="list() into one UTF-32 buffer",
    materializes_output="list of cleaned strings",
)
def clean_native(docs: Iterable[RawDoc]) -> Iterator[CleanDoc]:
    """Numba kernels over UTF-32 code points for the whole batch; NFKC/lower in C."""
    rows = list(docs)
    texts = clean_texts_native([d.title for d in rows] + [d.abstract for d in rows])
    n = len(rows)
    return iter([CleanDoc(d.doc_id, texts[i], texts[n + i]) for i, d in enumerate(rows)])
