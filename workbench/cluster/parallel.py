"""The ``parallel`` tier: a stage's function mapped over partitions of its input with Dask.

A parallel variant splits its (materialized) input into contiguous partitions, runs a
plain function — the stage's pure or vectorized kernel — on each partition in a Dask
worker, and puts the parts back together in order. It is checked against ``pure`` by the
stage's equivalence predicate like any variant.

Where the partitions run:

- ``WORKBENCH_PARALLEL_SCHEDULER`` set: on that scheduler's workers (at most
  ``WORKBENCH_PARALLEL_WORKERS`` of them);
- otherwise on a local cluster started by the first call in this process (warm-up, in a
  measurement) and kept for the process's life: ``WORKBENCH_PARALLEL_WORKERS`` worker
  processes, one thread each, each pinned to one CPU of this process's mask. A
  measurement worker gets ``WORKBENCH_PARALLEL_WORKERS`` = its ``threads`` setting (and
  that many CPUs), so ``--threads N`` gives the tier N Dask workers;
  ``workbench sweep STAGE --cluster-workers 1,2,4`` measures it at each N.

Each Dask worker runs with one thread per numeric library. What a measurement's peak
RSS reports is the measuring process's own: the Dask workers' memory is not in it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from workbench.errors import InvalidInputError

if TYPE_CHECKING:
    from workbench.cluster.connect import Cluster

__all__ = ["ENV_SCHEDULER", "ENV_WORKERS", "parallel_map", "parallel_workers", "partition"]

ENV_SCHEDULER = "WORKBENCH_PARALLEL_SCHEDULER"
ENV_WORKERS = "WORKBENCH_PARALLEL_WORKERS"
T = TypeVar("T")
R = TypeVar("R")

_lock = threading.Lock()
_clusters: dict[tuple[str | None, int], Cluster] = {}


def parallel_workers() -> int:
    """How many Dask workers the tier uses here: ``WORKBENCH_PARALLEL_WORKERS``, else one
    per CPU this process may use."""
    text = os.environ.get(ENV_WORKERS, "").strip()
    if not text:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else os.cpu_count() or 1
    if not text.isdigit() or int(text) < 1:
        raise InvalidInputError(f"{ENV_WORKERS}={text!r}: expected a number of Dask "
                                "workers >= 1")
    return int(text)


def partition(items: Sequence[T], parts: int) -> list[Sequence[T]]:
    """``items`` cut into at most ``parts`` contiguous, non-empty slices of sizes that
    differ by at most one; joined in order they give ``items`` back."""
    if parts < 1:
        raise InvalidInputError(f"partitions must be >= 1; got {parts}")
    count = min(parts, len(items))
    if count == 0:
        return []
    size, extra = divmod(len(items), count)
    out, start = [], 0
    for i in range(count):
        stop = start + size + (1 if i < extra else 0)
        out.append(items[start:stop])
        start = stop
    return out


def _cluster(workers: int) -> tuple[Cluster, list[str]]:
    from workbench.cluster.connect import connect, start_local

    address = os.environ.get(ENV_SCHEDULER, "").strip() or None
    with _lock:
        key = (address, workers)
        if key not in _clusters:
            if address is None:
                _clusters[key] = start_local(workers, single_threaded=True)
            else:
                from workbench.cluster.address import check_address

                _clusters[key] = connect(check_address(address, ENV_SCHEDULER))
            if len(_clusters) == 1:
                atexit.register(_close_all)
        cluster = _clusters[key]
    return cluster, cluster.nodes()[:workers]


def _close_all() -> None:
    with _lock:
        for cluster in _clusters.values():
            with contextlib.suppress(Exception):  # shutting down: no one to tell
                cluster.close()
        _clusters.clear()


def parallel_map(fn: Callable[[Sequence[T]], R], items: Sequence[T], *,
                 parts_per_worker: int = 1) -> list[R]:
    """``fn`` applied to each partition of ``items`` on the tier's Dask workers, results
    in partition order (an empty list for no items). ``fn`` must be picklable: a
    module-level function (or a ``functools.partial`` of one), or one Dask's cloudpickle
    can ship by value."""
    if not items:
        return []
    cluster, nodes = _cluster(parallel_workers())
    parts = partition(items, len(nodes) * parts_per_worker)
    futures = cluster.client.map(fn, parts, workers=nodes, allow_other_workers=False,
                                 pure=False)
    done: list[R] = cluster.client.gather(futures)
    return done
