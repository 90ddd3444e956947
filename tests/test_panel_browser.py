"""The panel in a real JupyterLab in Chromium: the notebook walk-through run from the page,
then the panel used as a user would (toggle, Measure, Flame graph, Record decision),
asserting on what the page shows at each step, and on the saved notebook's static
snapshot of the panel (updated under its display id as the results arrived).

Screenshots of every step go to ``$WORKBENCH_TEST_ARTIFACTS`` (or the test's tmp dir).
Skipped only when Chromium is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from browser_check import require_chromium
from jupyter_server import Lab, check_kernel_is_this_python
from lab_page import KERNEL_IDLE, lab_page, run_all

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.kernel]

T = r"[\d.]+ (?:ns|us|ms|s)"  # a rendered time: the unit follows the value
ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "02_workbench.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
RATIONALE = "native is equivalent to pure and no slower on tiny; the flame graph agrees"


def _artifacts(tmp_path: Path) -> Path:
    where = Path(os.environ.get("WORKBENCH_TEST_ARTIFACTS") or tmp_path / "artifacts")
    where = where / "panel_browser"
    where.mkdir(parents=True, exist_ok=True)
    return where


def _serve(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, root / NOTEBOOK)
    shutil.copy(ROOT / "budgets.toml", root / "budgets.toml")  # the kernel's project
    return root


def _step(page: Any, shots: Path, name: str) -> None:
    """Screenshots of the page and of the panel alone."""
    page.screenshot(path=str(shots / f"{name}.png"))
    panel = page.locator(".wb-panel")
    if panel.count() == 1:
        panel.screenshot(path=str(shots / f"{name}-panel.png"))


def _panel_output(lab: Lab) -> dict[str, Any]:
    nb = json.loads((lab.root / NOTEBOOK).read_text(encoding="utf-8"))
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code"
               and "panel(" in "".join(c["source"]) for o in c.get("outputs", [])]
    (output,) = [o for o in outputs if WIDGET_VIEW in o.get("data", {})]
    return {mime: "".join(v) if isinstance(v, list) else v  # nbformat splits text in lines
            for mime, v in output["data"].items()}


def test_panel_in_jupyterlab_measures_profiles_and_records(tmp_path: Path) -> None:
    require_chromium()
    check_kernel_is_this_python()
    shots = _artifacts(tmp_path)
    root = _serve(tmp_path)
    with lab_page(root, tmp_path / "jupyter", height=1500) as (lab, page):
        _run(page, lab, shots)


def _run(page: Any, lab: Lab, shots: Path) -> None:
    from playwright.sync_api import expect

    # 1. open a fresh copy of the notebook, wait for its kernel, run all cells
    run_all(page, lab, NOTEBOOK, timeout_ms=120_000)
    panel = page.locator(".wb-panel")
    expect(panel).to_have_count(1)
    expect(panel).to_contain_text("workbench panel")
    chunk = panel.locator(".wb-stage-chunk")
    expect(chunk.get_by_role("button", name="pure", exact=True)).to_have_class(
        re.compile(r"\bmod-active\b"))
    clean = panel.locator(".wb-stage-clean")  # %wb select clean=vectorized, before the panel
    expect(clean.get_by_role("button", name="vectorized", exact=True)).to_have_class(
        re.compile(r"\bmod-active\b"))
    # the notebook's `%wb compare chunk`, run after the panel's cell, reached the panel
    # (it syncs with the session after every cell): chunk's row shows it
    expect(chunk).to_contain_text("equivalent")
    expect(chunk).not_to_contain_text("not measured")
    _step(page, shots, "1-notebook-run")

    # 2. toggle chunk to native: selected, ticked for measuring, focused
    chunk.get_by_role("button", name="native", exact=True).click()
    expect(chunk.get_by_role("button", name="native", exact=True)).to_have_class(
        re.compile(r"\bmod-active\b"))
    expect(chunk.locator("input[type=checkbox]")).to_be_checked()
    expect(chunk.locator("span[title^='the focused stage']")).to_have_count(1)
    _step(page, shots, "2-chunk-native")

    # 3. Measure: the kernel stays free while the progress bar runs to its end
    panel.locator(".wb-panel-measure").click()
    expect(panel.locator(".wb-panel-state")).to_contain_text("measuring", timeout=30_000)
    page.wait_for_function(KERNEL_IDLE, timeout=10_000)
    expect(panel.locator(".wb-panel-cancel")).to_be_enabled()
    expect(panel.locator(".wb-panel-state")).to_contain_text(
        "measured chunk on tiny: 8 worker runs", timeout=120_000)
    bar = panel.locator(".wb-panel-progress .progress-bar")
    expect(bar).to_have_attribute("style", re.compile(r"width:\s*100%"))
    rows = panel.locator(".wb-panel-timing .wb-comparison table.wb-table tbody tr")
    expect(rows).to_have_count(4)
    texts = [" ".join(r.split()) for r in rows.all_inner_texts()]
    assert [t.split(" ")[0] for t in texts] == ["pure", "cached", "vectorized", "native"], texts
    for text in texts:  # p50 with its 95% interval, equivalent
        assert re.search(rf"{T} \[{T}, {T}\]", text), text
        assert text.endswith("yes"), text
    expect(panel.locator(".wb-panel-timing svg.wb-ecdf")).to_have_count(1)
    expect(panel.locator(".wb-panel-timing svg.wb-speedup")).to_have_count(1)
    expect(chunk).to_contain_text("equivalent")
    # budgets.toml: chunk's target (absolute, judged now) beside relative limits (no
    # baseline yet); the badge gives the undecided status and the rules' count
    expect(chunk).to_contain_text(re.compile(r"(inconclusive|no-baseline|pass) \(\d+ rules\)"))
    expect(panel.locator(".wb-panel-suggestion")).to_contain_text("Suggested: pure")
    _step(page, shots, "3-measured")

    # 4. the Flame graph tab: its button profiles chunk/native and shows an inline <svg>
    panel.get_by_role("tab", name="Flame graph").click()
    flame = panel.locator(".wb-panel-profile-flame")
    expect(flame).to_be_visible()
    expect(panel.locator(".wb-panel-flame-target")).to_contain_text("chunk/native on tiny")
    flame.click()
    result = panel.locator(".wb-panel-flame-result")
    expect(result.locator("svg").first).to_be_visible(timeout=90_000)
    expect(result).to_contain_text("chunk")
    expect(panel.locator(".wb-panel-state")).to_contain_text("flame graph of chunk/native")
    _step(page, shots, "4-flame-graph")

    # 5. record a decision: refused without a rationale, recorded with one
    panel.locator(".wb-panel-record").click()
    expect(panel.locator(".wb-panel-refused")).to_contain_text("write a rationale first")
    panel.locator(".wb-panel-rationale textarea").fill(RATIONALE)
    panel.locator(".wb-panel-record").click()
    recorded = panel.locator(".wb-panel-feedback")
    expect(recorded).to_contain_text("Recorded: chunk = native", timeout=30_000)
    expect(recorded.locator(".wb-panel-decisions")).to_contain_text(RATIONALE)
    expect(recorded.locator(".wb-panel-decisions")).to_contain_text("comparison, flamegraph")
    from workbench.decisions import DecisionLog

    (logged,) = DecisionLog(lab.root / "decisions" / "decisions.jsonl").read().records
    assert (logged.stage, logged.variant, logged.rationale) == ("chunk", "native", RATIONALE)
    assert [e.kind for e in logged.evidence] == ["comparison", "flamegraph"]
    _step(page, shots, "5-decision")

    # 6. the saved notebook carries the latest static snapshot beside the widget view
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
    data = _panel_output(lab)
    static = data["text/html"]
    assert "<b>[native]</b>" in static and "chunk on tiny" in static
    assert static.count("class='wb-ecdf-line'") == 4 and "<svg" in static
    assert "flame graph of chunk/native" in static and RATIONALE in static
    assert "chunk: native" in data["text/plain"]
