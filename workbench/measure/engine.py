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
from workbench.measure.launch import Launcher, inprocess_launcher, process_launcher
from workbench.measure.measurement import Measurement
from workbench.measure.protocol import Clock, WorkerRun
from workbench.measure.sweep import Sweep, build_sweep
from workbench.measure.targets import (
    REFERENCE_PIPELINE,
    Prepared,
    TargetSpec,
    callable_ref,
    load_pipeline,
)
from workbench.stages import Stage

__all__ = ["Progress", "compare", "compare_callables", "interleave", "measure", "sweep"]

Progress = Callable[[int, int, str], None]
Params = Mapping[str, Mapping[str, Any]]


def _launcher(config: MeasureConfig, launcher: Launcher | None, clock: Clock | None,
              prepared: dict[str, Prepared] | None = None) -> Launcher:
    if launcher is not None:
        return launcher
    if config.mode == "inprocess":
        return inprocess_launcher(clock, prepared)
    return process_launcher


def _spec(target: str | Stage | Callable[..., Any], workload: str | None, variant: str,
          params: Params | None, pipeline: str, config: MeasureConfig,
          prepared: dict[str, Prepared]) -> TargetSpec:
    from workbench.rag.workloads import get_workload

    if isinstance(target, Stage | str):
        name = target.name if isinstance(target, Stage) else target
        stage = load_pipeline(pipeline).stage(name)
        stage.get(variant)
        if workload is None:
            raise InvalidInputError(f"measuring stage {name!r} needs a workload name")
        get_workload(workload)
        return TargetSpec("stage", name, variant, workload, dict(params or {}), pipeline)
    if not callable(target):
        raise InvalidInputError(
            f"a measurement target must be a stage name, a Stage or a callable; got "
            f"{type(target).__name__} {target!r}"
        )
    if config.mode == "process":
        return TargetSpec("callable", callable_ref(target), None, workload)
    label = getattr(target, "__qualname__", repr(target))
    spec = TargetSpec("callable", f"<inprocess>:{label}", None, workload)
    if workload is None:
        item: Prepared = Prepared(target, 1, label)
    else:
        docs = get_workload(workload).load().docs
        item = Prepared(lambda: target(docs), len(docs), label)
    prepared[spec.key] = item
    return spec


def measure(
    target: str | Stage | Callable[..., Any],
    workload: str | None = None,
    *,
    variant: str = "pure",
    params: Params | None = None,
    config: MeasureConfig | None = None,
    pipeline: str = REFERENCE_PIPELINE,
    progress: Progress | None = None,
    launcher: Launcher | None = None,
    clock: Clock | None = None,
) -> Measurement:
    """Measure one target: a stage (name or object) with a variant, or a callable."""
    config = config or MeasureConfig()
    prepared: dict[str, Prepared] = {}
    spec = _spec(target, workload, variant, params, pipeline, config, prepared)
    launch = _launcher(config, launcher, clock, prepared)
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


def _interleaved(specs: Sequence[TargetSpec], config: MeasureConfig, launch: Launcher,
                 progress: Progress | None) -> dict[str, list[WorkerRun]]:
    return interleave([(s.label, s, launch) for s in specs], config, progress)


def compare(
    stage: str | Stage,
    workload: str,
    *,
    variants: Sequence[str] | None = None,
    params: Params | None = None,
    config: MeasureConfig | None = None,
    pipeline: str = REFERENCE_PIPELINE,
    progress: Progress | None = None,
    launcher: Launcher | None = None,
    clock: Clock | None = None,
    check_equivalence: bool = True,
) -> Comparison:
    """Every chosen variant of ``stage`` on ``workload``, interleaved; ratios against pure."""
    config = config or MeasureConfig()
    name = stage.name if isinstance(stage, Stage) else stage
    st = load_pipeline(pipeline).stage(name)
    chosen = tuple(variants) if variants else st.variant_names
    if not chosen:
        raise InvalidInputError("compare needs at least one variant")
    for v in chosen:
        st.get(v)
    if "pure" not in chosen and "pure" in st.variants:
        chosen = ("pure", *chosen)
    prepared: dict[str, Prepared] = {}
    specs = [_spec(name, workload, v, params, pipeline, config, prepared) for v in chosen]
    launch = _launcher(config, launcher, clock, prepared)
    runs = _interleaved(specs, config, launch, progress)
    results = tuple(
        VariantResult(spec.variant or "pure",
                      Measurement.new(spec, config, tuple(runs[spec.label])))
        for spec in specs
    )
    return build_comparison(name, workload, results, pipeline, params,
                            check_equivalence=check_equivalence)


def compare_callables(
    baseline: Callable[..., Any],
    candidate: Callable[..., Any],
    workload: str | None = None,
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
    prepared: dict[str, Prepared] = {}
    specs = [_spec(fn, workload, "pure", None, REFERENCE_PIPELINE, config, prepared)
             for fn in (baseline, candidate)]
    if specs[0].label == specs[1].label:
        raise InvalidInputError("compare_callables needs two different callables")
    runs = _interleaved(specs, config, _launcher(config, launcher, clock, prepared), progress)
    results = tuple(
        VariantResult(name, Measurement.new(spec, config, tuple(runs[spec.label])))
        for name, spec in zip(("baseline", "candidate"), specs, strict=True)
    )
    return build_comparison(f"{specs[0].label} vs {specs[1].label}", workload or "-", results,
                            REFERENCE_PIPELINE, None, check_equivalence=False,
                            baseline="baseline")


def sweep(
    stage: str | Stage,
    workload: str,
    *,
    sizes: Sequence[int],
    variants: Sequence[str] | None = None,
    params: Params | None = None,
    config: MeasureConfig | None = None,
    pipeline: str = REFERENCE_PIPELINE,
    progress: Progress | None = None,
    launcher: Launcher | None = None,
    clock: Clock | None = None,
) -> Sweep:
    """The same comparison at each workload size (``NAME@N`` docs) and a log-log slope."""
    if len(set(sizes)) < 3:
        raise InvalidInputError(f"a sweep needs at least 3 distinct sizes; got {list(sizes)}")
    base = workload.split("@", 1)[0]
    points = []
    for i, n in enumerate(sorted(set(sizes))):
        def step(done: int, total: int, label: str, i: int = i, n: int = n) -> None:
            if progress is not None:
                progress(i * total + done, len(set(sizes)) * total, f"size {n}: {label}")
        points.append((n, compare(stage, f"{base}@{n}", variants=variants, params=params,
                                  config=config, pipeline=pipeline, progress=step,
                                  launcher=launcher, clock=clock, check_equivalence=False)))
    return build_sweep(stage.name if isinstance(stage, Stage) else stage, base, tuple(points))
