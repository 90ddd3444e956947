"""Measuring a :class:`~workbench.measure.scale_out.ScaleOut`: the parallel variant at each
number of Dask workers, and the reference variants on one CPU, interleaved.

A job's number of Dask workers is its measurement worker's ``threads`` (and CPUs): the
parallel tier starts that many single-threaded Dask workers inside it
(:mod:`workbench.cluster.parallel`). All jobs form one group, measured on one machine
(one node of a cluster), interleaved round by round as any comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from workbench.errors import InvalidInputError
from workbench.measure.config import MeasureConfig
from workbench.measure.engine import interleave_blocks, target_spec
from workbench.measure.launch import Launcher, process_launcher
from workbench.measure.measurement import Measurement
from workbench.measure.protocol import WorkerRun
from workbench.measure.scale_out import ScaleOut
from workbench.measure.targets import Params, TargetSpec, WorkloadArg
from workbench.progress import Progress
from workbench.refs import PipelineArg, resolve_pipeline
from workbench.stages import Stage

__all__ = ["PARALLEL", "check_worker_counts", "scale_out"]

PARALLEL = "parallel"


def check_worker_counts(counts: Sequence[int]) -> list[int]:
    """The distinct counts, ascending: at least two, each >= 1."""
    distinct = sorted(set(counts))
    if len(distinct) < 2 or distinct[0] < 1:
        raise InvalidInputError(f"--cluster-workers needs at least 2 distinct numbers of "
                                f"Dask workers >= 1 (e.g. 1,2,4); got {list(counts)}")
    return distinct


def _with_threads(launch: Launcher, threads: int) -> Launcher:
    def run(spec: TargetSpec, config: MeasureConfig, index: int) -> WorkerRun:
        return launch(spec, replace(config, threads=threads), index)
    return run


def scale_out(stage: str | Stage, workload: WorkloadArg, *, workers: Sequence[int],
              references: Sequence[str] | None = None, params: Params | None = None,
              config: MeasureConfig | None = None, pipeline: PipelineArg = None,
              progress: Progress | None = None, launcher: Launcher | None = None,
              ) -> ScaleOut:
    """The stage's ``parallel`` variant at each count in ``workers`` and ``references``
    (default: its other variants but pure) on one CPU each, interleaved, on ``launcher``
    (default: fresh processes here)."""
    config = config or MeasureConfig()
    if config.mode != "process":
        raise InvalidInputError("measuring the parallel tier needs worker processes (its "
                                "Dask workers are sized by each process's CPUs): leave "
                                "--inprocess out")
    counts = check_worker_counts(workers)
    pipe, _ = resolve_pipeline(pipeline)
    name = stage.name if isinstance(stage, Stage) else stage
    st = pipe.stage(name)
    if PARALLEL not in st.variants:
        raise InvalidInputError(
            f"stage {name!r} has no {PARALLEL!r} variant (it has: "
            f"{', '.join(st.variant_names)}); declare one with @{name}.variant('parallel') "
            "mapping a kernel over partitions (workbench.cluster.parallel.parallel_map)")
    refs = list(references) if references is not None else \
        [v for v in st.variant_names if v not in ("pure", PARALLEL)]
    for v in refs:
        st.get(v)
    refs = [v for v in refs if v != PARALLEL]
    launch = launcher or process_launcher
    main = target_spec(name, workload, PARALLEL, params, pipeline, config)
    blocks = [[(f"{PARALLEL} on {n}", main, _with_threads(launch, n))] for n in counts]
    ref_specs = {v: target_spec(name, workload, v, params, pipeline, config) for v in refs}
    blocks += [[(f"{v} on 1", spec, _with_threads(launch, 1))] for v, spec in ref_specs.items()]
    runs = interleave_blocks(blocks, config, progress)

    def measured(key: str, spec: TargetSpec, threads: int) -> Measurement:
        return Measurement.new(spec, replace(config, threads=threads), tuple(runs[key]))

    return ScaleOut(name, main.workload or "-", PARALLEL,
                    tuple((n, measured(f"{PARALLEL} on {n}", main, n)) for n in counts),
                    tuple((v, measured(f"{v} on 1", s, 1)) for v, s in ref_specs.items()))
