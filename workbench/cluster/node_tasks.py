"""What a node runs: the functions the client submits as Dask tasks.

They are plain module-level functions so that a node imports them by name (the node
needs the workbench installed, as it needs the pipeline's code); what they return is
pickled back. Layers above bring tasks of their own the same way (a report notebook:
:func:`workbench.reporting.runner.run_on_node`), calling :func:`node_address` to name the
node. A task never raises for a failed measurement: the failure comes back as a
failed :class:`~workbench.measure.protocol.WorkerRun` with its reason.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.measure.config import MeasureConfig
    from workbench.measure.protocol import WorkerRun
    from workbench.measure.targets import TargetSpec

__all__ = ["node_address", "run_job"]


def node_address() -> str:
    """The address of the Dask worker running this task (``"local"`` outside one)."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "local"


def run_job(spec: TargetSpec, config: MeasureConfig, index: int, root: str | None,
            env_size: int | None, extra_path: list[str]) -> WorkerRun:
    """One fresh, pinned measurement worker started on this node, as on one machine; its
    fingerprint records the node."""
    from workbench.measure.launch import launch_process
    from workbench.measure.protocol import WorkerRun

    node = node_address()
    if root is not None and not Path(root).is_dir():
        return WorkerRun.failed(
            index, f"the checkout {root} is not on node {node}: measuring another checkout "
            "(check --against) through a cluster needs it on a filesystem the nodes share",
            "NodeSetup")
    run = launch_process(spec, config, index, Path(root) if root else None, env_size,
                         extra_path=extra_path)
    return replace(run, fingerprint={**run.fingerprint, "node": node})

