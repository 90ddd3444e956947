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
from typing import Any

from workbench.budget.result import CheckResult
from workbench.budget.spec import BudgetSpec, load_budgets
from workbench.budget.verdict import check
from workbench.errors import ExecutionError, InvalidInputError
from workbench.measure.config import MeasureConfig
from workbench.measure.engine import Job, Progress, interleave
from workbench.measure.launch import code_launcher, process_launcher
from workbench.measure.measurement import Measurement
from workbench.measure.targets import TargetSpec, load_pipeline

__all__ = ["CheckRun", "budget_targets", "measure_targets", "run_check", "worktree"]

Notice = Callable[[str], None]


def budget_targets(spec: BudgetSpec, pipeline: str) -> tuple[tuple[str, str], ...]:
    """The (stage, variant) pairs to measure: every pair a stage table names; if none
    does, every stage's ``pure`` variant (the defaults then apply to those)."""
    stages = load_pipeline(pipeline)
    pairs: list[tuple[str, str]] = []
    for rule in spec.rules:
        if rule.stage == "*":
            continue
        variants = stages.stage(rule.stage).variant_names if rule.variant == "*" \
            else (rule.variant,)
        pairs.extend((rule.stage, v) for v in variants if (rule.stage, v) not in pairs)
    return tuple(pairs) or tuple((name, "pure") for name in stages.stage_names)


def load_spec(path: Path, pipeline: str) -> BudgetSpec:
    if not path.is_file():
        raise InvalidInputError(f"budgets file {str(path)!r} does not exist")
    stages = load_pipeline(pipeline)
    return load_budgets(path, stages={s.name: s.variant_names for s in stages.stages})


def _specs(pairs: Sequence[tuple[str, str]], workload: str, pipeline: str,
           params: dict[str, dict[str, Any]]) -> list[TargetSpec]:
    return [TargetSpec("stage", stage, variant, workload, params, pipeline)
            for stage, variant in pairs]


def measure_targets(pairs: Sequence[tuple[str, str]], workload: str, pipeline: str,
                    config: MeasureConfig, params: dict[str, dict[str, Any]],
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


def _against(ref: str, pairs: Sequence[tuple[str, str]], workload: str, pipeline: str,
             config: MeasureConfig, params: dict[str, dict[str, Any]],
             progress: Progress | None, repo: Path,
             ) -> tuple[tuple[Measurement, ...], tuple[Measurement, ...], str | None]:
    specs = _specs(pairs, workload, pipeline, params)
    try:
        with worktree(ref, repo) as tree:
            if not (tree / "workbench" / "measure" / "worker.py").is_file() and \
                    pipeline.startswith("workbench."):
                notice = (f"no baseline: {ref} predates the measurement engine, so it "
                          "cannot be measured; relative budgets are not evaluated")
                return measure_targets(pairs, workload, pipeline, config, params,
                                       progress), (), notice
            old = code_launcher(tree)
            jobs: list[Job] = []
            for s in specs:
                jobs += [(f"{s.label} (current)", s, process_launcher),
                         (f"{s.label} ({ref})", s, old)]
            runs = interleave(jobs, config, progress)
    except NoSuchRef:
        notice = (f"no baseline: {ref!r} does not name a commit here (a first commit has no "
                  "predecessor); relative budgets are not evaluated")
        return measure_targets(pairs, workload, pipeline, config, params, progress), (), notice
    current = tuple(Measurement.new(s, config, tuple(runs[f"{s.label} (current)"]))
                    for s in specs)
    baseline = tuple(Measurement.new(s, config, tuple(runs[f"{s.label} ({ref})"]))
                     for s in specs)
    failed = [m for m in baseline if not m.ok]
    if failed:
        return current, baseline, (
            f"{ref} could not be measured for {', '.join(m.target.label for m in failed)} "
            f"({failed[0].error_text()}); those relative budgets have no baseline")
    return current, baseline, None


def run_check(spec: BudgetSpec, *, workload: str, pipeline: str, config: MeasureConfig,
              params: dict[str, dict[str, Any]], baseline: Sequence[Measurement] = (),
              against: str | None = None, repo: Path | None = None,
              progress: Progress | None = None) -> CheckRun:
    """Measure the budgeted targets (and REF's, with ``against``) and apply the budgets."""
    pairs = budget_targets(spec, pipeline)
    notice = None
    if against is not None:
        current, base, notice = _against(against, pairs, workload, pipeline, config, params,
                                         progress, repo or Path.cwd())
    else:
        current = measure_targets(pairs, workload, pipeline, config, params, progress)
        base = tuple(baseline)
        if not base:
            notice = "no baseline given: relative budgets are not evaluated"
    failed = [m for m in current if not m.ok]
    if failed:
        raise ExecutionError(f"measuring {failed[0].target.label} failed: "
                             f"{failed[0].error_text()}")
    return CheckRun(check(spec, current, base or None), current, base, notice)
