"""The service layer: what the command line, the notebook magics and the widget panel do.

Each function takes plain values (a pipeline reference or object, a workload name or
object, parameters, a :class:`~workbench.measure.config.MeasureConfig`, an optional
progress callback), does the work through the core, and returns a result of the result
protocol (:mod:`workbench.results`) or a small record around results. Nothing here
prints, and nothing picks an output path: a file is written only where the caller names
one (the CLI's defaults live in the CLI). Errors are ``WorkbenchError`` subclasses.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from workbench.errors import ExecutionError, InvalidInputError
from workbench.measure.config import MeasureConfig
from workbench.measure.targets import Params, WorkloadArg
from workbench.refs import PipelineArg

if TYPE_CHECKING:
    from workbench.budget.baseline import Baseline
    from workbench.budget.result import CheckResult, ScalingObservation
    from workbench.budget.spec import BudgetSpec
    from workbench.measure.comparison import Comparison
    from workbench.measure.measurement import Measurement
    from workbench.measure.sweep import Sweep
    from workbench.runs import PipelineRun

__all__ = [
    "CheckReport",
    "baseline",
    "check",
    "compare",
    "measure",
    "profile",
    "run",
    "sweep",
]

Progress = Callable[[int, int, str], None]
ProfileKind = Literal["flame", "memory", "lines"]


def run(pipeline: PipelineArg, workload: WorkloadArg, *,
        select: Sequence[tuple[str, str]] = (), all_variants: str | None = None,
        fuse: bool = True, params: Params | None = None,
        progress: Callable[[str], None] | None = None) -> PipelineRun:
    """One unwarmed end-to-end run of ``pipeline`` with the chosen variants."""
    from workbench.refs import pipeline_label, resolve_pipeline
    from workbench.runs import run_pipeline

    pipe, ref = resolve_pipeline(pipeline)
    pipe = pipe.with_fusion(fuse)
    if all_variants:
        pipe = pipe.select_all(all_variants)
    pipe = pipe.select(**dict(select)).configure(**dict(params or {}))
    return run_pipeline(pipe, workload, label=pipeline_label(pipe, ref), progress=progress)


def measure(target: str | Callable[..., Any], workload: WorkloadArg | None = None, *,
            variant: str = "pure", pipeline: PipelineArg = None,
            params: Params | None = None, config: MeasureConfig | None = None,
            progress: Progress | None = None) -> Measurement:
    """One target measured: a stage's ``variant`` (by name) or a callable (called with the
    workload's value, or bare without one); code defined in a notebook goes by value."""
    from workbench.measure.engine import measure as engine_measure

    return engine_measure(target, workload, variant=variant, params=params, config=config,
                          pipeline=pipeline, progress=progress)


def compare(stage: str, workload: WorkloadArg, *, pipeline: PipelineArg = None,
            variants: Sequence[str] | None = None, params: Params | None = None,
            config: MeasureConfig | None = None,
            progress: Progress | None = None) -> Comparison:
    """Every chosen variant of ``stage`` against pure, interleaved, with equivalence."""
    from workbench.measure.engine import compare as engine_compare

    return engine_compare(stage, workload, variants=variants, params=params, config=config,
                          pipeline=pipeline, progress=progress)


def sweep(stage: str, workload: WorkloadArg, *, sizes: Sequence[int],
          pipeline: PipelineArg = None, variants: Sequence[str] | None = None,
          params: Params | None = None, config: MeasureConfig | None = None,
          progress: Progress | None = None) -> Sweep:
    """The comparison at each workload size, with each variant's scaling exponent."""
    from workbench.measure.engine import sweep as engine_sweep

    return engine_sweep(stage, workload, sizes=sizes, variants=variants, params=params,
                        config=config, pipeline=pipeline, progress=progress)


def profile(kind: ProfileKind, stage: str, workload: WorkloadArg, variant: str = "pure", *,
            pipeline: PipelineArg = None, params: Params | None = None,
            **options: Any) -> Any:
    """A flame graph (py-spy), memory track (memray) or line profile (line_profiler) of
    ``stage``'s ``variant``; ``options`` go to the profiler (rate, duration, calls, ...)."""
    if kind == "flame":
        from workbench.profile.pyspy import flamegraph

        return flamegraph(stage, workload, variant, pipeline=pipeline, params=params,
                          **options)
    if kind == "memory":
        from workbench.profile.memray_run import memory_track

        return memory_track(stage, workload, variant, pipeline=pipeline, params=params,
                            **options)
    if kind == "lines":
        from workbench.profile.lines import line_profile

        return line_profile(stage, workload, variant, pipeline=pipeline, params=params,
                            **options)
    raise InvalidInputError(f"profile kind {kind!r} is unknown; choose flame, memory or lines")


def _spec(budgets: Path, pipeline: PipelineArg) -> BudgetSpec:
    from workbench.budget.commands import load_spec

    return load_spec(budgets, pipeline)


def baseline(budgets: Path, out: Path, *, workload: WorkloadArg, pipeline: PipelineArg = None,
             params: Params | None = None, config: MeasureConfig | None = None,
             progress: Progress | None = None) -> Baseline:
    """Measure every budgeted target (and sweep those with a ``scaling`` rule) and store
    them as the baseline at ``out`` (atomically). If a target failed: ExecutionError, and
    ``out`` is left as it was."""
    from workbench.budget.baseline import save_baseline
    from workbench.budget.commands import budget_targets, current_scaling, measure_targets

    spec = _spec(budgets, pipeline)
    config = config or MeasureConfig()
    pairs = budget_targets(spec, pipeline)
    measured = measure_targets(pairs, workload, pipeline, config, params, progress)
    failed = [m for m in measured if not m.ok]
    if failed:
        raise ExecutionError(f"{failed[0].target.label} failed: {failed[0].error_text()}; "
                             f"nothing was written to {out}")
    scaling = current_scaling(spec, pairs, workload, pipeline, config, params, progress)
    return save_baseline(out, measured, spec.digest(), scaling=scaling)


@dataclass(frozen=True)
class CheckReport:
    """A budget check with what surrounds it: the measurements of both sides, notices
    for the reader, and where (and as which run) it was recorded in the history."""

    result: CheckResult
    current: tuple[Measurement, ...]
    baseline: tuple[Measurement, ...]
    notices: tuple[str, ...]
    run_id: str
    git_sha: str | None
    created_at: str
    history: Path | None = None
    recorded_rows: int = 0

    def exit_code(self, strict: bool = False) -> int:
        return self.result.exit_code(strict=strict)


def _stored_baseline(path: Path, workload: WorkloadArg, spec: BudgetSpec,
                     ) -> tuple[Baseline, str | None]:
    from workbench.budget.baseline import load_baseline

    name = workload if isinstance(workload, str) else workload.name
    base = load_baseline(path, workload=name)
    note = None
    if base.budgets_hash != spec.digest():
        note = (f"{path} was made with other budgets (hash {base.budgets_hash[:12]} vs "
                f"{spec.digest()[:12]}); rules that changed since compare against it anyway")
    return base, note


def check(budgets: Path, *, workload: WorkloadArg, pipeline: PipelineArg = None,
          params: Params | None = None, config: MeasureConfig | None = None,
          baseline_file: Path | None = None, against: str | None = None,
          history: Path | None = None, repo: Path | None = None,
          progress: Progress | None = None) -> CheckReport:
    """Measure the budgeted targets, apply the budgets against a stored baseline
    (``baseline_file``) or a git ref measured now (``against``), and, when ``history``
    names a database, append the verdicts to it as one run."""
    from workbench.budget.commands import run_check
    from workbench.budget.history import record

    if baseline_file is not None and against is not None:
        raise InvalidInputError("give a stored baseline or a git ref to check against, "
                                "not both")
    spec = _spec(budgets, pipeline)
    notices: list[str] = []
    stored: tuple[Measurement, ...] = ()
    stored_scaling: tuple[ScalingObservation, ...] = ()
    if baseline_file is not None:
        base, note = _stored_baseline(baseline_file, workload, spec)
        stored, stored_scaling = base.measurements, base.scaling
        notices += [note] if note else []
    done = run_check(spec, workload=workload, pipeline=pipeline,
                     config=config or MeasureConfig(), params=params, baseline=stored,
                     baseline_scaling=stored_scaling, against=against, repo=repo,
                     progress=progress)
    notices += [done.notice] if done.notice else []
    sha = next((str(m.environment["git_sha"]) for m in done.current
                if m.environment.get("git_sha")), None)
    when = datetime.now(UTC).isoformat(timespec="seconds")
    run_id = uuid.uuid4().hex[:12]
    rows = record(history, done.result, run_id, sha, when) if history is not None else 0
    return CheckReport(done.result, done.current, done.baseline, tuple(notices), run_id, sha,
                       when, history, rows)
