"""Scaling budgets in a check: a size sweep of each target that has a ``scaling`` rule.

A ``scaling`` rule limits the log-log exponent of time against workload size (the seed's
Scalability invariant). When a check measures a stage/variant that has one, it also runs
that target at three sizes -- a quarter, half and all of the workload (``NAME@N``) -- and
fits the exponent (``compare_stats.loglog_slope``), for the current code and, with
``--against``, for the other commit in the same interleaved run. As in a
:class:`~workbench.measure.sweep.Sweep`, the fit's unit is the worker process: one point per
successful worker per size, that worker's median per-call time (a worker's samples share
its process's state and are not independent of each other).
"""

from __future__ import annotations

from collections.abc import Sequence

from workbench.budget.check_result import ScalingObservation
from workbench.budget.spec import BudgetSpec
from workbench.errors import InvalidInputError
from workbench.measure import compare_stats, stats
from workbench.measure.config import MeasureConfig
from workbench.measure.engine import Job, interleave
from workbench.measure.launch import Launcher
from workbench.measure.protocol import WorkerRun
from workbench.measure.targets import Params, WorkloadArg, stage_target
from workbench.progress import Progress
from workbench.refs import PipelineArg
from workbench.workloads import Workload, get_workload

__all__ = ["scaled_pairs", "scaling_observations", "sweep_sizes"]


def scaled_pairs(spec: BudgetSpec, pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (stage, variant) pairs that a ``scaling`` rule applies to."""
    return [(s, v) for s, v in pairs if any(r.metric == "scaling" for r in spec.rules_for(s, v))]


def _workload(workload: WorkloadArg) -> Workload:
    return workload if isinstance(workload, Workload) else get_workload(workload)


def sweep_sizes(workload: WorkloadArg) -> tuple[int, int, int]:
    """A quarter, half and all of the workload's size (3 distinct sizes, so >= 4 items)."""
    n = _workload(workload).size
    if n < 4:
        raise InvalidInputError(f"a scaling budget needs a workload of at least 4 items to "
                                f"sweep; {_workload(workload).name!r} has {n}")
    return (n // 4, n // 2, n)


def _sized(workload: WorkloadArg, n: int) -> WorkloadArg:
    w = _workload(workload)
    return w.with_size(n) if not isinstance(workload, str) else f"{w.base_name}@{n}"


def _fit(stage: str, variant: str, name: str, by_size: dict[int, list[WorkerRun]],
         ) -> ScalingObservation | None:
    """The exponent through one point per successful worker per size: its median time."""
    sizes: list[float] = []
    times: list[float] = []
    env: dict[str, object] = {}
    for n, runs in by_size.items():
        for run in runs:
            if run.ok and run.per_call_ns:
                env = env or dict(run.fingerprint)
                sizes.append(float(n))
                times.append(stats.percentile(run.per_call_ns, 50))
    if len(set(sizes)) < 3:
        return None
    fit = compare_stats.loglog_slope(sizes, times)
    return ScalingObservation(stage, variant, name, fit.slope, fit.interval.low,
                              fit.interval.high, fit.interval.confidence, env)


def scaling_observations(spec: BudgetSpec, pairs: Sequence[tuple[str, str]],
                         workload: WorkloadArg, pipeline: PipelineArg, config: MeasureConfig,
                         params: Params | None, sides: Sequence[tuple[str, Launcher]],
                         progress: Progress | None = None,
                         ) -> dict[str, tuple[ScalingObservation, ...]]:
    """Per side (name, launcher): one observation per scaled pair whose exponent could
    be fitted. All sizes and sides run in one interleaved schedule."""
    targets = scaled_pairs(spec, pairs)
    if not targets:
        return {name: () for name, _ in sides}
    sizes = sweep_sizes(workload)
    name = _workload(workload).base_name
    jobs: list[Job] = []
    for stage, variant in targets:
        for n in sizes:
            s = stage_target(stage, variant, _sized(workload, n), pipeline=pipeline,
                             params=params)
            jobs += [(f"{stage}/{variant}@{n} ({side})", s, launch) for side, launch in sides]
    runs = interleave(jobs, config, progress)
    out: dict[str, tuple[ScalingObservation, ...]] = {}
    for side, _ in sides:
        found = []
        for stage, variant in targets:
            by_size = {n: runs[f"{stage}/{variant}@{n} ({side})"] for n in sizes}
            obs = _fit(stage, variant, name, by_size)
            if obs is not None:
                found.append(obs)
        out[side] = tuple(found)
    return out
