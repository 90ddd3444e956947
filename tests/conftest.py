"""Shared test settings: Hypothesis profiles (a slower machine must not flake on deadlines),
and under pytest-xdist (``make test``) each worker process kept to CPUs of its own.

Markers (declared in pyproject.toml) say what a test needs, so that a tier can leave it
out: ``slow`` (a real model, notebook or subprocess), ``browser``, ``kernel``,
``valgrind``, ``cluster``; and ``timing``: its assertions depend on what real wall-clock
timings decide, so ``make test`` runs every such test on one xdist worker, one at a
time, never beside another timing test (the other worker runs the rest meanwhile).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


#: The marks of tests that take the longest, costliest first (see below).
HEAVY = ("valgrind", "kernel", "timing", "browser", "cluster", "slow")


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``make test`` (pytest-xdist, ``--dist loadgroup``) tests run in groups, a
    group on one worker: every test marked ``timing`` in one group, so that tests whose
    assertions depend on real wall-clock timings run one at a time and never share the
    machine with each other; every other test with the rest of its file, so that module
    fixtures are built once. Groups are handed out in collection order, so the groups
    holding the slowest tests come first: no worker is left with minutes of Valgrind or
    kernels at the end while the others idle."""
    # an xdist worker sees its own "dist" as "no" and the controller's choice as loadgroup
    if not getattr(config.option, "loadgroup", False):
        return
    weight: dict[str, int] = {}
    groups: dict[str, str] = {}
    for item in items:
        group = "timing" if item.get_closest_marker("timing") else item.nodeid.split("::")[0]
        marks = [i for i, name in enumerate(HEAVY) if item.get_closest_marker(name)]
        weight[group] = min([weight.get(group, len(HEAVY)), *marks])
        groups[item.nodeid] = group
        item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: weight[groups[item.nodeid]])


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown where xdist is not loaded
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """pytest-xdist marks a grouped test by a suffix on its id; where a pytest release
    keeps it from doing so (pytest-dev/pytest-xdist#1386), the tests would be spread one
    by one and timing tests could run side by side: stop the run, saying why."""
    grouped = node.config.getoption("dist", "no") == "loadgroup"
    if grouped and ids and all("@" not in nodeid for nodeid in ids):
        pytest.exit("pytest-xdist did not apply the test groups of --dist loadgroup: this "
                    f"pytest {pytest.__version__} is not one it supports (see the pytest pin "
                    "in pyproject.toml)", returncode=4)


@pytest.fixture(scope="module")
def loops_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A git repository of :mod:`loops_repo` (HEAD does 2 % more work than HEAD~1), the
    working directory and first on the import path while the module's tests run."""
    from loops_repo import loops_repo

    with loops_repo(tmp_path_factory) as root:
        yield root


@pytest.fixture(scope="module")
def shell() -> Any:
    """An IPython shell with the workbench extension loaded (one per process)."""
    from IPython.terminal.interactiveshell import TerminalInteractiveShell
    from IPython.testing.globalipapp import start_ipython

    start_ipython()  # the first call in a process makes the shell; later ones return None
    ip = TerminalInteractiveShell.instance()
    ip.run_line_magic("load_ext", "workbench")
    return ip


@pytest.fixture
def fresh_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test's own directory, and a workbench session of it (nothing left from others)."""
    import workbench.notebook.session as sessions

    monkeypatch.chdir(tmp_path)
    sessions.reset(sessions.Session.for_directory(tmp_path))
    yield
