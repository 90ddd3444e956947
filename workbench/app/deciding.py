"""Decision services: record a budget decision with its evidence, read and export the log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import ExecutionError
from workbench.measure.config import MeasureConfig
from workbench.measure.targets import Params, WorkloadArg
from workbench.refs import PipelineArg

if TYPE_CHECKING:
    from workbench.budget.rules import Rule
    from workbench.budget.standing import Budgets
    from workbench.decisions.budget_follow import Followed
    from workbench.decisions.record import DecisionRecord
    from workbench.decisions.store import LogRead
    from workbench.measure.comparison import Comparison
    from workbench.pipeline import Pipeline
    from workbench.results import Result

from workbench.app.measuring import compare
from workbench.app.suggesting import standing_budgets, suggest_variant
from workbench.progress import Progress


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


def _evidence(stage: str, evidence: Sequence[Result], notices: list[str], *,
              workload: WorkloadArg, pipeline: PipelineArg, params: Params | None,
              config: MeasureConfig | None, progress: Progress | None) -> Comparison:
    """The newest comparison of ``stage`` in ``evidence``, else every variant measured
    now; refused when a variant failed in it."""
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
    return comparison


def _repeats(workload: WorkloadArg, pipeline: PipelineArg, comparison: Comparison,
             profiles: Sequence[Result]) -> float | None:
    """How often ``workload``'s items repeat, for the hint (as the panel's hint reads
    it), when it is the comparison's workload and a flame graph is among the evidence."""
    from workbench.app.hinting import workload_repeats

    name = workload if isinstance(workload, str) else workload.name
    if name != comparison.workload or not any(p.kind == "flamegraph" for p in profiles):
        return None
    return workload_repeats(workload, pipeline)


def _with_limits(standing: Budgets, stage: str, given: Sequence[Rule]) -> Budgets:
    """The standing budgets with the ``given`` limits of ``stage`` in place of the file's
    rules on their metrics."""
    from workbench.budget.spec import BudgetSpec
    from workbench.budget.standing import Budgets

    own = [] if standing.spec is None else list(standing.spec.rules)
    named = {r.metric for r in given}
    merged = BudgetSpec(tuple(r for r in own if not (r.stage == stage and r.metric in named))
                        + tuple(given),
                        standing.spec.source if standing.spec else "limits given")
    return Budgets(merged if merged.rules else None, standing.baseline, standing.note)


def _notices(budgets: Path | None, given: Sequence[Rule], followed: Followed | None,
             standing: Budgets) -> list[str]:
    """What the reader is told about the budgets file after the decision is written."""
    notices = []
    if followed is None and given and budgets is None:
        notices.append("limits were given but no budgets file: the decision records them, "
                       "and no file holds the variant to them")
    elif followed is None and given:
        notices.append(f"--no-budget-update: {budgets} was left as it is; the decision "
                       "records the limits")
    elif followed is None:
        notices.append(f"no limits were given: {budgets or 'the budgets file'} was left as "
                       "it is (give --latency/--p95/... to budget the chosen variant)")
    if standing.note:
        notices.append(standing.note)
    return notices


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
    replaces the file's rules on its metric, for every variant of the stage
    (:func:`workbench.app.suggesting.suggest_variant`). The decision holds the chosen
    variant to the resulting rules; when ``limits`` were given and ``update_budgets``,
    the budgets file is updated so that ``workbench check`` holds the variant there."""
    from workbench.budget.rules import ALL, Rule
    from workbench.decisions.evidence import build_decision
    from workbench.decisions.record import MAX_RATIONALE, check_text
    from workbench.refs import pipeline_label, resolve_pipeline

    because = check_text(because, "the rationale (--because)", limit=MAX_RATIONALE)
    pipe, ref = resolve_pipeline(pipeline)
    order = pipe.stage(stage).variant_names
    pipe.stage(stage).get(variant)  # unknown names fail here, before anything is measured
    notices: list[str] = []
    comparison = _evidence(stage, evidence, notices, workload=workload, pipeline=pipeline,
                           params=params, config=config, progress=progress)
    profiles = tuple(e for e in evidence if e is not comparison and e.kind != "comparison")
    standing = standing_budgets(budgets, comparison.workload, baseline=baseline_file,
                                pipeline=pipeline)
    given = tuple(Rule(stage, ALL, r.metric, r.kind, r.value, r.level) for r in limits)
    judged = _with_limits(standing, stage, given)
    repeats = _repeats(workload, pipeline, comparison, profiles)
    held = tuple(Rule(stage, variant, r.metric, r.kind, r.value, r.level)
                 for r in (judged.spec.rules if judged.spec else ())
                 if r.stage == stage and r.variant in (variant, ALL) and not r.target)
    record = build_decision(
        stage=stage, variant=variant, rationale=because,
        pipeline=pipeline_label(pipe, ref), pipeline_name=pipe.name, comparison=comparison,
        verdicts=suggest_variant(comparison, judged, order=order).verdicts,
        order=order, profiles=profiles, limits=held, who=who, repeats=repeats)
    follow = budgets if update_budgets and given else None
    written, followed = _write(record, log, follow, pipe)
    notices += _notices(budgets, given, followed, standing)
    return Decided(written, log, followed, tuple(notices))


def _write(record: DecisionRecord, log: Path, budgets: Path | None,
           pipe: Pipeline) -> tuple[DecisionRecord, Followed | None]:
    """Append ``record`` to the log at ``log`` and, given ``budgets``, update that file to
    hold the decided variant to the record's limits."""
    from workbench.decisions.store import DecisionLog

    followed = None
    if budgets is not None:
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
    return written, followed


def decisions(log: Path) -> LogRead:
    """Every decision in the log at ``log`` (a missing log reads as empty)."""
    from workbench.decisions.store import DecisionLog

    return DecisionLog(log).read()


def export_decisions(log: Path, out: Path, *, stage: str | None = None,
                     since: datetime | None = None) -> tuple[Path, int]:
    """The log as one self-contained HTML page at ``out`` (atomically); returns the path
    and how many decisions it shows."""
    from workbench.app.views import decision_log_html
    from workbench.files import write_atomic

    read = decisions(log)
    shown = read.select(stage=stage, since=since)
    return write_atomic(out, decision_log_html(read, stage=stage, since=since)), len(shown)
