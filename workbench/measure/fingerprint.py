"""The environment a measurement was taken in, stored with every result.

Read without importing the heavy packages: versions come from package metadata, the BLAS
from numpy's build configuration, the CPU from ``/proc/cpuinfo``.
"""

from __future__ import annotations

import os
import platform
import sys
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from workbench.subproc import git_output

__all__ = ["KEY_PACKAGES", "THREAD_VARIABLES", "comparable", "fingerprint"]

KEY_PACKAGES = ("numpy", "polars", "numba", "torch", "transformers", "onnxruntime", "scipy")
THREAD_VARIABLES = (
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS",
    "POLARS_MAX_THREADS", "OPENBLAS_CORETYPE",
)
#: Fields that must match for two measurements to be compared.
COMPARABLE_FIELDS = ("cpu_model", "python", "packages")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in KEY_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


@cache
def _git_sha(directory: str) -> str | None:
    """The commit checked out in the repository around ``directory`` (the measured code's:
    a worker runs in the user's working directory, or in the ``--against`` worktree)."""
    return git_output("rev-parse", "HEAD", cwd=directory, timeout=5)


def _workbench_version() -> str | None:
    try:
        return metadata.version("funcpipe-workbench")
    except metadata.PackageNotFoundError:
        return None


def _blas() -> str | None:
    try:
        import numpy as np

        config: Any = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # numpy's config layout is not a stable API
        return None


@cache
def _static() -> dict[str, Any]:
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "packages": _versions(),
        "blas": _blas(),
        "workbench_version": _workbench_version(),
    }


def fingerprint() -> dict[str, Any]:
    """A JSON-ready description of this process's machine, software and thread settings."""
    return {
        **_static(),
        "git_sha": _git_sha(os.getcwd()),
        "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "thread_env": {k: os.environ.get(k) for k in THREAD_VARIABLES},
    }


def comparable(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The fields on which two fingerprints differ that make their timings incomparable."""
    return [f for f in COMPARABLE_FIELDS if a.get(f) != b.get(f)]
