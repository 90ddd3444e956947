"""Real profiles of code written in a cell of a real IPython shell name it ``In [N], line M``.

The shell compiles cells with ipykernel's own compiler (``XCachingCompiler``), so the cell's
file is named as in Jupyter (``/tmp/ipykernel_PID/HASH.py``; py-spy shortens it to
``HASH.py``); ``%wb flame``, ``%wb memory`` and ``%wb lines`` run py-spy, memray and
line_profiler on it in worker processes, and what the shell displays and the records
name the cell by the execution count it ran as.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

pytestmark = [pytest.mark.slow]

CELL = '''from workbench import Pipeline, stage, workload

@workload("cell-labels-words", size=400)
def words(n):
    return [str(i) * 20 for i in range(n)]

def digits(word):
    total = 0
    for ch in word:
        total += ord(ch) - 48
    return total

@stage(input="list[str]", output="list[int]")
def score(texts):
    return [digits(w) for w in texts]

labelled = Pipeline.of(score, name="labelled")
'''
USE = "--pipeline labelled --workload cell-labels-words"


@pytest.fixture
def kernel_names(shell: InteractiveShell) -> Iterator[InteractiveShell]:
    """The shell, compiling cells as ipykernel does (restored afterwards)."""
    from ipykernel.compiler import XCachingCompiler

    before = shell.compile
    shell.compile = XCachingCompiler()
    try:
        yield shell
    finally:
        shell.compile = before


def _run(shell: InteractiveShell, source: str) -> tuple[Any, list[dict[str, Any]]]:
    with capture_output() as cap:
        result = shell.run_cell(source, store_history=True)
    assert result.error_in_exec is None, result.error_in_exec
    assert result.error_before_exec is None, result.error_before_exec
    return result, [o.data for o in cap.outputs]


def _shown(bundles: list[dict[str, Any]], kind: str) -> tuple[str, str]:
    (found,) = [b for b in bundles if f"application/vnd.workbench.{kind}+json" in b]
    return found["text/plain"], found["text/html"]


def test_profiles_of_cell_code_name_the_cell(kernel_names: InteractiveShell,
                                             fresh_session: None) -> None:
    shell = kernel_names
    defined, _ = _run(shell, CELL)
    n = defined.execution_count
    filename = shell.user_ns["digits"].__code__.co_filename
    assert re.search(r"/ipykernel_\d+/\d+\.py$", filename), filename  # as in Jupyter
    short = filename.rsplit("/", 1)[1]

    _, shown = _run(shell, f"flame = %wb flame score {USE} --duration 0.6")
    text, html = _shown(shown, "flamegraph")
    assert f"digits (In [{n}], line 7)" in text, text
    assert f">In [{n}], line 7</td>" in html
    assert f"<title>digits (In [{n}], line 7)" in html  # the SVG's frames
    assert short not in text
    # the hashed name is only a table cell's tooltip (its raw location), never shown
    assert short not in re.sub(r'title="[^"]*"', "", html)
    record = shell.user_ns["flame"].to_json()
    assert record["cells"] == {short: f"In [{n}]"}
    row = next(r for r in record["summary"]["top_frames"] if r["function"] == "digits")
    assert (row["location"], row["cell"]) == (f"{short}:7", f"In [{n}], line 7")

    _, shown = _run(shell, f"memory = %wb memory score {USE} --calls 1")
    text, html = _shown(shown, "memory_track")
    assert re.search(rf"score\.<locals>\.<listcomp> \(In \[{n}\], line 15\)|"
                     rf"<listcomp> \(In \[{n}\], line 15\)", text), text
    assert f"In [{n}], line 15" in html
    assert filename not in re.sub(r'title="[^"]*"', "", html)
    assert shell.user_ns["memory"].to_json()["cells"][filename] == f"In [{n}]"

    _, shown = _run(shell, f"lines = %wb lines score {USE} --duration 0.3")
    text, html = _shown(shown, "line_profile")
    assert f"Function: score at In [{n}], line 13" in text, text
    assert f"<b>score</b> (In [{n}], line 13)" in html
    assert shell.user_ns["lines"].to_json()["cells"] == {filename: f"In [{n}]"}
