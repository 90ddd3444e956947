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
    test starts (kernels, servers, browsers, clusters) inherits the worker's mask.
    """
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
    if not name.startswith("gw") or count < 2 or not hasattr(os, "sched_setaffinity"):
        return
    allowed = sorted(os.sched_getaffinity(0))
    index = int(name[2:])
    if len(allowed) < count or index >= count:
        return
    os.sched_setaffinity(0, allowed[index::count])


_pin_xdist_worker()


#: Module-scoped fixtures too costly to build on every worker (a report, an executed
#: notebook, profiles, a cluster, the model, instruction counts): under pytest-xdist's
#: ``--dist loadgroup`` the tests using one run together on one worker; the other tests
#: of their module spread over the workers like any.
SHARED_FIXTURES = frozenset({"full_report", "decision_log", "own_run", "workbench_run",
                             "flame", "memory", "scheduler", "model", "twice"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("dist", "no") != "loadgroup":
        return
    for item in items:
        if SHARED_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
