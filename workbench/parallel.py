"""The ``parallel`` tier for stage authors: a stage's kernel mapped over partitions of its
input on Dask workers.

A parallel variant calls :func:`parallel_map` with a plain function (the stage's pure or
vectorized kernel) and its materialized input; the parts come back in order. It is one
more variant of the stage, checked against ``pure`` by the stage's equivalence predicate
like the others. Where the partitions run (a local cluster kept for the process, or the
scheduler named by ``WORKBENCH_PARALLEL_SCHEDULER``) is the cluster's business:
:mod:`workbench.cluster.parallel`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["parallel_map"]

T = TypeVar("T")
R = TypeVar("R")


def parallel_map(fn: Callable[[Sequence[T]], R], items: Sequence[T], *,
                 parts_per_worker: int = 1) -> list[R]:
    """``fn`` applied to each contiguous partition of ``items`` on the tier's Dask
    workers, results in partition order (an empty list for no items). ``fn`` must be
    picklable: a module-level function (or a ``functools.partial`` of one)."""
    from workbench.cluster.parallel import parallel_map as run_parallel

    return run_parallel(fn, items, parts_per_worker=parts_per_worker)
