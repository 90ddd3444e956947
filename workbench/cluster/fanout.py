"""Groups of jobs spread over the nodes of a cluster, or run one after another here.

:meth:`Fanout.map` takes one function per group; each is called with the
:class:`~.sites.Site` it runs on and returns its result. Here (:class:`LocalFanout`)
the groups run in order on this machine. On a cluster (:class:`ClusterFanout`) each
group leases a free node for its whole length (so everything it compares is measured on
one machine, one job at a time), the groups run concurrently up to one per node, and a
group whose node is lost is run again, from the start, on another node; with no node
left to try it fails, naming the node and the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from workbench.cluster.sites import NodeLost, NodeSite
from workbench.errors import ExecutionError
from workbench.measure.placement import Done, Fanout, LocalFanout, Work

if TYPE_CHECKING:
    from workbench.cluster.connect import Cluster

__all__ = ["ClusterFanout", "Fanout", "LocalFanout", "fanout_for"]

T = TypeVar("T")


class ClusterFanout:
    """Groups spread over the cluster's nodes, one group per node at a time."""

    remote = True

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.notes: list[str] = []
        self.placed: dict[str, list[str]] = {}  # group label -> the nodes it ran on
        self._busy: set[str] = set()
        self._free = threading.Condition()
        self._stop = threading.Event()  # set when the caller stops waiting (Ctrl-C, error)

    def _lease(self, tried: Sequence[str], label: str) -> str:
        with self._free:
            while True:
                nodes = [n for n in self.cluster.nodes() if n not in tried]
                if not nodes:
                    raise ExecutionError(
                        f"{label}: no node of the cluster at {self.cluster.address} is left "
                        "to run it" + (f" (lost: {', '.join(tried)})" if tried else ""))
                idle = [n for n in nodes if n not in self._busy]
                if idle:
                    node = min(idle, key=lambda n: sum(n in v for v in self.placed.values()))
                    self._busy.add(node)
                    return node
                self._free.wait(timeout=1.0)  # a node frees up, or one joins or leaves

    def _release(self, node: str) -> None:
        with self._free:
            self._busy.discard(node)
            self._free.notify_all()

    def _one(self, fn: Work[T], label: str) -> T:
        tried: list[str] = []
        while True:
            node = self._lease(tried, label)
            self.placed.setdefault(label, []).append(node)
            try:
                return fn(NodeSite(self.cluster, node, self._stop))
            except NodeLost as exc:
                tried.append(node)
                self.notes.append(f"{label}: {exc}; running it again, from the start, on "
                                  "another node")
            finally:
                self._release(node)

    def map(self, work: Sequence[Work[T]], labels: Sequence[str],
            on_done: Done[T] | None = None) -> list[T]:
        if len(work) != len(labels):
            raise ValueError("one label per group of work")
        if not work:
            return []
        width = max(1, min(len(work), len(self.cluster.nodes())))
        pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="workbench-node")
        try:
            futures = [pool.submit(self._one, fn, label)
                       for fn, label in zip(work, labels, strict=True)]
            out = []
            for i, future in enumerate(futures):
                out.append(future.result())
                if on_done is not None:
                    on_done(i, out[-1])
            return out
        except BaseException:  # Ctrl-C or a failed group: the others stop at their next poll
            self._stop.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def fanout_for(cluster: Cluster | None) -> Fanout:
    """A cluster's fan-out, or this machine's (None)."""
    return LocalFanout() if cluster is None else ClusterFanout(cluster)
