"""Budget services: store a baseline, check the budgets against it or a git ref."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import ExecutionError, InvalidInputError
from workbench.measure.config import MeasureConfig
from workbench.measure.targets import Params, WorkloadArg
from workbench.refs import PipelineArg

if TYPE_CHECKING:
    from workbench.budget.baseline import Baseline
    from workbench.budget.check_result import CheckResult, ScalingObservation
    from workbench.budget.spec import BudgetSpec
    from workbench.measure.instructions import InstructionCount
    from workbench.measure.measurement import Measurement
    from workbench.measure.placement import Fanout

from workbench.app._nodes import _on_one_node
from workbench.progress import Progress


def _spec(budgets: Path, pipeline: PipelineArg, decided: Path | None = None) -> BudgetSpec:
    """The budgets file, its stage targets bound to the variants the decision log at
    ``decided`` records (pure where none, or without a log)."""
    from workbench.budget.checking import load_spec

    return load_spec(budgets, pipeline).selecting(selected_variants(decided, pipeline))


def selected_variants(decided: Path | None, pipeline: PipelineArg) -> dict[str, str]:
    """Stage -> the variant the decision log at ``decided`` records for ``pipeline``
    (empty: no log, or nothing decided)."""
    from workbench.decisions.store import DecisionLog
    from workbench.refs import pipeline_label, resolve_pipeline

    if decided is None or not decided.is_file():
        return {}
    pipe, ref = resolve_pipeline(pipeline)
    return DecisionLog(decided).read().choices(pipeline_label(pipe, ref), pipe.name)


def baseline(budgets: Path, out: Path, *, workload: WorkloadArg, pipeline: PipelineArg = None,
             params: Params | None = None, config: MeasureConfig | None = None,
             progress: Progress | None = None, fanout: Fanout | None = None,
             decided: Path | None = None) -> Baseline:
    """Measure every budgeted target (and sweep those with a ``scaling`` rule, count the
    instructions of those with an instruction rule) and store them as the baseline at
    ``out`` (atomically). If a target failed: ExecutionError, and ``out`` is left as it
    was. Stage targets are measured on the variants the decision log at ``decided``
    records."""
    from workbench.budget.baseline import save_baseline
    from workbench.budget.checking import budget_targets, current_scaling, measure_targets
    from workbench.budget.instructions import count_sides

    spec = _spec(budgets, pipeline, decided)
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
    instructions: tuple[InstructionCount, ...] = ()
    scaling: tuple[ScalingObservation, ...] = ()
    budgets_hash: str = ""

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
          fanout: Fanout | None = None, decided: Path | None = None,
          measured: Sequence[Measurement] = (), count_all: bool = False,
          layouts: int | None = None) -> CheckReport:
    """Measure the budgeted targets, apply the budgets against a stored baseline
    (``baseline_file``) or a git ref measured now (``against``, checked out from the git
    repository ``repo``, which the caller names), and, when ``history``
    names a database, append the verdicts to it as one run. Undecided error-level
    verdicts get more worker rounds within ``max_time`` seconds (default
    :data:`~workbench.budget.sequential.DEFAULT_MAX_TIME`; 0: one look).

    Stage targets (``[target.STAGE]``) are checked on the variant the decision log at
    ``decided`` records (pure where none). Against a stored baseline (or none),
    ``measured`` holds measurements of this session to start from, ``count_all`` also
    counts instructions the baseline cannot judge (to store them), with ``layouts``
    memory layouts per count (:func:`workbench.budget.checking.run_check`)."""
    from workbench.budget.checking import run_check
    from workbench.budget.history import record
    from workbench.budget.sequential import DEFAULT_MAX_TIME

    if baseline_file is not None and against is not None:
        raise InvalidInputError("give a stored baseline or a git ref to check against, "
                                "not both")
    spec = _spec(budgets, pipeline, decided)
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
        site=site, measured=measured, count_all=count_all, layouts=layouts))
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
                       when, history, rows, done.instructions, done.scaling, spec.digest())

