"""Named workloads: a corpus, its size, its seed and its queries, fixed under one name.

A workload's name is how every command and notebook refers to it. Built-in:

========  =====================================================  ======================
name      corpus                                                 use
========  =====================================================  ======================
tiny      40 synthetic documents                                 CI, tests (seconds)
small     500 synthetic documents                                interactive default
medium    5,000 synthetic documents (~20,000 chunks of 256)      benchmarks
docs      1,500 standard-library docstrings (real English)       realistic text
========  =====================================================  ======================

Users add their own with :func:`register_workload`. ``NAME@N`` names the same workload
with ``N`` documents (same generator and seed; the first documents are shared), which is
how size sweeps address their points.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache

from workbench.errors import InvalidInputError, UnknownNameError
from workbench.rag.corpus import make_corpus, make_queries, stdlib_docstrings
from workbench.rag.types import RawDoc

__all__ = [
    "DEFAULT_WORKLOAD",
    "Workload",
    "WorkloadData",
    "get_workload",
    "register_workload",
    "workload_names",
]

DEFAULT_WORKLOAD = "small"


@dataclass(frozen=True, slots=True)
class WorkloadData:
    docs: tuple[RawDoc, ...]
    queries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Workload:
    """A named, deterministic input: ``load()`` returns the same data every time."""

    name: str
    description: str
    size: int
    make_docs: Callable[[int], tuple[RawDoc, ...]]
    make_queries: Callable[[], tuple[str, ...]]

    def load(self) -> WorkloadData:
        return _load(self)

    def with_size(self, n_docs: int) -> Workload:
        """The same workload with ``n_docs`` documents, named ``NAME@N``."""
        if not isinstance(n_docs, int) or isinstance(n_docs, bool) or n_docs < 1:
            raise InvalidInputError(f"a workload size must be an integer >= 1; got {n_docs!r}")
        base = self.name.split("@", 1)[0]
        return replace(self, name=f"{base}@{n_docs}", size=n_docs,
                       description=f"{self.description} (resized to {n_docs:,} docs)")


@cache
def _load(workload: Workload) -> WorkloadData:
    docs = workload.make_docs(workload.size)
    if not docs:
        raise InvalidInputError(f"workload {workload.name!r} produced an empty corpus")
    queries = workload.make_queries()
    if not queries:
        raise InvalidInputError(f"workload {workload.name!r} produced no queries")
    return WorkloadData(tuple(docs), tuple(queries))


def _synthetic(name: str, n_docs: int, seed: int, n_queries: int = 16) -> Workload:
    return Workload(
        name,
        f"{n_docs:,} synthetic documents (seed {seed}), {n_queries} queries",
        n_docs,
        lambda n: make_corpus(n, seed),
        lambda: make_queries(n_queries, seed),
    )


_REGISTRY: dict[str, Workload] = {
    w.name: w
    for w in (
        _synthetic("tiny", 40, 1),
        _synthetic("small", 500, 2),
        _synthetic("medium", 5000, 3),
        Workload(
            "docs",
            "1,500 docstrings of the installed standard library (seed 4), 16 queries",
            1500,
            lambda n: stdlib_docstrings(n, 4),
            lambda: (
                "parse a date string", "open a file for reading", "compress data with gzip",
                "iterate over a directory tree", "format a number as a string",
                "start a thread pool", "read a csv file", "compare two sequences",
                "send an http request", "generate random numbers", "encode base64 data",
                "handle a keyboard interrupt", "sort a list of records", "compute a hash digest",
                "parse command line arguments", "serialize an object to json",
            ),
        ),
    )
}

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def register_workload(workload: Workload, *, replace: bool = False) -> None:
    """Add a workload under its name (``replace=True`` to redefine an existing one)."""
    if not _NAME.match(workload.name):
        raise InvalidInputError(
            f"workload name {workload.name!r} must be 1-40 characters of a-z, 0-9, '_' or '-', "
            "starting with a letter"
        )
    if workload.name in _REGISTRY and not replace:
        raise InvalidInputError(
            f"a workload named {workload.name!r} exists; pass replace=True to redefine it"
        )
    _REGISTRY[workload.name] = workload


def get_workload(name: str) -> Workload:
    """The workload called ``name``, or ``NAME@N``: that workload resized to ``N`` docs."""
    base, at, size = name.partition("@")
    try:
        workload = _REGISTRY[base]
    except KeyError:
        raise UnknownNameError("workload", name, _REGISTRY) from None
    if not at:
        return workload
    if not size.isdigit() or int(size) < 1:
        raise InvalidInputError(
            f"workload {name!r}: the size after '@' must be a positive integer; got {size!r}"
        )
    return workload.with_size(int(size))


def workload_names() -> tuple[str, ...]:
    return tuple(_REGISTRY)
