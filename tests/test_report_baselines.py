"""What passes between a report's notebooks and from one run to the next: the compare
notebook's measurements judged by the budgets notebook (a check that starts from them
measures only what they lack), and the last green run's baseline (synthetic runs; no
timing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.budget.check_result import CheckResult, Verdict
from workbench.budget.rounds import Rounds
from workbench.budget.spec import Rule
from workbench.errors import InvalidInputError
from workbench.measure.config import MeasureConfig
from workbench.measure.measurement import Measurement
from workbench.measure.protocol import WorkerRun
from workbench.measure.targets import TargetSpec
from workbench.reporting import baselines as b

CONFIG = MeasureConfig(workers=6, samples=4)


def spec(variant: str) -> TargetSpec:
    return TargetSpec("stage", "embed", variant, "tiny")


def runs(n: int, first: int = 0) -> tuple[WorkerRun, ...]:
    return tuple(WorkerRun(index=first + i, ok=True, batch_ns=(1000, 1100, 1050, 990),
                           items_per_call=1) for i in range(n))


class Launches:
    """A launcher that records which target ran which worker index."""

    def __init__(self) -> None:
        self.made: list[tuple[str, int]] = []

    def __call__(self, target: TargetSpec, config: MeasureConfig, index: int) -> WorkerRun:
        self.made.append((target.label, index))
        return runs(1, index)[0]


def test_a_check_starts_from_measurements_of_the_same_target_and_settings() -> None:
    launch = Launches()
    rounds = Rounds([spec("pure"), spec("native"), spec("vectorized")],
                    [("current", launch)], CONFIG, None)
    kept = [Measurement.new(spec("pure"), CONFIG, runs(6)),
            # other settings (samples): measured again, not taken
            Measurement.new(spec("native"), MeasureConfig(workers=6, samples=9), runs(6)),
            Measurement.new(spec("vectorized"), CONFIG, runs(4))]
    assert rounds.seed(kept, "current") == ("embed/pure", "embed/vectorized")
    rounds.fill(dict.fromkeys(rounds.specs, 6))
    made = {label: [i for lab, i in launch.made if lab == label]
            for label in ("embed/pure", "embed/native", "embed/vectorized")}
    assert made == {"embed/pure": [], "embed/native": [0, 1, 2, 3, 4, 5],
                    "embed/vectorized": [4, 5]}  # worker indices go on from the kept ones
    assert [len(m.runs) for m in rounds.side("current")] == [6, 6, 6]
    rounds.extend([("embed", "pure")], 2)  # a later look: two more of pure only
    assert [i for lab, i in launch.made if lab == "embed/pure"] == [6, 7]
    with pytest.raises(ValueError, match="one measured side"):
        Rounds([spec("pure")], [("current", launch), ("HEAD~1", launch)], CONFIG,
               None).seed(kept, "current")


def test_a_target_with_a_failed_worker_is_measured_again() -> None:
    failed = (*runs(5), WorkerRun(index=5, ok=False, error="boom"))
    rounds = Rounds([spec("pure")], [("current", Launches())], CONFIG, None)
    assert rounds.seed([Measurement.new(spec("pure"), CONFIG, failed)], "current") == ()


def test_kept_measurements_round_trip_and_a_foreign_file_is_refused(tmp_path: Path) -> None:
    from workbench.measure.comparison import VariantResult, build_comparison

    measured = Measurement.new(spec("pure"), CONFIG, runs(6))
    comparison = build_comparison("embed", "tiny", (VariantResult("pure", measured),))
    assert b.kept_measurements(tmp_path) == ()
    b.keep_measurements([comparison], tmp_path)
    (back,) = b.kept_measurements(tmp_path)
    assert back.target == measured.target and back.runs == measured.runs
    (tmp_path / b.MEASUREMENTS).write_text('{"kind": "something-else"}')
    with pytest.raises(InvalidInputError, match="not the measurements of a report"):
        b.kept_measurements(tmp_path)


def _run(reports: Path, name: str, status: str, workload: str = "tiny",
         baseline: bool = True) -> Path:
    folder = reports / name
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({
        "schema_version": 1, "kind": "report", "id": name, "created_at": "2026-12-06",
        "status": status, "notebooks": [], "breaches": [], "workload": workload,
        "pipeline": "p:q", "git": {"sha": "abcdef0123", "dirty": False}}))
    if baseline:
        b.run_baseline_path(folder, workload).write_text("{}")
    return folder


def test_the_last_green_run_is_the_newest_that_passed_and_stored_a_baseline(
        tmp_path: Path) -> None:
    assert b.last_green(tmp_path / "none", "tiny", "p:q") is None
    _run(tmp_path, "20261201T000000Z-aaaaaaa", "pass")
    green = _run(tmp_path, "20261202T000000Z-bbbbbbb", "pass")
    _run(tmp_path, "20261203T000000Z-ccccccc", "breach")
    _run(tmp_path, "20261204T000000Z-ddddddd", "pass", workload="small")
    _run(tmp_path, "20261205T000000Z-eeeeeee", "pass", baseline=False)
    (tmp_path / "20261206T000000Z-fffffff").mkdir()  # no summary: stopped, or not a run
    this = _run(tmp_path, "20261207T000000Z-ggggggg", "pass")
    found = b.last_green(tmp_path, "tiny", "p:q", before=this)
    assert found is not None and found.folder == green
    assert found.baseline == green / "baseline-tiny.json"
    assert "20261202T000000Z-bbbbbbb (commit abcdef0" in found.said
    assert b.last_green(tmp_path, "tiny", "other:pipeline") is None


def test_a_first_run_shows_one_line_instead_of_a_no_baseline_row_per_rule() -> None:
    def verdict(status: str, kind: str) -> Verdict:
        return Verdict(Rule("embed", "pure", "latency_p50", kind, 1.1, "error"), status,
                       "tiny", "why")

    result = CheckResult((verdict("pass", "absolute"), verdict("no-baseline", "relative"),
                          verdict("no-baseline", "relative")), "hash")
    first = b.first_run(result, Path("r/baseline-tiny.json"))
    assert [v.status for v in first.verdicts] == ["pass"]
    assert first.notes == ("first run on this machine: 2 relative rules have no baseline "
                           "yet; stored this run's measurements as the baseline the next "
                           "run will use: r/baseline-tiny.json",)
    assert "stored no baseline" in b.first_run(result, None).notes[0]
    assert b.first_run(first, None) is first
