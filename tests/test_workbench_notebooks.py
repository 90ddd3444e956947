"""The workbench notebooks executed by papermill, and their offline HTML export.

Real kernels, real measurements (small configurations), real nbconvert, and the exported
page opened in Chromium with the network blocked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
import pytest
from browser_check import offline_page, require_chromium

from workbench.notebook.export import export_notebook
from workbench.render.notebook_page import notebook_html

pytestmark = [pytest.mark.slow, pytest.mark.kernel]

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
OWN = NOTEBOOKS / "03_own_pipeline.ipynb"


def execute(notebook: Path, out: Path, **parameters: Any) -> Any:
    pm.execute_notebook(str(notebook), str(out), parameters=parameters, cwd=str(out.parent),
                        kernel_name="python3", progress_bar=False)
    return nbformat.read(out, as_version=4)


def outputs(nb: Any) -> list[dict[str, Any]]:
    return [o for c in nb.cells for o in c.get("outputs", [])]


def summary(nb: Any) -> dict[str, Any]:
    for o in outputs(nb):
        for line in str(o.get("text", "")).splitlines():
            if line.startswith("WORKBENCH_SUMMARY "):
                found: dict[str, Any] = json.loads(line.removeprefix("WORKBENCH_SUMMARY "))
                return found
    raise AssertionError("no WORKBENCH_SUMMARY line")


@pytest.fixture(scope="module")
def own_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("own") / "own.ipynb"
    # 3 workers a block: the blocks' verdicts (numpy about 2.5x python) stay decided
    # when a neighbour takes part of a core
    nb = execute(OWN, out, rows=1500, workers=3, samples=5, latency_limit="5s")
    return out, nb


@pytest.mark.timing
def test_own_pipeline_notebook_runs_with_non_default_parameters(own_run: tuple[Path, Any],
                                                                ) -> None:
    _, nb = own_run
    tags = [c.get("metadata", {}).get("tags", []) for c in nb.cells]
    assert tags.index(["injected-parameters"]) == tags.index(["parameters"]) + 1
    s = summary(nb)
    assert s["rows"] == 1500
    assert s["session"]["pipeline"] == "<object>:readings"
    # the two budgeted blocks pass; the --warn one breaches without failing the run
    assert s["blocks"] == {"python_block": "pass", "numpy_block": "pass",
                           "python_again": "breach"}
    kinds = [k.rsplit(".", 1)[-1].removesuffix("+json") for o in outputs(nb)
             for k in o.get("data", {}) if k.startswith("application/vnd.workbench.")]
    assert kinds == ["comparison", "budget-block", "budget-block", "budget-block"]
    assert not any(o["output_type"] == "error" for o in outputs(nb))


def test_an_impossible_limit_fails_the_papermill_run_with_the_breach(tmp_path: Path) -> None:
    with pytest.raises(pm.PapermillExecutionError) as info:
        execute(OWN, tmp_path / "fails.ipynb", rows=500, workers=2, samples=5,
                latency_limit="1ns")
    assert info.value.ename == "BlockBudgetError"
    assert "performance budget exceeded in %%budget python_block" in str(info.value)
    assert "over the limit 1 ns" in str(info.value)
    # the failed notebook is still written, with the verdicts shown before the error
    nb = nbformat.read(tmp_path / "fails.ipynb", as_version=4)
    html = [str(o["data"]["text/html"]) for o in outputs(nb) if "text/html" in o.get("data", {})]
    assert any("%%budget python_block" in h and "BREACH" in h for h in html)


@pytest.mark.timing
def test_the_export_shows_every_result_offline(own_run: tuple[Path, Any]) -> None:
    require_chromium()
    executed, _ = own_run
    page_path = export_notebook(executed)
    text = page_path.read_text(encoding="utf-8")
    assert "<script src=" not in text
    assert re.search(r"""(src|href)=["']?(https?:)?//""", text) is None
    with offline_page(page_path) as (page, blocked):
        assert blocked == []
        body = page.inner_text("body")
        assert "%%budget python_block: PASS" in body
        assert "%%budget numpy_block: PASS against python_block" in body
        assert "BREACH (--warn: not raised)" in body
        assert "scale on readings" in body  # the comparison's table
        # the results are styled tables, not raw text
        assert page.locator(".wb-budget-block table.wb-table").count() >= 3


def test_export_refuses_a_missing_or_broken_notebook(tmp_path: Path) -> None:
    from workbench.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="does not exist"):
        notebook_html(tmp_path / "nope.ipynb")
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    with pytest.raises(InvalidInputError, match="not a readable notebook"):
        notebook_html(broken)


WORKBENCH = NOTEBOOKS / "02_workbench.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def workbench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("wb") / "workbench.ipynb"
    nb = execute(WORKBENCH, out, workload="small", workers=2, samples=3, stage="clean")
    return out, nb


def test_workbench_notebook_runs_headless_with_non_default_parameters(
        workbench_run: tuple[Path, Any]) -> None:
    _, nb = workbench_run
    assert not any(o["output_type"] == "error" for o in outputs(nb))
    records = {k: o["data"][k] for o in outputs(nb) for k in o.get("data", {})
               if k.startswith("application/vnd.workbench.")}
    comparison, cached = [o["data"]["application/vnd.workbench.comparison+json"]
                          for o in outputs(nb)
                          if "application/vnd.workbench.comparison+json" in o.get("data", {})]
    assert comparison["stage"] == "clean" and comparison["workload"] == "small"
    assert [r["variant"] for r in comparison["results"]] == ["pure", "vectorized", "native"]
    # the cached tier: embed on the reindex batch sequence, its memo table's figures shown
    assert (cached["stage"], cached["workload"]) == ("embed", "reindex@40")
    assert [r["variant"] for r in cached["results"]] == ["pure", "cached", "vectorized"]
    runs = cached["results"][1]["measurement"]["runs"]
    assert all(r["cache"]["state"] == "warm" and r["cache"]["hits"] > 0 for r in runs)
    assert any("cache (warm): hit rate" in o.get("text", "") + str(o.get("data", {}))
               for o in outputs(nb))
    assert records["application/vnd.workbench.budget-block+json"]["name"] == "chunk_block"
    # the panel rendered: a live widget view with a static snapshot beside it
    panels = [o["data"] for o in outputs(nb) if WIDGET_VIEW in o.get("data", {})
              and "text/html" in o["data"]]
    assert panels, "the panel's output has no static snapshot"
    assert "clean" in panels[-1]["text/html"] and "vectorized" in panels[-1]["text/html"]
    # every widget output carries a static rendering, or nothing (a finished progress bar)
    for o in outputs(nb):
        data = o.get("data", {})
        assert WIDGET_VIEW not in data or "text/html" in data, data.get("text/plain")


def test_workbench_export_shows_the_panel_snapshot_and_results_offline(
        workbench_run: tuple[Path, Any]) -> None:
    require_chromium()
    executed, _ = workbench_run
    page_path = export_notebook(executed)
    with offline_page(page_path) as (page, blocked):
        assert blocked == []
        body = page.inner_text("body")
        assert "clean on small" in body  # the comparison from %wb compare
        assert "%%budget chunk_block" in body
        for stage_name in ("clean", "chunk", "embed", "retrieve"):
            assert stage_name in body
        # no empty boxes where widgets were: nbconvert's widget containers are absent
        assert page.locator(".jupyter-widgets").count() == 0
