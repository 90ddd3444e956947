"""The reference pipeline's workloads, registered through the core API like any user's.

=============  ================================================  =========================
name           value (the clean stage's input)                   use
=============  ================================================  =========================
tiny           40 synthetic documents                            CI, tests (seconds)
small          500 synthetic documents                           interactive default
medium         5,000 synthetic documents (~20,000 chunks of      benchmarks
               256)
docs           1,500 standard-library docstrings (real English)  realistic text
reindex        6 batches of 200 synthetic documents; each keeps  cached variants: a
               90% of the batch before (repeat rate 90%)         re-index, hits expected
reindex-fresh  6 batches of 200 documents, all new (repeat rate  cached variants: the
               0%)                                               no-repeat control
=============  ================================================  =========================

``reindex`` and ``reindex-fresh`` are batch sequences (:class:`workbench.BatchSequence`):
a measurement times one stage call per batch, in order, in a stated cache state. In
``reindex`` every later batch keeps 90% of the documents of the batch before, unchanged,
and replaces 10% with new documents of as many chunks (at the chunk stage's defaults),
picked across the range of document lengths; so 90% of the documents and about 90% of
the chunk texts after the first batch repeat an earlier one. A new document never
repeats a chunk text seen before (the synthetic corpus has a few one-word abstracts that
do, about 0.1-0.2% of its chunks: such documents are skipped).

Queries are the retrieve stage's business, not every workload's: its ``query_workload``
parameter names one of the query sets below (``queries``, the default, or
``docs-queries`` for the docstring corpus), which are workloads of strings too.
"""

from __future__ import annotations

import random

from workbench.batches import BatchSequence
from workbench.errors import InvalidInputError
from workbench.rag.chunk import chunk
from workbench.rag.clean import clean_text
from workbench.rag.corpus import make_corpus, make_queries, stdlib_docstrings
from workbench.rag.types import CleanDoc, RawDoc
from workbench.workloads import Workload, register_workload, workload

__all__ = ["DOCS_QUERIES", "REINDEX_BATCHES", "chunk_texts", "docs_queries", "queries",
           "reindex", "reindex_fresh"]

#: Batches in the reindex workloads (the first fills a cache).
REINDEX_BATCHES = 6
#: The share of a reindex batch replaced by new documents.
REINDEX_CHANGED = 0.1

DOCS_QUERIES = (
    "parse a date string", "open a file for reading", "compress data with gzip",
    "iterate over a directory tree", "format a number as a string",
    "start a thread pool", "read a csv file", "compare two sequences",
    "send an http request", "generate random numbers", "encode base64 data",
    "handle a keyboard interrupt", "sort a list of records", "compute a hash digest",
    "parse command line arguments", "serialize an object to json",
)


def _synthetic(n: int, seed: int) -> tuple[RawDoc, ...]:
    return make_corpus(n, seed)


for _name, _size, _seed in (("tiny", 40, 1), ("small", 500, 2), ("medium", 5000, 3)):
    register_workload(Workload(_name, _synthetic, _size,
                               f"{_size:,} synthetic documents (seed {_seed})", _seed))


@workload("docs", size=1500, seed=4)
def docs(n: int, seed: int) -> tuple[RawDoc, ...]:
    """1,500 docstrings of the installed standard library (seed 4)."""
    return stdlib_docstrings(n, seed)


@workload("queries", size=16)
def queries(n: int, seed: int) -> tuple[str, ...]:
    """16 synthetic search queries: the retrieve stage's default query set."""
    return make_queries(n, seed)


@workload("docs-queries", size=len(DOCS_QUERIES))
def docs_queries(n: int) -> tuple[str, ...]:
    """16 questions about the standard library, for the docs workload."""
    return tuple(DOCS_QUERIES[i % len(DOCS_QUERIES)] for i in range(n))


# -- batch sequences ----------------------------------------------------------------------

def chunk_texts(doc: RawDoc) -> tuple[str, ...]:
    """The texts of ``doc``'s chunks after clean, at the chunk stage's default parameters."""
    return tuple(c.text for c in chunk((CleanDoc(doc.doc_id, "", clean_text(doc.abstract)),)))


#: A drawn document and the texts of its chunks.
Drawn = tuple[RawDoc, tuple[str, ...]]


class _NewDocs:
    """Documents from the synthetic stream after the first ``start``, each with no chunk
    text in ``seen`` (which grows as documents are taken)."""

    def __init__(self, start: int, seed: int, seen: set[str]) -> None:
        self._next, self._seed, self._seen = start, seed, seen
        self._corpus: tuple[RawDoc, ...] = ()
        self._waiting: dict[int, list[tuple[RawDoc, tuple[str, ...]]]] = {}

    def _draw(self) -> tuple[RawDoc, tuple[str, ...]]:
        if self._next >= len(self._corpus):
            self._corpus = make_corpus(max(2 * len(self._corpus), self._next + 500), self._seed)
        doc = self._corpus[self._next]
        self._next += 1
        return doc, chunk_texts(doc)

    def _accept(self, doc: RawDoc, texts: tuple[str, ...]) -> Drawn | None:
        if not texts or not self._seen.isdisjoint(texts):
            return None
        self._seen.update(texts)
        return doc, texts

    def take(self, windows: int | None = None) -> Drawn:
        """A new document and its chunk texts; with ``windows``, one of that many chunks
        (or, when none turns up in a few hundred draws, of the nearest count set aside)."""
        if windows is None:
            while True:
                found = self._accept(*self._draw())
                if found is not None:
                    return found
        for _ in range(400):
            waiting = self._waiting.get(windows)
            doc, texts = waiting.pop() if waiting else self._draw()
            if len(texts) != windows:
                self._waiting.setdefault(len(texts), []).append((doc, texts))
                continue
            found = self._accept(doc, texts)
            if found is not None:
                return found
        near = min((k for k, v in self._waiting.items() if v),
                   key=lambda k: abs(k - windows), default=None)
        if near is not None:
            found = self._accept(*self._waiting[near].pop())
            if found is not None:
                return found
        return self.take(None)


def _replaced(counts: list[int], k: int, rng: random.Random) -> list[int]:
    """``k`` positions to replace, one from each of ``k`` equal slices of the documents
    sorted by chunk count: the replaced chunks are close to ``k / n`` of the batch's."""
    order = sorted(range(len(counts)), key=lambda i: (counts[i], rng.random()))
    step = len(counts) / k
    offset = rng.random() * step
    return [order[int(offset + j * step)] for j in range(k)]


def _first(n: int, seed: int, minimum: int, name: str) -> tuple[tuple[RawDoc, ...], set[str]]:
    if n < minimum:
        raise InvalidInputError(f"workload {name!r}: the size is the documents per batch and "
                                f"must be at least {minimum}; got {n}")
    batch = make_corpus(n, seed)
    return batch, {t for d in batch for t in chunk_texts(d)}


@workload("reindex", size=200, seed=5)
def reindex(n: int, seed: int) -> BatchSequence:
    """6 batches of N synthetic documents; each keeps 90% of the batch before (seed 5)."""
    batch, seen = _first(n, seed, 10, "reindex")
    k = round(n * REINDEX_CHANGED)
    fresh, rng = _NewDocs(n, seed, seen), random.Random(seed)
    windows = {d.doc_id: len(chunk_texts(d)) for d in batch}
    batches = [batch]
    for _ in range(REINDEX_BATCHES - 1):
        docs = list(batches[-1])
        for i in _replaced([windows[d.doc_id] for d in docs], k, rng):
            docs[i], texts = fresh.take(windows[docs[i].doc_id])
            windows[docs[i].doc_id] = len(texts)
        batches.append(tuple(docs))
    return BatchSequence(
        tuple(batches), repeat_rate=(n - k) / n, warm=1,
        description=f"seed {seed}: each batch keeps {n - k} of the {n} documents of the one "
                    f"before and replaces {k} with new documents of as many chunks")


@workload("reindex-fresh", size=200, seed=6)
def reindex_fresh(n: int, seed: int) -> BatchSequence:
    """6 batches of N synthetic documents, all new: nothing repeats (seed 6)."""
    batch, seen = _first(n, seed, 1, "reindex-fresh")
    fresh = _NewDocs(n, seed, seen)
    batches = [batch] + [tuple(fresh.take()[0] for _ in range(n))
                         for _ in range(REINDEX_BATCHES - 1)]
    return BatchSequence(tuple(batches), repeat_rate=0.0, warm=1,
                         description=f"seed {seed}: every batch {n} new documents, no chunk "
                                     "text seen before")
