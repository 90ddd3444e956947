"""Notes recorded by code under measurement travel into the record: in-process, from a
worker process, through JSON, into Measurement.notes, its text and its summary."""

from __future__ import annotations

import json

import pytest

from workbench import notes
from workbench.measure.config import MeasureConfig
from workbench.measure.engine import measure
from workbench.measure.measurement import Measurement
from workbench.measure.protocol import WorkerRun, run_protocol
from workbench.measure.targets import Prepared


def noting() -> int:
    """A target that records a note on every call, as a back-end choice does."""
    notes.record("test.choice", "fast path, 2 threads: 1 ms; slow path 3 ms")
    return 1


def _config(**kw: object) -> MeasureConfig:
    settings: dict[str, object] = {"workers": 1, "samples": 2, "warmup_calls": 1,
                                   "warmup_seconds": 0, **kw}
    return MeasureConfig(**settings)  # type: ignore[arg-type]


def test_record_and_collecting_scope() -> None:
    notes.record("test.before", "outside any scope")
    with notes.collecting() as outer:
        with notes.collecting() as inner:
            notes.record("test.inside", "one")
        notes.record("test.inside", "two")  # a key recorded again: the latest text
    assert inner == {"test.inside": "one"}
    assert outer == {"test.inside": "two"}
    assert notes.collected()["test.before"] == "outside any scope"
    assert notes.collected()["test.inside"] == "two"
    with pytest.raises(TypeError, match="key"):
        notes.record("", "x")
    with pytest.raises(TypeError, match="text"):
        notes.record("k", 3)  # type: ignore[arg-type]


def test_an_inprocess_run_keeps_only_the_notes_of_its_own_run() -> None:
    notes.record("test.earlier", "recorded before the run")
    run = run_protocol(Prepared(noting, 1, "noting"), _config(), fresh_process=False)
    assert run.ok
    assert run.notes == {"test.choice": "fast path, 2 threads: 1 ms; slow path 3 ms"}
    quiet = run_protocol(Prepared(lambda: None, 1, "quiet"), _config(), fresh_process=False)
    assert quiet.notes == {}


def test_old_worker_records_without_notes_still_load() -> None:
    old = {"index": 0, "ok": True, "batch_ns": [5, 6], "loops": 1, "items_per_call": 1,
           "warmup_calls": 1, "warmup_ns": 10, "first_call_ns": 7, "rss_peak_kb": None,
           "rss_exact": True, "heap_peak_bytes": None, "error": None, "error_type": None,
           "fingerprint": {}}
    run = WorkerRun.from_json(old)
    assert run.notes == {} and run.batch_ns == (5, 6)
    assert "notes" not in run.to_json()  # and records without notes keep their old shape
    noted = WorkerRun.from_json({**old, "notes": {"a": "b"}})
    assert noted.notes == {"a": "b"}
    assert WorkerRun.from_json(json.loads(json.dumps(noted.to_json()))) == noted


@pytest.mark.slow
def test_notes_travel_from_a_worker_process_into_the_measurement() -> None:
    m = measure(noting, config=_config(mode="process"))
    assert m.ok, m.error_text()
    text = "fast path, 2 threads: 1 ms; slow path 3 ms"
    assert m.runs[0].notes.get("test.choice") == text
    assert m.notes["test.choice"] == (text,)
    assert f"note test.choice: {text}" in m.to_text()
    assert m.summary_json()["notes"]["test.choice"] == [text]
    again = Measurement.from_json(json.loads(m.dumps()))
    assert again.notes == m.notes and again.runs == m.runs


def test_distinct_texts_per_key_name_their_workers() -> None:
    m = measure(noting, config=_config(workers=2, mode="inprocess"))
    runs = (m.runs[0], WorkerRun(**{**{f: getattr(m.runs[1], f)
                                         for f in WorkerRun.__dataclass_fields__},
                                      "notes": {"test.choice": "slow path won"}}))
    mixed = Measurement(m.target, m.config, runs, m.started_at, m.environment)
    assert mixed.notes["test.choice"] == (m.runs[0].notes["test.choice"], "slow path won")
    assert "note test.choice (worker 1): slow path won" in mixed.to_text()
    assert "note test.choice (worker 0): fast path" in mixed.to_text()
    plain = measure(lambda: None, config=_config(mode="inprocess"))
    assert plain.notes == {} and "note " not in plain.to_text()
    assert "notes" not in plain.summary_json()
