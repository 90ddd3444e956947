"""Reference micro-workloads for the engine's benchmarks (importable by worker processes).

``busy`` is deterministic busy work: ``busy_slower`` does exactly 10 % more iterations
(more work, not a sleep), so a detector should call it slower.
"""

from __future__ import annotations

from functools import cache

BUSY_N = 100_000


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def busy() -> int:
    return _spin(BUSY_N)


def busy_copy() -> int:
    """The same work as :func:`busy` under another name (for A/A trials)."""
    return _spin(BUSY_N)


def busy_slower() -> int:
    return _spin(BUSY_N + BUSY_N // 10)


@cache
def _tiny_docs() -> tuple[object, ...]:
    import workbench.rag.workloads  # noqa: F401  (registers the reference workloads)
    from workbench.workloads import get_workload

    return get_workload("tiny").load()


def clean_tiny() -> int:
    from workbench.rag.clean import clean

    return len(list(clean(_tiny_docs())))  # type: ignore[arg-type]


def chunk_text() -> int:
    from workbench.rag.chunk import chunk
    from workbench.rag.types import CleanDoc

    return len(list(chunk([CleanDoc("d", "", "abcdefgh " * 4000)], size=64, overlap=8)))
