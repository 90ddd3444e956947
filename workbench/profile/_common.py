"""What the profiler adapters share: the target, the work directory, the run sequence.

Every adapter follows one sequence, :func:`profiled_run`: a plain run of
``python -m workbench.profile.run_target`` fixes the number of calls (``seconds``' worth,
or exactly ``calls``) and times them without a profiler; then the same number of calls
runs under the tool; the runner's report under the tool and the two loop times (the
:class:`Overhead`) come back to the adapter, which parses the tool's own files.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.errors import ExecutionError, InvalidInputError, MissingDependencyError
from workbench.measure.targets import TargetSpec, WorkloadArg, stage_target
from workbench.profile._protocol import JOB_SCHEMA
from workbench.refs import PipelineArg
from workbench.subproc import ChildTimedOut, Completed, run_child

__all__ = [
    "Overhead",
    "ProfiledRun",
    "find_tool",
    "now",
    "profiled_run",
    "read_report",
    "run_plain",
    "run_tool",
    "runner_argv",
    "runner_env",
    "short_path",
    "split_frame",
    "target_spec",
    "workdir",
    "write_job",
]

RUNNER = "workbench.profile.run_target"
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the directory holding workbench/


@dataclass(frozen=True, slots=True)
class Overhead:
    """Wall time of the same ``calls`` calls without and with the profiler."""

    calls: int
    plain_s: float
    profiled_s: float

    @property
    def pct(self) -> float | None:
        """How much longer the calls took under the profiler, in percent."""
        return (self.profiled_s / self.plain_s - 1.0) * 100.0 if self.plain_s > 0 else None

    def to_json(self) -> dict[str, Any]:
        return {"calls": self.calls, "plain_s": self.plain_s, "profiled_s": self.profiled_s}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Overhead:
        return cls(int(data["calls"]), float(data["plain_s"]), float(data["profiled_s"]))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def target_spec(stage: str | TargetSpec, workload: WorkloadArg | None, variant: str,
                params: Mapping[str, Mapping[str, Any]] | None,
                pipeline: PipelineArg = None) -> TargetSpec:
    """The target to profile; a stage, variant, workload or parameter that does not exist,
    a failing workload or code that cannot be shipped raises here, before any process
    starts. ``pipeline`` is a Pipeline or ``"module:function"`` (default: the reference)."""
    if isinstance(stage, TargetSpec):
        return stage
    if workload is None:
        raise InvalidInputError(f"profiling stage {stage!r} needs a workload")
    return stage_target(stage, variant, workload, pipeline=pipeline, params=params)


@contextlib.contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    """A temporary directory for a profiler's artifacts, removed afterwards unless ``keep``."""
    path = Path(tempfile.mkdtemp(prefix="workbench-profile-"))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


def write_job(directory: Path, name: str, spec: TargetSpec, *, seconds: float,
              calls: int | None, threads: int = 1, mode: str = "loop",
              functions: Sequence[str] = ()) -> Path:
    """Write the runner's job ``directory/NAME.job.json``; a report left by an earlier
    run of the same name is removed first, so it is never read for this one."""
    report = directory / f"{name}.report.json"
    report.unlink(missing_ok=True)
    job = {"schema_version": JOB_SCHEMA, "target": spec.job_json(), "mode": mode,
           "seconds": seconds, "calls": calls, "threads": threads, "seed": 0,
           "report": str(report), "functions": list(functions),
           "lines_out": str(directory / f"{name}.lines.json")}
    path = directory / f"{name}.job.json"
    path.write_text(json.dumps(job), encoding="utf-8")
    return path


def runner_argv(job: Path) -> list[str]:
    return ["-m", RUNNER, "--job", str(job)]


def runner_env(threads: int) -> dict[str, str]:
    """The measurement workers' environment (thread counts, hash seed), with the package
    importable from any working directory."""
    from workbench.measure.config import MeasureConfig
    from workbench.measure.launch import worker_env

    env = worker_env(MeasureConfig(threads=threads))
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run_tool(argv: Sequence[str], *, what: str, label: str, timeout: float,
             env: Mapping[str, str], check: bool = True) -> Completed:
    """``run_child`` with a timeout turned into advice; other failures propagate."""
    try:
        return run_child(argv, what=what, timeout=timeout, env=env, check=check)
    except ChildTimedOut:
        raise ExecutionError(
            f"{what} on {label} did not finish within the timeout of {timeout:g} s and was "
            "killed: the target may hang, or it needs more time; pass a larger timeout= "
            "(CLI: --timeout), a shorter duration or a smaller workload"
        ) from None


def read_report(job: Path, *, what: str, label: str, completed: Completed | None) -> dict[str, Any]:
    """The runner's report, or an ExecutionError with the target's exception line."""
    path = _report_path(job)
    if not path.exists():
        tail = completed.stderr.strip()[-2000:] if completed is not None else ""
        raise ExecutionError(f"{what} on {label} ended without the runner's report"
                             + (f"; its stderr ends with:\n{tail}" if tail else ""))
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if not report.get("ok"):
        raise ExecutionError(f"{label} raised {report.get('error_type')}: {report.get('error')}"
                             f" (while running under {what})")
    return report


def run_plain(directory: Path, spec: TargetSpec, *, seconds: float, calls: int | None,
              threads: int, timeout: float) -> dict[str, Any]:
    """Run the target without a profiler; the report has ``calls`` and ``loop_s``."""
    job = write_job(directory, "plain", spec, seconds=seconds, calls=calls, threads=threads)
    what = "the target runner (no profiler)"
    done = run_tool([sys.executable, *runner_argv(job)], what=what, label=spec.label,
                    timeout=timeout, env=runner_env(threads), check=False)
    return read_report(job, what=what, label=spec.label, completed=done)


@dataclass(frozen=True, slots=True)
class ProfiledRun:
    """What :func:`profiled_run` gives an adapter: the runner's report under the tool,
    the tool's exit, and the overhead against the plain run."""

    report: dict[str, Any]
    completed: Completed
    overhead: Overhead


def profiled_run(
    directory: Path,
    spec: TargetSpec,
    tool_argv: Callable[[Path], Sequence[str]],
    *,
    what: str,
    seconds: float,
    calls: int | None,
    threads: int,
    timeout: float,
    outputs: Sequence[Path] = (),
    tool_error: Callable[[Completed], ExecutionError] | None = None,
    mode: str = "loop",
    functions: Sequence[str] = (),
    name: str = "profiled",
) -> ProfiledRun:
    """The sequence every adapter follows.

    A plain run fixes the number of calls and times them; a job for that many calls is
    written; ``tool_argv(job)`` runs it under the tool (``what``); the runner's report is
    read. A tool that exits non-zero fails with ``tool_error`` (default: its status and
    the end of its output) -- but a target that raised reports its own exception first.
    Every path in ``outputs`` (the tool's files) must exist afterwards. The job is
    ``directory/NAME.job.json``; its report ``NAME.report.json``, line statistics
    ``NAME.lines.json``.
    """
    plain = run_plain(directory, spec, seconds=seconds, calls=calls, threads=threads,
                      timeout=timeout)
    n = int(plain["calls"])
    job = write_job(directory, name, spec, seconds=0.0, calls=n, threads=threads, mode=mode,
                    functions=functions)
    done = run_tool(tool_argv(job), what=what, label=spec.label, timeout=timeout,
                    env=runner_env(threads), check=False)
    failed = tool_error or functools.partial(_tool_failed, what, spec.label)
    if done.returncode != 0 and not _report_path(job).exists():
        raise failed(done)
    report = read_report(job, what=what, label=spec.label, completed=done)
    if done.returncode != 0:
        raise failed(done)
    for output in outputs:
        if not output.exists():
            tail = (done.stdout + done.stderr).strip()[-2000:]
            raise ExecutionError(f"{what} wrote no {output.name} for {spec.label}; its "
                                 f"output ends with:\n{tail}")
    overhead = Overhead(n, float(plain["loop_s"]), float(report["loop_s"]))
    return ProfiledRun(report, done, overhead)


def _tool_failed(what: str, label: str, done: Completed) -> ExecutionError:
    tail = (done.stderr or done.stdout).strip()[-2000:]
    return ExecutionError(f"{what} failed while profiling {label} (status {done.returncode});"
                          f" its output ends with:\n{tail}")


def _report_path(job: Path) -> Path:
    return Path(json.loads(job.read_text(encoding="utf-8"))["report"])


def _extra_dirs() -> list[str]:
    """Where this interpreter's console scripts live (searched before PATH)."""
    dirs = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    return [d for d in dirs if d]


def find_tool(name: str, *, feature: str) -> str:
    """The executable ``name``, or MissingDependencyError naming the ``profile`` extra."""
    search = os.pathsep.join([*_extra_dirs(), os.environ.get("PATH", "")])
    found = shutil.which(name, path=search)
    if found is None:
        raise MissingDependencyError(name, feature, "profile")
    return found


@functools.cache
def _roots() -> tuple[str, ...]:
    roots = (str(_PACKAGE_ROOT), os.getcwd(), sysconfig.get_path("stdlib"))
    return tuple(r.rstrip("/") + "/" for r in roots if r)


@functools.lru_cache(maxsize=65536)
def short_path(filename: str) -> str:
    """A file name as people read it: package-relative, project-relative or stdlib-relative."""
    for marker in ("site-packages/", "dist-packages/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    for root in _roots():
        if filename.startswith(root):
            return filename[len(root):]
    return filename


_FRAME = re.compile(r"^(?P<function>.*?) \((?P<location>[^()]*)\)$")


def split_frame(frame: str) -> tuple[str, str]:
    """``"chunk (workbench/rag/chunk.py:57)"`` -> ``("chunk", "workbench/rag/chunk.py:57")``."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip(), ""
    return match["function"], match["location"]
