"""What ``workbench baseline``, ``check`` and ``history`` do, below the argument parsing.

``check --against REF`` checks REF out into a temporary git worktree and measures both
commits in the same run, interleaved worker by worker, so both sides see the same
machine and the same drift.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from workbench import subproc
from workbench.budget.boundary import MAX_LOOKS, first_look_workers
from workbench.budget.check_result import CheckResult, ScalingObservation
from workbench.budget.instructions import CountSide, count_sides
from workbench.budget.rounds import Rounds
from workbench.budget.scaling import scaling_observations
from workbench.budget.sequential import (
    DEFAULT_MAX_TIME,
    ROUNDS_PER_LOOK,
    Look,
    check_max_time,
    run_looks,
    verdict_key,
)
from workbench.budget.spec import BudgetSpec, load_budgets
from workbench.budget.verdict import FAMILY_ALPHA, Plan, check, family_size
from workbench.errors import ExecutionError, InvalidInputError
from workbench.measure.config import MeasureConfig
from workbench.measure.engine import Steps, interleave
from workbench.measure.instructions import InstructionCount
from workbench.measure.launch import (
    environment_size,
    process_launcher,
    worker_env,
)
from workbench.measure.measurement import Measurement
from workbench.measure.placement import LocalSite, Site
from workbench.measure.targets import Params, TargetSpec, WorkloadArg, stage_target
from workbench.progress import Progress
from workbench.refs import PipelineArg, resolve_pipeline
from workbench.subproc import Completed

if TYPE_CHECKING:
    from workbench.measure.placement import Fanout

__all__ = ["NO_BASELINE", "CheckRun", "budget_targets", "measure_targets", "run_check", "worktree"]

Notice = Callable[[str], None]
#: The notice of a check against no baseline at all.
NO_BASELINE = "no baseline given: relative budgets are not evaluated"


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
                    progress: Progress | None = None, fanout: Fanout | None = None,
                    ) -> tuple[Measurement, ...]:
    """Each target measured: here all of them interleaved; through a cluster's
    ``fanout`` each on one node, the targets spread over the nodes."""
    specs = _specs(pairs, workload, pipeline, params)
    if fanout is None or not fanout.remote:
        runs = interleave([(s.label, s, process_launcher) for s in specs], config, progress)
        return tuple(Measurement.new(s, config, tuple(runs[s.label])) for s in specs)
    steps = Steps(len(specs), progress)

    def one(i: int, spec: TargetSpec) -> Callable[[Site], Measurement]:
        def run(site: Site) -> Measurement:
            runs = interleave([(spec.label, spec, site.launcher())], config,
                              steps.of(i, spec.label))
            return Measurement.new(spec, config, tuple(runs[spec.label]))
        return run

    return tuple(fanout.map([one(i, s) for i, s in enumerate(specs)],
                            [s.label for s in specs]))


class NoSuchRef(Exception):
    """The git reference does not name a commit in the repository."""


@contextmanager
def worktree(ref: str, repo: Path) -> Iterator[Path]:
    """Check ``ref`` out into a temporary worktree; always removed afterwards."""
    def git(*args: str) -> Completed:
        done = subproc.git("-C", str(repo), *args)
        if done is None:
            raise ExecutionError(f"git {args[0]} could not run in {repo} (is git installed? "
                                 f"it is given {subproc.GIT_TIMEOUT:g} s)")
        return done

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
        finally:  # best effort: the temporary directory goes anyway
            subproc.git("-C", str(repo), "worktree", "remove", "--force", str(path))
            subproc.git("-C", str(repo), "worktree", "prune")


@dataclass(frozen=True)
class CheckRun:
    result: CheckResult
    current: tuple[Measurement, ...]
    baseline: tuple[Measurement, ...]
    notice: str | None
    scaling: tuple[ScalingObservation, ...] = ()
    baseline_scaling: tuple[ScalingObservation, ...] = ()
    looks: int = 1
    instructions: tuple[InstructionCount, ...] = ()
    baseline_instructions: tuple[InstructionCount, ...] = ()


Counts = tuple[tuple[InstructionCount, ...], tuple[InstructionCount, ...]]
Sides = tuple[tuple[Measurement, ...], tuple[Measurement, ...], str | None,
              tuple[ScalingObservation, ...], tuple[ScalingObservation, ...],
              tuple[CheckResult, int], Counts]


def current_scaling(spec: BudgetSpec, pairs: Sequence[tuple[str, str]], workload: WorkloadArg,
                    pipeline: PipelineArg, config: MeasureConfig, params: Params | None,
                    progress: Progress | None, site: Site | None = None,
                    ) -> tuple[ScalingObservation, ...]:
    """The sweep exponents of this code for the targets with a ``scaling`` rule (measured
    on ``site``: default this machine)."""
    where = site or LocalSite()
    return scaling_observations(spec, pairs, workload, pipeline, config, params,
                                [("current", where.launcher())], progress)["current"]


def _against(ref: str, spec: BudgetSpec, pairs: Sequence[tuple[str, str]],
             workload: WorkloadArg, pipeline: PipelineArg, config: MeasureConfig,
             params: Params | None, progress: Progress | None, repo: Path | None,
             looks: _LookArgs, site: Site) -> Sides:
    specs = _specs(pairs, workload, pipeline, params)
    shipped = [s for s in specs if s.by_value]
    if shipped:
        raise InvalidInputError(
            f"cannot check against {ref!r}: {shipped[0].label} uses code that is not "
            f"importable by name ({_what_is_shipped(shipped[0], pipeline)}), so {ref}'s "
            "version of it cannot be imported from its worktree; measuring it by value on "
            "both sides would compare today's code with itself. Move the pipeline and its "
            "workload into an importable module and name it as 'module:function', or check "
            "against a stored baseline (--baseline) instead")
    if repo is None:
        raise InvalidInputError(f"cannot check against {ref!r}: no git repository was named "
                                "to check it out from")
    try:
        with worktree(ref, repo) as tree:
            if not (tree / "workbench" / "measure" / "worker.py").is_file() and \
                    str(pipeline or "workbench.").startswith("workbench."):
                notice = (f"no baseline: {ref} predates the measurement engine, so it "
                          "cannot be measured; relative budgets are not evaluated")
                return _alone(spec, pairs, workload, pipeline, config, params, progress,
                              looks, notice, site=site)
            here = _toplevel(repo)
            size = _twin_size(here, tree, config)
            new, old = site.launcher(here, env_size=size), site.launcher(tree, env_size=size)
            counts = _counts(spec, pairs, workload, pipeline, params, progress, config,
                             [("current", here, size), (ref, tree, size)])
            counted = (counts["current"], counts[ref])
            rounds = Rounds(specs, [("current", new), (ref, old)], config, progress)
            result, count = _sequential(spec, rounds, "current", ref, (),
                                        replace(looks, started=time.monotonic()), counted)
            slopes = scaling_observations(spec, pairs, workload, pipeline, config, params,
                                          [("current", site.launcher()), (ref, old)],
                                          progress)
    except NoSuchRef:
        notice = (f"no baseline: {ref!r} does not name a commit here (a first commit has no "
                  "predecessor); relative budgets are not evaluated")
        return _alone(spec, pairs, workload, pipeline, config, params, progress, looks,
                      notice, site=site)
    current, baseline = rounds.side("current"), rounds.side(ref)
    failed = [m for m in baseline if not m.ok]
    said: str | None = None
    if failed:
        said = (f"{ref} could not be measured for "
                f"{', '.join(m.target.label for m in failed)} ({failed[0].error_text()}); "
                "those relative budgets have no baseline")
    return current, baseline, said, slopes["current"], slopes[ref], (result, count), counted


def _alone(spec: BudgetSpec, pairs: Sequence[tuple[str, str]], workload: WorkloadArg,
           pipeline: PipelineArg, config: MeasureConfig, params: Params | None,
           progress: Progress | None, looks: _LookArgs, notice: str | None,
           baseline: Sequence[Measurement] = (),
           baseline_counts: Sequence[InstructionCount] = (), *,
           site: Site) -> Sides:
    """The current side only (against a stored baseline, or none)."""
    counts = _counts(spec, pairs, workload, pipeline, params, progress, config,
                     [("current", None, None)],
                     None if looks.count_all else tuple(baseline_counts), looks.layouts)
    counted = (counts["current"], tuple(baseline_counts))
    rounds = Rounds(_specs(pairs, workload, pipeline, params),
                    [("current", site.launcher())], config, progress)
    rounds.seed(looks.measured, "current")
    outcome = _sequential(spec, rounds, "current", None, baseline,
                          replace(looks, started=time.monotonic()), counted)
    return (rounds.side("current"), tuple(baseline), notice,
            current_scaling(spec, pairs, workload, pipeline, config, params, progress, site),
            (),
            outcome, counted)


def _counts(spec: BudgetSpec, pairs: Sequence[tuple[str, str]], workload: WorkloadArg,
            pipeline: PipelineArg, params: Params | None, progress: Progress | None,
            config: MeasureConfig, sides: Sequence[CountSide],
            baseline: Sequence[InstructionCount] | None = None, layouts: int | None = None,
            ) -> dict[str, tuple[InstructionCount, ...]]:
    return count_sides(spec, pairs, workload, pipeline, params, sides, progress,
                       seed=config.seed, baseline=baseline, layouts=layouts)


@dataclass(frozen=True)
class _LookArgs:
    max_time: float
    started: float
    baseline_scaling: tuple[ScalingObservation, ...] = ()
    on_look: Callable[[Look], None] | None = None
    measured: tuple[Measurement, ...] = ()  # runs made elsewhere to start from
    count_all: bool = False  # count instructions a stored baseline cannot judge too
    layouts: int | None = None  # memory layouts per instruction count (None: default)


def _sequential(spec: BudgetSpec, rounds: Rounds, current: str, base: str | None,
                stored: Sequence[Measurement], looks: _LookArgs, counts: Counts = ((), ()),
                ) -> tuple[CheckResult, int]:
    """The first look, then more rounds while error-level verdicts are undecided."""
    grows = base is not None
    plan = Plan(MAX_LOOKS if looks.max_time > 0 else 1, (ROUNDS_PER_LOOK,
                                                           ROUNDS_PER_LOOK if grows else 0))
    first = _first_look(spec, rounds, plan, None if grows else stored)
    rounds.fill(dict.fromkeys(rounds.specs, first))

    def evaluate(look: int) -> CheckResult:
        cur = rounds.side(current)
        failed = [m for m in cur if not m.ok]
        if failed:
            raise ExecutionError(f"measuring {failed[0].target.label} failed: "
                                 f"{failed[0].error_text()}")
        other = rounds.side(base) if base is not None else tuple(stored)
        return check(spec, cur, other or None, look=look, plan=plan,
                     instructions=counts[0], baseline_instructions=counts[1])

    return run_looks(evaluate, lambda pairs: rounds.extend(pairs, ROUNDS_PER_LOOK),
                     looks.max_time, first_rounds=first, targets=len(rounds.specs),
                     started=looks.started, on_look=looks.on_look, max_looks=plan.looks)


def _first_look(spec: BudgetSpec, rounds: Rounds, plan: Plan,
                stored: Sequence[Measurement] | None) -> int:
    """Workers per target at the first look: the configured count, raised so that the
    first look can decide a ratio at the check's per-verdict level (every error-level
    verdict of the measured targets counts, under ``--max-time 0`` too)."""
    m = family_size(spec, tuple(rounds.specs))
    if m == 0:
        return rounds.config.workers
    base = min((len(b.groups) for b in stored or () if b.ok), default=None)
    return first_look_workers(FAMILY_ALPHA / m, plan, rounds.config.workers,
                              base if stored is not None else None)


def _toplevel(repo: Path) -> Path:
    top = subproc.git_output("-C", str(repo), "rev-parse", "--show-toplevel")
    return Path(top) if top else repo


def _twin_size(here: Path, tree: Path, config: MeasureConfig) -> int:
    """The environment size that makes launchers for this checkout and REF's worktree
    differ only in the checkout (:func:`~workbench.measure.launch.code_launcher`: both
    run their workers in their checkout's root, with it first on ``PYTHONPATH``)."""
    return max(environment_size(worker_env(config, root)) for root in (here, tree)) + 64


def _what_is_shipped(spec: TargetSpec, pipeline: PipelineArg) -> str:
    if not isinstance(pipeline, str | None):
        return f"the pipeline {spec.pipeline} was given as an object"
    return f"the workload {spec.workload!r} is defined in a notebook or __main__"


def run_check(spec: BudgetSpec, *, workload: WorkloadArg, pipeline: PipelineArg,
              config: MeasureConfig, params: Params | None,
              baseline: Sequence[Measurement] = (),
              baseline_scaling: Sequence[ScalingObservation] = (),
              baseline_instructions: Sequence[InstructionCount] = (),
              against: str | None = None, repo: Path | None = None,
              progress: Progress | None = None, max_time: float = DEFAULT_MAX_TIME,
              on_look: Callable[[Look], None] | None = None,
              site: Site | None = None, measured: Sequence[Measurement] = (),
              count_all: bool = False, layouts: int | None = None) -> CheckRun:
    """Measure the budgeted targets (and REF's, with ``against``), look again with more
    rounds while error-level verdicts are undecided and ``max_time`` seconds allow
    (:mod:`workbench.budget.sequential`), sweep the targets that have a ``scaling`` rule
    (:mod:`workbench.budget.scaling`), apply the budgets. Every measured job runs on
    ``site`` (default this machine; a cluster node keeps both sides on one machine);
    instruction counts are made here.

    Against a stored baseline (or none), ``measured`` holds measurements made elsewhere
    to start from (:meth:`~workbench.budget.rounds.Rounds.seed`: those of the same
    target and settings count as its first workers); ``count_all`` counts the
    instructions of targets the baseline holds no count of too (to store them), with
    ``layouts`` memory layouts per count (None: the default)."""
    where = site or LocalSite()
    max_time = check_max_time(max_time)
    pairs = budget_targets(spec, pipeline)
    if against is not None and (measured or count_all):
        raise InvalidInputError("a check against a git ref measures both sides itself: it "
                                "cannot start from measurements made elsewhere")
    looks = _LookArgs(max_time, time.monotonic(), tuple(baseline_scaling), on_look,
                      tuple(measured), count_all, layouts)
    if against is not None:
        current, base, notice, scaling, base_scaling, (result, count), counts = _against(
            against, spec, pairs, workload, pipeline, config, params, progress,
            repo, looks, where)
    else:
        notice = None if baseline else NO_BASELINE
        current, base, notice, scaling, _, (result, count), counts = _alone(
            spec, pairs, workload, pipeline, config, params, progress, looks, notice, baseline,
            baseline_instructions, site=where)
        base_scaling = tuple(baseline_scaling)
    if scaling or base_scaling:  # scaling verdicts need the sweeps: judge once more
        swept = check(spec, current, base or None, scaling=scaling,
                      baseline_scaling=base_scaling, instructions=counts[0],
                      baseline_instructions=counts[1])
        done = {verdict_key(v): v for v in result.verdicts}
        result = replace(swept, verdicts=tuple(
            done.get(verdict_key(v), v) if v.rule.metric != "scaling" else v
            for v in swept.verdicts))
    return CheckRun(result, current, base, notice, scaling, base_scaling, count, *counts)
