"""The measurement engine: exact protocol arithmetic on a fake clock, failures, records."""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

import pytest

from workbench import InvalidInputError, UnknownNameError
from workbench.cli import main
from workbench.measure.config import MeasureConfig
from workbench.measure.engine import compare, measure, sweep
from workbench.measure.measurement import Measurement
from workbench.measure.protocol import WorkerRun, run_protocol
from workbench.measure.sweep import Sweep
from workbench.measure.targets import Prepared, TargetSpec

TESTS = str(Path(__file__).resolve().parent)


class FakeClock:
    """Nanoseconds that move only when a target says it worked."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def scripted(clock: FakeClock, durations: list[int]) -> Prepared:
    """A target whose n-th call takes durations[n] fake nanoseconds (cycling)."""
    calls = iter(range(10**9))

    def call() -> None:
        clock.now += durations[next(calls) % len(durations)]

    return Prepared(call, 7, "scripted")


def test_protocol_times_exactly_what_the_clock_says() -> None:
    # GIVEN a target taking 3 warm-up calls of 5000 ns, then 1000, 2000, ... 20000 ns
    clock = FakeClock()
    durations = [5000] * 3 + [1000 * (i + 1) for i in range(20)]
    config = MeasureConfig(samples=20, warmup_calls=3, warmup_seconds=0, min_sample_ns=1,
                           heap=False, mode="inprocess")
    # WHEN the protocol runs
    run = run_protocol(scripted(clock, durations), config, clock=clock, fresh_process=False)
    # THEN warm-up and samples are separated and exact
    assert run.ok and run.warmup_calls == 3 and run.first_call_ns == 5000
    assert run.warmup_ns == 15000
    assert run.loops == 1
    assert run.batch_ns == tuple(1000 * (i + 1) for i in range(20))
    assert run.items_per_call == 7


def test_warmup_runs_until_both_count_and_time_are_reached() -> None:
    clock = FakeClock()
    config = MeasureConfig(samples=2, warmup_calls=3, warmup_seconds=0.001, min_sample_ns=1,
                           heap=False, mode="inprocess")
    run = run_protocol(scripted(clock, [100_000]), config, clock=clock, fresh_process=False)
    assert run.warmup_calls == 10  # 1 ms of 100 us calls, more than the 3 calls asked for


def test_fast_calls_are_batched_and_labelled_per_batch() -> None:
    clock = FakeClock()
    config = MeasureConfig(samples=5, warmup_calls=3, warmup_seconds=0, min_sample_ns=10_000,
                           heap=False, mode="inprocess")
    run = run_protocol(scripted(clock, [100]), config, clock=clock, fresh_process=False)
    assert run.loops == 100
    assert run.batch_ns == (10_000,) * 5
    assert run.per_call_ns == (100.0,) * 5
    m = Measurement.new(TargetSpec("callable", "x:y"), config, (run,))
    assert m.per_batch and "per batch" in m.to_text()


def test_percentiles_of_a_known_measurement() -> None:
    clock = FakeClock()
    config = MeasureConfig(workers=1, samples=100, warmup_calls=1, warmup_seconds=0,
                           min_sample_ns=1, heap=False, mode="inprocess")
    run = run_protocol(scripted(clock, [1] + [1000 * (i + 1) for i in range(100)]), config,
                       clock=clock, fresh_process=False)
    m = Measurement.new(TargetSpec("callable", "x:y"), config, (run,))
    s = m.summary()
    assert s.median.value == pytest.approx(50_500)
    assert s.p99.value is None and "insufficient samples" in s.p99.note
    assert s.median.interval is not None
    assert s.median.interval.low <= 50_500 <= s.median.interval.high
    assert m.throughput() == pytest.approx(7 / 50_500e-9)


def test_a_raising_workload_is_a_failed_measurement_not_a_crash() -> None:
    from measure_targets import always_raises

    m = measure(always_raises, config=MeasureConfig(workers=2, mode="inprocess"))
    assert not m.ok and len(m.failures) == 2
    assert "ValueError: this workload always fails" in m.error_text()
    assert "FAILED" in m.to_text()
    with pytest.raises(InvalidInputError, match="has no samples"):
        m.summary()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workers": 0}, "workers must be an integer >= 1; got 0"),
        ({"samples": -1}, "samples must be an integer >= 1; got -1"),
        ({"warmup_calls": 0}, "warmup_calls must be an integer >= 1; got 0"),
        ({"warmup_seconds": -1.0}, "warmup_seconds must be a number >= 0; got -1.0"),
        ({"gc": "sometimes"}, "gc policy 'sometimes' is unknown; choose one of: enabled"),
        ({"timeout": 0}, "timeout must be a number of seconds > 0; got 0"),
        ({"mode": "thread"}, "mode 'thread' is unknown"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        MeasureConfig(**kwargs)  # type: ignore[arg-type]


def test_bad_targets_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="must be a stage name, a Stage or a callable"):
        measure(42)  # type: ignore[arg-type]
    lock = threading.Lock()  # a closure over a lock cannot travel to a worker process
    with pytest.raises(InvalidInputError, match=r"closure variable 'lock' is a _thread\.lock"):
        measure(lambda: lock.locked())
    with pytest.raises(UnknownNameError, match="unknown workload 'nope'"):
        measure("chunk", "nope")
    with pytest.raises(UnknownNameError, match="unknown variant 'gpu' for stage 'chunk'"):
        measure("chunk", "tiny", variant="gpu")


def _process_config(**kw: object) -> MeasureConfig:
    settings: dict[str, object] = {"workers": 1, "samples": 3, "warmup_calls": 1,
                                   "warmup_seconds": 0, **kw}
    return MeasureConfig(**settings)  # type: ignore[arg-type]


@pytest.mark.slow
def test_a_worker_that_dies_or_hangs_is_recorded_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHONPATH", TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""))
    from measure_targets import dies, hangs

    died = measure(dies, config=_process_config())
    assert not died.ok
    assert died.failures[0].error_type == "WorkerDied"
    assert "killed by signal 9 (SIGKILL)" in died.error_text()
    hung = measure(hangs, config=_process_config(timeout=3.0))
    assert hung.failures[0].error_type == "Timeout"
    assert "did not finish within 3 s and was killed" in hung.error_text()


@pytest.mark.slow
def test_process_workers_measure_a_stage_and_report_the_environment() -> None:
    m = measure("chunk", "tiny", variant="native", config=_process_config(workers=2))
    assert m.ok and len(m.groups) == 2 and all(len(g) == 3 for g in m.groups)
    assert m.items_per_call == 40
    assert m.peak_rss_kb is not None and m.peak_rss_kb > 10_000 and m.rss_exact
    assert m.heap_peak_bytes is not None and m.heap_peak_bytes > 0
    env = m.environment
    assert env["python"] and env["cpu_model"] and env["thread_env"]["OMP_NUM_THREADS"] == "1"
    assert env["affinity"] and len(env["affinity"]) == 1
    assert env["packages"]["numba"] is not None
    again = Measurement.from_json(json.loads(m.dumps()))
    assert again.runs == m.runs and again.target == m.target


def test_measurement_records_refuse_other_kinds_and_newer_schemas() -> None:
    m = measure("chunk", "tiny", config=MeasureConfig(workers=1, samples=2, mode="inprocess"))
    assert "from 1 in-process runs, no process isolation" in m.to_text()
    data = m.to_json()
    assert Measurement.from_json(data).runs == m.runs
    with pytest.raises(InvalidInputError,
                       match="measurement schema_version 99 is newer than this workbench reads"):
        Measurement.from_json({**data, "schema_version": 99})
    with pytest.raises(InvalidInputError, match="not a measurement record"):
        Measurement.from_json({**data, "kind": "sweep"})


def test_compare_interleaves_variants_and_checks_equivalence() -> None:
    seen: list[tuple[str, int]] = []

    def launcher(spec: TargetSpec, config: MeasureConfig, index: int) -> WorkerRun:
        seen.append((spec.variant or "", index))
        base = {"pure": 1000, "vectorized": 500, "native": 2000}[spec.variant or ""]
        samples = tuple(int(base * (100 + i)) for i in range(config.samples))
        return WorkerRun(index, True, samples, 1, 40)

    comp = compare("chunk", "tiny", variants=["vectorized", "native"],
                   config=MeasureConfig(workers=3, samples=30), launcher=launcher)
    assert seen == [("pure", 0), ("vectorized", 0), ("native", 0),
                    ("vectorized", 1), ("native", 1), ("pure", 1),
                    ("native", 2), ("pure", 2), ("vectorized", 2)]
    assert comp.result("vectorized").versus_baseline.verdict == "faster"  # type: ignore[union-attr]
    assert comp.result("native").versus_baseline.verdict == "slower"  # type: ignore[union-attr]
    assert all(r.equivalence and r.equivalence.equivalent for r in comp.results)
    text = comp.to_text()
    rows = {line.split()[0]: line for line in text.splitlines()[2:5]}
    assert re.search(r"  2x \[[\d.]+x, [\d.]+x\]\s+faster\s+yes$", rows["vectorized"])
    assert re.search(r"  0\.5x \[[\d.]+x, [\d.]+x\]\s+slower\s+yes$", rows["native"])
    # 3 workers a side: a t-interval on the log worker medians, flagged as model-based
    assert "WARNING (vectorized, native): 3+3 workers cannot decide without a model" in text
    assert "no process isolation" not in text and "no process isolation" not in comp.to_html()
    inproc = compare("chunk", "tiny", variants=["vectorized"],
                     config=MeasureConfig(workers=1, samples=2, mode="inprocess"))
    assert "measured in this process (mode inprocess): no process isolation" in inproc.to_text()
    assert "no process isolation" in inproc.to_html()


def test_sweep_fits_the_scaling_exponent() -> None:
    def launcher(spec: TargetSpec, config: MeasureConfig, index: int) -> WorkerRun:
        n = int((spec.workload or "").split("@")[1])
        power = {"pure": 1.0, "cached": 1.0, "vectorized": 2.0, "native": 1.0}[spec.variant or ""]
        samples = tuple(int(1000 * n**power * (1 + 0.001 * i)) for i in range(config.samples))
        return WorkerRun(index, True, samples, 1, n)

    sw = sweep("chunk", "tiny", sizes=[10, 20, 40, 80], launcher=launcher,
               config=MeasureConfig(workers=2, samples=5))
    assert sw.slopes["pure"] is not None and sw.slopes["pure"].slope == pytest.approx(1, abs=0.01)
    assert sw.slopes["vectorized"].slope == pytest.approx(2, abs=0.01)  # type: ignore[union-attr]
    assert sw.slopes["pure"].n_points == 8  # one point per worker per size, not per sample
    text = sw.to_text()
    rows = {line.split()[0]: line.split() for line in text.splitlines()[2:]}
    assert rows["pure"][-3] == "1" and rows["vectorized"][-3] == "2"  # the fitted exponents
    assert rows["pure"][1:3] == ["10", "us"]  # median at n=10: 1000 ns x 10
    data = json.loads(sw.dumps())
    assert data["summary"]["variants"]["vectorized"]["slope"]["value"] == pytest.approx(2, abs=0.01)
    assert Sweep.from_json(data) == sw
    with pytest.raises(InvalidInputError, match="at least 3 distinct sizes"):
        sweep("chunk", "tiny", sizes=[10, 10, 20], launcher=launcher)


def test_the_scaling_fits_count_workers_not_samples() -> None:
    """A sweep and a scaling budget fit one point per worker per size: its median time."""
    from workbench.budget.scaling import _fit
    from workbench.measure.compare_stats import loglog_slope

    def run(n: int, w: int) -> WorkerRun:  # worker w: a process 3% slower per index
        return WorkerRun(w, True, tuple(int(1000 * n * (1 + 0.03 * w) * (1 + 0.01 * (i % 5)))
                                        for i in range(15)), 1, n)

    def launcher(spec: TargetSpec, config: MeasureConfig, index: int) -> WorkerRun:
        return run(int((spec.workload or "").split("@")[1]), index)

    sizes = [10, 20, 40]
    sw = sweep("chunk", "tiny", sizes=sizes, variants=["pure"], launcher=launcher,
               config=MeasureConfig(workers=3, samples=15))
    medians = [[sorted(run(n, w).per_call_ns)[7] for w in range(3)] for n in sizes]
    expected = loglog_slope(sizes, medians)
    fit = sw.slopes["pure"]
    assert fit is not None and fit.n_points == 9
    assert fit.slope == pytest.approx(expected.slope)
    assert fit.interval.low == pytest.approx(expected.interval.low)
    obs = _fit("chunk", "pure", "tiny", {n: [run(n, w) for w in range(3)] for n in sizes})
    assert obs is not None and obs.low == pytest.approx(expected.interval.low)
    assert obs.high == pytest.approx(expected.interval.high)


def test_plots_are_figures() -> None:
    from workbench.render.plots import latency_ecdf, speedup_bars

    comp = compare("chunk", "tiny", variants=["native"],
                   config=MeasureConfig(workers=2, samples=5, mode="inprocess"))
    for fig in (latency_ecdf(comp), speedup_bars(comp)):
        assert fig.axes and fig.axes[0].get_title()


@pytest.mark.slow
def test_cli_compare_writes_json_and_maps_errors_to_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cmp.json"
    code = main(["compare", "chunk", "-w", "tiny", "--workers", "2", "--samples", "5",
                 "--no-progress", "--json", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    table = {line.split()[0]: line for line in text.splitlines()[2:6]}
    assert set(table) == {"pure", "cached", "vectorized", "native"}
    assert "1.00x (baseline)" in table["pure"]
    assert re.search(r"\d\.?\d*x \[\d\.?\d*x, \d\.?\d*x\]\s+(faster|slower|inconclusive)",
                     table["native"]), table["native"]
    data = json.loads(out.read_text())
    assert data["kind"] == "comparison" and data["schema_version"] == 2
    native = data["summary"]["variants"]["native"]
    assert native["verdict"] in ("faster", "slower", "inconclusive") and native["equivalent"]
    assert native["p50_ns"]["value"] > 0 and native["speedup"]["n"] > 0
    assert main(["compare", "nope", "-w", "tiny", "--no-progress"]) == 2
    assert main(["compare", "chunk", "-w", "tiny", "--workers", "0"]) == 2
    assert main(["compare", "chunk", "-w", "tiny", "--workers", "1", "--samples", "2",
                 "--timeout", "0.05", "--no-progress"]) == 3
    assert "did not finish within" in capsys.readouterr().out
