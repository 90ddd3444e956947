"""What ``workbench baseline``, ``check`` and ``history`` do, below the argument parsing.

``check --against REF`` checks REF out into a temporary git worktree and measures both
commits in the same run, interleaved worker by worker, so both sides see the same
machine and the same drift.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from workbench.budget.result import CheckResult, ScalingObservation
from workbench.budget.scaling import scaling_observations
from workbench.budget.spec import BudgetSpec, load_budgets
from workbench.budget.verdict import check
from workbench.errors import ExecutionError, InvalidInputError
from workbench.measure.config import MeasureConfig
from workbench.measure.engine import Job, Progress, interleave
from workbench.measure.launch import code_launcher, process_launcher
from workbench.measure.measurement import Measurement
from workbench.measure.targets import Params, TargetSpec, WorkloadArg, stage_target
from workbench.refs import PipelineArg, resolve_pipeline

__all__ = ["CheckRun", "budget_targets", "measure_targets", "run_check", "worktree"]

Notice = Callable[[str], None]


def budget_targets(spec: BudgetSpec, pipeline: PipelineArg) -> tuple[tuple[str, str], ...]:
    """The (stage, variant) pairs to measure: every pair a stage table names; if none
    does, every stage's ``pure`` variant (the defaults then apply to those)."""
    stages, _ = resolve_pipeline(pipeline)
    pairs: list[tuple[str, str]] = []
    for rule in spec.rules:
        if rule.stage == "*":
            continue
        variants = stages.stage(rule.stage).variant_names if rule.variant == "*" \
            else (rule.variant,)
        pairs.extend((rule.stage, v) for v in variants if (rule.stage, v) not in pairs)
    return tuple(pairs) or tuple((name, "pure") for name in stages.stage_names)


def load_spec(path: Path, pipeline: PipelineArg) -> BudgetSpec:
    if not path.is_file():
        raise InvalidInputError(f"budgets file {str(path)!r} does not exist")
    stages, _ = resolve_pipeline(pipeline)
    return load_budgets(path, stages={s.name: s.variant_names for s in stages.stages})


def _specs(pairs: Sequence[tuple[str, str]], workload: WorkloadArg, pipeline: PipelineArg,
           params: Params | None) -> list[TargetSpec]:
    return [stage_target(stage, variant, workload, pipeline=pipeline, params=params)
            for stage, variant in pairs]


def measure_targets(pairs: Sequence[tuple[str, str]], workload: WorkloadArg,
                    pipeline: PipelineArg, config: MeasureConfig, params: Params | None,
                    progress: Progress | None = None) -> tuple[Measurement, ...]:
    specs = _specs(pairs, workload, pipeline, params)
    runs = interleave([(s.label, s, process_launcher) for s in specs], config, progress)
    return tuple(Measurement.new(s, config, tuple(runs[s.label])) for s in specs)


class NoSuchRef(Exception):
    """The git reference does not name a commit in the repository."""


@contextmanager
def worktree(ref: str, repo: Path) -> Iterator[Path]:
    """Check ``ref`` out into a temporary worktree; always removed afterwards."""
    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)

    if git("rev-parse", "--git-dir").returncode != 0:
        raise InvalidInputError(f"--against needs a git repository; {str(repo)!r} is not one")
    if git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise NoSuchRef(ref)
    with tempfile.TemporaryDirectory(prefix="workbench-against-") as tmp:
        path = Path(tmp) / "tree"
        added = git("worktree", "add", "--detach", str(path), ref)
        if added.returncode != 0:
            raise ExecutionError(f"git worktree add {ref} failed: {added.stderr.strip()}")
        try:
            yield path
        finally:
            git("worktree", "remove", "--force", str(path))
            git("worktree", "prune")


@dataclass(frozen=True)
class CheckRun:
    result: CheckResult
    current: tuple[Measurement, ...]
    baseline: tuple[Measurement, ...]
    notice: str | None
    scaling: tuple[ScalingObservation, ...] = ()
    baseline_scaling: tuple[ScalingObservation, ...] = ()


Sides = tuple[tuple[Measurement, ...], tuple[Measurement, ...], str | None,
              tuple[ScalingObservation, ...], tuple[ScalingObservation, ...]]


def current_scaling(spec: BudgetSpec, pairs: Sequence[tuple[str, str]], workload: WorkloadArg,
                    pipeline: PipelineArg, config: MeasureConfig, params: Params | None,
                    progress: Progress | None) -> tuple[ScalingObservation, ...]:
    """The sweep exponents of this code for the targets with a ``scaling`` rule."""
    return scaling_observations(spec, pairs, workload, pipeline, config, params,
                                [("current", process_launcher)], progress)["current"]


def _against(ref: str, spec: BudgetSpec, pairs: Sequence[tuple[str, str]],
             workload: WorkloadArg, pipeline: PipelineArg, config: MeasureConfig,
             params: Params | None, progress: Progress | None, repo: Path) -> Sides:
    specs = _specs(pairs, workload, pipeline, params)
    alone = (config, params, progress)
    shipped = [s for s in specs if s.by_value]
    if shipped:
        raise InvalidInputError(
            f"cannot check against {ref!r}: {shipped[0].label} uses code that is not "
            f"importable by name ({_what_is_shipped(shipped[0], pipeline)}), so {ref}'s "
            "version of it cannot be imported from its worktree; measuring it by value on "
            "both sides would compare today's code with itself. Move the pipeline and its "
            "workload into an importable module and name it as 'module:function', or check "
            "against a stored baseline (--baseline) instead")
    try:
        with worktree(ref, repo) as tree:
            if not (tree / "workbench" / "measure" / "worker.py").is_file() and \
                    str(pipeline or "workbench.").startswith("workbench."):
                notice = (f"no baseline: {ref} predates the measurement engine, so it "
                          "cannot be measured; relative budgets are not evaluated")
                return (measure_targets(pairs, workload, pipeline, *alone), (), notice,
                        current_scaling(spec, pairs, workload, pipeline, *alone), ())
            old = code_launcher(tree)
            jobs: list[Job] = []
            for s in specs:
                jobs += [(f"{s.label} (current)", s, process_launcher),
                         (f"{s.label} ({ref})", s, old)]
            runs = interleave(jobs, config, progress)
            slopes = scaling_observations(spec, pairs, workload, pipeline, config, params,
                                          [("current", process_launcher), (ref, old)],
                                          progress)
    except NoSuchRef:
        notice = (f"no baseline: {ref!r} does not name a commit here (a first commit has no "
                  "predecessor); relative budgets are not evaluated")
        return (measure_targets(pairs, workload, pipeline, *alone), (), notice,
                current_scaling(spec, pairs, workload, pipeline, *alone), ())
    current = tuple(Measurement.new(s, config, tuple(runs[f"{s.label} (current)"]))
                    for s in specs)
    baseline = tuple(Measurement.new(s, config, tuple(runs[f"{s.label} ({ref})"]))
                     for s in specs)
    failed = [m for m in baseline if not m.ok]
    said: str | None = None
    if failed:
        said = (f"{ref} could not be measured for "
                f"{', '.join(m.target.label for m in failed)} ({failed[0].error_text()}); "
                "those relative budgets have no baseline")
    return current, baseline, said, slopes["current"], slopes[ref]


def _what_is_shipped(spec: TargetSpec, pipeline: PipelineArg) -> str:
    if not isinstance(pipeline, str | None):
        return f"the pipeline {spec.pipeline} was given as an object"
    return f"the workload {spec.workload!r} is defined in a notebook or __main__"


def run_check(spec: BudgetSpec, *, workload: WorkloadArg, pipeline: PipelineArg,
              config: MeasureConfig, params: Params | None,
              baseline: Sequence[Measurement] = (),
              baseline_scaling: Sequence[ScalingObservation] = (),
              against: str | None = None, repo: Path | None = None,
              progress: Progress | None = None) -> CheckRun:
    """Measure the budgeted targets (and REF's, with ``against``), sweep the targets
    that have a ``scaling`` rule (:mod:`workbench.budget.scaling`), apply the budgets."""
    pairs = budget_targets(spec, pipeline)
    notice = None
    if against is not None:
        current, base, notice, scaling, base_scaling = _against(
            against, spec, pairs, workload, pipeline, config, params, progress,
            repo or Path.cwd())
    else:
        current = measure_targets(pairs, workload, pipeline, config, params, progress)
        scaling = current_scaling(spec, pairs, workload, pipeline, config, params, progress)
        base, base_scaling = tuple(baseline), tuple(baseline_scaling)
        if not base:
            notice = "no baseline given: relative budgets are not evaluated"
    failed = [m for m in current if not m.ok]
    if failed:
        raise ExecutionError(f"measuring {failed[0].target.label} failed: "
                             f"{failed[0].error_text()}")
    result = check(spec, current, base or None, scaling=scaling, baseline_scaling=base_scaling)
    return CheckRun(result, current, base, notice, scaling, base_scaling)
