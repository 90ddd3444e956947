"""Starting measurement workers: fresh processes, pinned, with a timeout.

A launcher turns one job into a :class:`WorkerRun`. The default starts
``python -m workbench.measure.worker`` through :func:`workbench.subproc.run_child`;
the in-process launcher runs the same protocol here; tests inject their own.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from workbench.measure.config import MeasureConfig
from workbench.measure.fingerprint import THREAD_VARIABLES, fingerprint
from workbench.measure.protocol import Clock, WorkerRun, run_protocol
from workbench.measure.targets import Prepared, TargetSpec, prepare
from workbench.measure.worker import SCHEMA_VERSION
from workbench.subproc import ChildFailed, ChildTimedOut, run_child

__all__ = [
    "Launcher", "code_launcher", "contention_cpus", "environment_size", "import_path",
    "inprocess_launcher", "launch_process", "padded_env", "process_launcher",
    "worker_cpus", "worker_env",
]

Launcher = Callable[[TargetSpec, MeasureConfig, int], WorkerRun]


def worker_cpus(config: MeasureConfig) -> list[int] | None:
    """The CPUs a worker is pinned to: the last ``threads`` allowed ones (CPU 0 stays free
    for the parent and the system when there is more than one)."""
    if not config.pin or not hasattr(os, "sched_getaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    return allowed[-config.threads:] if len(allowed) > config.threads else allowed


def contention_cpus(config: MeasureConfig) -> list[int] | None:
    """The CPUs a worker may widen to while N threads share a cached variant's memo
    tables: the last ``contention_threads`` allowed ones (workers run one at a time)."""
    if not config.pin or not hasattr(os, "sched_getaffinity"):
        return None
    return sorted(os.sched_getaffinity(0))[-config.contention_threads:]


def worker_env(config: MeasureConfig, root: Path | None = None,
               extra_path: Sequence[str] = ()) -> dict[str, str]:
    """The environment of a worker: thread counts, hash seed, and a ``PYTHONPATH`` that
    finds what this process finds (``root`` first, when given: another checkout; then
    ``extra_path``: what the client of a cluster node finds)."""
    env = dict(os.environ)
    for var in THREAD_VARIABLES:
        if var != "OPENBLAS_CORETYPE":  # a machine setting, left alone
            env[var] = str(config.threads)
    env["PYTHONHASHSEED"] = str(config.seed)
    env["WORKBENCH_PARALLEL_WORKERS"] = str(config.threads)  # the parallel tier's width
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(
        [*([str(root)] if root is not None else []), *import_path(), *extra_path,
         *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]))
    return env


def import_path() -> list[str]:
    """The directories on this process's ``sys.path`` that a fresh interpreter would not
    have (a notebook's or the CLI's working directory, paths a user added), so that
    workers import the same modules. Directories of the interpreter itself are left out."""
    own = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    extra = []
    for entry in sys.path:
        path = Path(entry or os.getcwd()).resolve()
        if path.is_dir() and not any(path.is_relative_to(o) for o in own):
            extra.append(str(path))
    return extra


def process_launcher(spec: TargetSpec, config: MeasureConfig, index: int) -> WorkerRun:
    """Run one fresh worker process; a dead or hung worker becomes a failed run."""
    return launch_process(spec, config, index, None)


def code_launcher(root: Path, *, env_size: int | None = None) -> Launcher:
    """A process launcher whose workers import their code from ``root`` first.

    ``root`` is a checkout (e.g. a git worktree of another commit): its directory leads
    ``PYTHONPATH`` and is the worker's working directory, so its ``workbench`` and its
    pipeline modules are measured instead of this process's. With ``env_size``, the
    worker's environment is padded (``WORKBENCH_ENV_PAD``) to that many bytes, so that two
    launchers for two checkouts give their workers environments of equal size: the size
    of the environment moves the initial stack, which can change timings by itself
    (Mytkowicz et al., "Producing wrong data without doing anything obviously wrong!",
    ASPLOS 2009).
    """
    def launch(spec: TargetSpec, config: MeasureConfig, index: int) -> WorkerRun:
        return launch_process(spec, config, index, root, env_size)

    return launch


def environment_size(env: dict[str, str]) -> int:
    """Bytes the environment takes in a new process (``KEY=VALUE`` and a NUL each)."""
    return sum(len(k.encode()) + len(v.encode()) + 2 for k, v in env.items())


def padded_env(env: dict[str, str], size: int | None) -> dict[str, str]:
    """``env`` padded with ``WORKBENCH_ENV_PAD`` to ``size`` bytes (None: as it is)."""
    if size is None:
        return env
    missing = size - environment_size(env) - len("WORKBENCH_ENV_PAD=") - 1
    return {**env, "WORKBENCH_ENV_PAD": "x" * max(0, missing)}


def launch_process(spec: TargetSpec, config: MeasureConfig, index: int,
                   root: Path | None, env_size: int | None = None, *,
                   extra_path: Sequence[str] = ()) -> WorkerRun:
    """One fresh worker process for job ``index`` (what every process launcher does; a
    cluster node runs it too, :mod:`workbench.cluster.node_tasks`)."""
    job = {"schema_version": SCHEMA_VERSION, "index": index, "target": spec.job_json(),
           "config": config.to_json(), "cpus": worker_cpus(config),
           "contention_cpus": contention_cpus(config)}
    what = f"measurement worker {index} ({spec.label})"
    try:
        env = padded_env(worker_env(config, root, extra_path), env_size)
        done = run_child([sys.executable, "-m", "workbench.measure.worker"], what=what,
                         timeout=config.timeout, stdin=json.dumps(job), env=env, cwd=root)
    except ChildTimedOut as exc:
        return WorkerRun.failed(index, str(exc), "Timeout")
    except ChildFailed as exc:
        return WorkerRun.failed(index, str(exc), "WorkerDied")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return WorkerRun.failed(index, f"{what} printed no result; stderr: {done.stderr[-2000:]}",
                                "ProtocolError")
    record: dict[str, Any] = json.loads(lines[-1])
    if record.get("schema_version") != SCHEMA_VERSION:
        return WorkerRun.failed(index, f"{what} answered with schema "
                                f"{record.get('schema_version')!r}, expected {SCHEMA_VERSION}",
                                "ProtocolError")
    return WorkerRun.from_json(record)


def inprocess_launcher(
    clock: Clock | None = None, prepared: dict[str, Prepared] | None = None
) -> Launcher:
    """A launcher that runs the protocol in this process (interactive use, tests).

    ``prepared`` caches the prepared call per target label, so repeated "workers" of one
    target do not rebuild its input.
    """
    cache: dict[str, Prepared] = prepared if prepared is not None else {}

    def launch(spec: TargetSpec, config: MeasureConfig, index: int) -> WorkerRun:
        try:
            if spec.key not in cache:
                cache[spec.key] = prepare(spec)
            kwargs = {"clock": clock} if clock is not None else {}
            run = run_protocol(cache[spec.key], config, index=index, fresh_process=False,
                               **kwargs)
        except Exception as exc:
            run = WorkerRun.failed(index, exc)
        return replace(run, fingerprint=fingerprint())

    return launch
