"""The reference pipeline's workloads, registered through the core API like any user's.

========  =====================================================  ======================
name      value (the clean stage's input)                        use
========  =====================================================  ======================
tiny      40 synthetic documents                                 CI, tests (seconds)
small     500 synthetic documents                                interactive default
medium    5,000 synthetic documents (~20,000 chunks of 256)      benchmarks
docs      1,500 standard-library docstrings (real English)       realistic text
========  =====================================================  ======================

Queries are the retrieve stage's business, not every workload's: its ``query_workload``
parameter names one of the query sets below (``queries``, the default, or
``docs-queries`` for the docstring corpus), which are workloads of strings too.
"""

from __future__ import annotations

from workbench.rag.corpus import make_corpus, make_queries, stdlib_docstrings
from workbench.rag.types import RawDoc
from workbench.workloads import Workload, register_workload, workload

__all__ = ["DOCS_QUERIES", "docs_queries", "queries"]

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
