"""Notebook code named by its cell (``In [3], line 14``): the labeller
(:mod:`workbench.profile.cells`) with IPython's filename map present, absent, and without
an execution count; each profile result's renderings and JSON; older records without the
labels. The real profiles of cell code in a real IPython shell are in
``test_cell_profiles.py``; the flame graph in JupyterLab in ``test_cell_labels_browser.py``.
"""

from __future__ import annotations

import dataclasses
import json
import linecache
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.errors import InvalidInputError
from workbench.measure.targets import TargetSpec
from workbench.profile import Flamegraph, LineProfile, MemoryTrack, Overhead, parse_collapsed
from workbench.profile.cells import cell_label, is_cell_file, label_files, session_cells
from workbench.profile.lines import FunctionLines, LineRow
from workbench.profile.memory import (
    AllocationSite,
    AllocationStack,
    CallsPeak,
    Holding,
    Phase,
)
from workbench.render.profile import flame_svg

SPEC = TargetSpec("stage", "score", "pure", "lines")
KERNEL_FILE = "/tmp/ipykernel_4242/3391735555.py"  # ipykernel's name for a cell
SHORT = "3391735555.py"  # the same, as py-spy writes it
OTHER_FILE = "/tmp/ipykernel_4242/1234567.py"
OVERHEAD = Overhead(10, 1.0, 1.05)
WHEN = "2026-01-01T00:00:00+00:00"


@pytest.fixture
def cell_sources() -> Iterator[None]:
    """Two cells' sources in linecache, as IPython's compiler leaves them."""
    cells = {KERNEL_FILE: ["\n", "import math\n", "def score(xs):\n", "    return xs\n"],
             OTHER_FILE: ["   total   =   sum(x * x for x in range(1_000_000))  # long\n"]}
    for name, lines in cells.items():
        linecache.cache[name] = (sum(map(len, lines)), None, lines, name)
    yield
    for name in cells:
        linecache.cache.pop(name, None)


# -- the labeller --------------------------------------------------------------------------

def test_the_filename_map_names_a_cell_by_its_execution_count() -> None:
    cells = {KERNEL_FILE: 3, OTHER_FILE: 5}
    assert cell_label(KERNEL_FILE, cells) == "In [3]"
    assert cell_label(SHORT, cells) == "In [3]"  # py-spy's short name finds its cell
    assert cell_label("ipykernel_4242/3391735555.py", cells) == "In [3]"
    assert cell_label("workbench/rag/chunk.py", cells) is None
    assert cell_label("/home/me/3391735555.py", cells) is None  # another file, same name
    assert label_files([SHORT, "a.py", OTHER_FILE, SHORT], cells) == (
        (OTHER_FILE, "In [5]"), (SHORT, "In [3]"))


def test_a_short_name_two_cells_end_with_is_not_guessed() -> None:
    cells = {KERNEL_FILE: 3, "/tmp/ipykernel_9/3391735555.py": 8}
    assert cell_label(SHORT, cells) is None
    assert cell_label(KERNEL_FILE, cells) == "In [3]"


def test_without_a_filename_map_only_names_that_carry_their_count_are_numbered(
        cell_sources: None) -> None:
    assert cell_label("<ipython-input-7-0123456789ab>", {}) == "In [7]"
    assert cell_label("<ipython-input-12-0123456789ab>", {}) == "In [12]"
    # a kernel's cell file (source in linecache) is named by its first line
    assert cell_label(KERNEL_FILE, {}) == 'cell "import math"'
    assert cell_label(SHORT, {}) is None  # nothing says which cell it was
    assert cell_label("/usr/lib/python3/json/decoder.py", {}) is None
    assert cell_label("<string>", {}) is None


def test_a_cell_without_an_execution_count_is_named_by_its_first_line(
        cell_sources: None) -> None:
    cells = {KERNEL_FILE: 0, OTHER_FILE: None}
    assert cell_label(KERNEL_FILE, cells) == 'cell "import math"'  # blank lines skipped
    assert cell_label(SHORT, cells) == 'cell "import math"'
    # whitespace collapsed, shortened to 32 characters
    assert cell_label(OTHER_FILE, cells) == 'cell "total = sum(x * x for x in ra..."'
    assert cell_label("<ipython-input-0-0123456789ab>", {}) is None  # no count, no source
    assert cell_label("/tmp/ipykernel_1/99.py", {"/tmp/ipykernel_1/99.py": 0}) is None


def test_the_labeller_refuses_what_is_not_a_file_name() -> None:
    with pytest.raises(InvalidInputError, match="a file name is a string; got int"):
        cell_label(3, {})  # type: ignore[arg-type]


def test_cell_files_are_recognised_by_name_or_by_the_map() -> None:
    assert is_cell_file(KERNEL_FILE, {})
    assert is_cell_file("<ipython-input-3-0123456789ab>", {})
    assert is_cell_file(SHORT, {KERNEL_FILE: 3})
    assert not is_cell_file(SHORT, {})
    assert not is_cell_file("workbench/stages.py", {KERNEL_FILE: 3})


@given(st.integers(1, 10**6), st.text("0123456789abcdef", min_size=12, max_size=12),
       st.integers(1, 10**4))
def test_ipython_input_names_are_labelled_by_their_own_count(count: int, digest: str,
                                                             line: int) -> None:
    name = f"<ipython-input-{count}-{digest}>"
    assert cell_label(name, {}) == f"In [{count}]"
    fg = _flame(f"run (my.py:1);f ({name}:{line}) 1\n", cells=None)
    assert fg.where(f"{name}:{line}") == f"In [{count}], line {line}"
    assert fg.where(f"my.py:{line}") == f"my.py:{line}"  # other files unchanged


def test_the_shell_is_found_without_importing_ipython(shell: Any) -> None:
    """With a real shell: the file of the cell just run maps to its execution count."""
    result = shell.run_cell("def cell_labels_probe():\n    return 1\n", store_history=True)
    result.raise_error()
    filename = shell.user_ns["cell_labels_probe"].__code__.co_filename
    assert session_cells()[filename] == result.execution_count
    assert cell_label(filename) == f"In [{result.execution_count}]"


# -- the results -------------------------------------------------------------------------

def _flame(collapsed: str | None = None, **changes: Any) -> Flamegraph:
    text = collapsed if collapsed is not None else (
        "_run_loop (workbench/profile/run_target.py:80);score (3391735555.py:14);"
        "digits (3391735555.py:9) 7\n"
        "_run_loop (workbench/profile/run_target.py:80);score (3391735555.py:14) 3\n")
    fields: dict[str, Any] = {"cells": ((SHORT, "In [3]"),)}
    fields.update(changes)
    return Flamegraph(SPEC, 100, False, False, parse_collapsed(text), OVERHEAD,
                      "py-spy 0.4.3", WHEN, **fields)


def test_a_flame_graph_names_cell_frames_in_its_table_svg_and_json() -> None:
    fg = _flame()
    text = fg.to_text()
    assert re.search(r"70\.0 %\s+70\.0 %\s+digits \(In \[3\], line 9\)", text), text
    assert "rooted at: score (In [3], line 14) 100.0 %" in text
    assert SHORT not in text
    html = fg.to_html()
    assert ">In [3], line 9</td>" in html and ">In [3], line 14</td>" in html
    assert '<td class="code" title="3391735555.py:9">In [3], line 9</td>' in html  # raw
    svg = flame_svg(fg)
    assert "<title>digits (In [3], line 9)" in svg and SHORT not in svg
    record = fg.to_json()
    assert record["cells"] == {SHORT: "In [3]"}
    assert record["stacks"][0][0].endswith("digits (3391735555.py:9)")  # raw kept
    rows = {r["function"]: r for r in record["summary"]["top_frames"]}
    assert rows["digits"]["location"] == "3391735555.py:9"
    assert rows["digits"]["cell"] == "In [3], line 9"
    again = Flamegraph.from_json(json.loads(json.dumps(record)))
    assert again == fg and again.cells == ((SHORT, "In [3]"),)


def test_an_older_flame_graph_record_without_cells_still_loads() -> None:
    record = _flame().to_json()
    record["schema_version"] = 2
    del record["cells"]
    old = Flamegraph.from_json(record)
    assert old.cells == () and "digits (3391735555.py:9)" in old.to_text()
    labelled = _flame("_run_loop (x.py:1);f (<ipython-input-4-0123456789ab>:2) 1\n")
    record = labelled.to_json()
    record["schema_version"] = 2
    del record["cells"]
    assert "f (In [4], line 2)" in Flamegraph.from_json(record).to_text()


def test_malformed_cells_are_refused_with_what_was_found() -> None:
    record = _flame().to_json()
    record["cells"] = ["3391735555.py", "In [3]"]
    with pytest.raises(InvalidInputError, match="cells must be an object of file names"):
        Flamegraph.from_json(record)


def test_a_result_made_in_a_shell_names_its_cells_from_it(shell: Any) -> None:
    shell.run_cell("def cell_labels_probe2():\n    return 2\n", store_history=True)
    filename = shell.user_ns["cell_labels_probe2"].__code__.co_filename
    count = session_cells()[filename]
    short = filename.rsplit("/", 1)[-1]
    fg = _flame(f"_run_loop (x.py:1);probe ({short}:1) 5\n", cells=None)
    assert fg.where(f"{short}:1") == f"In [{count}], line 1"
    # a copy keeps its names; a record keeps them when read elsewhere
    assert dataclasses.replace(fg, rate=50).cells == fg.cells


def _track(cells: Any = ((KERNEL_FILE, "In [3]"),)) -> MemoryTrack:
    here = f"{KERNEL_FILE}:14"
    return MemoryTrack(
        SPEC, 2**20, 2**24, 20, False, (), (AllocationSite("score", here, 4096, 2),),
        (AllocationStack((f"score ({here})", "build (builtins.py:3)"), 4096, 2),),
        Overhead(2, 0.1, 0.12), "memray 1.20.0", WHEN, calls=CallsPeak(4096, 2, 8192),
        phases=(Phase("prepare", 0.0, 10.0), Phase("measured", 20.0, 30.0)),
        holdings=(Holding("prepare", KERNEL_FILE, 10_000),),
        whole_process_sites=(AllocationSite("load", f"{KERNEL_FILE}:3", 2**20, 1),),
        cells=cells)


def test_a_memory_track_names_cell_sites_stacks_and_holdings() -> None:
    track = _track()
    text = track.to_text()
    assert re.search(r"4 KiB\s+2x\s+score \(In \[3\], line 14\)", text), text
    assert "load (In [3], line 3)" in text
    assert "of which In [3] 9.77 KiB" in text
    assert KERNEL_FILE not in text
    html = track.to_html()
    assert ">In [3], line 14</td>" in html and ">In [3], line 3</td>" in html
    assert f'title="{KERNEL_FILE}:14">In [3], line 14</td>' in html  # the raw path on hover
    assert "<title>score (In [3], line 14)" in html
    assert html.count(KERNEL_FILE) == 2  # only in the two sites' tooltips
    record = track.to_json()
    assert record["cells"] == {KERNEL_FILE: "In [3]"}
    assert record["sites"][0][1] == f"{KERNEL_FILE}:14"  # raw kept
    assert record["summary"]["top_sites"][0]["cell"] == "In [3], line 14"
    assert record["summary"]["top_sites"][0]["location"] == f"{KERNEL_FILE}:14"
    assert MemoryTrack.from_json(json.loads(json.dumps(record))) == track


def test_an_older_memory_record_without_cells_still_loads() -> None:
    record = _track().to_json()
    record["schema_version"] = 3
    del record["cells"]
    old = MemoryTrack.from_json(record)
    assert old.cells == () and f"score ({KERNEL_FILE}:14)" in old.to_text()


def _lines(cells: Any = ((KERNEL_FILE, "In [3]"),)) -> LineProfile:
    rows = (LineRow(9, 0, 0.0, "def digits(word):"), LineRow(10, 40, 0.002, "    total = 0"),
            LineRow(11, 400, 0.02, "    for ch in word:"))
    return LineProfile(SPEC, (FunctionLines("digits", KERNEL_FILE, 9, rows),), 1e-6,
                       OVERHEAD, "line_profiler 5.1.0", WHEN, cells=cells)


def test_a_line_profile_names_its_cell_in_text_html_and_json() -> None:
    lp = _lines()
    text = lp.to_text()
    assert "Function: digits at In [3], line 9" in text
    assert f"File: {KERNEL_FILE}" in text  # kernprof's raw file line kept
    assert "<b>digits</b> (In [3], line 9)" in lp.to_html()
    record = lp.to_json()
    assert record["cells"] == {KERNEL_FILE: "In [3]"}
    assert record["functions"][0]["file"] == KERNEL_FILE
    assert record["summary"]["functions"][0]["cell"] == "In [3], line 9"
    assert LineProfile.from_json(json.loads(json.dumps(record))) == lp


def test_an_older_line_profile_record_without_cells_still_loads() -> None:
    record = _lines().to_json()
    record["schema_version"] = 1
    del record["cells"]
    record.pop("summary")
    old = LineProfile.from_json(record)
    assert old.cells == () and "Function: digits at line 9" in old.to_text()


def test_without_a_shell_labelling_imports_no_ipython() -> None:
    """In a fresh interpreter (a CLI run, a worker): no shell, nothing imported, and only
    the names that carry their count are named."""
    import subprocess
    import sys

    code = ("import sys\nfrom workbench.profile.cells import label_files, session_cells\n"
            "assert session_cells() == {}\n"
            "print(label_files(['<ipython-input-2-abcdefabcdef>', '/x/a.py', '123.py']))\n"
            "assert not [m for m in sys.modules if m.split('.')[0] == 'IPython']\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(('<ipython-input-2-abcdefabcdef>', 'In [2]'),)"
