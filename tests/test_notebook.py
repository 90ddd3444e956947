"""The walking skeleton: notebooks/01_explore.ipynb executed for real by papermill."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill as pm
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_explore.ipynb"

pytestmark = [pytest.mark.slow, pytest.mark.kernel]


def _outputs_of(nb: nbformat.NotebookNode, tag: str) -> list[dict[str, object]]:
    cells = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    assert cells, f"no cell tagged {tag!r}"
    return [o for c in cells for o in c.get("outputs", [])]


def test_explore_notebook_runs_with_non_default_parameters(tmp_path: Path) -> None:
    # GIVEN the notebook and non-default parameters
    params = {"workload": "tiny", "clean": "vectorized", "chunk": "vectorized",
              "embed": "native", "retrieve": "native", "chunk_size": 128, "overlap": 16}
    out = tmp_path / "explore.out.ipynb"
    # WHEN papermill executes it
    pm.execute_notebook(str(NOTEBOOK), str(out), parameters=params, cwd=str(tmp_path),
                        kernel_name="python3", progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    # THEN the parameters were injected after the tagged cell
    tags = [c.get("metadata", {}).get("tags", []) for c in nb.cells]
    assert ["parameters"] in tags and ["injected-parameters"] in tags
    assert tags.index(["injected-parameters"]) == tags.index(["parameters"]) + 1
    # AND the summary reflects the chosen variants, with the vectorized pair fused
    (stream,) = [o for o in _outputs_of(nb, "summary") if o.get("output_type") == "stream"]
    line = next(s for s in str(stream["text"]).splitlines() if s.startswith("WORKBENCH_SUMMARY"))
    summary = json.loads(line.removeprefix("WORKBENCH_SUMMARY "))
    assert summary["selection"] == {"clean": "vectorized", "chunk": "vectorized",
                                    "embed": "native", "retrieve": "native"}
    assert summary["n_docs"] == 40 and summary["n_chunks"] > 40
    # AND the run table, the fusion report and one plot were rendered
    html = [str(o["data"]["text/html"]) for c in nb.cells for o in c.get("outputs", [])
            if "text/html" in o.get("data", {})]
    assert any("clean/vectorized+chunk/vectorized" in h and "fused" in h for h in html)
    assert any("wb-fusion" in h for h in html)
    pngs = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) == 1
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))


def test_explore_notebook_reports_a_bad_parameter_clearly(tmp_path: Path) -> None:
    out = tmp_path / "bad.out.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(str(NOTEBOOK), str(out), parameters={"chunk": "turbo"},
                            cwd=str(tmp_path), kernel_name="python3", progress_bar=False)
    assert "unknown variant 'turbo' for stage 'chunk'" in str(info.value)
