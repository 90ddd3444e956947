"""The py-spy adapter: flame graphs of a stage variant on a workload.

``py-spy record --format raw`` runs ``python -m workbench.profile.run_target`` once and
writes collapsed stacks: the data, from which :mod:`workbench.render.profile` draws the
flame graph (rooted at the stage, no script). A plain run of the runner beforehand fixes
the number of calls (``duration`` seconds' worth) and times them without a profiler,
which gives the overhead (the shared sequence, :func:`~workbench.profile._common.profiled_run`).

``native=True`` asks py-spy for the C/C++ frames too (``--native``). Where py-spy cannot
unwind native stacks (an unsupported platform, a failed unwind), the flame graph is
sampled again without it and says so: its ``tool`` names the failure
(:func:`native_fallback` reads it back), and the hotspot hint repeats it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
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

__all__ = ["NATIVE_FALLBACK", "PTRACE_ADVICE", "flamegraph", "native_fallback", "pyspy_argv",
           "pyspy_error"]

FEATURE = "flame graphs (py-spy)"
PTRACE_ADVICE = (
    "py-spy was not permitted to read the target process's memory (ptrace was denied): "
    "run as root, or set kernel.yama.ptrace_scope=0 (sudo sysctl -w "
    "kernel.yama.ptrace_scope=0), or use --cap-add SYS_PTRACE in containers "
    "(docker run --cap-add SYS_PTRACE ...; in Kubernetes, securityContext.capabilities.add: "
    "[SYS_PTRACE])"
)
#: How a flame graph's ``tool`` says that ``--native`` failed and it was sampled without.
NATIVE_FALLBACK = "--native failed, sampled without it: "
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


class _NativeFailed(ExecutionError):
    """py-spy failed on a ``--native`` run for a reason other than ptrace."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def native_fallback(flame: Flamegraph) -> str | None:
    """Why ``--native`` failed for ``flame`` (sampled without it), or None."""
    _, found, reason = flame.tool.partition(NATIVE_FALLBACK)
    return reason or None if found else None


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
    record = functools.partial(
        _record, executable, spec, rate=rate, by_line=by_line, duration=float(duration),
        calls=calls, threads=threads, timeout=timeout, keep_artifacts=keep_artifacts)
    fallback = ""
    if native:
        try:
            return record(native=True)
        except _NativeFailed as exc:
            fallback = NATIVE_FALLBACK + exc.reason
    flame = record(native=False)
    return replace(flame, tool=f"{flame.tool}; {fallback}") if fallback else flame


def _record(executable: str, spec: TargetSpec, *, native: bool, rate: int, by_line: bool,
            duration: float, calls: int | None, threads: int, timeout: float,
            keep_artifacts: bool) -> Flamegraph:
    """One py-spy recording of ``spec`` (see :func:`flamegraph`); with ``native``, a
    py-spy failure other than a ptrace denial is a :class:`_NativeFailed`."""
    def failed(output: str) -> ExecutionError:
        error = pyspy_error(output, spec.label)
        if native and PTRACE_ADVICE not in str(error):
            lines = [ln.strip() for ln in output.splitlines()
                     if ln.strip() and not ln.startswith("py-spy>")]
            return _NativeFailed(str(error), lines[-1][:300] if lines else "no message")
        return error

    with workdir(keep_artifacts) as directory:
        output = directory / "profile.txt"

        def argv(job: Path) -> list[str]:
            return pyspy_argv(executable, output, "raw", [sys.executable, *runner_argv(job)],
                              rate=rate, native=native, by_line=by_line)

        run = profiled_run(
            directory, spec, argv, what="py-spy", seconds=duration, calls=calls,
            threads=threads, timeout=timeout, outputs=(output,),
            tool_error=lambda done: failed(done.stderr + "\n" + done.stdout))
        return Flamegraph(
            target=spec, rate=rate, native=native, by_line=by_line,
            stacks=parse_collapsed(output.read_text(encoding="utf-8")),
            overhead=run.overhead, tool=_version(executable), created_at=now(),
            artifacts=str(directory) if keep_artifacts else None,
        )
