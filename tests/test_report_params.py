"""Report plumbing without kernels: declared parameters, ``-p`` values, summaries and the
reports index read back from disk."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.errors import InvalidInputError
from workbench.reporting.pages import index_page
from workbench.reporting.params import (
    Declared,
    Given,
    declared_parameters,
    parameters_for,
    parse_given,
)
from workbench.reporting.plan import BUILTIN, builtin_path, notebook_path
from workbench.reporting.summary import read_summary


def notebook(path: Path, parameters: str, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
    return path


def test_the_builtin_notebooks_declare_typed_parameters() -> None:
    assert BUILTIN == ("compare", "profile", "budgets", "decisions")
    compare = declared_parameters(builtin_path("compare"))
    assert list(compare) == ["workload", "stages", "workers", "samples", "warmup", "log",
                             "run_folder"]
    assert compare["workers"].default == 5 and compare["workers"].accepts == "an integer"
    assert "every stage" in compare["stages"].help
    assert set(declared_parameters(builtin_path("budgets"))) >= {
        "workload", "budgets", "baseline", "against", "history", "workers", "samples",
        "warmup", "layouts", "log", "run_folder"}
    assert list(declared_parameters(builtin_path("decisions"))) == ["log"]
    for name in BUILTIN:  # papermill cannot read a parameter line holding two "="
        cell = next(c for c in nbformat.read(builtin_path(name), as_version=4).cells
                    if "parameters" in c.metadata.get("tags", []))
        assert all(line.count("=") <= 1 for line in cell.source.splitlines()
                   if not line.startswith("#")), name


def test_declared_parameters_skip_computed_values_and_refuse_broken_cells(
        tmp_path: Path) -> None:
    path = notebook(tmp_path / "nb.ipynb", "a = 1  # the first\nb = a * 2\nc = [1, 2]\n")
    found = declared_parameters(path)
    assert list(found) == ["a", "c"] and found["a"].help == "the first"
    assert declared_parameters(notebook(tmp_path / "none.ipynb", "")) == {}
    with pytest.raises(InvalidInputError, match="parameters cell is not valid Python"):
        declared_parameters(notebook(tmp_path / "bad.ipynb", "a = (\n"))
    with pytest.raises(InvalidInputError, match="does not exist"):
        declared_parameters(tmp_path / "missing.ipynb")
    (tmp_path / "junk.ipynb").write_text("{nope")
    with pytest.raises(InvalidInputError, match="not a readable notebook"):
        declared_parameters(tmp_path / "junk.ipynb")


@given(st.integers(-10**9, 10**9))
def test_integers_round_trip(n: int) -> None:
    assert Declared("n", 3, "").convert(str(n), "nb") == n


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_round_trip(x: float) -> None:
    assert Declared("x", 0.5, "").convert(repr(x), "nb") == x


@pytest.mark.parametrize(("default", "text", "expected"), [
    (False, "TRUE", True), (True, "no", False), (True, "0", False), ("", "a b=c", "a b=c"),
    ([1], "[2, 3]", [2, 3]), ({"a": 1}, '{"b": 2}', {"b": 2}), (None, "7", 7),
    (None, "plain", "plain"), (None, "[1]", [1]),
])
def test_values_convert_to_the_declared_type(default: object, text: str,
                                             expected: object) -> None:
    assert Declared("p", default, "").convert(text, "notebook 'x'") == expected


@pytest.mark.parametrize(("default", "text", "accepts"), [
    (3, "many", "an integer"), (3, "2.5", "an integer"), (0.5, "fast", "a number"),
    (True, "maybe", "true or false"), ([1], '{"a": 1}', "a JSON list"),
])
def test_bad_values_name_the_notebook_parameter_and_type(default: object, text: str,
                                                         accepts: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        Declared("workers", default, "").convert(text, "notebook '01-compare'")
    message = str(info.value)
    assert "notebook '01-compare'" in message and "'workers'" in message
    assert accepts in message and repr(text) in message


def test_parse_given_forms_and_refusals() -> None:
    assert parse_given("workers=3") == Given("workers", "3")
    assert parse_given("budgets:against=HEAD~1") == Given("against", "HEAD~1", "budgets")
    assert parse_given("msg=a=b") == Given("msg", "a=b")
    for bad in ("workers", "=3", "2x=1", ":k=1", "a-b=1"):
        with pytest.raises(InvalidInputError, match="KEY=VALUE"):
            parse_given(bad)


DECLARED = {"01-compare": {"workload": Declared("workload", "", ""),
                           "workers": Declared("workers", 3, "")},
            "02-decisions": {"log": Declared("log", "", "")}}


def test_parameters_go_to_the_notebooks_that_declare_them() -> None:
    out = parameters_for(DECLARED, [Given("workers", "2"), Given("log", "x.jsonl",
                                                                 "02-decisions")],
                         {"workload": "tiny", "history": "h.sqlite"})
    assert out == {"01-compare": {"workload": "tiny", "workers": 2},
                   "02-decisions": {"log": "x.jsonl"}}


def test_undeclared_parameters_are_refused_by_name() -> None:
    with pytest.raises(InvalidInputError) as info:
        parameters_for(DECLARED, [Given("nosuch", "1")], {})
    assert "'nosuch' is not declared by any report notebook" in str(info.value)
    assert "01-compare: workload, workers" in str(info.value)
    with pytest.raises(InvalidInputError, match="notebook '02-decisions' does not declare "
                                                "parameter 'workers'; it declares: log"):
        parameters_for(DECLARED, [Given("workers", "1", "02-decisions")], {})
    with pytest.raises(InvalidInputError, match="no report notebook is called 'other'"):
        parameters_for(DECLARED, [Given("workers", "1", "other")], {})


def test_notebook_names_are_builtin_or_existing_files(tmp_path: Path) -> None:
    assert notebook_path("profile") == builtin_path("profile")
    own = notebook(tmp_path / "mine.ipynb", "x = 1")
    assert notebook_path(str(own)) == own
    for bad in ("nosuch", str(tmp_path / "missing.ipynb"), str(tmp_path)):
        with pytest.raises(InvalidInputError, match="neither a built-in report notebook"):
            notebook_path(bad)


def summary(run_id: str, status: str = "pass") -> dict[str, object]:
    return {"schema_version": 1, "kind": "report", "id": run_id, "status": status,
            "created_at": f"2026-11-28T{run_id[9:11]}:00:00+00:00", "finished_at": None,
            "git": {"sha": "abc1234def", "dirty": False}, "workload": "tiny",
            "notebooks": [{"name": "01-x", "status": status}], "breaches": [], "stages": {}}


def test_read_summary_refuses_what_is_not_one(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(summary("20261128T100000Z-abc1234")))
    assert read_summary(path)["id"] == "20261128T100000Z-abc1234"
    for data, why in (("[1]", "a JSON object is expected"), ("{", "invalid JSON"),
                      (json.dumps({**summary("x"), "kind": "check"}), "kind 'check'"),
                      (json.dumps({**summary("x"), "status": "great"}), "status 'great'"),
                      (json.dumps({**summary("x"), "schema_version": 9}), "schema_version 9"),
                      (json.dumps({**summary("x"), "notebooks": [{"name": 1}]}),
                       "notebook entry is malformed")):
        path.write_text(data)
        with pytest.raises(InvalidInputError) as info:
            read_summary(path)
        assert str(path) in str(info.value) and why in str(info.value)


def test_the_index_lists_good_runs_newest_first_and_names_a_broken_one(
        tmp_path: Path) -> None:
    for run_id, status in (("20261128T090000Z-aaaaaaa", "pass"),
                           ("20261128T110000Z-bbbbbbb", "breach")):
        (tmp_path / run_id).mkdir()
        (tmp_path / run_id / "summary.json").write_text(json.dumps(summary(run_id, status)))
    (tmp_path / "20261128T100000Z-ccccccc").mkdir()
    (tmp_path / "20261128T100000Z-ccccccc" / "summary.json").write_text("{torn")
    (tmp_path / "not-a-run").mkdir()  # no summary: not listed
    page = index_page(tmp_path)
    newest, oldest = page.index("20261128T110000Z-bbbbbbb"), page.index("20261128T090000Z")
    assert newest < oldest
    assert "Latest: <a href=\"20261128T110000Z-bbbbbbb/index.html\">" in page
    assert "20261128T100000Z-ccccccc: " in page and "invalid JSON" in page
    assert "not-a-run" not in page and "No history yet" in page
    assert "<script" not in page
