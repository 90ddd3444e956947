"""The profiling service: a flame graph, a memory track or a line profile of one variant."""

from __future__ import annotations

from typing import Any, Literal

from workbench.errors import InvalidInputError
from workbench.measure.targets import Params, WorkloadArg
from workbench.refs import PipelineArg

ProfileKind = Literal["flame", "memory", "lines"]


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

