"""One synthetic instance of every result kind, with a ``<script>`` in every string a user
controls (stage, variant, workload, function names, source lines), for the protocol tests.

No timing and no profiler runs: worker runs and profiles are built from chosen numbers.
"""

from __future__ import annotations

from collections.abc import Callable

from workbench.budget.budgeted_block import BudgetedBlock
from workbench.budget.check_result import CheckResult
from workbench.budget.rules import Rule
from workbench.budget.spec import BudgetSpec, parse_budgets
from workbench.budget.verdict import check
from workbench.decisions import DecisionRecord, build_decision
from workbench.measure.comparison import VariantResult, build_comparison
from workbench.measure.config import MeasureConfig
from workbench.measure.measurement import Measurement
from workbench.measure.protocol import WorkerRun
from workbench.measure.scale_out import ScaleOut
from workbench.measure.sweep import build_sweep
from workbench.measure.targets import TargetSpec
from workbench.pipeline import Boundary, FusionReport
from workbench.profile import Flamegraph, LineProfile, MemoryTrack, Overhead
from workbench.profile.lines import FunctionLines, LineRow
from workbench.profile.memory import AllocationSite, AllocationStack, Phase, Snapshot
from workbench.rag.reference import RagRun
from workbench.rag.types import Hit
from workbench.reporting.choices import StageChoice, StageChoices
from workbench.reporting.shares import StageShare, StageShares
from workbench.runs import PipelineRun, SegmentTiming
from workbench.stages import EquivalenceResult

#: Markup that must never reach a page unescaped; the handler would set a global.
EVIL = "<script>window.__wb_pwned=1</script><img src=x onerror='window.__wb_pwned=2'>"
STAGE = f"chunk{EVIL}"
WORKLOAD = f"tiny{EVIL}"
ENV = {"cpu_model": "Test CPU", "python": "3.11.7", "packages": {"numpy": "2.0.0"}}


def measurement(variant: str, per_call_ns: float, *, workers: int = 4, samples: int = 40,
                workload: str = WORKLOAD, stage: str = STAGE) -> Measurement:
    runs = tuple(
        WorkerRun(index=w, ok=True,
                  batch_ns=tuple(int(per_call_ns * (1 + 0.01 * ((i * 7 + w) % 11)))
                                 for i in range(samples)),
                  items_per_call=40, rss_peak_kb=40_000 + w, heap_peak_bytes=90_000,
                  warmup_calls=3, warmup_ns=300_000_000, first_call_ns=500_000)
        for w in range(workers))
    return Measurement(TargetSpec("stage", stage, variant, workload), MeasureConfig(), runs,
                       "2026-11-28T00:00:00+00:00", dict(ENV))


def comparison(workload: str = WORKLOAD, scale: float = 1.0) -> object:
    results = (
        VariantResult("pure", measurement("pure", 1e6 * scale, workload=workload),
                      equivalence=EquivalenceResult(True, "the reference")),
        VariantResult(f"native{EVIL}", measurement(f"native{EVIL}", 5e5 * scale,
                                                   workload=workload),
                      equivalence=EquivalenceResult(False, f"chunk 3 differs: {EVIL}", 0.5)),
    )
    return build_comparison(STAGE, workload, results)


def sweep() -> object:
    points = tuple((n, comparison(f"{WORKLOAD}@{n}", n / 10)) for n in (10, 20, 40))
    return build_sweep(STAGE, WORKLOAD, points)  # type: ignore[arg-type]


def scale_out() -> ScaleOut:
    from dataclasses import replace

    def at(n: int, ns: float) -> Measurement:
        m = measurement(f"parallel{EVIL}", ns)
        return replace(m, config=replace(m.config, threads=n))

    return ScaleOut(STAGE, WORKLOAD, f"parallel{EVIL}", ((1, at(1, 1e6)), (2, at(2, 5.5e5))),
                    ((f"native{EVIL}", measurement(f"native{EVIL}", 6e5)),))


def check_result() -> CheckResult:
    # a budgets.toml stage key cannot hold "/" (it separates stage and variant): the
    # workload, shown in every verdict's target, carries the whole markup
    spec = parse_budgets('[stage."chunk<b>"]\nvariant = "*"\nlatency_p50 = "1.1x"\n'
                         'peak_rss = "10MB"\n')
    current = [measurement("pure", 1.3e6, stage="chunk<b>")]
    base = [measurement("pure", 1e6, stage="chunk<b>")]
    return check(spec, current, base)


def fusion() -> FusionReport:
    return FusionReport(((STAGE, "pure"), ("embed", f"native{EVIL}")),
                        (Boundary(STAGE, "embed", False, True, f"materializes {EVIL}"),))


def timings() -> tuple[SegmentTiming, ...]:
    return (SegmentTiming((STAGE,), ("pure",), False, 0.002, 208),
            SegmentTiming(("embed",), (f"native{EVIL}",), False, 0.03, 208))


def pipeline_run() -> PipelineRun:
    return PipelineRun(f"pipe{EVIL}", WORKLOAD, ((STAGE, "pure"), ("embed", f"native{EVIL}")),
                       40, timings(), fusion(), f"tuple (1 items, ({EVIL!r},))")


def rag_run() -> RagRun:
    return RagRun(WORKLOAD, ((STAGE, "pure"),), f"hashing{EVIL}", 40, 208, 1, timings(),
                  ((Hit(f"doc{EVIL}:0", 0.5),),), (f"query {EVIL}",), fusion())


TARGET = TargetSpec("stage", STAGE, f"pure{EVIL}", WORKLOAD)
LOOP = ("_run_module_as_main (<frozen runpy>:173);<module> (workbench/profile/run_target.py:1);"
        "_run_loop (workbench/profile/run_target.py:40);"
        "prepare.<locals>.call (workbench/measure/targets.py:278)")
WHEN = "2026-11-28T00:00:00+00:00"


def flamegraph() -> Flamegraph:
    stacks = ((f"{LOOP};chunk{EVIL} (my/{EVIL}.py:5);inner (my/x.py:9)", 70),
              (f"{LOOP};chunk{EVIL} (my/{EVIL}.py:5)", 20),
              ("_run_module_as_main (<frozen runpy>:173);load (my/x.py:1)", 10))
    return Flamegraph(TARGET, 100, False, False, stacks, Overhead(10, 1.0, 1.05),
                      "py-spy 0.4", WHEN)


def memory_track() -> MemoryTrack:
    mib = 2**20
    where = f"my/{EVIL}.py:3"
    return MemoryTrack(
        TARGET, 4 * mib, 18 * mib, 12, False,
        tuple(Snapshot(float(t), int((10 + t / 20) * mib), int(t / 60 * mib))
              for t in range(0, 240, 20)),
        (AllocationSite(f"load{EVIL}", where, 3 * mib, 2),),
        (AllocationStack((f"<module> ({where})", f"load{EVIL} ({where})"), 3 * mib, 2),),
        Overhead(2, 0.1, 0.12), "memray 1.20", WHEN,
        phases=(Phase("prepare", 5.0, 60.0), Phase("warmup", 60.0, 90.0),
                Phase("measured", 90.0, 200.0)))


def line_profile() -> LineProfile:
    rows = (LineRow(5, 0, 0.0, f"def chunk(text):  # {EVIL}"),
            LineRow(6, 100, 0.002, f"    return text.split('{EVIL}')"))
    return LineProfile(TARGET, (FunctionLines(f"chunk{EVIL}", f"my/{EVIL}.py", 5, rows),),
                       1e-6, Overhead(5, 0.5, 1.5), "line_profiler 5", WHEN)


def budget_block() -> BudgetedBlock:
    current = measurement("block", 1.3e6, stage=f"%%budget mine{EVIL}", workload="-")
    base = measurement("block", 1e6, stage="%%budget earlier", workload="-")
    return BudgetedBlock(f"mine{EVIL}", f"total = work(data)  # {EVIL}", current,
                         check_result(), base, f"earlier{EVIL}")


def decision() -> DecisionRecord:
    from datetime import UTC, datetime

    made = comparison()
    # a stage name holding "/" cannot be written in budgets.toml: the rule is built
    spec = BudgetSpec((Rule(STAGE, "*", "latency_p50", "absolute", 2e6),))
    verdicts = {v: tuple(check(spec, [made.result(v).measurement], []).verdicts)  # type: ignore[attr-defined]
                for v in made.variants}  # type: ignore[attr-defined]
    return build_decision(
        stage=STAGE, variant="pure", rationale=f"pure is fast enough {EVIL}",
        pipeline=f"my.pipe:make{EVIL}", comparison=made,  # type: ignore[arg-type]
        verdicts=verdicts, profiles=(flamegraph(), memory_track()),
        limits=spec.rules, who=f"ann{EVIL}", decision_id="d-0123456789ab",
        clock=lambda: datetime(2026, 11, 28, tzinfo=UTC))


def stage_choices() -> StageChoices:
    return StageChoices(f"my.pipe:make{EVIL}", WORKLOAD, (
        StageChoice(STAGE, "native", f"native is the least escalated {EVIL}", "pure",
                    "d-0123456789ab", "2026-11-28T00:00:00+00:00"),
        StageChoice(f"embed{EVIL}", None, "no variant meets the budget; closest: pure"),
    ), f"budgets budgets.toml {EVIL}", f"decisions/{EVIL}.jsonl")


def stage_shares() -> StageShares:
    return StageShares(f"my.pipe:make{EVIL}", WORKLOAD, 3, (
        StageShare(STAGE, f"pure{EVIL}", 0.004, 0.8),
        StageShare("embed", "native", 0.001, 0.2)))


SAMPLES: dict[str, Callable[[], object]] = {
    "measurement": lambda: measurement("pure", 1e6),
    "comparison": comparison,
    "sweep": sweep,
    "scale-out": scale_out,
    "budget-check": check_result,
    "fusion-report": fusion,
    "pipeline-run": pipeline_run,
    "rag-run": rag_run,
    "flamegraph": flamegraph,
    "memory_track": memory_track,
    "line_profile": line_profile,
    "budget-block": budget_block,
    "decision": decision,
    "stage-choices": stage_choices,
    "stage-shares": stage_shares,
}
