"""measure / compare / sweep: the engine's three entry points.

Workers of different variants are interleaved (A B C, B C A, ...) so drift hits all
alike; long work reports ``progress(done, total, label)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from workbench.errors import InvalidInputError
from workbench.measure.comparison import Comparison, VariantResult, build_comparison
from workbench.measure.config import MeasureConfig
from workbench.measure.equivalence import with_equivalence
from workbench.measure.launch import Launcher, inprocess_launcher, process_launcher
from workbench.measure.measurement import Measurement
from workbench.measure.protocol import Clock, WorkerRun
from workbench.measure.sweep import Sweep, build_sweep
from workbench.measure.targets import (
    Params,
    TargetSpec,
    WorkloadArg,
    callable_target,
    stage_target,
)
from workbench.refs import PipelineArg, resolve_pipeline
from workbench.stages import Stage
from workbench.workloads import Workload

__all__ = ["Progress", "compare", "compare_callables", "interleave", "measure", "measure_together",
           "sweep", "target_spec"]

Progress = Callable[[int, int, str], None]


def _launcher(config: MeasureConfig, launcher: Launcher | None, clock: Clock | None) -> Launcher:
    if launcher is not None:
        return launcher
    if config.mode == "inprocess":
        return inprocess_launcher(clock)
    return process_launcher


def target_spec(target: str | Stage | Callable[..., Any], workload: WorkloadArg | None,
                variant: str, params: Params | None, pipeline: PipelineArg,
                config: MeasureConfig) -> TargetSpec:
    """A checked target (packed for workers when ``config`` measures in processes)."""
    ship = config.mode == "process"
    if isinstance(target, Stage | str):
        name = target.name if isinstance(target, Stage) else target
        if workload is None:
            raise InvalidInputError(f"measuring stage {name!r} needs a workload")
        return stage_target(target, variant, workload, pipeline=pipeline, params=params,
                            ship=ship)
    return callable_target(target, workload, ship=ship)


def measure(
    target: str | Stage | Callable[..., Any],
    workload: WorkloadArg | None = None,
    *,
    variant: str = "pure",
    params: Params | None = None,
    config: MeasureConfig | None = None,
    pipeline: PipelineArg = None,
    progress: Progress | None = None,
    launcher: Launcher | None = None,
    clock: Clock | None = None,
) -> Measurement:
    """Measure one target: a stage (name or object) of ``pipeline`` (a Pipeline or
    ``"module:function"``; default the reference pipeline) with a variant, or a callable.
    Code that worker processes cannot import by name (a notebook cell's) is shipped by
    value."""
    config = config or MeasureConfig()
    spec = target_spec(target, workload, variant, params, pipeline, config)
    launch = _launcher(config, launcher, clock)
    runs = []
    for i in range(config.workers):
        if progress is not None:
            progress(i, config.workers, spec.label)
        runs.append(launch(spec, config, i))
    if progress is not None:
        progress(config.workers, config.workers, spec.label)
    return Measurement.new(spec, config, tuple(runs))


Job = tuple[str, TargetSpec, Launcher]


def interleave(jobs: Sequence[Job], config: MeasureConfig,
               progress: Progress | None) -> dict[str, list[WorkerRun]]:
    """Run ``config.workers`` workers per job, rotating the job order every round.

    Each job is ``(key, spec, launcher)``; the result maps each key to its runs.
    """
    runs: dict[str, list[WorkerRun]] = {key: [] for key, _, _ in jobs}
    total = config.workers * len(jobs)
    done = 0
    for w in range(config.workers):
        for key, spec, launch in list(jobs[w % len(jobs):]) + list(jobs[: w % len(jobs)]):
            if progress is not None:
                progress(done, total, f"{key} worker {w + 1}/{config.workers}")
            runs[key].append(launch(spec, config, w))
            done += 1
    if progress is not None:
        progress(total, total, "done")
    return runs


def measure_together(specs: Mapping[str, TargetSpec], config: MeasureConfig, *,
                     progress: Progress | None = None, launcher: Launcher | None = None,
                     clock: Clock | None = None) -> dict[str, Measurement]:
    """Several checked targets (see :func:`target_spec`), interleaved worker by worker,
    as one measurement each, keyed as given."""
    if not specs:
        raise InvalidInputError("measure_together needs at least one target")
    launch = _launcher(config, launcher, clock)
    runs = interleave([(key, spec, launch) for key, spec in specs.items()], config, progress)
    return {key: Measurement.new(spec, config, tuple(runs[key])) for key, spec in specs.items()}


def _interleaved(specs: Sequence[TargetSpec], config: MeasureConfig, launch: Launcher,
                 progress: Progress | None) -> dict[str, list[WorkerRun]]:
    return interleave([(s.label, s, launch) for s in specs], config, progress)


def compare(
    stage: str | Stage,
    workload: WorkloadArg,
    *,
    variants: Sequence[str] | None = None,
    params: Params | None = None,
    config: MeasureConfig | None = None,
    pipeline: PipelineArg = None,
    progress: Progress | None = None,
    launcher: Launcher | None = None,
    clock: Clock | None = None,
    check_equivalence: bool = True,
) -> Comparison:
    """Every chosen variant of ``stage`` on ``workload``, interleaved; ratios against pure.

    ``pipeline`` is a Pipeline or ``"module:function"`` (default: the reference pipeline);
    ``workload`` a registered name (``NAME@N`` for another size) or a Workload."""
    config = config or MeasureConfig()
    pipe, _ = resolve_pipeline(pipeline)
    name = stage.name if isinstance(stage, Stage) else stage
    st = pipe.stage(name)
    chosen = tuple(variants) if variants else st.variant_names
    if not chosen:
        raise InvalidInputError("compare needs at least one variant")
    for v in chosen:
        st.get(v)
    if "pure" not in chosen and "pure" in st.variants:
        chosen = ("pure", *chosen)
    specs = [target_spec(name, workload, v, params, pipeline, config) for v in chosen]
    runs = _interleaved(specs, config, _launcher(config, launcher, clock), progress)
    results = tuple(
        VariantResult(spec.variant or "pure",
                      Measurement.new(spec, config, tuple(runs[spec.label])))
        for spec in specs
    )
    if check_equivalence:
        results = with_equivalence(results)
    return build_comparison(st.name, specs[0].workload or "-", results)


def compare_callables(
    baseline: Callable[..., Any],
    candidate: Callable[..., Any],
    workload: WorkloadArg | None = None,
    *,
    config: MeasureConfig | None = None,
    progress: Progress | None = None,
    launcher: Launcher | None = None,
    clock: Clock | None = None,
) -> Comparison:
    """Two callables, interleaved, as variants ``baseline`` and ``candidate``.

    No equivalence predicate applies (they are not a stage's variants).
    """
    config = config or MeasureConfig()
    if baseline is candidate:
        raise InvalidInputError("compare_callables needs two different callables")
    specs = [target_spec(fn, workload, "pure", None, None, config)
             for fn in (baseline, candidate)]
    keyed = [(name, spec, _launcher(config, launcher, clock))
             for name, spec in zip(("baseline", "candidate"), specs, strict=True)]
    runs = interleave(keyed, config, progress)
    results = tuple(VariantResult(name, Measurement.new(spec, config, tuple(runs[name])))
                    for name, spec, _ in keyed)
    return build_comparison(f"{specs[0].label} vs {specs[1].label}", specs[0].workload or "-",
                            results, baseline="baseline")


def sweep(
    stage: str | Stage,
    workload: WorkloadArg,
    *,
    sizes: Sequence[int],
    variants: Sequence[str] | None = None,
    params: Params | None = None,
    config: MeasureConfig | None = None,
    pipeline: PipelineArg = None,
    progress: Progress | None = None,
    launcher: Launcher | None = None,
    clock: Clock | None = None,
) -> Sweep:
    """The same comparison at each workload size (``NAME@N``) and a log-log slope."""
    distinct = sorted(set(sizes))
    if len(distinct) < 3:
        raise InvalidInputError(f"a sweep needs at least 3 distinct sizes; got {list(sizes)}")
    base: Workload | str = workload if isinstance(workload, Workload) \
        else workload.split("@", 1)[0]
    points = []
    for i, n in enumerate(distinct):
        def step(done: int, total: int, label: str, i: int = i, n: int = n) -> None:
            if progress is not None:
                progress(i * total + done, len(distinct) * total, f"size {n}: {label}")
        sized = base.with_size(n) if isinstance(base, Workload) else f"{base}@{n}"
        points.append((n, compare(stage, sized, variants=variants, params=params,
                                  config=config, pipeline=pipeline, progress=step,
                                  launcher=launcher, clock=clock, check_equivalence=False)))
    name = base.base_name if isinstance(base, Workload) else base
    return build_sweep(stage.name if isinstance(stage, Stage) else stage, name, tuple(points))
