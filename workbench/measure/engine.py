"""measure / compare / sweep: the engine's three entry points.

Workers of different variants are interleaved (A B C, B C A, ...) so drift hits all
alike; long work reports ``progress(done, total, label)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from workbench.errors import InvalidInputError
from workbench.measure.compare_stats import NOISE_FLOOR
from workbench.measure.comparison import Comparison, VariantResult, build_comparison
from workbench.measure.config import COMPARE_METRICS, MeasureConfig
from workbench.measure.equivalence import with_equivalence
from workbench.measure.launch import Launcher, inprocess_launcher, process_launcher
from workbench.measure.measurement import Measurement
from workbench.measure.placement import Site
from workbench.measure.protocol import Clock, WorkerRun
from workbench.measure.sweep import Sweep, build_sweep
from workbench.measure.targets import (
    Params,
    TargetSpec,
    WorkloadArg,
    callable_target,
    stage_target,
)
from workbench.progress import Progress
from workbench.refs import PipelineArg, resolve_pipeline
from workbench.stages import Stage
from workbench.workloads import Workload

if TYPE_CHECKING:
    from workbench.measure.placement import Fanout

__all__ = ["COMPARE_METRICS", "Progress", "Steps", "compare", "compare_callables", "count_variants",
           "interleave", "interleave_blocks", "measure", "measure_together", "sweep",
           "target_spec"]



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
    return interleave_blocks([[job] for job in jobs], config, progress)


def interleave_blocks(blocks: Sequence[Sequence[Job]], config: MeasureConfig,
                      progress: Progress | None, *, rounds: int | None = None, first: int = 0,
                      into: dict[str, list[WorkerRun]] | None = None,
                      ) -> dict[str, list[WorkerRun]]:
    """Rounds ``first .. first + rounds - 1`` (default ``config.workers`` rounds) of one
    worker per job, appended to ``into``.

    Round ``w`` runs the blocks rotated by ``w`` (drift between targets hits all alike) and
    the jobs inside each block in reverse on odd rounds, so that the two sides of a
    comparison block each go first in half of every pair of rounds (order within a round
    is otherwise a bias between them). A worker's index is its round number.
    """
    rounds = config.workers if rounds is None else rounds
    runs = into if into is not None else {}
    for block in blocks:
        for key, _, _ in block:
            runs.setdefault(key, [])
    total = rounds * sum(len(b) for b in blocks)
    done = 0
    for w in range(first, first + rounds):
        turn = w % len(blocks) if blocks else 0
        for block in [*blocks[turn:], *blocks[:turn]]:
            for key, spec, launch in (block if w % 2 == 0 else block[::-1]):
                if progress is not None:
                    progress(done, total, f"{key} worker {w + 1}/{first + rounds}")
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
    max_time: float = 0.0,
    metric: str = "time",
) -> Comparison:
    """Every chosen variant of ``stage`` on ``workload``, interleaved; ratios against pure.

    ``pipeline`` is a Pipeline or ``"module:function"`` (default: the reference pipeline);
    ``workload`` a registered name (``NAME@N`` for another size) or a Workload. With
    ``max_time`` seconds (0: off), variants whose verdict is inconclusive are measured
    again, two rounds at a time, until decided, settled within the noise floor, or out
    of time. ``metric`` (:data:`COMPARE_METRICS`) adds instruction counts beside the
    times."""
    if metric not in COMPARE_METRICS:
        raise InvalidInputError(f"unknown metric {metric!r}; choose one of: "
                                + ", ".join(COMPARE_METRICS))
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
    launch = _launcher(config, launcher, clock)
    started = time.monotonic()
    runs = _interleaved(specs, config, launch, progress)

    def build(look: int) -> Comparison:
        results = tuple(
            VariantResult(spec.variant or "pure", Measurement.new(
                spec, replace(config, workers=len(runs[spec.label])),
                tuple(runs[spec.label])))
            for spec in specs)
        return build_comparison(st.name, specs[0].workload or "-", results, look=look)

    if metric != "time":
        from workbench.measure.cachegrind import real_interpreter, valgrind_path

        valgrind_path()  # before any measuring: a missing tool is reported at once
        real_interpreter()
    comp = _more_rounds(build, specs, runs, config, launch, progress, max_time, started)
    if check_equivalence:
        comp = replace(comp, results=with_equivalence(comp.results))
    if metric != "time":
        comp = count_variants(comp, specs, cache_sim=metric == "cache", seed=config.seed,
                              progress=progress)
    return comp


def count_variants(comp: Comparison, specs: Sequence[TargetSpec], *, cache_sim: bool = False,
                   seed: int = 0, progress: Progress | None = None) -> Comparison:
    """``comp`` with every variant's instructions per call counted under Cachegrind
    (:mod:`workbench.measure.instructions`); ``specs`` are its targets, in its order."""
    from workbench.measure.instructions import InstructionSettings, count_instructions

    settings = InstructionSettings(cache_sim=cache_sim, seed=seed)
    counted = []
    for i, (result, spec) in enumerate(zip(comp.results, specs, strict=True)):
        if progress is not None:
            progress(i, len(specs), f"instructions of {spec.label} under Cachegrind")
        counted.append(replace(result, instructions=count_instructions(spec, settings)))
    if progress is not None:
        progress(len(specs), len(specs), "instructions counted")
    return replace(comp, results=tuple(counted))


def _settled(result: VariantResult) -> bool:
    """Decided (faster/slower), or its interval lies within the noise floor around 1."""
    pair = result.versus_baseline
    if pair is None or pair.verdict != "inconclusive":
        return True
    iv = pair.speedup.interval
    return iv is not None and iv.low >= 1 - NOISE_FLOOR and iv.high <= 1 + NOISE_FLOOR


def _more_rounds(build: Callable[[int], Comparison], specs: Sequence[TargetSpec],
                 runs: dict[str, list[WorkerRun]], config: MeasureConfig, launch: Launcher,
                 progress: Progress | None, max_time: float, started: float) -> Comparison:
    """A sequential compare: two more rounds of the baseline and every unsettled variant
    while time allows; a variant's result is kept from the look that settled it (the
    error rate is spent across looks as in :mod:`workbench.budget.sequential`)."""
    from workbench.measure.looks import ROUNDS_PER_LOOK, check_max_time

    max_time = check_max_time(max_time)
    look, done = 1, config.workers
    comp = build(look)
    kept: dict[str, VariantResult] = {}
    per_round = (time.monotonic() - started) / max(1, done * len(specs))
    while True:
        kept.update({r.variant: r for r in comp.results if r.variant not in kept
                     and r.variant != comp.baseline and _settled(r)})
        comp = replace(comp, results=tuple(kept.get(r.variant, r) for r in comp.results))
        pending = [s for s in specs if (s.variant or "pure") not in kept
                   and (s.variant or "pure") != comp.baseline]
        elapsed = time.monotonic() - started
        jobs = [s for s in specs if s not in pending and (s.variant or "pure") ==
                comp.baseline] + pending
        if not pending or elapsed + per_round * ROUNDS_PER_LOOK * len(jobs) > max_time:
            return comp
        before = time.monotonic()
        interleave_blocks([[(s.label, s, launch)] for s in jobs], config, progress,
                          rounds=ROUNDS_PER_LOOK, first=done, into=runs)
        per_round = (time.monotonic() - before) / (ROUNDS_PER_LOOK * len(jobs))
        done += ROUNDS_PER_LOOK
        look += 1
        comp = build(look)


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
    fanout: Fanout | None = None,
) -> Sweep:
    """The same comparison at each workload size (``NAME@N``) and a log-log slope.

    With a cluster's ``fanout`` each size is one comparison on one node, the sizes spread
    over the nodes; without, they run here one after another."""
    from workbench.measure.placement import LocalFanout

    distinct = sorted(set(sizes))
    if len(distinct) < 3:
        raise InvalidInputError(f"a sweep needs at least 3 distinct sizes; got {list(sizes)}")
    base: Workload | str = workload if isinstance(workload, Workload) \
        else workload.split("@", 1)[0]
    fan = fanout or LocalFanout()
    steps = Steps(len(distinct), progress)

    def point(i: int, n: int) -> Callable[[Site], Comparison]:
        sized = base.with_size(n) if isinstance(base, Workload) else f"{base}@{n}"

        def run(site: Site) -> Comparison:
            return compare(stage, sized, variants=variants, params=params, config=config,
                           pipeline=pipeline, progress=steps.of(i, f"size {n}"),
                           launcher=launcher or (site.launcher() if site.remote else None),
                           clock=clock, check_equivalence=False)
        return run

    found = fan.map([point(i, n) for i, n in enumerate(distinct)],
                    [f"size {n}" for n in distinct])
    name = base.base_name if isinstance(base, Workload) else base
    return build_sweep(stage.name if isinstance(stage, Stage) else stage, name,
                       tuple(zip(distinct, found, strict=True)))


class Steps:
    """One progress callback over several parts that may run at once (a sweep's sizes on
    the nodes of a cluster): done and total are summed over the parts."""

    def __init__(self, parts: int, progress: Progress | None) -> None:
        self.progress = progress
        self.done = [0] * parts
        self.total = [0] * parts
        self.lock = threading.Lock()

    def of(self, i: int, prefix: str) -> Progress:
        def step(done: int, total: int, label: str) -> None:
            if self.progress is None:
                return
            with self.lock:
                self.done[i], self.total[i] = done, total
                known = [t for t in self.total if t] or [1]
                whole = sum(self.total) + (len(self.total) - len(known)) * max(known)
                self.progress(sum(self.done), whole, f"{prefix}: {label}")
        return step
