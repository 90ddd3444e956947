"""The notebook workbench's widget panel, driven in-process as a user would drive it.

ipywidgets work without a frontend: the tests set widget values and click buttons, wait
for the panel's background thread, and read what the widgets show. Measurements are real
(the reference pipeline's ``chunk`` stage on ``tiny``, 2 workers x 5 samples). Also here:
the latency ECDF SVG, the panel's static
snapshot and display updates, and the walk-through notebook under papermill.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from result_samples import EVIL, measurement
from result_samples import comparison as sample_comparison

from workbench import Pipeline, stage
from workbench.errors import MissingDependencyError
from workbench.measure.comparison import Comparison, VariantResult
from workbench.notebook import session as sessions
from workbench.notebook.panel.main import WIDGET_VIEW, Panel, build_panel
from workbench.project import Project
from workbench.refs import REFERENCE_PIPELINE
from workbench.render.ecdf import latency_ecdf_svg
from workbench.stages import EquivalenceResult
from workbench.workloads import Workload

T = r"[\d.]+ (?:ns|us|ms|s)"  # a rendered time: the unit follows the value
ROOT = Path(__file__).resolve().parents[1]
#: chunk/native has an error-level median limit no real run meets; pure and vectorized
#: have no rule at all.
BUDGETS = '[stage.chunk]\nvariant = "native"\nlatency_p50 = { limit = "1us", level = "error" }\n'


@pytest.fixture
def session(tmp_path: Path) -> Iterator[sessions.Session]:
    """A fresh session of a project in ``tmp_path`` with :data:`BUDGETS`."""
    (tmp_path / "budgets.toml").write_text(BUDGETS, encoding="utf-8")
    project = Project(root=tmp_path, pipeline=REFERENCE_PIPELINE, workload="tiny")
    yield sessions.reset(sessions.Session(project, REFERENCE_PIPELINE, "tiny"))
    sessions.reset()


def _wait(panel: Panel, timeout: float = 120.0) -> None:
    assert panel.wait(timeout), "the panel's job did not finish"


def _until(check: Callable[[], bool], timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def _text(html: str) -> str:
    """What ``html`` reads as: tags removed, entities resolved, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _table_rows(html: str) -> list[list[str]]:
    """The body rows of the first ``wb-table`` in ``html``, as cell texts."""
    body = html.split('<table class="wb-table">', 1)[1].split("</tbody>", 1)[0]
    return [[_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)]


# -- the panel with real measurements -----------------------------------------------------

@pytest.mark.slow
def test_toggle_measure_and_decide_on_real_measurements(session: sessions.Session) -> None:
    panel = build_panel(workload="tiny", workers=2, samples=5)
    chunk = panel.rows["chunk"]
    assert chunk.toggle.options == ("pure", "cached", "vectorized", "native")
    assert "no budget" in chunk.budget.value and "not measured" in chunk.equivalence.value
    assert "defaults: 5 workers, 10 samples" in panel.controls.settings.children[3].value
    assert "tiny (size 40)" in [label for label, _ in panel.workload_picker.options]

    chunk.toggle.value = "native"  # selects it in the session and ticks it for Measure
    assert session.selection == {"chunk": "native"} and chunk.measure.value
    assert panel.focus == "chunk" and "not measured" in chunk.budget.value
    panel.measure_button.click()
    assert panel.measure_button.disabled and not panel.cancel_button.disabled
    _wait(panel)

    assert panel.progress.value == panel.progress.max == 8  # 4 variants x 2 workers
    assert "measured chunk on tiny: 8 worker runs" in panel.status.value
    timing = panel.tabs.timing.value
    rows = _table_rows(timing)
    assert [r[0] for r in rows] == ["pure", "cached", "vectorized", "native"]
    for row in rows:  # p50 with its interval, and equivalence
        assert re.fullmatch(rf"{T} \[{T}, {T}\]", row[1]), row
        assert row[-1] == "yes"
    assert "wb-speedup" in timing and timing.count("class='wb-ecdf-line'") == 4
    assert "equivalent" in chunk.equivalence.value
    # the budget: native breaches its error-level limit, shown in the row and the errors
    assert "breach: latency_p50 (error)" in chunk.budget.value
    assert "budget breach (error) chunk/native latency_p50" in _text(panel.errors.value)
    assert "Suggested: pure" in _text(panel.decision.suggestion.value)
    comparison = panel.comparisons["chunk"]
    assert session.last("comparison") is comparison
    assert ("panel: compare chunk on tiny", comparison) in session.results

    panel.decision.button.click()  # no rationale: refused, visibly
    assert "write a rationale first" in panel.decision.feedback.value
    assert session.decisions == []
    panel.decision.rationale.value = "native is faster here, and equivalent"
    panel.decision.button.click()
    (decision,) = session.decisions
    assert (decision.stage, decision.variant, decision.suggestion.variant) == \
        ("chunk", "native", "pure")
    assert decision.evidence == (comparison,) and not decision.followed_suggestion
    assert decision.rationale == "native is faster here, and equivalent"
    # in the project's decision log, breach and all: native was chosen against its budget
    from workbench.decisions import DecisionLog

    log = session.project.decisions_path
    assert DecisionLog(log).read().records == (decision,)
    native = next(a for a in decision.alternatives if a.variant == "native")
    assert not native.eligible and "breaches latency_p50" in native.why
    assert "Recorded: chunk = native" in _text(panel.decision.feedback.value)
    assert f"as {decision.id} in {log}" in _text(panel.decision.feedback.value)
    assert "Hotspot (a hint you may disagree with)" in _text(panel.decision.suggestion.value)
    assert "native is faster here" in panel.decision.feedback.value

    bundle = panel._repr_mimebundle_()
    assert bundle[WIDGET_VIEW]["model_id"] == panel.widget.model_id
    static = bundle["text/html"]
    assert "<b>[native]</b>" in static and "breach: latency_p50" in static
    assert [r[0] for r in _table_rows(static.split("Timing", 1)[1])] == \
        ["pure", "cached", "vectorized", "native"]
    assert "wb-ecdf" in static and "native is faster here" in static
    assert "chunk: native (of pure, cached, vectorized, native)" in bundle["text/plain"]


@pytest.mark.slow
def test_cancel_stops_between_workers_and_says_so(session: sessions.Session) -> None:
    panel = build_panel(workers=2, samples=5)
    panel.rows["chunk"].toggle.value = "vectorized"
    panel.measure_button.click()
    _until(lambda: panel.progress.value >= 1)  # the first worker process has finished
    panel.cancel_button.click()
    _wait(panel)
    assert "cancelled after" in panel.status.value
    assert panel.progress.value < panel.progress.max == 8
    assert panel.comparisons == {} and session.last("comparison") is None
    assert not panel.measure_button.disabled and panel.cancel_button.disabled


def _broken_pipeline() -> Pipeline:
    """double: pure; vectorized gives another answer; native raises."""
    @stage(input="tuple[int, ...]", output="tuple[int, ...]")
    def double(xs: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(2 * x for x in xs)

    @double.variant("vectorized")
    def double_vectorized(xs: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(2 * x + 1 for x in xs)

    @double.variant("native")
    def double_native(xs: tuple[int, ...]) -> tuple[int, ...]:
        raise RuntimeError("the native kernel is not built")

    return Pipeline.of(double, name="broken")


@pytest.mark.slow
def test_a_failing_and_a_different_variant_show_inside_the_panel(
        session: sessions.Session) -> None:
    numbers = Workload("numbers", lambda n: tuple(range(n)), 200)
    panel = build_panel(_broken_pipeline(), numbers, workers=1, samples=3)
    assert "no budget" in panel.rows["double"].budget.value  # the budgets name no such stage
    panel.measure_button.click()  # nothing ticked: the focused (first) stage
    _wait(panel)
    errors = _text(panel.errors.value)
    assert "double/native failed: 1 of 1 workers failed; first: [RuntimeError] " in errors
    assert "the native kernel is not built" in errors
    assert "double/vectorized is NOT equivalent to pure: item 0 differs" in errors
    assert "FAILED" in panel.tabs.timing.value
    row = panel.rows["double"]
    row.toggle.value = "vectorized"
    assert "differs: item 0 differs: pure 0 vs vectorized 1" in _text(row.equivalence.value)
    row.toggle.value = "native"
    assert "differs: native raised RuntimeError: the native kernel is not built" in \
        _text(row.equivalence.value)
    assert panel.suggestions["double"].variant == "pure"
    assert not panel.measure_button.disabled  # alive


@pytest.mark.slow
def test_profiles_show_their_html_and_errors_inside_the_panel(
        session: sessions.Session, monkeypatch: pytest.MonkeyPatch) -> None:
    panel = build_panel(workers=2, samples=5)
    panel.rows["chunk"].toggle.value = "native"
    assert "chunk/native" in panel.tabs.targets["flame"].value
    panel.tabs.buttons["flame"].click()
    _wait(panel)
    flame = panel.tabs.outputs["flame"].value
    assert "<svg" in flame and "wb-flamegraph" in flame
    assert "flame graph of chunk/native on tiny" in _text(panel.status.value)
    kept = session.last("flamegraph")
    assert kept is not None and kept is panel.profiles[("chunk", "flame")]

    from workbench import app

    def missing(*args: Any, **kwargs: Any) -> Any:
        raise MissingDependencyError("memray", "memory tracks", "profile")

    monkeypatch.setattr(app, "profile", missing)
    panel.tabs.buttons["memory"].click()
    _wait(panel)
    said = "Memory of chunk/native failed: memory tracks needs the package 'memray'"
    assert said in _text(panel.tabs.outputs["memory"].value)
    assert said in _text(panel.errors.value)
    assert not panel.tabs.buttons["memory"].disabled
    panel.decision.rationale.value = "the flame graph shows the time is in the kernel"
    panel.decision.button.click()  # a profile alone is not enough to decide on
    assert session.decisions == []
    assert "measure chunk first" in _text(panel.decision.feedback.value)


def test_an_exception_in_the_thread_is_shown_with_its_traceback(
        session: sessions.Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench import app

    def broken(*args: Any, **kwargs: Any) -> Any:
        return 1 / 0

    monkeypatch.setattr(app, "compare", broken)
    panel = build_panel()
    panel.measure_button.click()
    _wait(panel, 30)
    assert "Measure failed: ZeroDivisionError: division by zero" in _text(panel.errors.value)
    assert "<details><summary>traceback</summary>" in panel.errors.value
    assert "Measure failed" in panel.status.value and panel.progress.bar_style == "danger"
    assert not panel.measure_button.disabled


def test_bad_settings_are_refused_in_the_panel(session: sessions.Session) -> None:
    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        build_panel(workers=0)
    panel = build_panel()
    panel.samples.value = 0  # clamped by the widget to its minimum
    assert panel.samples.value == 1
    panel.workload_picker.value = "small"
    assert session.workload == "small"
    assert "on small" in panel.tabs.targets["flame"].value


def test_selections_and_comparisons_made_by_the_magics_show_in_the_panel(
        session: sessions.Session) -> None:
    panel = build_panel()
    session.select({"chunk": "vectorized"})  # as %wb select chunk=vectorized does
    compared = Comparison("chunk", "tiny", "pure", (
        VariantResult("pure", measurement("pure", 1e6, workload="tiny", stage="chunk"),
                      equivalence=EquivalenceResult(True, "the reference")),
        VariantResult("vectorized", measurement("vectorized", 5e5, workload="tiny",
                                                stage="chunk"),
                      equivalence=EquivalenceResult(False, "item 3 differs"))))
    session.keep("%wb compare chunk", compared)  # as %wb compare chunk does
    panel.sync()  # what every button does first
    row = panel.rows["chunk"]
    assert row.toggle.value == "vectorized"
    assert "differs: item 3 differs" in _text(row.equivalence.value)
    assert "no budget" in row.budget.value  # BUDGETS has rules for chunk/native only
    assert "chunk/vectorized is NOT equivalent to pure" in _text(panel.errors.value)
    assert [r[0] for r in _table_rows(panel.tabs.timing.value)] == ["pure", "vectorized"]
    assert panel.suggestions["chunk"].variant == "pure"


def test_display_carries_the_snapshot_and_results_update_it(
        session: sessions.Session, monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    shown: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, **kw: shown.append(("display", obj, kw)))
    monkeypatch.setattr(IPython.display, "update_display",
                        lambda obj, **kw: shown.append(("update", obj, kw)))
    panel = build_panel()
    panel._ipython_display_()
    kind, bundle, options = shown[0]
    assert kind == "display" and options["raw"] is True
    assert options["display_id"] == panel.display_id and panel.display_id
    assert set(bundle) == {WIDGET_VIEW, "text/html", "text/plain"}
    assert "a decision to keep" not in bundle["text/html"]
    results = tuple(VariantResult(v, measurement(v, 1e6, workers=2, samples=5,
                                                 workload="tiny", stage="chunk"),
                                  equivalence=EquivalenceResult(True, "same"))
                    for v in ("pure", "vectorized", "native"))
    panel.adopt([Comparison("chunk", "tiny", "pure", results)])  # as if %wb compare made it
    panel.set_focus("chunk")
    panel.decision.rationale.value = "a decision to keep"
    panel.decision.button.click()
    kind, bundle, options = shown[-1]
    assert kind == "update" and options == {"raw": True, "display_id": panel.display_id}
    assert "a decision to keep" in bundle["text/html"]
    assert bundle[WIDGET_VIEW]["model_id"] == panel.widget.model_id


@pytest.mark.slow
@pytest.mark.kernel
def test_the_walkthrough_notebook_runs_headless_under_papermill(tmp_path: Path) -> None:
    import nbformat
    import papermill as pm

    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "02_workbench.ipynb"), str(out),
                        cwd=str(ROOT), kernel_name="python3", progress_bar=False,
                        parameters={"workers": 1, "samples": 3})
    nb = nbformat.read(out, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in cells for o in c.outputs if o.output_type == "error"]
    assert errors == []
    (panel_cell,) = [c for c in cells if "panel(" in c.source]
    (output,) = panel_cell.outputs
    assert set(output.data) == {WIDGET_VIEW, "text/html", "text/plain"}
    assert "<b>[vectorized]</b>" in output.data["text/html"]  # %wb select clean=vectorized
    compared = next(c for c in cells if "%wb compare" in c.source)
    assert any("comparison" in "".join(o.get("data", {})) for o in compared.outputs)


# -- the latency ECDF ------------------------------------------------------------------------

def test_latency_ecdf_is_one_escaped_svg_with_a_line_per_variant() -> None:
    svg = latency_ecdf_svg(sample_comparison())  # type: ignore[arg-type]
    root = ET.fromstring(svg)  # well-formed, standalone
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg" and root.get("class") == "wb-ecdf"
    lines = root.findall(f"{ns}polyline")
    assert len(lines) == 2
    points = [tuple(map(float, p.split(","))) for p in lines[0].get("points", "").split()]
    assert [y for _, y in points] == sorted((y for _, y in points), reverse=True)  # rises
    assert "<script" not in svg and "<img" not in svg and EVIL not in svg
    assert "native&lt;script&gt;" in svg or "native&lt;scr" in svg
    assert "median" in lines[0].findtext(f"{ns}title", "")
    empty = Comparison("s", "w", "pure", (VariantResult(
        "pure", measurement("pure", 1e6, workers=0)),))
    assert "no samples to draw" in latency_ecdf_svg(empty)
