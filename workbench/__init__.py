"""workbench: performance budgets for functional Python data pipelines.

``import workbench`` is deliberately light: it loads the stage model and the error
types only. The reference pipeline (``workbench.rag``) and every heavy library (Polars,
Numba, torch, transformers) load when a variant that needs them first runs.
"""

from __future__ import annotations

# The composition root: the renderers register themselves with the results on import
# (results sit below them in the layers and never import them).
import workbench.render  # noqa: F401
from workbench.errors import (
    ExecutionError,
    InvalidInputError,
    MissingDependencyError,
    UnknownNameError,
    WorkbenchError,
)
from workbench.pipeline import FusionReport, Pipeline
from workbench.stages import EquivalenceResult, Stage, Variant, stage
from workbench.workloads import (
    Workload,
    get_workload,
    register_workload,
    workload,
    workload_names,
)

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext workbench``: register ``%%budget`` and ``%wb`` (IPython loads here)."""
    from workbench.notebook.magics import load

    load(ipython)

__all__ = [
    "EquivalenceResult",
    "ExecutionError",
    "FusionReport",
    "InvalidInputError",
    "MissingDependencyError",
    "Pipeline",
    "Stage",
    "UnknownNameError",
    "Variant",
    "WorkbenchError",
    "Workload",
    "__version__",
    "get_workload",
    "load_ipython_extension",
    "register_workload",
    "stage",
    "workload",
    "workload_names",
]
