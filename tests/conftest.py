"""Shared test settings: Hypothesis profiles (a slower machine must not flake on deadlines),
and under pytest-xdist (``make test``) each worker process kept to CPUs of its own.

Markers (declared in pyproject.toml) say what a test needs, so that a tier can leave it
out: ``slow`` (a real model, notebook or subprocess), ``browser``, ``kernel``,
``valgrind``, ``cluster``; and ``timing``: its assertions depend on what real wall-clock
timings decide, so ``make test`` runs it after the parallel pass, one test at a time.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


def _pin_xdist_worker() -> None:
    """Worker ``gwN`` of ``W`` keeps the CPUs ``N, N + W, ...`` of this process's mask.

    Measurement workers pin themselves to the last CPUs of their parent's mask
    (``workbench.measure.launch.worker_cpus``): without this, the measurement processes
    of every xdist worker would queue on the same CPU while the others idle. Everything a
    test starts (kernels, servers, browsers, clusters) inherits the worker's mask, and the
    numeric libraries' thread pools are sized to it (unless already set): a pool of two
    threads on one CPU spins against itself.
    """
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
    if not name.startswith("gw") or count < 2 or not hasattr(os, "sched_setaffinity"):
        return
    allowed = sorted(os.sched_getaffinity(0))
    index = int(name[2:])
    if len(allowed) < count or index >= count:
        return
    mine = allowed[index::count]
    os.sched_setaffinity(0, mine)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "NUMBA_NUM_THREADS", "POLARS_MAX_THREADS"):
        os.environ.setdefault(var, str(len(mine)))


_pin_xdist_worker()



#: The marks of tests that take the longest, costliest first. Under ``make test`` a file's
#: tests run on one xdist worker (``--dist loadfile``: module fixtures are built once)
#: and files are handed out in collection order, so files with such tests come first: no
#: worker is left with minutes of Valgrind or kernels at the end while the others idle.
HEAVY = ("valgrind", "kernel", "browser", "cluster", "slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("dist", "no") != "loadfile":
        return
    weight: dict[str, int] = {}
    for item in items:
        marks = [i for i, name in enumerate(HEAVY) if item.get_closest_marker(name)]
        path = item.nodeid.split("::")[0]
        weight[path] = min([weight.get(path, len(HEAVY)), *marks])
    items.sort(key=lambda item: weight[item.nodeid.split("::")[0]])
