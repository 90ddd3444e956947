"""workbench: performance budgets for functional Python data pipelines.

``import workbench`` is deliberately light: it loads the stage model, the equivalence
predicates (``exact``, ``floats``, ``arrays``, ``frames``, ``embeddings``, ``same_items``
and their factories ``close``, ``allclose``, ``frame_equal``, ``cosine``), the error types,
the cached tier's ``MemoTable`` and ``BatchSequence``, and the registrations of the
renderers and profilers only. The reference pipeline (``workbench.rag``) and every heavy
library (Polars, Numba, torch, transformers) load when a variant that needs them first
runs.
"""

from __future__ import annotations

# The composition root: the renderers register themselves with the results on import,
# the profilers their result kinds (results sit below both and never import them).
import workbench.profile.registry
import workbench.render  # noqa: F401
from workbench.batches import BatchSequence
from workbench.errors import (
    ExecutionError,
    InvalidInputError,
    MissingDependencyError,
    UnknownNameError,
    WorkbenchError,
)
from workbench.memo import MemoTable
from workbench.pipeline import FusionReport, Pipeline
from workbench.predicates import (
    Equivalence,
    EquivalenceResult,
    allclose,
    arrays,
    close,
    cosine,
    embeddings,
    exact,
    floats,
    frame_equal,
    frames,
    same_items,
)
from workbench.stages import Stage, Variant, stage
from workbench.version import __version__
from workbench.workloads import (
    Workload,
    get_workload,
    register_workload,
    workload,
    workload_names,
)


def note(key: str, text: str) -> None:
    """Record, from inside a variant, what it decided at run time and why (a back end,
    a thread count): the measurement of the run shows it (:mod:`workbench.notes`)."""
    from workbench.notes import record

    record(key, text)


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext workbench``: register ``%%budget`` and ``%wb`` (IPython loads here)."""
    from workbench.notebook.magics import load

    load(ipython)


__all__ = [
    "BatchSequence",
    "Equivalence",
    "EquivalenceResult",
    "ExecutionError",
    "FusionReport",
    "InvalidInputError",
    "MemoTable",
    "MissingDependencyError",
    "Pipeline",
    "Stage",
    "UnknownNameError",
    "Variant",
    "WorkbenchError",
    "Workload",
    "__version__",
    "allclose",
    "arrays",
    "close",
    "cosine",
    "embeddings",
    "exact",
    "floats",
    "frame_equal",
    "frames",
    "get_workload",
    "load_ipython_extension",
    "note",
    "register_workload",
    "same_items",
    "stage",
    "workload",
    "workload_names",
]
