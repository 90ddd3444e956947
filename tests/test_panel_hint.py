"""The panel's hotspot hint uses the evidence at hand: after the flame graph button's job,
after a ``%wb flame`` cell (the displayed panel syncs after every cell), and from a flame
graph kept in the session by anything else. Driven in-process as in ``test_panel.py``
(no browser); the flame graphs of the slow tests are real py-spy recordings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from result_samples import LOOP, WHEN

from workbench.measure.targets import TargetSpec
from workbench.notebook import session as sessions
from workbench.notebook.panel.main import Panel, build_panel
from workbench.profile import Flamegraph, Overhead
from workbench.project import Project
from workbench.refs import REFERENCE_PIPELINE

TESTS = Path(__file__).parent
LOOPS = "hotspot_pipeline:loops"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html))).strip()


def _hint(panel: Panel) -> str:
    return _text(panel.decision.suggestion.value)


def _wait(panel: Panel) -> None:
    assert panel.wait(180), "the panel's job did not finish"


@pytest.fixture
def loops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessions.Session]:
    """A fresh session on :mod:`hotspot_pipeline`'s loop stage (its worker and profiler
    processes import it by name), no budgets."""
    monkeypatch.setenv("PYTHONPATH", str(TESTS) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.chdir(tmp_path)
    project = Project(root=tmp_path, pipeline=LOOPS, workload="numbers")
    yield sessions.reset(sessions.Session(project, LOOPS, "numbers"))
    sessions.reset()


@pytest.mark.slow
def test_after_the_flame_graph_button_the_hint_names_the_row(
        loops: sessions.Session) -> None:
    panel = build_panel(workers=2, samples=3)
    panel.measure_button.click()
    _wait(panel)
    before = _hint(panel)  # what the issue saw: measured, no flame graph yet
    assert "hotspot type not read" in before and "a flame graph of the stage" in before

    panel.tabs.buttons["flame"].click()
    _wait(panel)
    flame = loops.last("flamegraph")
    assert flame is not None and flame.native  # the panel samples with --native here
    after = _hint(panel)
    assert "not read" not in after.replace("GIL: not read", "")
    assert re.search(r"Hotspot \(a hint you may disagree with\): tight loops: \d+ % of "
                     r"samples in own Python \(\d+ % in steps \(hotspot_pipeline\.py:\d+\) "
                     r"alone, as self time\).*\(flame graph of collatz/pure\); the decision "
                     r"table says extend with native code", after), after

    # a memory track arriving is read too: its figures join the hint's facts (its title)
    assert "memory track of" not in panel.decision.suggestion.value
    panel.tabs.buttons["memory"].click()
    _wait(panel)
    assert "memory track of collatz/pure: peak RSS" in unescape(panel.decision.suggestion.value)

    panel.decision.rationale.value = "the time is one Python loop"
    panel.decision.button.click()
    (decision,) = loops.decisions
    assert decision.hint is not None and decision.hint.type == "tight loops"
    assert [e.kind for e in decision.evidence] == ["comparison", "flamegraph",
                                                   "memory_track"]


@pytest.mark.slow
@pytest.mark.kernel
def test_a_wb_flame_cell_updates_the_displayed_panel_s_hint(
        loops: sessions.Session, shell: Any) -> None:
    from IPython.utils.capture import capture_output

    panel = build_panel(workers=2, samples=3)
    with capture_output():
        panel._ipython_display_()  # displayed: it syncs after every cell
    assert panel.watching and "Hotspot" not in _hint(panel)
    with capture_output():
        ran = shell.run_cell("f = %wb flame collatz --native --duration 0.5")
    assert ran.error_in_exec is None, ran.error_in_exec
    assert shell.user_ns["f"] is loops.last("flamegraph")
    hint = _hint(panel)  # no click: the cell's end synced the panel
    assert "tight loops: " in hint and "(flame graph of collatz/pure)" in hint, hint
    assert "Suggested: measure this stage to get a suggestion" in hint
    del shell.user_ns["f"]


def _flame(stage: str, variant: str, *leaves: tuple[str, int]) -> Flamegraph:
    stacks = tuple((f"{LOOP};{stage} (my/stage.py:5);{leaf}", n) for leaf, n in leaves)
    return Flamegraph(TargetSpec("stage", stage, variant, "tiny"), 100, True, False, stacks,
                      Overhead(10, 1.0, 1.05), "py-spy 0.4.3", WHEN)


@pytest.fixture
def reference(tmp_path: Path) -> Iterator[sessions.Session]:
    project = Project(root=tmp_path, pipeline=REFERENCE_PIPELINE, workload="tiny")
    yield sessions.reset(sessions.Session(project, REFERENCE_PIPELINE, "tiny"))
    sessions.reset()


def test_a_flame_graph_kept_in_the_session_is_read_pure_s_first(
        reference: sessions.Session) -> None:
    panel = build_panel()
    assert panel.focus == "clean" and "Hotspot" not in _hint(panel)
    numpy = "add (numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so)"
    reference.keep("%wb flame", _flame("chunk", "native", (numpy, 8), ("f (my/x.py:1)", 2)))
    panel.set_focus("chunk")
    assert "array ops: 80 % of samples in NumPy kernels, 20 % own Python (flame graph of " \
        "chunk/native)" in _hint(panel)
    # pure's flame graph, kept later by %wb flame, is the one read: at the next sync
    reference.keep("%wb flame", _flame("chunk", "pure", ("loop (my/x.py:3)", 10)))
    panel.sync()
    assert "tight loops: 100 % of samples in own Python" in _hint(panel)
    # a newer flame graph of another variant does not replace pure's
    reference.keep("%wb flame", _flame("chunk", "vectorized", (numpy, 10)))
    panel.sync()
    assert "(flame graph of chunk/pure)" in _hint(panel)
    # another stage's flame graph is not this stage's evidence
    reference.keep("%wb flame", _flame("embed", "pure", (numpy, 10)))
    panel.sync()
    assert "(flame graph of chunk/pure)" in _hint(panel)
    assert [p.target.variant for p in panel.known("chunk").profiles] == ["pure"]
