"""A value is a workload: a notebook variable (or any object) measured as the first stage's
input, labelled by its name, shipped to the workers by value, with one size.

The notebook tests run in a real IPython shell with the extension loaded; the measuring
ones start real worker processes (2 small workers, to stay quick).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench.fixed_workloads as fixed
import workbench.notebook.session as sessions
from workbench.app.workloads import from_namespace, resolved
from workbench.app.workloads import given as given_workload
from workbench.errors import InvalidInputError, UnknownNameError
from workbench.workloads import Workload, register_workload

SMALL = "--workers 2 --samples 3 --warmup-seconds 0.02 --no-progress"

PIPELINE = """
import math
from workbench import Pipeline, stage

@stage(input="list[str]", output="float")
def total(lines):
    return sum(float(x) for x in lines)

@total.variant("vectorized")
def _total_fsum(lines):
    return math.fsum(float(x) for x in reversed(lines))

pipe = Pipeline("sums", [total])
lines = [str(i / 7) for i in range(300)]
"""


# -- the value as a workload ----------------------------------------------------------------

@given(st.lists(st.one_of(st.text(max_size=8), st.floats(allow_nan=False)), min_size=1,
                max_size=50))
def test_a_value_loads_as_itself_with_its_length_as_size(value: list[Any]) -> None:
    w = fixed.from_value(value, "rows")
    assert w.load() is value and w.size == len(value) and w.fixed and w.name == "rows"
    assert f"list of {len(value):,} item" in w.description and "sent to each worker" \
        in w.description


def test_a_value_has_one_size_and_says_how_to_get_others() -> None:
    w = fixed.from_value([1, 2, 3], "lines")
    with pytest.raises(InvalidInputError) as info:
        w.with_size(2)
    text = str(info.value)
    assert text.startswith("lines@2: workload 'lines' is a value of one size (3)")
    assert "@workbench.workload('lines_n', size=3)" in text
    assert "def lines_n(n): return lines[:n]" in text
    with pytest.raises(InvalidInputError, match="pass it where a workload is named"):
        register_workload(w)


@pytest.mark.parametrize(("value", "why"), [
    ((x for x in range(3)), "runs dry after the first call"),
    (len, "a function is not a workload's value"),
    ([], "the value is empty"),
    (None, "NoneType is not a workload's value"),
    ("text", "str is not a workload's value"),
    ([threading.Lock()], "cannot be sent to worker processes"),
])
def test_what_is_no_value_is_refused_naming_why(value: Any, why: str) -> None:
    with pytest.raises(InvalidInputError, match=why):
        fixed.from_value(value, "x")


def test_a_value_above_the_limit_is_refused_naming_the_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fixed, "MAX_VALUE_BYTES", 1024)
    with pytest.raises(InvalidInputError) as info:
        fixed.from_value([f"{i:0100d}" for i in range(100)], "big")
    assert "above the 1 KiB a value sent to every worker may be" in str(info.value)
    assert "@workbench.workload function" in str(info.value)


def test_arrays_and_frames_are_workload_shaped_scalars_and_functions_are_not() -> None:
    import numpy as np
    import polars as pl

    assert fixed.workload_shaped(np.zeros((4, 2))) and fixed.workload_shaped([1])
    assert fixed.workload_shaped(pl.DataFrame({"a": [1, 2]}))
    for no in (3, "abc", [], np.float64(1.0), np.zeros(()), len, {"a": 1}):
        assert not fixed.workload_shaped(no), no
    assert fixed.describe(np.zeros((4, 2))) == "ndarray float64 (4 x 2)"


# -- which a name means in a notebook --------------------------------------------------------

def test_a_notebook_name_means_its_variable_first_then_the_registered_workload() -> None:
    registered = resolved("tiny")  # loads the reference pipeline, which registers it
    ns: dict[str, Any] = {"tiny": ["a", "b"], "w": registered, "small": 3,
                          "table": {"k": 1}}
    shadow = from_namespace("tiny", ns, "medium")
    assert isinstance(shadow, Workload) and shadow.fixed and shadow.load() == ["a", "b"]
    assert from_namespace("w@7", ns, "medium") == registered.with_size(7)
    assert from_namespace("small", ns, "medium") == "small"  # an int does not hide it
    table = from_namespace("table", ns, "medium")  # named on purpose: a value
    assert isinstance(table, Workload) and table.load() == {"k": 1}
    assert from_namespace(None, ns, "medium") == "medium"
    assert from_namespace("docs", ns, "medium") == "docs"
    with pytest.raises(InvalidInputError, match="is a value of one size"):
        from_namespace("tiny@10", ns, "medium")


def test_an_unknown_name_is_refused_with_the_choices() -> None:
    with pytest.raises(UnknownNameError) as info:
        resolved("nosuch")
    assert "unknown workload 'nosuch'" in str(info.value) and "tiny" in str(info.value)


def test_the_python_api_names_a_value_after_its_variable() -> None:
    data = [1.0, 2.0]
    w = given_workload(data, {"data": data, "_": data})
    assert isinstance(w, Workload) and w.name == "data"
    anonymous = given_workload([3.0], {})
    assert isinstance(anonymous, Workload) and anonymous.name == "value"
    assert given_workload("tiny") == "tiny"


# -- in a real IPython shell ----------------------------------------------------------------

@pytest.fixture
def ip(shell: InteractiveShell, fresh_session: None) -> InteractiveShell:
    assert shell.run_cell(PIPELINE).error_in_exec is None
    return shell


def _run(shell: InteractiveShell, source: str) -> tuple[Any, str]:
    with capture_output() as cap:
        result = shell.run_cell(source, store_history=True)
    return result, cap.stdout


@pytest.mark.slow
def test_wb_compare_measures_a_notebook_variable_in_worker_processes(
        ip: InteractiveShell) -> None:
    ran, out = _run(ip, f"c = %wb compare total --pipeline pipe --workload lines {SMALL}")
    assert ran.error_in_exec is None, ran.error_in_exec
    comparison = ip.user_ns["c"]
    assert comparison.workload == "lines"
    for r in comparison.results:
        assert r.measurement.ok and len(r.measurement.groups) == 2  # two worker processes
        assert r.measurement.target.by_value and r.measurement.target.workload == "lines"
    assert "workload lines: list of 300 items" in out and "sent to each worker by value" in out


def test_wb_sweep_on_a_value_says_how_to_get_sizes(ip: InteractiveShell) -> None:
    ran, out = _run(ip, "%wb sweep total --pipeline pipe --workload lines --sizes 10,20,30")
    assert isinstance(ran.error_in_exec, UsageError)
    assert "%wb sweep: workload 'lines' is a value of one size (300)" in str(ran.error_in_exec)
    assert "@workbench.workload('lines_n', size=300)" in str(ran.error_in_exec)
    assert out == ""


def test_wb_use_refuses_an_unknown_name_at_once_and_takes_a_variable(
        ip: InteractiveShell) -> None:
    before = sessions.current().workload
    ran, out = _run(ip, "%wb use --workload nosuch")
    assert isinstance(ran.error_in_exec, UsageError) and out == ""
    assert "unknown workload 'nosuch'" in str(ran.error_in_exec)
    assert sessions.current().workload == before
    ran, out = _run(ip, "%wb use --pipeline pipe --workload lines")
    assert ran.error_in_exec is None, ran.error_in_exec
    assert "workload lines: list of 300 items" in out
    chosen = sessions.current().workload
    assert isinstance(chosen, Workload) and chosen.fixed and chosen.load() is ip.user_ns["lines"]


def test_the_panel_picker_offers_the_notebooks_workload_shaped_variables(
        ip: InteractiveShell) -> None:
    from workbench.notebook.panel.controls import Variable
    from workbench.notebook.panel.main import build_panel

    assert _run(ip, "%wb use --pipeline pipe")[0].error_in_exec is None
    ip.user_ns.update(threshold=0.5, _hidden=[1, 2])
    panel = build_panel()
    labels = {label: value for label, value in panel.workload_picker.options}
    assert labels.get("lines (notebook: list of 300 items)") == Variable("lines")
    assert not any(label.startswith(("threshold", "_hidden", "pipe ")) for label in labels)
    panel.workload_picker.value = Variable("lines")
    chosen = sessions.current().workload
    assert isinstance(chosen, Workload) and chosen.name == "lines" and chosen.fixed
    assert panel.errors.value == ""
