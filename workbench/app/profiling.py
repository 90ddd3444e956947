"""The profiling service: a flame graph, a memory track or a line profile of one variant."""

from __future__ import annotations

from typing import Any

from workbench.measure import metrics
from workbench.measure.targets import Params, WorkloadArg
from workbench.profile import registry
from workbench.profile.registry import Profiler
from workbench.refs import PipelineArg

ProfileKind = str  # a registered profiler's name: flame, memory, lines, ...


def registrations() -> tuple[int, int]:
    """A token that changes whenever a profiler or a metric is registered or removed:
    front ends that derived commands, flags or tabs from them rebuild when it moves."""
    return registry.changes(), metrics.changes()


def profilers() -> tuple[Profiler, ...]:
    """Every registered profiler (:mod:`workbench.profile.registry`): what the front ends
    offer as commands, tabs and evidence."""
    return registry.profilers()


def profile(kind: ProfileKind, stage: str, workload: WorkloadArg, variant: str = "pure", *,
            pipeline: PipelineArg = None, params: Params | None = None,
            **options: Any) -> Any:
    """The profile of ``stage``'s ``variant`` by the registered profiler ``kind`` (flame:
    py-spy, memory: memray, lines: line_profiler, ...); ``options`` go to the profiler
    (rate, duration, calls, ...)."""
    run = registry.profiler(kind).function()
    return run(stage, workload, variant, pipeline=pipeline, params=params, **options)
