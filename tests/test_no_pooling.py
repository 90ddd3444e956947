"""No interval or test on samples pooled across workers (issue 28, "Never pool").

Samples from one worker process are not independent, so the worker process is the unit of
every interval and test. Here every function that forms an interval or a test from the
samples of several workers pooled together is replaced by one that fails the test, and
``compare`` (the service layer and the command line), ``%%budget``, the panel's Measure and
``workbench check`` run on synthetic workers (:mod:`synthetic`) at 2 and 5 workers: they
must complete, and with 2 workers their results must carry the warning that 2 workers
cannot decide without a model.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from synthetic import constant_in_file, use_synthetic_workers

import workbench.notebook.session as sessions
from workbench.measure.config import MeasureConfig
from workbench.measure.targets import TargetSpec
from workbench.project import Project
from workbench.refs import REFERENCE_PIPELINE

#: per-call ns of each variant of the reference pipeline's ``chunk`` (a %%budget cell: 1 ms)
COSTS = {"pure": 1e6, "vectorized": 5e5, "native": 2e6}
FEW = "cannot decide without a model"


def _cost(spec: TargetSpec, root: Path, index: int) -> float:
    return COSTS.get(spec.variant or "pure", 1e6)


def _refuse(name: str) -> Callable[..., Any]:
    def pooled(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{name} was called: an interval or a test on samples pooled "
                             "across workers")
    return pooled


@pytest.fixture
def no_pooling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pooled interval or test fails the test when called. ``stats.percentile_ci``
    (order statistics taken as independent) stays allowed only where it is about one
    process: ``grouped_percentile_ci`` of a single worker."""
    import importlib

    from workbench.measure import stats

    for where, name in (("workbench.measure.compare_stats", "bootstrap_ratio_ci"),
                        ("workbench.measure.compare_stats", "_bootstrap"),
                        ("workbench.measure.compare_stats", "speedup"),
                        ("workbench.measure.compare_stats", "mann_whitney"),
                        ("workbench.budget.resample", "percentile_ratio_ci"),
                        ("workbench.budget.verdict", "percentile_ratio_ci"),
                        ("scipy.stats", "mannwhitneyu")):
        try:
            module = importlib.import_module(where)
        except ImportError:  # gone: nothing left to call it
            continue
        if hasattr(module, name):
            monkeypatch.setattr(module, name, _refuse(f"{where}.{name}"))
    one_process = stats.percentile_ci

    def percentile_ci(samples: Any, q: float, confidence: float = 0.95) -> Any:
        caller = sys._getframe(1)
        if caller.f_code.co_name != "grouped_percentile_ci" or caller.f_locals.get("k") != 1:
            raise AssertionError("stats.percentile_ci was called on samples that are not "
                                 "one worker's")
        return one_process(samples, q, confidence)

    monkeypatch.setattr(stats, "percentile_ci", percentile_ci)


@pytest.fixture
def synthetic(monkeypatch: pytest.MonkeyPatch, no_pooling: None) -> None:
    # 3 % spread between processes, 2 % within one: worker medians that differ
    use_synthetic_workers(monkeypatch, _cost, within=0.02, between=0.03)


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessions.Session]:
    """A fresh notebook session of a project in ``tmp_path`` on the reference pipeline,
    with an absolute error-level limit on chunk/native (a budget the panel checks)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "budgets.toml").write_text(
        '[stage.chunk]\nvariant = "native"\nlatency_p50 = { limit = "1s", level = "error" }\n',
        encoding="utf-8")
    project = Project(root=tmp_path, pipeline=REFERENCE_PIPELINE, workload="tiny")
    yield sessions.reset(sessions.Session(project, REFERENCE_PIPELINE, "tiny"))
    sessions.reset()


# -- compare -----------------------------------------------------------------------------

@pytest.mark.parametrize("workers", [2, 5])
def test_compare_never_pools_and_flags_few_workers(synthetic: None, workers: int) -> None:
    from workbench import app

    comp = app.compare("chunk", "tiny", config=MeasureConfig(workers=workers, samples=15))
    pairs = {v: comp.result(v).versus_baseline for v in ("vectorized", "native")}
    assert all(p is not None and p.speedup.interval is not None for p in pairs.values())
    text = comp.to_text()
    if workers == 5:  # the rank interval and test on worker medians decide
        assert comp.warnings == () and "WARNING" not in text
        assert pairs["vectorized"].verdict == "faster"  # type: ignore[union-attr]
        assert pairs["native"].verdict == "slower"  # type: ignore[union-attr]
        assert "rank interval" in pairs["native"].speedup.note  # type: ignore[union-attr]
        return
    (warning,) = comp.warnings
    assert warning.startswith(f"2+2 workers {FEW}") and "need 5 workers per side" in warning
    assert "Welch t-interval" in warning and "assume them log-normal" in warning
    assert "(--workers 5)" in warning and "\n" not in warning  # one line, with the minimum
    assert f"WARNING (cached, vectorized, native): {warning}" in text
    assert "WARNING (cached, vectorized, native)" in comp.to_html()
    for pair in pairs.values():
        assert pair is not None and pair.warning == warning and warning in pair.speedup.note
        assert pair.p_value is not None  # Welch's t-test on the log worker medians


def test_one_worker_gives_no_interval_and_says_what_would_decide(synthetic: None) -> None:
    from workbench import app

    comp = app.compare("chunk", "tiny", variants=["native"],
                       config=MeasureConfig(workers=1, samples=15))
    pair = comp.result("native").versus_baseline
    assert pair is not None and pair.verdict == "inconclusive"
    assert pair.speedup.interval is None and pair.p_value is None
    assert pair.speedup.value == pytest.approx(0.5, rel=0.2)  # one worker a side: noisy
    assert pair.warning is not None and "one worker on a side cannot give an interval" \
        in pair.warning and "need 5 workers per side" in pair.warning
    assert "WARNING (native): 1+1 workers" in comp.to_text()


def test_the_command_line_warns_before_measuring(synthetic: None, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.cli import main

    base = ["compare", "chunk", "-w", "tiny", "--samples", "5", "--no-progress"]
    assert main([*base, "--workers", "2"]) == 0
    out, err = capsys.readouterr()
    assert f"WARNING: workbench compare --workers 2: 2 workers per side {FEW}" in err
    assert "WARNING (cached, vectorized, native): 2+2 workers" in out
    assert main(base) == 0  # the default: 5 workers, which decide
    out, err = capsys.readouterr()
    assert FEW not in err + out and "WARNING (" not in out  # (the busy note may warn)
    assert MeasureConfig().workers == 5


# -- %%budget and %wb compare ------------------------------------------------------------



def _run(shell: InteractiveShell, source: str) -> tuple[Any, str, list[dict[str, Any]]]:
    from IPython.utils.capture import capture_output

    with capture_output() as cap:
        result = shell.run_cell(source, store_history=True)
    assert result.error_in_exec is None, result.error_in_exec
    return result, cap.stdout, [o.data for o in cap.outputs]


def _block() -> Any:
    from workbench.budget.budgeted_block import BudgetedBlock

    found = sessions.current().last("budget-block")
    assert isinstance(found, BudgetedBlock)
    return found


CELL = "sum(i * i for i in range(2000))"


@pytest.mark.parametrize("workers", [2, 5])
def test_budget_never_pools_and_flags_few_workers(
        shell: InteractiveShell, session: sessions.Session, synthetic: None,
        workers: int) -> None:
    _, out, bundles = _run(shell, f"%%budget --latency 10ms --p95 20ms --workers {workers} "
                                  f"--samples 40 --name b{workers}\n{CELL}\n")
    block = _block()
    assert block.status in ("pass", "undecided"), block.to_text()  # 1 ms, far under
    assert all(v.workers in (None, workers) for v in block.check.verdicts)
    (shown,) = [b["text/plain"] for b in bundles
                if "application/vnd.workbench.budget-block+json" in b]
    if workers == 5:
        assert block.warning is None and "WARNING" not in out + shown
        return
    assert block.warning is not None
    assert block.warning.startswith(f"%%budget --workers 2: 2 workers {FEW}")
    assert "--workers 5 would" in block.warning and "\n" not in block.warning
    assert "WARNING" not in out  # said once: in the result, beside the verdicts
    assert shown.count(f"WARNING: {block.warning}") == 1


def test_budget_in_this_process_with_one_run_is_kept_and_flagged(
        shell: InteractiveShell, session: sessions.Session, no_pooling: None) -> None:
    _, out, bundles = _run(shell, f"%%budget --latency 10s --inprocess --workers 1 "
                                  f"--samples 8 --warmup-seconds 0.05\n{CELL}\n")
    block = _block()
    assert block.status == "pass", block.to_text()
    assert block.warning is not None and "--inprocess --workers 1: one run in this process" \
        in block.warning and "about this process" in block.warning
    shown = "".join(b.get("text/plain", "") for b in bundles)
    assert "WARNING" not in out and shown.count(f"WARNING: {block.warning}") == 1
    assert "one worker" in block.current.summary().median.note


def test_wb_compare_warns_with_few_workers(shell: InteractiveShell,
                                           session: sessions.Session,
                                           synthetic: None) -> None:
    _, out, bundles = _run(shell, "c = %wb compare chunk --workers 2 --samples 5 "
                                  "--no-progress")
    (warning,) = shell.user_ns["c"].warnings
    assert FEW not in out  # said once, in the comparison shown (the busy note may print)
    shown = "".join(b.get("text/plain", "") for b in bundles)
    assert shown.count(warning) == 1 and f"2+2 workers {FEW}" in warning


# -- the panel ---------------------------------------------------------------------------

@pytest.mark.parametrize("workers", [2, 5])
def test_panel_measure_never_pools_and_flags_few_workers(
        session: sessions.Session, synthetic: None, workers: int) -> None:
    from workbench.notebook.panel.main import build_panel

    panel = build_panel(workload="tiny", workers=workers, samples=15)
    warned = f"the panel's {workers} workers per variant: {workers} workers per side {FEW}"
    assert (warned in unescape(panel.controls.warning.value)) == (workers < 5)
    panel.rows["chunk"].measure.value = True
    panel.measure_button.click()
    assert panel.wait(120), "the panel's job did not finish"
    assert "failed" not in panel.status.value, panel.errors.value
    comparison = panel.comparisons["chunk"]
    budget = panel.rows["chunk"].budget.value
    if workers == 5:
        assert comparison.warnings == () and panel.controls.warning.value == ""
        assert comparison.result("native").versus_baseline.verdict == "slower"  # type: ignore[union-attr]
        assert "WARNING" not in panel.tabs.timing.value
        return
    (warning,) = comparison.warnings
    assert warning.startswith(f"2+2 workers {FEW}")
    assert "WARNING: 2+2 workers" in panel.controls.warning.value
    assert "too few workers to decide" in panel.status.value
    assert "WARNING (cached, vectorized, native): 2+2 workers" in panel.tabs.timing.value
    panel.workers.value = 5  # enough workers: the warning goes
    assert panel.controls.warning.value == ""
    assert budget  # the budget badge was judged (chunk/native's absolute limit)


def test_panel_defaults_to_workers_that_decide(session: sessions.Session) -> None:
    from workbench.notebook.panel.controls import DEFAULT_WORKERS
    from workbench.notebook.panel.main import build_panel

    panel = build_panel()
    assert DEFAULT_WORKERS == 5 and panel.workers.value == 5
    assert panel.controls.warning.value == ""


# -- workbench check ---------------------------------------------------------------------

PIPE = '''
from workbench import Pipeline, stage

N = 20_000

@stage(input="docs", output="int")
def work(docs):
    return sum(i * i % 7 for i in range(N))

def make():
    return Pipeline.of(work, name="throwaway")
'''
BUDGETS = ('[stage.work]\nlatency_p50 = "1.1x"\n'
           'latency_p95 = { limit = "1.2x", level = "warn" }\n'
           'throughput = { limit = "0.9x", level = "warn" }\n')


def test_check_never_pools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           no_pooling: None) -> None:
    import workbench.rag.workloads  # noqa: F401  (registers the tiny workload)
    from workbench import app

    root = tmp_path / "proj"
    root.mkdir()
    (root / "pipe_np.py").write_text(PIPE)
    (root / "budgets.toml").write_text(BUDGETS)
    monkeypatch.chdir(root)
    monkeypatch.syspath_prepend(str(root))
    use_synthetic_workers(
        monkeypatch, lambda spec, where, index: 100.0 * constant_in_file(where, "pipe_np", "N"),
        within=0.02, between=0.03)
    for workers in (2, 5):
        config = MeasureConfig(workers=workers, samples=40, warmup_seconds=0.0)
        out = tmp_path / f"base{workers}.json"
        app.baseline(root / "budgets.toml", out, workload="tiny", pipeline="pipe_np:make",
                     config=config)
        report = app.check(root / "budgets.toml", workload="tiny", pipeline="pipe_np:make",
                           config=config, baseline_file=out, max_time=0)
        assert report.result.verdicts and all(v.status != "breach"
                                              for v in report.result.verdicts)


def test_budget_relative_limits_never_pool(shell: InteractiveShell,
                                           session: sessions.Session,
                                           synthetic: None) -> None:
    # %%budget judges with budget.verdict.check: relative limits go through its ratios
    _run(shell, f"%%budget --latency 10ms --workers 2 --samples 30 --name first\n{CELL}\n")
    _run(shell, f"%%budget --latency 1.1x --p95 1.2x --against first --workers 2 "
                f"--samples 30 --name second\n{CELL}\n")
    assert _block().status in ("pass", "undecided")
