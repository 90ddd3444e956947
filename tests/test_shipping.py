"""Code defined in a notebook cell travels to worker processes by value (cloudpickle).

A "cell" here is what IPython makes of one: source compiled under a file name of its own,
registered in ``linecache``, executed in a namespace whose ``__name__`` is ``__main__``.
"""

from __future__ import annotations

import json
import linecache
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from workbench import InvalidInputError
from workbench.measure.config import MeasureConfig
from workbench.measure.engine import compare
from workbench.measure.measurement import Measurement
from workbench.shipping import Code, pack, unpack

CELL = '''
from workbench import Pipeline, Workload, stage

SCALE = 3

def triple(x):
    return x * SCALE

@stage(input="tuple[int, ...]", output="tuple[int, ...]")
def grow(xs):
    return tuple(triple(x) for x in xs)

@grow.variant("vectorized")
def grow_fast(xs):
    import numpy as np
    return tuple(int(v) for v in np.asarray(xs) * SCALE)

numbers = Workload("cell-numbers", lambda n: tuple(range(n)), 50)
pipe = Pipeline.of(grow, name="cell")
'''


def cell(source: str, filename: str = "/tmp/ipykernel_4242/1234567.py") -> dict[str, Any]:
    """Run ``source`` the way IPython runs a cell; its namespace."""
    text = textwrap.dedent(source)
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(text, filename, "exec"), namespace)
    return namespace


def test_a_cell_pipeline_runs_in_a_fresh_interpreter_with_its_file_names_and_source(
    tmp_path: Path,
) -> None:
    ns = cell(CELL)
    payload = pack(Code(pipeline=ns["pipe"], workload=ns["numbers"]), what="grow/pure")
    (tmp_path / "payload.txt").write_text(payload)
    probe = textwrap.dedent(f"""
        import json, linecache
        from pathlib import Path
        from workbench.shipping import unpack
        code = unpack(Path({str(tmp_path / "payload.txt")!r}).read_text())
        stage = code.pipeline.stage("grow")
        data = code.workload.load()
        helper = stage.get("pure").fn.__globals__["triple"]
        print(json.dumps({{
            "pure": list(stage(data)), "fast": list(stage(data, "vectorized")),
            "file": stage.get("pure").fn.__code__.co_filename,
            "helper_file": helper.__code__.co_filename,
            "line": linecache.getline(helper.__code__.co_filename,
                                      helper.__code__.co_firstlineno + 1).strip(),
        }}))
    """)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    got = json.loads(out.stdout)
    assert got["pure"] == got["fast"] == [3 * i for i in range(50)]
    # cloudpickle names shipped code "<dynamic-code>"; the real names come back
    assert got["file"] == got["helper_file"] == "/tmp/ipykernel_4242/1234567.py"
    assert got["line"] == "return x * SCALE"


def test_unpack_keeps_identity_between_a_variant_and_the_helpers_it_calls() -> None:
    ns = cell(CELL)
    code = unpack(pack(Code(pipeline=ns["pipe"], functions=(ns["triple"],)), what="x"))
    shipped_helper = code.functions[0]
    assert shipped_helper is not ns["triple"]
    assert code.pipeline is not None
    assert code.pipeline.stage("grow").get("pure").fn.__globals__["triple"] is shipped_helper


@pytest.mark.slow
def test_a_cell_stage_is_measured_in_worker_processes() -> None:
    ns = cell(CELL)
    comp = compare("grow", ns["numbers"], pipeline=ns["pipe"],
                   config=MeasureConfig(workers=2, samples=3, warmup_seconds=0.0))
    assert comp.ok, comp.to_text()
    assert [r.variant for r in comp.results] == ["pure", "vectorized"]
    assert all(r.equivalence and r.equivalence.equivalent for r in comp.results)
    assert all(len(r.measurement.groups) == 2 for r in comp.results)
    target = comp.result("pure").measurement.target
    assert target.pipeline == "<object>:cell" and target.workload == "cell-numbers"
    assert target.to_json()["by_value"] is True and "payload" not in target.to_json()
    # the record says the code travelled by value, and does not pretend it can re-run it
    again = Measurement.from_json(json.loads(comp.result("pure").measurement.dumps()))
    assert again.target == target and again.target.by_value
    with pytest.raises(InvalidInputError, match="cannot be measured again from this record"):
        again.target.job_json()


@pytest.mark.parametrize(
    ("source", "path", "advice"),
    [
        ("FH = open('/dev/null', 'w')\n"
         "@stage(input='x', output='y')\ndef parse(xs):\n    return FH.read()\n",
         "stage 'parse' -> variant 'pure' -> global 'FH' is a _io.TextIOWrapper",
         "open the file inside the function"),
        ("def make_closure():\n    gen = (i for i in range(3))\n"
         "    def parse(xs):\n        return next(gen)\n    return parse\n"
         "s = stage(input='x', output='y')(make_closure())\n",
         "stage 'parse' -> variant 'pure' -> closure variable 'gen' is a builtins.generator",
         "materialize it"),
        ("import threading\nLOCK = threading.RLock()\n"
         "@stage(input='x', output='y')\ndef parse(xs):\n    with LOCK:\n        return xs\n",
         "global 'LOCK' is a _thread.RLock", "create the lock inside the function"),
    ],
)
def test_what_cannot_travel_is_named_with_its_fix_before_any_process_starts(
    source: str, path: str, advice: str,
) -> None:
    ns = cell("from workbench import Pipeline, stage\n" + source)
    stage = next(v for v in ns.values() if type(v).__name__ == "Stage")
    pipeline = ns["Pipeline"].of(stage, name="bad")
    try:
        with pytest.raises(InvalidInputError) as info:
            pack(Code(pipeline=pipeline), what="parse/pure")
    finally:
        if "FH" in ns:
            ns["FH"].close()
    message = str(info.value)
    assert message.startswith("parse/pure cannot be sent to worker processes: ")
    assert path in message and advice in message
    assert "mode='inprocess'" in message
