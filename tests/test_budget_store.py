"""Budget storage: baseline files (versions, damage, atomic saves), SQLite history under
concurrent and killed writers, and step detection on a history series."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from workbench.budget.baseline import load_baseline, save_baseline
from workbench.budget.check_result import ScalingObservation
from workbench.budget.history import (
    HistoryRow,
    Point,
    Series,
    load_series,
    record,
    record_rows,
    rows_from_check,
)
from workbench.budget.spec import parse_budgets
from workbench.budget.steps import detect_steps, potts_segments, trend_text
from workbench.budget.verdict import check
from workbench.errors import InvalidInputError
from workbench.measure.config import MeasureConfig
from workbench.measure.measurement import Measurement
from workbench.measure.protocol import WorkerRun
from workbench.measure.targets import TargetSpec

ENV = {"cpu_model": "Test CPU", "python": "3.11.7", "packages": {"numpy": "2.0.0"}}


def measurement(center_ms: float = 1.0, *, workload: str = "small", variant: str = "pure",
                seed: int = 0) -> Measurement:
    rng = np.random.default_rng(seed)
    runs = tuple(WorkerRun(index=i, ok=True, items_per_call=4, rss_peak_kb=50_000 + i,
                           heap_peak_bytes=1000 + i,
                           batch_ns=tuple(round(x) for x in center_ms * 1e6
                                          * rng.lognormal(0, 0.02, 70)))
                 for i in range(3))
    return Measurement(TargetSpec("stage", "embed", variant, workload), MeasureConfig(seed=3),
                       runs, "2024-05-01T00:00:00+00:00", dict(ENV))


def _ctx() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


# -- baselines ----------------------------------------------------------------------------


def test_baseline_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    ms = [measurement(seed=1), measurement(variant="native", seed=2)]
    scaling = [ScalingObservation("embed", "pure", "small", 1.02, 0.98, 1.06, 0.95, dict(ENV))]
    saved = save_baseline(path, ms, "abc123", scaling=scaling, created_at="2024-05-02T00:00:00")
    loaded = load_baseline(path, workload="small")
    assert loaded == saved
    assert loaded.measurements == tuple(ms) and loaded.scaling == tuple(scaling)
    assert (loaded.workload, loaded.seeds, loaded.budgets_hash) == ("small", (3,), "abc123")
    assert loaded.config is not None and loaded.config["seed"] == 3
    data = json.loads(path.read_text())
    assert (data["schema_version"], data["kind"]) == (1, "baseline")
    assert data["tool_version"] and data["created_at"] == "2024-05-02T00:00:00"
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_baseline_versions_and_kinds_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    good = save_baseline(path, [measurement()], "h").to_json()
    with pytest.raises(InvalidInputError) as info:
        load_baseline(write(path, {**good, "schema_version": 2}))
    assert "baseline schema_version 2 is newer than this workbench reads (1..1)" \
        in str(info.value) and str(path) in str(info.value)
    with pytest.raises(InvalidInputError,
                       match="baseline record has schema_version '1'; expected an integer"):
        load_baseline(write(path, {**good, "schema_version": "1"}))
    with pytest.raises(InvalidInputError, match="baseline record has schema_version None"):
        load_baseline(write(path, {k: v for k, v in good.items() if k != "schema_version"}))
    with pytest.raises(InvalidInputError,
                       match="not a baseline record \\(kind 'measurement'\\); expected kind"):
        load_baseline(write(path, {**good, "kind": "measurement"}))
    with pytest.raises(InvalidInputError, match="a baseline record is a JSON object; got list"):
        load_baseline(write(path, [1, 2]))
    with pytest.raises(InvalidInputError, match="malformed baseline"):
        load_baseline(write(path, {**good, "measurements": 5}))
    with pytest.raises(InvalidInputError,
                       match=r"b\.json: measurement record has schema_version None"):
        load_baseline(write(path, {**good, "measurements": [{"kind": "measurement"}]}))


def test_damaged_or_missing_baselines_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    save_baseline(path, [measurement()], "h")
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(InvalidInputError) as info:
        load_baseline(path)
    assert str(info.value).startswith(f"{path}: not valid JSON (truncated or corrupted?)")
    path.write_text("this is not json")
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        load_baseline(path)
    with pytest.raises(InvalidInputError, match="does not exist; record one first"):
        load_baseline(tmp_path / "missing.json")


def test_a_baseline_of_another_workload_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    save_baseline(path, [measurement(workload="small")], "h")
    with pytest.raises(InvalidInputError, match="is for workload small, not 'large'"):
        load_baseline(path, workload="large")


def test_a_failed_save_never_clobbers_the_existing_baseline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "b.json"
    save_baseline(path, [measurement()], "original")
    before = path.read_bytes()
    # unserializable data: refused before anything is written
    bad = measurement()
    bad.environment["oops"] = object()
    with pytest.raises(InvalidInputError, match=r"not JSON-serializable.*nothing was written"):
        save_baseline(path, [bad], "new")
    # the final rename fails: the temporary file is removed, the old file is intact
    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        save_baseline(path, [measurement()], "new")
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]
    assert load_baseline(path).budgets_hash == "original"
    with pytest.raises(InvalidInputError, match="at least one measurement"):
        save_baseline(path, [], "new")
    monkeypatch.undo()
    with pytest.raises(InvalidInputError, match="cannot save the baseline"):
        save_baseline(tmp_path / "no" / "such" / "dir.json", [measurement()], "h")


# -- history ------------------------------------------------------------------------------


def test_record_and_load_series(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    n = record(db, [measurement(1.0, seed=1)], "run-1", "sha1", "2024-05-01T00:00:00")
    assert n == 5  # p50, p95, throughput, peak_rss, heap_peak (210 samples are too few for p99)
    record(db, [measurement(1.2, seed=2)], "run-2", "sha2", "2024-05-02T00:00:00")
    series = load_series(db, "embed", "latency_p50", variant="pure", workload="small")
    assert [p.run_id for p in series.points] == ["run-1", "run-2"]
    assert series.values[1] / series.values[0] == pytest.approx(1.2, rel=0.03)
    p = series.points[0]
    assert p.ci_low is not None and p.ci_high is not None and p.ci_low <= p.value <= p.ci_high
    assert load_series(db, "embed", "latency_p50", variant="native").points == ()
    result = check(parse_budgets('[stage.embed]\nlatency_p50 = ["1.1x", "1s"]\n'),
                   [measurement(1.0)], [measurement(1.0, seed=5)])
    assert len(rows_from_check(result)) == 1  # two rules, one observed value
    record(db, result, "run-3", None, "2024-05-03T00:00:00")
    assert len(load_series(db, "embed", "latency_p50")) == 3
    with pytest.raises(InvalidInputError, match="unknown metric 'latency'"):
        load_series(db, "embed", "latency")
    with pytest.raises(InvalidInputError, match="does not exist"):
        load_series(tmp_path / "none.sqlite", "embed", "latency_p50")
    (tmp_path / "junk.sqlite").write_text("not a database at all, just text" * 10)
    with pytest.raises(InvalidInputError, match="cannot write history"):
        record_rows(tmp_path / "junk.sqlite", [HistoryRow("a", "b", None, "scaling", 1.0)], "r")


def _writer(db: str, name: str, rows: int) -> None:
    for i in range(rows):
        record_rows(db, [HistoryRow("embed", "pure", "small", "latency_p50", float(i))],
                    f"{name}-{i}")


def test_two_concurrent_writers_lose_no_rows(tmp_path: Path) -> None:
    db = str(tmp_path / "history.sqlite")
    ctx = _ctx()
    procs = [ctx.Process(target=_writer, args=(db, name, 50)) for name in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    runs = {p.run_id for p in load_series(db, "embed", "latency_p50").points}
    assert len(runs) == 100 and runs == {f"{n}-{i}" for n in "ab" for i in range(50)}


def _stalling_writer(db: str, started: Any) -> None:
    def rows() -> Iterator[HistoryRow]:
        for i in range(5):
            yield HistoryRow("embed", "pure", "small", "latency_p50", 100.0 + i)
        started.set()  # five rows are inserted, the transaction is open
        time.sleep(60)
        yield HistoryRow("embed", "pure", "small", "latency_p50", 999.0)

    record_rows(db, rows(), "killed")


def test_a_writer_killed_mid_transaction_leaves_earlier_rows_intact(tmp_path: Path) -> None:
    db = str(tmp_path / "history.sqlite")
    record_rows(db, [HistoryRow("embed", "pure", "small", "latency_p50", float(i))
                     for i in range(3)], "before")
    ctx = _ctx()
    started = ctx.Event()
    proc = ctx.Process(target=_stalling_writer, args=(db, started))
    proc.start()
    try:
        assert started.wait(30), "the writer never started its transaction"
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.join(30)
    assert proc.exitcode == -signal.SIGKILL
    series = load_series(db, "embed", "latency_p50")
    assert [p.run_id for p in series.points] == ["before"] * 3
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
    # the lock died with the writer: the next run is recorded normally
    record_rows(db, [HistoryRow("embed", "pure", "small", "latency_p50", 7.0)], "after")
    assert len(load_series(db, "embed", "latency_p50")) == 4


# -- step detection -----------------------------------------------------------------------


def step_series(seed: int, n: int = 40, at: int = 24, jump: float = 1.2) -> list[float]:
    """Flat at 100 with 2 % noise, then ``jump`` times higher from index ``at`` on."""
    rng = np.random.default_rng(seed)
    values = 100.0 * (1 + 0.02 * rng.standard_normal(n))
    values[at:] *= jump
    return [float(x) for x in values]


@pytest.mark.parametrize("seed", range(5))
def test_a_20_percent_step_is_found_at_the_right_index(seed: int) -> None:
    steps = detect_steps(step_series(seed))
    assert [s.index for s in steps] == [24]
    assert steps[0].ratio == pytest.approx(1.2, rel=0.05)
    assert steps[0].before == pytest.approx(100, rel=0.03)


@pytest.mark.parametrize("seed", range(5))
def test_a_flat_noisy_series_has_no_steps(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    values = 100.0 * (1 + 0.03 * rng.standard_normal(40))
    values[int(rng.integers(0, 40))] *= 1.6  # one outlier is not a step
    assert detect_steps(list(values)) == ()


def test_potts_details() -> None:
    assert potts_segments([]) == () and potts_segments([5.0]) == (0,)
    assert potts_segments([1.0] * 10) == (0,)
    assert potts_segments([1.0] * 5 + [2.0] * 5) == (0, 5)  # noiseless step
    assert potts_segments(step_series(1), gamma=1e9) == (0,)  # a huge penalty: one segment
    with pytest.raises(InvalidInputError, match="finite numbers"):
        detect_steps([1.0, float("nan")])
    with pytest.raises(InvalidInputError, match="gamma must be positive"):
        potts_segments([1.0, 2.0, 3.0, 4.0], gamma=0)


def test_trend_text() -> None:
    values = step_series(2)
    points = tuple(Point(f"run-{i}", f"{i:040x}", f"2024-05-{1 + i // 2:02d}", "pure", "small",
                         v * 1e4, None, None) for i, v in enumerate(values))
    series = Series("embed", "latency_p95", points)
    text = trend_text(series, detect_steps(series.values))
    assert "embed/pure on small latency_p95: 40 points" in text
    assert "step at #24 (run run-24" in text and "worse" in text
    flat = Series("embed", "throughput", points[:10])
    assert "no steps found" in trend_text(flat, detect_steps(flat.values))
    assert "no history" in trend_text(Series("embed", "throughput", ()), ())
