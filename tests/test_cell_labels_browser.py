"""A flame graph of code written in a notebook cell, in a real JupyterLab in Chromium,
names the cell as the page shows it: ``In [N], line M`` in the table and in the flame
graph's frames, not ipykernel's hashed file name.

One short notebook on a fresh server (the helpers of ``test_panel_browser``): the
extension, a pipeline in a cell, ``%wb flame`` of it. Skipped only when Chromium is
missing. Screenshots go to ``$WORKBENCH_TEST_ARTIFACTS`` (or the test's tmp dir).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from browser_check import require_chromium
from jupyter_server import Lab, check_kernel_is_this_python
from lab_page import lab_page, run_all
from notebook_files import own_notebook
from test_cell_profiles import CELL

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.kernel]

NOTEBOOK = "cells.ipynb"
FLAME = "%wb flame score --pipeline labelled --workload cell-labels-words --duration 0.6"
#: The execution count of every code cell, in order.
COUNTS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter(c => c.model.type === 'code').map(c => c.model.executionCount)"""


def test_a_flame_graph_of_cell_code_names_the_cell_in_jupyterlab(tmp_path: Path) -> None:
    require_chromium()
    check_kernel_is_this_python()
    shots = Path(os.environ.get("WORKBENCH_TEST_ARTIFACTS") or tmp_path / "artifacts")
    shots = shots / "cell_labels_browser"
    shots.mkdir(parents=True, exist_ok=True)
    root = tmp_path / "root"
    root.mkdir()
    own_notebook(root / NOTEBOOK, CELL, FLAME, parameters="%load_ext workbench")
    with lab_page(root, tmp_path / "jupyter") as (lab, page):
        _check(page, lab, shots)


def _check(page: Any, lab: Lab, shots: Path) -> None:
    from playwright.sync_api import expect

    try:
        run_all(page, lab, NOTEBOOK)
    finally:
        page.screenshot(path=str(shots / "flame.png"))
    load, defined, flamed = page.evaluate(COUNTS)
    assert load < defined < flamed, (load, defined, flamed)
    label = f"In [{defined}], line 7"  # def digits(word): is line 7 of the cell

    output = page.locator(".jp-NotebookPanel .jp-Cell").nth(2).locator(".jp-OutputArea")
    table = output.locator("table.wb-table")
    expect(table).to_contain_text(label, timeout=30_000)
    row = table.locator("tr", has=page.locator("td", has_text=re.compile(r"^digits$")))
    expect(row.locator("td").nth(1)).to_have_text(label)
    # the flame graph's boxes: their tooltips name the frame by its cell too
    titles = output.locator("svg.wb-flame title").all_text_contents()
    assert any(t.startswith(f"digits ({label})") for t in titles), titles[:10]
    shown = output.inner_text()
    assert not re.search(r"\b\d{6,}\.py\b", shown), shown[:2000]  # no hashed file name
    output.screenshot(path=str(shots / "flame-output.png"))
