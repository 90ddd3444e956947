"""A connection to a Dask cluster: a scheduler somewhere, or a local cluster started here.

Each Dask worker is one *node* of the workbench: it runs one measurement job at a time
(:mod:`.fanout` leases it to one group of jobs), so start workers with ``--nthreads 1``
and, on a shared machine, pin each to its own CPUs (``taskset -c 3 dask worker ...``);
the measurement workers it starts inherit its CPU mask. A local cluster (``local:N``)
does this itself: N single-threaded worker processes, each pinned to its own CPU of the
ones this process may use.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from workbench.cluster.address import local_workers
from workbench.errors import ExecutionError

__all__ = ["Cluster", "ClusterUnreachable", "connect", "connected", "start_local"]

#: Seconds to wait for the scheduler (and for its first worker).
CONNECT_TIMEOUT = 10.0


class ClusterUnreachable(ExecutionError):
    """The scheduler did not answer, or has no workers."""


def _distributed() -> Any:
    import distributed  # a core dependency, imported only when a cluster is used

    return distributed


def _pin_self(cpus: list[int]) -> list[int]:
    """Run on a worker: restrict its process (and what it starts) to ``cpus``."""
    os.sched_setaffinity(0, cpus)
    return sorted(os.sched_getaffinity(0))


class Cluster:
    """A connected client, the scheduler's address, and the local cluster if we started
    one. Close it (or use :func:`connected`) to stop that local cluster."""

    def __init__(self, address: str, client: Any, local: Any | None = None) -> None:
        self.address = address
        self.client = client
        self.local = local

    def nodes(self) -> list[str]:
        """The addresses of the workers the scheduler knows now, sorted."""
        info = self.client.scheduler_info()
        return sorted(info.get("workers", {}))

    def node_cpus(self) -> dict[str, list[int]]:
        """Each node's CPU mask, as the node itself reports it."""
        got: dict[str, list[int]] = self.client.run(
            lambda: sorted(os.sched_getaffinity(0)))
        return got

    def close(self) -> None:
        self.client.close()
        if self.local is not None:
            self.local.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Cluster({self.address!r}, {len(self.nodes())} nodes)"


def start_local(count: int, *, single_threaded: bool = False) -> Cluster:
    """A local cluster of ``count`` worker processes, one thread each, each pinned to one
    CPU of this process's mask (in turn, when there are more workers than CPUs). With
    ``single_threaded`` the numeric libraries in each worker get one thread too."""
    from workbench.measure.fingerprint import THREAD_VARIABLES

    distributed = _distributed()
    env = {v: "1" for v in THREAD_VARIABLES if v != "OPENBLAS_CORETYPE"} \
        if single_threaded else {}
    local = distributed.LocalCluster(
        n_workers=count, threads_per_worker=1, processes=True, dashboard_address=":0",
        silence_logs=logging.ERROR, env=env)
    client = distributed.Client(local, set_as_default=False)
    if hasattr(os, "sched_getaffinity"):
        allowed = sorted(os.sched_getaffinity(0))
        for i, node in enumerate(sorted(client.scheduler_info()["workers"])):
            client.run(_pin_self, [allowed[i % len(allowed)]], workers=[node])
    return Cluster(f"local:{count}", client, local)


def _probe(address: str, timeout: float) -> None:
    """A plain TCP connect first, so that a refused or unresolvable tcp:// address fails
    at once (Dask's client retries until its timeout) with the socket's own reason."""
    scheme, _, rest = address.partition("://")
    if scheme != "tcp":
        return
    host, _, port = rest.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ClusterUnreachable(
            f"cannot reach the Dask scheduler at {address!r} ({exc.strerror or exc}); "
            "start one with `dask scheduler` and `dask worker ADDRESS --nthreads 1`, or "
            "measure on this machine by leaving --cluster out (and "
            "DASK_SCHEDULER_ADDRESS unset)") from None


def connect(address: str, *, timeout: float = CONNECT_TIMEOUT) -> Cluster:
    """Connect to the scheduler at ``address`` (checked by
    :func:`~.address.check_address`), or start ``local:N``. An unreachable scheduler, or
    one without workers after ``timeout`` seconds, raises :class:`ClusterUnreachable`
    naming the address."""
    count = local_workers(address)
    if count is not None:
        return start_local(count)
    distributed = _distributed()
    _probe(address, timeout)
    try:
        client = distributed.Client(address, timeout=f"{timeout}s",
                                    set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterUnreachable(
            f"cannot reach the Dask scheduler at {address!r} within {timeout:g} s "
            f"({type(exc).__name__}: {exc}); start one with `dask scheduler` and "
            "`dask worker ADDRESS --nthreads 1`, or measure on this machine by leaving "
            "--cluster out (and DASK_SCHEDULER_ADDRESS unset)") from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        client.close()
        raise ClusterUnreachable(
            f"the Dask scheduler at {address!r} has no workers after {timeout:g} s; start "
            f"one with `dask worker {address} --nthreads 1`") from None
    return Cluster(address, client)


@contextmanager
def connected(address: str | None) -> Iterator[Cluster | None]:
    """A cluster for the length of a command (None: no address, this machine alone)."""
    if address is None:
        yield None
        return
    cluster = connect(address)
    try:
        yield cluster
    finally:
        cluster.close()
