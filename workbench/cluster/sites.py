"""Where one group of jobs runs: this machine (:class:`LocalSite`) or one node of a
cluster (:class:`NodeSite`).

A group is everything that must be measured on one machine to be compared: the variants
of one comparison, both sides of ``check --against``. A site gives the engine its
:data:`~workbench.measure.launch.Launcher`, so the engine interleaves the group's jobs
there exactly as it does here. On a node, each job is a Dask task that starts the same
fresh, pinned worker process; the client waits for it, watching that the node is still
there (a lost node raises :class:`NodeLost`; the fan-out re-runs the group elsewhere) and
that the job's time is not up (a failed run with the reason, never a hang).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from workbench.errors import ExecutionError
from workbench.measure.launch import Launcher, import_path
from workbench.measure.placement import LocalSite, Site
from workbench.measure.protocol import WorkerRun

if TYPE_CHECKING:
    from workbench.cluster.connect import Cluster
    from workbench.measure.config import MeasureConfig
    from workbench.measure.targets import TargetSpec

__all__ = ["GRACE", "LocalSite", "NodeLost", "NodeSite", "Site"]

T = TypeVar("T")
#: Seconds a node task may take beyond the measurement worker's own timeout (scheduling,
#: shipping the job and its answer).
GRACE = 30.0
#: How often the client looks whether a node it waits on is still in the cluster.
POLL = 0.5


class NodeLost(ExecutionError):
    """The node running a group's jobs left the cluster (killed, crashed, unreachable)."""

    def __init__(self, node: str, what: str) -> None:
        self.node = node
        super().__init__(f"node {node} left the cluster while running {what}")


class NodeSite:
    """One node (Dask worker) of a cluster."""

    remote = True

    def __init__(self, cluster: Cluster, node: str,
                 stop: threading.Event | None = None) -> None:
        self.cluster = cluster
        self.node = node
        self.stop = stop or threading.Event()

    @property
    def name(self) -> str:
        return self.node

    def call(self, fn: Callable[..., T], *args: Any, timeout: float | None,
             what: str) -> T:
        """``fn(*args)`` as a task on this node only; :class:`NodeLost` if the node leaves,
        :class:`ExecutionError` if the task fails, ``timeout`` seconds pass or the fan-out
        is stopped (its task is then cancelled)."""
        future = self.cluster.client.submit(fn, *args, workers=[self.node],
                                            allow_other_workers=False, pure=False)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                try:
                    result: T = future.result(timeout=POLL)
                    return result
                except TimeoutError:
                    pass
                except Exception as exc:
                    if self.node not in self.cluster.nodes():
                        raise NodeLost(self.node, what) from None
                    raise ExecutionError(f"{what} failed on node {self.node}: "
                                         f"{type(exc).__name__}: {exc}") from None
                if self.stop.is_set():
                    raise ExecutionError(f"{what} on node {self.node}: stopped")
                if self.node not in self.cluster.nodes():
                    raise NodeLost(self.node, what)
                if deadline is not None and time.monotonic() > deadline:
                    raise ExecutionError(f"{what} on node {self.node} did not finish within "
                                         f"{timeout:g} s")
        finally:
            if not future.done():
                future.cancel()

    def launcher(self, root: Path | None = None, env_size: int | None = None) -> Launcher:
        from workbench.cluster.node_tasks import run_job
        from workbench.measure.targets import TargetSpec

        extra = import_path()  # a node on this machine finds what the client finds

        def launch(spec: TargetSpec, config: MeasureConfig, index: int) -> WorkerRun:
            what = f"measurement worker {index} ({spec.label})"
            shipped = TargetSpec.from_json(spec.job_json())  # code packed, as for a worker
            try:
                return self.call(run_job, shipped, config, index,
                                 None if root is None else str(root), env_size, extra,
                                 timeout=config.timeout + GRACE, what=what)
            except NodeLost:
                raise
            except ExecutionError as exc:
                return WorkerRun.failed(index, str(exc), "NodeError",
                                        fingerprint={"node": self.node})

        return launch
