"""Services that run and measure: a pipeline run, a measurement, a comparison of variants,
a size sweep and a scale-out."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.app._nodes import _on_one_node
from workbench.errors import InvalidInputError
from workbench.measure.config import MeasureConfig
from workbench.measure.targets import Params, WorkloadArg
from workbench.pipeline import Pipeline
from workbench.progress import Progress
from workbench.refs import PipelineArg

if TYPE_CHECKING:
    from workbench.measure.comparison import Comparison
    from workbench.measure.measurement import Measurement
    from workbench.measure.placement import Fanout, Site
    from workbench.measure.scale_out import ScaleOut
    from workbench.measure.sweep import Sweep
    from workbench.runs import PipelineRun


def select_decided(pipeline: Pipeline, log: str | os.PathLike[str], *,
                   name: str | None = None) -> Pipeline:
    """``pipeline`` with the latest decision per stage in the log at ``log`` applied
    (decisions recorded for the pipeline's own name or ``name``); stages without one keep
    their variant."""
    from workbench.decisions.store import DecisionLog

    if not Path(log).is_file():
        raise InvalidInputError(f"no decision log at {str(log)!r}; `workbench "
                                "decide` (or %wb decide, or the panel) records one")
    return pipeline.select_decided(DecisionLog(Path(log)).read(), name=name)


def run(pipeline: PipelineArg, workload: WorkloadArg, *,
        select: Sequence[tuple[str, str]] = (), all_variants: str | None = None,
        fuse: bool = True, params: Params | None = None, decided: Path | None = None,
        progress: Callable[[str], None] | None = None) -> PipelineRun:
    """One unwarmed end-to-end run of ``pipeline`` with the chosen variants: those the
    decision log at ``decided`` records (if given), then ``all_variants``, then
    ``select``."""
    from workbench.refs import pipeline_label, resolve_pipeline
    from workbench.runs import run_pipeline

    pipe, ref = resolve_pipeline(pipeline)
    pipe = pipe.with_fusion(fuse)
    if decided is not None:
        pipe = select_decided(pipe, decided, name=pipeline_label(pipe, ref))
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
            progress: Progress | None = None, max_time: float = 0.0,
            metric: str = "time", fanout: Fanout | None = None) -> Comparison:
    """Every chosen variant of ``stage`` against pure, interleaved, with equivalence;
    inconclusive ones measured again within ``max_time`` seconds (0: one look); with
    ``metric`` "instructions" (or "cache"), instruction counts under Cachegrind beside
    the times. Through a cluster's ``fanout`` every job of the comparison runs on one
    node."""
    from workbench.measure.engine import compare as engine_compare

    def work(site: Site | None) -> Comparison:
        return engine_compare(stage, workload, variants=variants, params=params,
                              config=config, pipeline=pipeline, progress=progress,
                              max_time=max_time, metric=metric,
                              launcher=None if site is None else site.launcher())

    return _on_one_node(fanout, f"{stage} on {workload}", work)


def sweep(stage: str, workload: WorkloadArg, *, sizes: Sequence[int],
          pipeline: PipelineArg = None, variants: Sequence[str] | None = None,
          params: Params | None = None, config: MeasureConfig | None = None,
          progress: Progress | None = None, fanout: Fanout | None = None) -> Sweep:
    """The comparison at each workload size, with each variant's scaling exponent (the
    sizes spread over the nodes of a cluster's ``fanout``, each on one node)."""
    from workbench.measure.engine import sweep as engine_sweep

    return engine_sweep(stage, workload, sizes=sizes, variants=variants, params=params,
                        config=config, pipeline=pipeline, progress=progress, fanout=fanout)


def scale_out(stage: str, workload: WorkloadArg, *, workers: Sequence[int],
              pipeline: PipelineArg = None, references: Sequence[str] | None = None,
              params: Params | None = None, config: MeasureConfig | None = None,
              progress: Progress | None = None, fanout: Fanout | None = None) -> ScaleOut:
    """The stage's ``parallel`` variant at each number of Dask ``workers`` (its throughput,
    speed-up and parallel efficiency) beside ``references`` (default: its other variants
    but pure) on one CPU, all on one machine (one node of a cluster's ``fanout``)."""
    from workbench.measure.scale_out_run import scale_out as run_scale_out

    def work(site: Site | None) -> ScaleOut:
        return run_scale_out(stage, workload, workers=workers, references=references,
                             params=params, config=config, pipeline=pipeline,
                             progress=progress,
                             launcher=None if site is None else site.launcher())

    return _on_one_node(fanout, f"scale-out of {stage}", work)

