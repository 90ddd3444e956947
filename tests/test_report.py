"""``workbench report`` end to end: real kernels, real measurements and profilers (small
configurations), real nbconvert, the pages opened in Chromium with the network blocked."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from browser_check import offline_page, require_chromium
from notebook_files import own_notebook

from workbench.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.kernel]

ROOT = Path(__file__).resolve().parents[1]
FAST = ["-p", "workers=2", "-p", "samples=5", "--no-progress"]


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run as a user of this repository would: from its root (its pyproject, budgets)."""
    monkeypatch.chdir(ROOT)
    yield


def runs(out: Path) -> list[Path]:
    return sorted(p.parent for p in out.glob("*/summary.json"))


def summary_of(run: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((run / "summary.json").read_text())
    return found


@pytest.fixture(scope="module")
def decision_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A log holding one real decision: chunk uses native."""
    from workbench import app
    from workbench.measure.config import MeasureConfig

    log = tmp_path_factory.mktemp("decisions") / "decisions.jsonl"
    done = app.decide("chunk", "native", "native is fastest here", log=log, workload="tiny",
                      config=MeasureConfig(workers=2, samples=3))
    return log, done.record.id


@pytest.fixture(scope="module")
def full_report(tmp_path_factory: pytest.TempPathFactory,
                decision_log: tuple[Path, str]) -> tuple[Path, int, Path]:
    out = tmp_path_factory.mktemp("reports")
    # one absolute error-level rule per stage: judged whatever baseline the checkout holds
    # (reports/ is not committed), measuring four targets rather than budgets.toml's eight
    budgets = tmp_path_factory.mktemp("budgets") / "budgets.toml"
    budgets.write_text("".join(
        f'[stage."{target}"]\nlatency_p50 = {{ limit = "10s", level = "error" }}\n'
        for target in ("clean/pure", "chunk/pure", "embed/pure", "retrieve/vectorized")))
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        code = main(["report", "--workload", "tiny", "--out", str(out), *FAST,
                     "-p", f"log={decision_log[0]}", "-p", f"budgets={budgets}"])
    (run,) = runs(out)
    return out, code, run


def test_a_report_on_tiny_writes_every_file(full_report: tuple[Path, int, Path],
                                            decision_log: tuple[Path, str]) -> None:
    out, code, run = full_report
    assert code == 0
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{7}(-\d+)?", run.name), run.name
    names = ["01-compare", "02-profile", "03-budgets", "04-decisions"]
    for name in names:
        assert (run / f"{name}.ipynb").is_file() and (run / f"{name}.html").is_file()
    assert (run / "index.html").is_file() and (out / "index.html").is_file()
    s = summary_of(run)
    assert s["status"] == "pass" and s["exit_code"] == 0 and s["workload"] == "tiny"
    assert [nb["name"] for nb in s["notebooks"]] == names
    assert all(nb["status"] == "pass" and nb["seconds"] > 0 and nb["kernel_seconds"] > 0
               for nb in s["notebooks"])
    # the report's settings reached the notebooks that declare them
    assert s["notebooks"][0]["parameters"] == {"workload": "tiny", "workers": 2, "samples": 5,
                                               "log": str(decision_log[0]),
                                               "run_folder": str(run)}
    # measured once: the budgets notebook judged what the compare notebook kept
    assert (run / "measurements.json").is_file() and (run / "baseline-tiny.json").is_file()
    assert s["notebooks"][2]["parameters"]["history"] == str(out / "history.sqlite")
    stages = s["stages"]
    assert list(stages)[:4] == ["clean", "chunk", "embed", "retrieve"]
    for name, stage in stages.items():  # chunk, embed: the cached tier; embed: parallel
        assert set(stage["variants"]) == {"pure", "vectorized", "native"} | (
            {"cached"} if name in ("chunk", "embed") else set()) | (
            {"parallel"} if name == "embed" else set())
        pure = stage["variants"]["pure"]["figures"]
        assert pure["p50_ns"]["value"] > 0 and pure["equivalent"] is True
        assert stage["suggested"]["variant"] in ("pure", "cached", "vectorized", "native")
        assert 0 <= stage["share"]["share"] <= 1
    # the budgets file's error-level rule on chunk/pure was judged and recorded
    verdicts = stages["chunk"]["variants"]["pure"]["verdicts"]
    assert any(v["metric"] == "latency_p50" and v["level"] == "error" for v in verdicts)
    # the decision in the log: the summary's, the decided pipeline's (profile) and the pages'
    decided = stages["chunk"]["decided"]
    assert decided["variant"] == "native" and decided["id"] == decision_log[1]
    assert stages["chunk"]["share"]["variant"] == "native"
    assert all(stages[n]["decided"] is None for n in ("clean", "embed", "retrieve"))
    assert decision_log[1] in (run / "04-decisions.html").read_text()
    assert decision_log[1] in (run / "01-compare.html").read_text()  # decided, beside suggested
    profiled = [(name, p["kind"]) for name, st in stages.items() for p in st["profiles"]]
    hottest = max(stages, key=lambda n: stages[n]["share"]["share"])
    assert profiled == [(hottest, "flamegraph"), (hottest, "memory_track")]
    assert (out / "history.sqlite").is_file()


@pytest.mark.browser
def test_the_pages_show_tables_and_flame_graph_offline(
        full_report: tuple[Path, int, Path]) -> None:
    require_chromium()
    out, _, run = full_report
    with offline_page(run / "01-compare.html") as (page, blocked):
        assert blocked == []
        body = page.inner_text("body")
        for stage in ("clean", "chunk", "embed", "retrieve"):
            assert f"{stage} on tiny" in body
        assert page.locator(".wb-comparison table.wb-table").count() >= 4
        assert "suggested variants on tiny" in body
    with offline_page(run / "02-profile.html") as (page, blocked):
        assert blocked == []
        assert page.locator(".wb-flamegraph svg").count() >= 1
        box = page.locator(".wb-flamegraph svg").first.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 40
        assert "memory of" in page.inner_text("body")
    with offline_page(run / "index.html") as (page, blocked):
        assert blocked == []
        assert page.inner_text("#status").startswith("PASS")
        for link in ("01-compare.html", "02-profile.html", "03-budgets.ipynb"):
            assert page.locator(f"a[href='{link}']").count() == 1
    with offline_page(out / "index.html") as (page, blocked):
        assert blocked == []
        assert page.locator(f"a[href='{run.name}/index.html']").count() >= 1
        assert page.locator("svg.wb-trend").count() >= 4  # a chart per budgeted stage


def test_an_impossible_budget_exits_1_and_the_index_names_the_rule(
        in_repo: None, tmp_path: Path) -> None:
    budgets = tmp_path / "budgets.toml"
    budgets.write_text('[stage."chunk/pure"]\nlatency_p50 = { limit = "1ns", level = "error" }\n')
    out = tmp_path / "reports"
    code = main(["report", "--notebook", "budgets", "-p", f"budgets={budgets}",
                 "--out", str(out), *FAST])
    assert code == 1
    (run,) = runs(out)
    s = summary_of(run)
    assert s["status"] == "breach" and s["notebooks"][0]["status"] == "breach"
    assert s["notebooks"][0]["error"]["ename"] == "CheckBudgetError"
    (breach,) = s["breaches"]
    assert breach["target"] == "chunk/pure" and breach["rule"] == "latency_p50 <= 1 ns"
    for page in (run / "index.html", out / "index.html"):
        text = page.read_text()
        banner = text[text.index("wb-banner"):text.index("</div>", text.index("wb-banner"))]
        assert "BREACH" in banner and "chunk/pure latency_p50 &lt;= 1 ns" in banner
    # the verdicts were shown before the error, and the HTML was written anyway
    html = (run / "01-budgets.html").read_text()
    assert "budget check: 1 verdicts (1 breach)" in html and "CheckBudgetError" in html


def test_a_notebook_that_raises_exits_3_keeps_its_output_and_the_run_goes_on(
        in_repo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = own_notebook(tmp_path / "bad.ipynb", "print('before the error', greeting)",
                       "raise RuntimeError('boom')", "print('never')")
    good = own_notebook(tmp_path / "good.ipynb", "print('fine')")
    out = tmp_path / "reports"
    code = main(["report", "-n", str(bad), "-n", str(good), "-p", "bad:greeting=hello",
                 "--out", str(out), "--no-progress"])
    assert code == 3
    (run,) = runs(out)
    s = summary_of(run)
    first, second = s["notebooks"]
    assert s["status"] == "failed" and first["status"] == "failed"
    assert first["error"]["ename"] == "RuntimeError" and first["error"]["evalue"] == "boom"
    assert second["status"] == "pass"  # the next notebook still ran
    assert first["parameters"] == {"greeting": "hello"} and second["parameters"] == {}
    executed = nbformat.read(run / "01-bad.ipynb", as_version=4)
    texts = [o.get("text", "") for c in executed.cells for o in c.get("outputs", [])]
    assert "before the error hello\n" in texts and "never\n" not in texts
    html = (run / "01-bad.html").read_text()
    assert "before the error hello" in html and "boom" in html
    index = (run / "index.html").read_text()
    assert 'href="01-bad.html">partial output</a>' in index and "RuntimeError: boom" in index
    assert "[1/2] 01-bad: failed" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "named"), [
    (["-p", "nosuch=1"], "'nosuch' is not declared by any report notebook"),
    (["-p", "compare:budgets=x.toml"], "notebook '01-compare' does not declare parameter "
                                       "'budgets'"),
    (["-p", "workers=many"], "parameter 'workers' takes an integer"),
    (["-p", "workers"], "expected KEY=VALUE"),
    (["--workload", "huge"], "huge"),
    (["--notebook", "nosuch"], "neither a built-in report notebook"),
])
def test_usage_errors_exit_2_before_anything_runs(
        in_repo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        args: list[str], named: str) -> None:
    out = tmp_path / "reports"
    assert main(["report", "--out", str(out), *args]) == 2
    assert named in capsys.readouterr().err
    assert not out.exists()


def test_two_reports_in_a_row_both_appear_in_the_index(in_repo: None, tmp_path: Path) -> None:
    nb = own_notebook(tmp_path / "quick.ipynb", "print(greeting)")
    out = tmp_path / "reports"
    for _ in range(2):
        assert main(["report", "-n", str(nb), "--out", str(out), "--no-progress"]) == 0
    first, second = runs(out)
    assert first.name != second.name
    index = (out / "index.html").read_text()
    assert f'href="{first.name}/index.html"' in index
    assert f'href="{second.name}/index.html"' in index
    # newest first (the hrefs, not the bare names: in the same second the second run is
    # named after the first with "-2", so the first's name is a prefix of the second's)
    assert index.index(f'href="{second.name}/index.html"') < \
        index.index(f'href="{first.name}/index.html"')


def test_parameters_lists_what_each_notebook_declares(
        in_repo: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--parameters"]) == 0
    text = capsys.readouterr().out
    assert "01-compare (" in text and "  workers = 5  worker processes per variant" in text
    assert "03-budgets (" in text and "  against = ''" in text


def test_a_budget_cell_breach_in_a_notebook_of_ones_own_exits_1(in_repo: None,
                                                                tmp_path: Path) -> None:
    nb = own_notebook(tmp_path / "cell.ipynb", "%load_ext workbench",
                      "%%budget --latency 1ns --name shown --inprocess --samples 5 --warn\n"
                      "total = sum(range(1000))",
                      "%%budget --latency 1ns --name tight --inprocess --samples 5\n"
                      "total = sum(range(1000))")
    out = tmp_path / "reports"
    assert main(["report", "-n", str(nb), "--out", str(out), "--no-progress"]) == 1
    (run,) = runs(out)
    s = summary_of(run)
    assert s["notebooks"][0]["error"]["ename"] == "BlockBudgetError"
    (breach,) = s["breaches"]  # the --warn cell breached too, without counting
    assert breach["where"] == "%%budget tight" and breach["rule"] == "latency_p50 <= 1 ns"
