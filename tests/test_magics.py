"""``%load_ext workbench``: ``%%budget`` and ``%wb`` in a real IPython shell.

Every measurement here is real (worker processes unless a test says ``--inprocess``);
the configurations are small (2 workers, 5 samples) to keep the suite quick.
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench.notebook.session as sessions
from workbench.budget.budgeted_block import BlockBudgetError, BudgetedBlock
from workbench.budget.guard import PerfBudgetError

pytestmark = pytest.mark.slow

SMALL = "--workers 2 --samples 5 --warmup-seconds 0.05"
# relative limits need 3 workers per side for a rank bound at 5 % per end (2 get a t-interval
# on log worker medians, whose 1 degree of freedom makes it too wide to decide)
THREE = "--workers 3 --samples 5 --warmup-seconds 0.05"
BLOCK_MIME = "application/vnd.workbench.budget-block+json"




@pytest.fixture(autouse=True)
def _fresh(fresh_session: None) -> None:
    """Every test here in a fresh session of its own directory."""


class Ran:
    def __init__(self, result: Any, cap: Any) -> None:
        self.result = result
        self.error = result.error_in_exec
        self.bundles: list[dict[str, Any]] = [o.data for o in cap.outputs]
        self.stdout: str = cap.stdout

    def of(self, mime: str) -> list[Any]:
        return [b[mime] for b in self.bundles if mime in b]

    def bundle(self, kind: str) -> dict[str, Any]:
        """The one displayed bundle of a ``kind`` result (progress bars aside)."""
        (found,) = [b for b in self.bundles if f"application/vnd.workbench.{kind}+json" in b]
        return found


def run(shell: InteractiveShell, source: str) -> Ran:
    with capture_output() as cap:
        result = shell.run_cell(source, store_history=True)
    return Ran(result, cap)


def setup_code(shell: InteractiveShell, pid_file: Path | None = None) -> None:
    code = ("import math, os\ndata = list(range(3000))\n"
            "def work(xs):\n    return sum(math.sqrt(x) for x in xs)\n")
    if pid_file is not None:
        code += f"PID_FILE = {str(pid_file)!r}\n"
    assert run(shell, code).error is None


def last_block() -> BudgetedBlock:
    found = sessions.current().last("budget-block")
    assert isinstance(found, BudgetedBlock)
    return found


# -- loading and help -----------------------------------------------------------------------

def test_the_extension_registers_both_magics_with_full_help(shell: InteractiveShell) -> None:
    budget = shell.find_cell_magic("budget")
    wb = shell.find_line_magic("wb")
    assert budget is not None and wb is not None
    for flag in ("--latency", "--p95", "--p99", "--rss", "--heap", "--throughput", "--items",
                 "--against", "--stage", "--variant", "--workers", "--samples", "--inprocess",
                 "--warn", "--name"):
        assert flag in str(budget.__doc__), flag
    doc = str(wb.__doc__)
    for command in ("compare", "sweep", "flame", "memory", "lines", "check", "select",
                    "panel", "use", "session"):
        assert f"%wb {command}" in doc, command
    assert "--duration" in doc and "--sizes" in doc  # the subcommands' own flags


def test_import_workbench_stays_light() -> None:
    import subprocess
    import sys

    code = ("import sys, workbench; bad = [m for m in ('IPython', 'ipywidgets', "
            "'workbench.notebook', 'numpy') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


# -- %%budget -------------------------------------------------------------------------------

def test_budget_measures_notebook_code_in_worker_processes(shell: InteractiveShell,
                                                           tmp_path: Path) -> None:
    pids = tmp_path / "pids.txt"
    setup_code(shell, pids)
    ran = run(shell, f"%%budget --latency 5s --name sq {SMALL}\n"
                     "total = work(data)\nwith open(PID_FILE, 'a') as fh:\n"
                     "    fh.write(f'{os.getpid()}\\n')\n")
    assert ran.error is None
    # the block ran in two worker processes, neither of them the kernel
    seen = set(pids.read_text().split())
    assert len(seen) == 2 and str(os.getpid()) not in seen
    block = last_block()
    assert block.current.isolated and block.current.ok
    assert [v.status for v in block.check.verdicts] == ["pass"]
    # one bundle: plain text, a self-contained HTML fragment and the record
    bundle = ran.bundle("budget-block")
    assert set(bundle) == {"text/plain", "text/html", BLOCK_MIME}
    record = bundle[BLOCK_MIME]
    assert record["kind"] == "budget-block" and record["name"] == "sq"
    assert record["summary"]["status"] == "pass"
    html = bundle["text/html"]
    assert "%%budget sq" in html and "PASS" in html and "latency_p50" in html
    assert bundle["text/plain"].startswith("%%budget sq: PASS")
    # the session keeps the block for later cells
    assert sessions.current().cell("sq") is not None


def test_an_error_level_breach_raises_after_showing_the_verdicts(shell: InteractiveShell,
                                                                 ) -> None:
    setup_code(shell)
    ran = run(shell, f"%%budget --latency 1ns --name tight {SMALL}\ntotal = work(data)\n")
    assert isinstance(ran.error, BlockBudgetError) and isinstance(ran.error, PerfBudgetError)
    assert "tight" in str(ran.error) and "latency_p50" in str(ran.error)
    assert "over the limit 1 ns" in str(ran.error)
    html = ran.bundle("budget-block")["text/html"]  # shown before raising
    assert "BREACH" in html and "wb-breach" in html


def test_warn_shows_a_breach_without_raising(shell: InteractiveShell) -> None:
    setup_code(shell)
    ran = run(shell, f"%%budget --latency 1ns --warn --name soft {SMALL}\n"
                     "total = work(data)\n")
    assert ran.error is None
    assert "BREACH (--warn: not raised)" in ran.bundle("budget-block")["text/plain"]
    assert last_block().blocking


@pytest.mark.parametrize(("line", "named"), [
    ("--latency 12parsec", "--latency = '12parsec': unknown unit 'parsec'"),
    ("--rss 5ms", "--rss = '5ms' is a time"),
    ("--latency 3", "--latency = '3' has no unit"),
    ("--workers 0", "argument --workers: expected a positive integer, got 0"),
    ("--samples many", "argument --samples: expected a positive integer, got 'many'"),
    ("--bogus 1", "unrecognized arguments: --bogus 1"),
    ("--latency 1.1x", "is relative: give --against NAME"),
    ("--variant native", "--variant needs --stage"),
    ("--stage nosuch --latency 1s", "unknown stage 'nosuch'"),
    ("--stage chunk --variant turbo --latency 1s", "unknown variant 'turbo'"),
    ("--latency 1.1x --against nothing_here", "--against 'nothing_here' is neither"),
    ("--items 5 --latency 1s", "--items only matters with --throughput"),
    ("--name 'a b' --latency 1s", "--name 'a b'"),
    # a value split at a space where the flag cannot take words: named, with the quoting
    ("--latency=10 s", "unrecognized arguments: s; if '10 s' is one value of --latency, "
                       "quote it: --latency '10 s' (in a magic's line write a notebook "
                       "variable as {name!r}"),
    ("--latency 1.1x --against my file.json", "quote it: --against 'my file.json'"),
    ("--latency 10 s extra", "--latency = '10 s extra': unknown unit 's extra'"),
])
def test_bad_flags_are_usage_errors_naming_the_flag_before_anything_runs(
        shell: InteractiveShell, line: str, named: str) -> None:
    from IPython.core.error import UsageError

    setup_code(shell)
    ran = run(shell, f"%%budget {line}\ntotal = work(data)\n")
    assert isinstance(ran.error, UsageError), ran.error
    assert named in str(ran.error)
    assert sessions.current().results == []  # nothing was measured


def test_a_cell_reading_what_it_assigns_later_is_refused(shell: InteractiveShell) -> None:
    from IPython.core.error import UsageError

    setup_code(shell)
    ran = run(shell, "%%budget --latency 1s\ndata = data + [1]\n")
    assert isinstance(ran.error, UsageError)
    assert "reads 'data' before the cell assigns it" in str(ran.error)


def test_a_failing_block_is_shown_and_raises(shell: InteractiveShell) -> None:
    from workbench.errors import ExecutionError

    ran = run(shell, f"%%budget --latency 1s --name broken {SMALL}\n1 / 0\n")
    assert isinstance(ran.error, ExecutionError)
    assert "ZeroDivisionError" in str(ran.error)
    assert "FAILED" in ran.bundle("budget-block")["text/plain"]


@pytest.mark.timing
def test_relative_limits_against_an_earlier_cell_measure_both_side_by_side(
        shell: InteractiveShell) -> None:
    setup_code(shell)
    assert run(shell, f"%%budget --name slow {THREE}\ntotal = work(data)\n").error is None
    # the same work on a tenth of the data is far below 0.5x of the earlier block
    ran = run(shell, f"%%budget --latency 0.5x --against slow --name fast {THREE}\n"
                     "total = work(data[:300])\n")
    assert ran.error is None
    block = last_block()
    assert block.baseline is not None and block.against == "slow"
    assert block.baseline.target.name == "%%budget slow"
    (verdict,) = block.check.verdicts
    assert verdict.status == "pass" and verdict.ratio is not None and verdict.ratio < 0.3
    # and the other way round it is a breach: 10x the work against a 1.1x limit
    ran = run(shell, f"%%budget --latency 1.1x --against fast --name slower {THREE}\n"
                     "total = work(data + data + data)\n")
    assert isinstance(ran.error, BlockBudgetError)
    assert last_block().check.verdicts[0].ratio > 3  # type: ignore[operator]


def test_against_a_stage_variant_and_the_budgets_file(shell: InteractiveShell,
                                                      tmp_path: Path) -> None:
    (tmp_path / "budgets.toml").write_text(
        '[stage."chunk/native"]\nlatency_p50 = "10s"\npeak_rss = "64GB"\n')
    sessions.reset(sessions.Session.for_directory(tmp_path))
    code = ("from workbench.rag.reference import reference_pipeline\n"
            "from workbench.workloads import get_workload\n"
            "from workbench.rag.chunk import chunk_native\n"
            "pipe = reference_pipeline()\n"
            "docs = list(pipe.select_all('pure').run(get_workload('tiny').load(), "
            "until='clean'))\n")
    assert run(shell, code).error is None
    ran = run(shell, f"%%budget --stage chunk --variant native --against pure "
                     f"--p95 2x --name mine {SMALL}\n"
                     "chunks = list(chunk_native(docs, size=256, overlap=32))\n")
    assert ran.error is None, ran.error
    block = last_block()
    metrics = sorted(v.rule.metric for v in block.check.verdicts)
    # the file's two rules for chunk/native, plus the flag
    assert metrics == ["latency_p50", "latency_p95", "peak_rss"]
    assert block.baseline is not None and block.baseline.target.label == "chunk/pure"
    assert {v.rule.label for v in block.check.verdicts} == {"chunk/native"}


def test_against_a_stored_measurement_file(shell: InteractiveShell, tmp_path: Path) -> None:
    setup_code(shell)
    assert run(shell, f"%%budget --name first {SMALL}\ntotal = work(data)\n").error is None
    stored = tmp_path / "first.json"
    last_block().current.save(stored)
    # the same code against a stored measurement (not interleaved): a generous limit
    ran = run(shell, f"%%budget --latency 3x --against {stored} --name again {SMALL}\n"
                     "total = work(data)\n")
    assert ran.error is None, ran.error
    block = last_block()
    assert block.baseline is not None and block.against == str(stored)
    assert block.check.verdicts[0].status in ("pass", "inconclusive")
    assert block.check.verdicts[0].ratio is not None


def test_memory_throughput_and_percentile_flags_make_their_rules(shell: InteractiveShell,
                                                                 ) -> None:
    setup_code(shell)
    ran = run(shell, f"%%budget --rss 64GB --heap 1GiB --throughput 1/s --items 3000 "
                     f"--p95 10s --p99 10s --name all {SMALL}\ntotal = work(data)\n")
    assert ran.error is None, ran.error
    block = last_block()
    by_metric = {v.rule.metric: v for v in block.check.verdicts}
    assert set(by_metric) == {"peak_rss", "heap_peak", "throughput", "latency_p95",
                              "latency_p99"}
    assert by_metric["peak_rss"].status == "pass"
    assert by_metric["throughput"].status == "pass"
    # throughput counts the declared items: 3000 per run of the cell over a central worker
    # median time (two workers: their geometric mean), so it lies between the two workers'
    medians = [statistics.median(g) for g in block.current.groups]
    rates = sorted(3000 / (t * 1e-9) for t in medians)
    observed = by_metric["throughput"].observed
    assert observed is not None
    assert rates[0] * (1 - 1e-9) <= observed <= rates[-1] * (1 + 1e-9)


def test_inprocess_runs_in_the_kernel(shell: InteractiveShell, tmp_path: Path) -> None:
    pids = tmp_path / "pids.txt"
    setup_code(shell, pids)
    ran = run(shell, f"%%budget --latency 5s --inprocess --name here {SMALL}\n"
                     "with open(PID_FILE, 'a') as fh:\n    fh.write(f'{os.getpid()}\\n')\n")
    assert ran.error is None
    assert set(pids.read_text().split()) == {str(os.getpid())}
    assert not last_block().current.isolated


# -- %wb ------------------------------------------------------------------------------------

def test_wb_compare_returns_the_comparison_and_shows_it_once(shell: InteractiveShell) -> None:
    from workbench.measure.comparison import Comparison

    ran = run(shell, f"c = %wb compare chunk {SMALL}\nprint('after')")
    assert ran.error is None
    c = shell.user_ns["c"]
    assert isinstance(c, Comparison) and c.variants == ("pure", "cached", "vectorized", "native")
    records = ran.of("application/vnd.workbench.comparison+json")
    assert len(records) == 1 and records[0]["stage"] == "chunk"
    # bare, as the cell's last line: IPython's display hook shows it (the cell's result),
    # and the magic does not show it a second time
    ran = run(shell, f"%wb compare clean --variants vectorized {SMALL}")
    assert isinstance(ran.result.result, Comparison)
    assert ran.of("application/vnd.workbench.comparison+json") == []
    assert "clean on tiny: latency per call" in ran.stdout
    assert sessions.current().last("comparison") is not None


def test_wb_decide_takes_the_session_evidence_and_records_it_in_the_log(
        shell: InteractiveShell, tmp_path: Path) -> None:
    from workbench.decisions import DecisionLog, DecisionRecord

    assert run(shell, f"c = %wb compare chunk {SMALL}").error is None
    compared = shell.user_ns["c"]
    ran = run(shell, 'd = %wb decide chunk pure --because "pure meets the budget"')
    assert ran.error is None, ran.error
    d = shell.user_ns["d"]
    assert isinstance(d, DecisionRecord) and d.evidence == (compared,)
    assert "measured every variant" not in ran.stdout  # the session's comparison was used
    assert f"recorded {d.id} in {tmp_path / 'decisions' / 'decisions.jsonl'}" in ran.stdout
    assert len(ran.of("application/vnd.workbench.decision+json")) == 1
    assert DecisionLog(tmp_path / "decisions" / "decisions.jsonl").read().records == (d,)
    assert sessions.current().decisions == [d]
    listed = run(shell, "%wb decisions")
    assert d.id in listed.stdout and "current" in listed.stdout
    shown = run(shell, f"%wb decisions show {d.id}")
    assert shown.result.result == d
    refused = run(shell, '%wb decide chunk pure --because ""')
    assert "the rationale (--because) is empty" in str(refused.error)


def test_wb_select_sets_the_session_and_is_checked(shell: InteractiveShell) -> None:
    from IPython.core.error import UsageError

    ran = run(shell, "report = %wb select clean=vectorized chunk=vectorized")
    assert ran.error is None
    assert sessions.current().selection == {"clean": "vectorized", "chunk": "vectorized"}
    (record,) = ran.of("application/vnd.workbench.fusion-report+json")
    assert record["selection"]["clean"] == "vectorized"
    bad = run(shell, "%wb select chunk=turbo")
    assert isinstance(bad.error, UsageError) and "unknown variant 'turbo'" in str(bad.error)
    assert sessions.current().variant_of("chunk") == "vectorized"  # unchanged
    bad = run(shell, "%wb select chunk")
    assert isinstance(bad.error, UsageError) and "STAGE=VARIANT" in str(bad.error)


def test_wb_profiles_take_the_selected_variant(shell: InteractiveShell) -> None:
    assert run(shell, "%wb select chunk=native").error is None
    ran = run(shell, "f = %wb flame chunk --duration 0.5")
    assert ran.error is None, ran.error
    flame = shell.user_ns["f"]
    assert flame.kind == "flamegraph" and flame.target.variant == "native"
    assert "<svg" in ran.bundle("flamegraph")["text/html"]
    ran = run(shell, "m = %wb memory chunk --variant pure --calls 1")
    assert ran.error is None, ran.error
    assert shell.user_ns["m"].target.variant == "pure"
    assert shell.user_ns["m"].kind == "memory_track"
    ran = run(shell, "lp = %wb lines chunk --variant pure --duration 0.3")
    assert ran.error is None, ran.error
    assert shell.user_ns["lp"].kind == "line_profile"


def test_wb_on_a_pipeline_defined_in_the_notebook(shell: InteractiveShell) -> None:
    code = (
        "from workbench import Pipeline, stage, workload\n"
        "@stage(input='list[int]', output='list[int]')\n"
        "def double(xs):\n    return [x * 2 for x in xs]\n"
        "@double.variant('vectorized')\n"
        "def double_np(xs):\n    import numpy as np\n    return list(np.asarray(xs) * 2)\n"
        "@workload('nums', size=500)\n"
        "def nums(n):\n    return list(range(n))\n"
        "mine = Pipeline.of(double, name='mine')\n")
    ran = run(shell, code)
    assert ran.error is None, ran.error
    ran = run(shell, "%wb use --pipeline mine --workload nums")
    assert ran.error is None, ran.error
    assert sessions.current().summary()["pipeline"] == "<object>:mine"
    ran = run(shell, f"c = %wb compare double {SMALL}")
    assert ran.error is None, ran.error
    c = shell.user_ns["c"]
    assert c.variants == ("pure", "vectorized") and c.ok
    assert c.results[1].equivalence is not None


def test_wb_errors_are_usage_errors(shell: InteractiveShell) -> None:
    from IPython.core.error import UsageError

    for line, text in (("%wb", "needs a command"), ("%wb frobnicate", "invalid choice"),
                       ("%wb compare nosuch", "unknown stage 'nosuch'"),
                       ("%wb compare chunk --workers -1", "--workers"),
                       ("%wb sweep chunk --sizes 1,2", "at least 3 distinct"),
                       ("%wb use --pipeline nosuch_var", "expected 'module:qualname'"),
                       ("%wb decide chunk native --because it is faster",
                        "if 'it is faster' is one value of --because, quote it: "
                        "--because 'it is faster'")):
        ran = run(shell, line)
        assert isinstance(ran.error, UsageError), (line, ran.error)
        assert text in str(ran.error), (line, str(ran.error))


def test_wb_help_prints_and_runs_nothing(shell: InteractiveShell) -> None:
    ran = run(shell, "%wb compare --help")
    assert ran.error is None
    assert "usage: %wb compare" in ran.stdout and "--workers" in ran.stdout


def test_wb_check_applies_the_budgets_file(shell: InteractiveShell, tmp_path: Path) -> None:
    budgets = tmp_path / "budgets.toml"
    budgets.write_text('[stage."chunk/pure"]\nlatency_p50 = "1ns"\n')
    ran = run(shell, f"r = %wb check --budgets {budgets} --no-history {SMALL} "
                     f"--json {tmp_path / 'check.json'} --warn")
    assert ran.error is None, ran.error
    r = shell.user_ns["r"]
    assert r.kind == "budget-check" and r.count("breach") == 1
    assert json.loads((tmp_path / "check.json").read_text())["kind"] == "budget-check"
    # without --warn the breach fails the cell, after the verdicts are shown
    ran = run(shell, f"r2 = %wb check --budgets {budgets} --no-history {SMALL}")
    assert type(ran.error).__name__ == "CheckBudgetError", ran.error
    assert "chunk/pure latency_p50 <= 1 ns" in str(ran.error)
    shown = ran.of("application/vnd.workbench.budget-check+json")
    assert len(shown) == 1 and shown[0]["verdicts"][0]["status"] == "breach"
    assert "r2" not in shell.user_ns


def test_wb_session_reports_what_it_holds(shell: InteractiveShell) -> None:
    run(shell, "%wb select chunk=native")
    ran = run(shell, "s = %wb session")
    assert ran.error is None
    s = shell.user_ns["s"]
    assert s["selection"]["chunk"] == "native" and s["workload"] == "tiny"


def test_wb_sweep_run_baseline_listings_and_panel(shell: InteractiveShell,
                                                  tmp_path: Path) -> None:
    ran = run(shell, f"sw = %wb sweep chunk --sizes 10,20,40 --variants native {SMALL}")
    assert ran.error is None, ran.error
    sw = shell.user_ns["sw"]
    assert sw.kind == "sweep" and [n for n, _ in sw.points] == [10, 20, 40]
    ran = run(shell, "%wb select chunk=native\nrr = %wb run")
    assert ran.error is None, ran.error
    assert dict(shell.user_ns["rr"].selection)["chunk"] == "native"
    budgets = tmp_path / "budgets.toml"
    # about the plumbing, not detection: the same code against a baseline stored a few
    # seconds earlier (not interleaved: a neighbour between the two can move it), so the
    # limit is generous
    budgets.write_text('[stage."chunk/pure"]\nlatency_p50 = "3x"\n')
    out = tmp_path / "base.json"
    ran = run(shell, f"%wb baseline --budgets {budgets} --out {out} {SMALL}")
    assert ran.error is None, ran.error
    assert f"wrote {out}" in ran.stdout
    assert len(ran.of("application/vnd.workbench.measurement+json")) == 1
    ran = run(shell, f"r = %wb check --budgets {budgets} --baseline {out} --no-history {SMALL}")
    assert ran.error is None, ran.error
    assert shell.user_ns["r"].verdicts[0].status in ("pass", "inconclusive")
    ran = run(shell, "%wb stages")
    assert "chunk: Iterable[CleanDoc]" in ran.stdout and "native" in ran.stdout
    ran = run(shell, "%wb workloads")
    assert "tiny: size 40" in ran.stdout
    ran = run(shell, "p = %wb panel --workers 2 --samples 3")
    assert ran.error is None, ran.error
    assert type(shell.user_ns["p"]).__name__ == "Panel"
    assert any(WIDGET in b for b in ran.bundles)


WIDGET = "application/vnd.jupyter.widget-view+json"


def test_the_package_functions_survive_their_modules_being_imported() -> None:
    import importlib
    import pkgutil

    import workbench.notebook as nb

    for info in pkgutil.iter_modules(nb.__path__):
        importlib.import_module(f"workbench.notebook.{info.name}")
    assert callable(nb.panel) and callable(nb.current_session)
    assert isinstance(nb.current_session(), sessions.Session)
