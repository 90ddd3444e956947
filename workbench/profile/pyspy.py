"""The py-spy adapter: flame graphs of a stage variant on a workload.

``py-spy record --format raw`` runs ``python -m workbench.profile.run_target`` once and
writes collapsed stacks: the data, from which :mod:`workbench.render.profile` draws the
flame graph (rooted at the stage, no script). A plain run of the runner beforehand fixes
the number of calls (``duration`` seconds' worth) and times them without a profiler,
which gives the overhead (the shared sequence, :func:`~workbench.profile._common.profiled_run`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench.errors import ExecutionError, InvalidInputError
from workbench.measure.targets import TargetSpec, WorkloadArg
from workbench.profile._common import (
    find_tool,
    now,
    profiled_run,
    runner_argv,
    target_spec,
    workdir,
)
from workbench.profile.flame import Flamegraph, parse_collapsed
from workbench.refs import PipelineArg
from workbench.subproc import run_child

__all__ = ["PTRACE_ADVICE", "flamegraph", "pyspy_argv", "pyspy_error"]

FEATURE = "flame graphs (py-spy)"
PTRACE_ADVICE = (
    "py-spy was not permitted to read the target process's memory (ptrace was denied): "
    "run as root, or set kernel.yama.ptrace_scope=0 (sudo sysctl -w "
    "kernel.yama.ptrace_scope=0), or use --cap-add SYS_PTRACE in containers "
    "(docker run --cap-add SYS_PTRACE ...; in Kubernetes, securityContext.capabilities.add: "
    "[SYS_PTRACE])"
)
_DENIED = ("permission denied", "operation not permitted", "ptrace", "sys_ptrace", "eperm")


def pyspy_argv(executable: str, output: Path, fmt: str, program: Sequence[str], *,
               rate: int = 100, native: bool = False, by_line: bool = False) -> list[str]:
    """The ``py-spy record`` command line that profiles ``program`` into ``output``."""
    if fmt not in ("raw", "flamegraph", "speedscope"):
        raise InvalidInputError(f"py-spy format must be raw, flamegraph or speedscope; got {fmt!r}")
    argv = [executable, "record", "--format", fmt, "--output", str(output),
            "--rate", str(rate)]
    if native:
        argv.append("--native")
    if not by_line:
        argv.append("--function")  # one frame per function (its first line), not per line
    return [*argv, "--", *program]


def pyspy_error(output: str, label: str) -> ExecutionError:
    """The error for a failed py-spy run: ptrace denial gets the advice, others the reason."""
    lowered = output.lower()
    if any(word in lowered for word in _DENIED):
        return ExecutionError(f"py-spy could not sample {label}: {PTRACE_ADVICE}")
    lines = [ln.strip() for ln in output.splitlines()
             if ln.strip() and not ln.startswith("py-spy>")]
    reason = "\n".join(lines[-6:]) or "no message"
    return ExecutionError(f"py-spy failed while profiling {label}: {reason}")


def _version(executable: str) -> str:
    try:
        done = run_child([executable, "--version"], what="py-spy --version", timeout=30)
    except ExecutionError:
        return "py-spy"
    return done.stdout.strip() or "py-spy"


def flamegraph(
    stage: str | TargetSpec,
    workload: WorkloadArg | None = None,
    variant: str = "pure",
    *,
    pipeline: PipelineArg = None,
    rate: int = 100,
    native: bool = False,
    duration: float = 2.0,
    calls: int | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    by_line: bool = False,
    threads: int = 1,
    timeout: float = 300.0,
    keep_artifacts: bool = False,
) -> Flamegraph:
    """Sample ``stage``'s ``variant`` on ``workload`` with py-spy at ``rate`` Hz.

    The target is called for ``duration`` seconds (or exactly ``calls`` times) after one
    warm-up call. ``native`` adds C/C++ frames; ``by_line`` keeps one frame per line
    instead of per function. ``timeout`` bounds each child process. With
    ``keep_artifacts`` the work directory (jobs, reports, py-spy's stacks) is kept and
    named in the result.
    """
    if not isinstance(rate, int) or isinstance(rate, bool) or not 1 <= rate <= 10_000:
        raise InvalidInputError(f"rate must be an integer from 1 to 10000 Hz; got {rate!r}")
    if not isinstance(duration, int | float) or not duration > 0:
        raise InvalidInputError(f"duration must be > 0 seconds; got {duration!r}")
    if calls is not None and (not isinstance(calls, int) or calls < 1):
        raise InvalidInputError(f"calls must be an integer >= 1; got {calls!r}")
    spec = target_spec(stage, workload, variant, params, pipeline)
    executable = find_tool("py-spy", feature=FEATURE)
    with workdir(keep_artifacts) as directory:
        output = directory / "profile.txt"

        def argv(job: Path) -> list[str]:
            return pyspy_argv(executable, output, "raw", [sys.executable, *runner_argv(job)],
                              rate=rate, native=native, by_line=by_line)

        run = profiled_run(
            directory, spec, argv, what="py-spy", seconds=float(duration), calls=calls,
            threads=threads, timeout=timeout, outputs=(output,),
            tool_error=lambda done: pyspy_error(done.stderr + "\n" + done.stdout, spec.label))
        return Flamegraph(
            target=spec, rate=rate, native=native, by_line=by_line,
            stacks=parse_collapsed(output.read_text(encoding="utf-8")),
            overhead=run.overhead, tool=_version(executable), created_at=now(),
            artifacts=str(directory) if keep_artifacts else None,
        )
