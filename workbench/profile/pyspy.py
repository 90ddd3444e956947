"""The py-spy adapter: flame graphs of a stage variant on a workload.

``py-spy record`` runs ``python -m workbench.profile.run_target`` twice with the same
number of calls: once writing collapsed stacks (``--format raw``, the data) and once
writing its interactive SVG (``--format flamegraph``, the picture). py-spy cannot write
both from one recording, and rendering the SVG ourselves would lose py-spy's own
search/zoom script, so the picture is a second sample of the same work. A plain run
of the runner beforehand fixes the number of calls (``duration`` seconds' worth) and
times them without a profiler, which gives the overhead.
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench.errors import ExecutionError, InvalidInputError
from workbench.measure.targets import TargetSpec, WorkloadArg
from workbench.profile._common import (
    Overhead,
    find_tool,
    now,
    read_report,
    run_plain,
    run_tool,
    runner_argv,
    runner_env,
    target_spec,
    workdir,
    write_job,
)
from workbench.profile.flame import Flamegraph, parse_collapsed
from workbench.refs import PipelineArg
from workbench.subproc import run_child

__all__ = ["PTRACE_ADVICE", "flamegraph", "pyspy_argv", "pyspy_error", "retitle"]

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


def _record(executable: str, directory: Path, spec: TargetSpec, fmt: str, *, calls: int,
            rate: int, native: bool, by_line: bool, threads: int,
            timeout: float) -> tuple[dict[str, Any], str]:
    job = write_job(directory, f"pyspy-{fmt}", spec, seconds=0.0, calls=calls, threads=threads)
    output = directory / f"profile.{'txt' if fmt == 'raw' else 'svg'}"
    argv = pyspy_argv(executable, output, fmt, [sys.executable, *runner_argv(job)],
                      rate=rate, native=native, by_line=by_line)
    done = run_tool(argv, what="py-spy", label=spec.label, timeout=timeout,
                    env=runner_env(threads), check=False)
    report_path = directory / f"pyspy-{fmt}.report.json"
    if done.returncode != 0 and not report_path.exists():
        raise pyspy_error(done.stderr + "\n" + done.stdout, spec.label)
    report = read_report(job, what="py-spy", label=spec.label, completed=done)
    if done.returncode != 0:
        raise pyspy_error(done.stderr + "\n" + done.stdout, spec.label)
    if not output.exists():
        raise ExecutionError(f"py-spy wrote no {fmt} output for {spec.label}; its output ends "
                             f"with:\n{(done.stdout + done.stderr).strip()[-2000:]}")
    return report, output.read_text(encoding="utf-8")


def retitle(svg: str, title: str) -> str:
    """py-spy's SVG with ``title`` instead of its command line (temporary paths) on top."""
    return re.sub(r'(<text id="title"[^>]*>)[^<]*(</text>)',
                  lambda m: m.group(1) + html.escape(title) + m.group(2), svg, count=1)


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
    ``keep_artifacts`` the work directory (jobs, reports, py-spy's files) is kept and
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
        plain = run_plain(directory, spec, seconds=float(duration), calls=calls,
                          threads=threads, timeout=timeout)
        n = int(plain["calls"])
        options: dict[str, Any] = {"calls": n, "rate": rate, "native": native,
                                   "by_line": by_line, "threads": threads, "timeout": timeout}
        report, raw = _record(executable, directory, spec, "raw", **options)
        _, svg = _record(executable, directory, spec, "flamegraph", **options)
        return Flamegraph(
            target=spec, rate=rate, native=native, by_line=by_line,
            stacks=parse_collapsed(raw),
            svg=retitle(svg, f"{spec.label} on {spec.workload or '-'}: {n} calls, {rate} Hz"),
            overhead=Overhead(n, float(plain["loop_s"]), float(report["loop_s"])),
            tool=_version(executable), created_at=now(),
            artifacts=str(directory) if keep_artifacts else None,
        )
