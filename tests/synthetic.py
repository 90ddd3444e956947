"""Synthetic measurement workers: decision logic tested on chosen samples, not on the
machine's mood.

A synthetic launcher is a :data:`workbench.measure.launch.Launcher` that answers at once
with a :class:`~workbench.measure.protocol.WorkerRun` whose per-call times come from a
cost function of the job (what the code in the job's checkout would cost), times seeded
log-normal noise: a process effect per worker (``between``) and noise per call
(``within``). The same job and worker index always give the same samples, so a verdict
on them is exact. :func:`use_synthetic_workers` installs it in place of the process
launchers for code that takes none as a parameter (the command line called in-process).

Tests that must prove real measurement keep real workers and effects far above noise.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from workbench.measure.config import MeasureConfig
from workbench.measure.fingerprint import fingerprint
from workbench.measure.launch import Launcher
from workbench.measure.protocol import WorkerRun
from workbench.measure.targets import TargetSpec

__all__ = ["Cost", "constant_in_file", "synthetic_launcher", "use_synthetic_workers"]

#: Per-call nanoseconds of worker ``index`` of a job, given the checkout its code comes from.
Cost = Callable[[TargetSpec, Path, int], float]


def constant_in_file(root: Path, module: str, name: str) -> int:
    """The integer ``NAME = 123`` in ``root/module.py``: what that checkout's code does."""
    text = (root / f"{module}.py").read_text()
    found = re.search(rf"^{name} = ([\d_]+)$", text, re.MULTILINE)
    assert found is not None, f"{name} not set in {root / module}.py"
    return int(found.group(1))


def synthetic_launcher(cost: Cost, root: Path | None = None, *, within: float = 0.02,
                       between: float = 0.01, seed: int = 0,
                       rss_kb: int = 60_000) -> Launcher:
    """A launcher whose worker ``index`` of a job reports ``config.samples`` calls around
    ``cost(spec, root, index)`` ns (``root``: the checkout; default the working
    directory)."""
    env = fingerprint()

    def launch(spec: TargetSpec, config: MeasureConfig, index: int) -> WorkerRun:
        where = root or Path.cwd()
        centre = cost(spec, where, index)
        rng = np.random.default_rng([seed, index, zlib.crc32(f"{spec.key}|{where}".encode())])
        effect = rng.lognormal(0.0, between)
        times = centre * effect * rng.lognormal(0.0, within, config.samples)
        return WorkerRun(index=index, ok=True, batch_ns=tuple(int(t) for t in times),
                         items_per_call=1, warmup_calls=1,
                         warmup_ns=int(centre), first_call_ns=int(centre),
                         rss_peak_kb=rss_kb + index, fingerprint=dict(env))

    return launch


def use_synthetic_workers(monkeypatch: pytest.MonkeyPatch, cost: Cost, *,
                          within: float = 0.02, between: float = 0.01) -> None:
    """Every measurement this process starts (compare, sweep, baseline, check, each side
    of ``check --against``) gets synthetic workers instead of processes."""
    from workbench.budget import checking
    from workbench.cluster.sites import LocalSite
    from workbench.measure import engine

    def site_launcher(self: LocalSite, root: Path | None = None,
                      env_size: int | None = None) -> Launcher:
        return synthetic_launcher(cost, root, within=within, between=between)

    here = synthetic_launcher(cost, within=within, between=between)
    monkeypatch.setattr(LocalSite, "launcher", site_launcher)
    monkeypatch.setattr(engine, "process_launcher", here)
    monkeypatch.setattr(checking, "process_launcher", here)
