"""The service layer: what the command line, the notebook magics and the widget panel do.

Each function takes plain values (a pipeline reference or object, a workload name or
object, parameters, a :class:`~workbench.measure.config.MeasureConfig`, an optional
progress callback), does the work through the core, and returns a result of the result
protocol (:mod:`workbench.results`) or a small record around results. Nothing here
prints, and nothing picks an output path: a file is written only where the caller names
one (the CLI's defaults live in the CLI). Errors are ``WorkbenchError`` subclasses.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from workbench.errors import ExecutionError, InvalidInputError
from workbench.measure.config import MeasureConfig
from workbench.measure.targets import Params, WorkloadArg
from workbench.refs import PipelineArg

if TYPE_CHECKING:
    from workbench.budget.baseline import Baseline
    from workbench.budget.result import CheckResult, ScalingObservation
    from workbench.budget.rules import Rule
    from workbench.budget.spec import BudgetSpec
    from workbench.cluster.fanout import Fanout
    from workbench.cluster.sites import Site
    from workbench.decisions.budget_follow import Followed
    from workbench.decisions.record import DecisionRecord
    from workbench.decisions.store import LogRead
    from workbench.measure.comparison import Comparison
    from workbench.measure.instructions import InstructionCount
    from workbench.measure.measurement import Measurement
    from workbench.measure.scale_out import ScaleOut
    from workbench.measure.sweep import Sweep
    from workbench.results import Result
    from workbench.runs import PipelineRun

__all__ = [
    "CheckReport",
    "Decided",
    "baseline",
    "check",
    "compare",
    "decide",
    "decisions",
    "export_decisions",
    "measure",
    "profile",
    "run",
    "scale_out",
    "sweep",
]

Progress = Callable[[int, int, str], None]
T = TypeVar("T")


def _on_one_node(fanout: Fanout | None, label: str, work: Callable[[Site | None], T]) -> T:
    """``work`` on one node of the cluster behind ``fanout`` (re-run on another if that
    node is lost), or here (``work(None)``) without a cluster."""
    if fanout is None or not fanout.remote:
        return work(None)
    return fanout.map([work], [label])[0]


ProfileKind = Literal["flame", "memory", "lines"]


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
        pipe = pipe.select_decided(decided, name=pipeline_label(pipe, ref))
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


def _spec(budgets: Path, pipeline: PipelineArg) -> BudgetSpec:
    from workbench.budget.commands import load_spec

    return load_spec(budgets, pipeline)


def baseline(budgets: Path, out: Path, *, workload: WorkloadArg, pipeline: PipelineArg = None,
             params: Params | None = None, config: MeasureConfig | None = None,
             progress: Progress | None = None, fanout: Fanout | None = None) -> Baseline:
    """Measure every budgeted target (and sweep those with a ``scaling`` rule, count the
    instructions of those with an instruction rule) and store them as the baseline at
    ``out`` (atomically). If a target failed: ExecutionError, and ``out`` is left as it
    was."""
    from workbench.budget.baseline import save_baseline
    from workbench.budget.commands import budget_targets, current_scaling, measure_targets
    from workbench.budget.instr_targets import count_sides

    spec = _spec(budgets, pipeline)
    config = config or MeasureConfig()
    pairs = budget_targets(spec, pipeline)
    counts = count_sides(spec, pairs, workload, pipeline, params, [("current", None, None)],
                         progress, seed=config.seed)["current"]
    bad = [c for c in counts if not c.ok]
    if bad:
        raise ExecutionError(f"counting the instructions of {bad[0].target.label} failed: "
                             f"{bad[0].error}; nothing was written to {out}")
    measured = measure_targets(pairs, workload, pipeline, config, params, progress, fanout)
    failed = [m for m in measured if not m.ok]
    if failed:
        raise ExecutionError(f"{failed[0].target.label} failed: {failed[0].error_text()}; "
                             f"nothing was written to {out}")
    scaling = _on_one_node(fanout, "scaling sweeps", lambda site: current_scaling(
        spec, pairs, workload, pipeline, config, params, progress, site))
    return save_baseline(out, measured, spec.digest(), scaling=scaling, instructions=counts)


@dataclass(frozen=True)
class CheckReport:
    """A budget check with what surrounds it: the measurements of both sides, notices
    for the reader, and where (and as which run) it was recorded in the history."""

    result: CheckResult
    current: tuple[Measurement, ...]
    baseline: tuple[Measurement, ...]
    notices: tuple[str, ...]
    run_id: str
    git_sha: str | None
    created_at: str
    history: Path | None = None
    recorded_rows: int = 0

    def exit_code(self, strict: bool = False) -> int:
        return self.result.exit_code(strict=strict)


def _stored_baseline(path: Path, workload: WorkloadArg, spec: BudgetSpec,
                     ) -> tuple[Baseline, str | None]:
    from workbench.budget.baseline import load_baseline

    name = workload if isinstance(workload, str) else workload.name
    base = load_baseline(path, workload=name)
    note = None
    if base.budgets_hash != spec.digest():
        note = (f"{path} was made with other budgets (hash {base.budgets_hash[:12]} vs "
                f"{spec.digest()[:12]}); rules that changed since compare against it anyway")
    return base, note


def check(budgets: Path, *, workload: WorkloadArg, pipeline: PipelineArg = None,
          params: Params | None = None, config: MeasureConfig | None = None,
          baseline_file: Path | None = None, against: str | None = None,
          history: Path | None = None, repo: Path | None = None,
          progress: Progress | None = None, max_time: float | None = None,
          fanout: Fanout | None = None) -> CheckReport:
    """Measure the budgeted targets, apply the budgets against a stored baseline
    (``baseline_file``) or a git ref measured now (``against``), and, when ``history``
    names a database, append the verdicts to it as one run. Undecided error-level
    verdicts get more worker rounds within ``max_time`` seconds (default
    :data:`~workbench.budget.sequential.DEFAULT_MAX_TIME`; 0: one look)."""
    from workbench.budget.commands import run_check
    from workbench.budget.history import record
    from workbench.budget.sequential import DEFAULT_MAX_TIME

    if baseline_file is not None and against is not None:
        raise InvalidInputError("give a stored baseline or a git ref to check against, "
                                "not both")
    spec = _spec(budgets, pipeline)
    notices: list[str] = []
    stored: tuple[Measurement, ...] = ()
    stored_scaling: tuple[ScalingObservation, ...] = ()
    stored_counts: tuple[InstructionCount, ...] = ()
    if baseline_file is not None:
        base, note = _stored_baseline(baseline_file, workload, spec)
        stored, stored_scaling, stored_counts = base.measurements, base.scaling, \
            base.instructions
        notices += [note] if note else []
    done = _on_one_node(fanout, "budget check", lambda site: run_check(
        spec, workload=workload, pipeline=pipeline, config=config or MeasureConfig(),
        params=params, baseline=stored, baseline_scaling=stored_scaling,
        baseline_instructions=stored_counts, against=against, repo=repo,
        progress=progress, max_time=DEFAULT_MAX_TIME if max_time is None else max_time,
        site=site))
    notices += [done.notice] if done.notice else []
    if done.looks > 1:
        late = sum(1 for v in done.result.verdicts if v.look is not None and v.look > 1)
        notices.append(f"undecided error-level verdicts were measured again: {done.looks} "
                       f"looks in all, {late} verdicts reached after the first "
                       "(error rate spent across looks; see each verdict's workers)")
    sha = next((str(m.environment["git_sha"]) for m in done.current
                if m.environment.get("git_sha")), None)
    when = datetime.now(UTC).isoformat(timespec="seconds")
    run_id = uuid.uuid4().hex[:12]
    rows = record(history, done.result, run_id, sha, when) if history is not None else 0
    return CheckReport(done.result, done.current, done.baseline, tuple(notices), run_id, sha,
                       when, history, rows)


@dataclass(frozen=True)
class Decided:
    """A recorded decision: the record as written to the log, the budgets update it made
    (None: the budgets file was not changed) and notices for the reader."""

    record: DecisionRecord
    log: Path
    budgets: Followed | None
    notices: tuple[str, ...]


def _evidence_comparison(evidence: Sequence[Result], stage: str) -> Comparison | None:
    found = [e for e in evidence if e.kind == "comparison" and getattr(e, "stage", None) == stage]
    return found[-1] if found else None  # type: ignore[return-value]


def decide(stage: str, variant: str, because: str, *, log: Path,
           pipeline: PipelineArg = None, workload: WorkloadArg = "tiny",
           evidence: Sequence[Result] = (), budgets: Path | None = None,
           baseline_file: Path | None = None, limits: Sequence[Rule] = (),
           update_budgets: bool = True, params: Params | None = None,
           config: MeasureConfig | None = None, who: str | None = None,
           progress: Progress | None = None) -> Decided:
    """Record that ``stage`` uses ``variant`` because ``because``, in the log at ``log``.

    The evidence is the newest comparison of ``stage`` in ``evidence`` (every variant
    measured now on ``workload`` when there is none) plus the other results given
    (profiles of the stage). Each variant is judged against ``budgets`` (and the stored
    ``baseline_file`` for relative limits) with ``limits`` on top: a limit given here
    replaces the file's rules on its metric, for every variant of the stage. The decision
    holds the chosen variant to the resulting rules; when ``limits`` were given and
    ``update_budgets``, the budgets file is updated so that ``workbench check`` holds the
    variant there."""
    from workbench.budget.judge import Budgets, standing_budgets, verdicts_by_variant
    from workbench.budget.rules import ALL, Rule
    from workbench.budget.spec import BudgetSpec
    from workbench.decisions.evidence import build_decision
    from workbench.decisions.record import MAX_RATIONALE, check_text
    from workbench.decisions.store import DecisionLog
    from workbench.refs import pipeline_label, resolve_pipeline

    because = check_text(because, "the rationale (--because)", limit=MAX_RATIONALE)
    pipe, ref = resolve_pipeline(pipeline)
    pipe.stage(stage).get(variant)  # unknown names fail here, before anything is measured
    notices: list[str] = []
    comparison = _evidence_comparison(evidence, stage)
    if comparison is None:
        comparison = compare(stage, workload, pipeline=pipeline, params=params,
                             config=config, progress=progress)
        notices.append(f"measured every variant of {stage} on {comparison.workload} as "
                       "the evidence (no comparison of the stage was given)")
    if not comparison.ok:
        failed = [r.variant for r in comparison.results if not r.measurement.ok]
        raise ExecutionError(f"{stage}: variant(s) {', '.join(failed)} failed in the "
                             "comparison; fix them (or give other evidence) before deciding")
    profiles = tuple(e for e in evidence if e is not comparison and e.kind != "comparison")
    standing = Budgets(None, (), "no budgets file given")
    if budgets is not None:
        standing = standing_budgets(budgets, baseline_file, comparison.workload, pipeline)
    own = [] if standing.spec is None else list(standing.spec.rules)
    given = tuple(Rule(stage, ALL, r.metric, r.kind, r.value, r.level) for r in limits)
    named = {r.metric for r in given}
    merged = BudgetSpec(tuple(r for r in own if not (r.stage == stage and r.metric in named))
                        + given, standing.spec.source if standing.spec else "limits given")
    judged = Budgets(merged if merged.rules else None, standing.baseline, standing.note)
    verdicts = verdicts_by_variant(judged, comparison)
    held = tuple(Rule(stage, variant, r.metric, r.kind, r.value, r.level)
                 for r in merged.rules if r.stage == stage and r.variant in (variant, ALL))
    record = build_decision(
        stage=stage, variant=variant, rationale=because,
        pipeline=pipeline_label(pipe, ref), pipeline_name=pipe.name, comparison=comparison,
        verdicts=verdicts,
        order=pipe.stage(stage).variant_names, profiles=profiles, limits=held, who=who)
    followed = None
    if update_budgets and given and budgets is not None:
        from dataclasses import replace

        from workbench.decisions.budget_follow import plan_follow

        record = replace(record, budgets_file=str(budgets))
        # checked before the log is touched: a budgets file that cannot take the limits
        # stops the decision, and nothing is written anywhere
        followed = plan_follow(budgets, record,
                               stages={s.name: s.variant_names for s in pipe.stages})
    written = DecisionLog(log).append(record)
    if followed is not None:
        try:
            followed.write()
        except OSError as exc:
            raise ExecutionError(f"decision {written.id} was recorded in {log}, but {budgets} "
                                 f"could not be written: {exc}") from None
    elif given and budgets is None:
        notices.append("limits were given but no budgets file: the decision records them, "
                       "and no file holds the variant to them")
    elif given:
        notices.append(f"--no-budget-update: {budgets} was left as it is; the decision "
                       "records the limits")
    else:
        notices.append(f"no limits were given: {budgets or 'the budgets file'} was left as "
                       "it is (give --latency/--p95/... to budget the chosen variant)")
    if standing.note:
        notices.append(standing.note)
    return Decided(written, log, followed, tuple(notices))


def decisions(log: Path) -> LogRead:
    """Every decision in the log at ``log`` (a missing log reads as empty)."""
    from workbench.decisions.store import DecisionLog

    return DecisionLog(log).read()


def export_decisions(log: Path, out: Path, *, stage: str | None = None,
                     since: datetime | None = None) -> tuple[Path, int]:
    """The log as one self-contained HTML page at ``out`` (atomically); returns the path
    and how many decisions it shows."""
    from workbench.decisions.timeline import export_html
    from workbench.files import write_atomic

    read = decisions(log)
    shown = read.select(stage=stage, since=since)
    return write_atomic(out, export_html(read, stage=stage, since=since)), len(shown)
