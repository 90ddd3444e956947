"""A pipeline written in notebook cells, measured, profiled and budgeted from the notebook.

The notebook is executed for real by papermill in a Jupyter kernel: its stages, workload
and helper live in ``__main__`` and reach worker processes by value.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill as pm
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.kernel]

CELLS = [
    "workers = 2  # parameters",
    '''import random
from workbench import Pipeline, stage, workload

@workload("cell-lines", size=150, seed=9)
def lines(n, seed):
    rng = random.Random(seed)
    return tuple(" ".join(str(rng.randrange(1000)) for _ in range(30)) for _ in range(n))

def digits(word):
    total = 0
    for ch in word:
        total += ord(ch) - 48
    return total

@stage(input="tuple[str, ...]", output="tuple[int, ...]")
def score(texts):
    return tuple(sum(digits(w) for w in t.split()) for t in texts)

@score.variant("vectorized")
def score_fast(texts):
    import numpy as np
    joined = np.frombuffer("".join(t.replace(" ", "") for t in texts).encode(), dtype=np.uint8)
    bounds = np.cumsum([0] + [len(t.replace(" ", "")) for t in texts])
    sums = np.add.reduceat(joined.astype(np.int64) - 48, bounds[:-1])
    return tuple(int(s) for s in sums)

pipe = Pipeline.of(score, name="scores")''',
    '''from workbench.measure.config import MeasureConfig
from workbench.measure.engine import compare, sweep

config = MeasureConfig(workers=workers, samples=5, warmup_seconds=0.05)
comp = compare("score", "cell-lines", pipeline=pipe, config=config)
sw = sweep("score", "cell-lines", sizes=[400, 800, 1600], variants=["pure"], pipeline=pipe,
           config=config)
comp''',
    '''from workbench.profile import flamegraph, line_profile, memory_track

flame = flamegraph("score", "cell-lines", pipeline=pipe, duration=0.5)
memory = memory_track("score", "cell-lines@30000", pipeline=pipe, calls=1)
lines_ = line_profile("score", "cell-lines", pipeline=pipe, duration=0.3, functions=[digits])
flame''',
    '''from pathlib import Path
from workbench.budget.checking import run_check
from workbench.budget.spec import load_budgets
from workbench.errors import InvalidInputError

Path("budgets.toml").write_text(
    '[stage.score]\\nlatency_p50 = "10s"\\n[stage."score/vectorized"]\\nlatency_p50 = "1ns"\\n')
spec = load_budgets(Path("budgets.toml"), stages={"score": pipe.stage("score").variant_names})
checked = run_check(spec, workload="cell-lines", pipeline=pipe, config=config, params=None)
try:
    run_check(spec, workload="cell-lines", pipeline=pipe, config=config, params=None,
              against="HEAD")
    refused = ""
except InvalidInputError as exc:
    refused = str(exc)''',
    '''import json

vec = comp.result("vectorized")
print("WORKBENCH_SUMMARY " + json.dumps({
    "variants": [r.variant for r in comp.results],
    "equivalent": [bool(r.equivalence) for r in comp.results],
    "speedup": vec.versus_baseline.speedup.value,
    "speedup_low": vec.versus_baseline.speedup.interval.low,
    "groups": [len(r.measurement.groups) for r in comp.results],
    "pipeline": comp.result("pure").measurement.target.pipeline,
    "sizes": list(sw.sizes),
    "slope": sw.slopes["pure"].slope,
    "flame_top": [f.function for f in flame.top_frames(3)],
    "flame_location": flame.top_frames(1)[0].location,
    "memory_in_cell": any(flame.top_frames(1)[0].location.split(":")[0] in f
                          for s in memory.stacks for f in s.frames),
    "memory_peak": memory.peak_heap_bytes,
    "line_sources": [r.source.strip() for r in lines_.function("digits").rows if r.hits],
    "verdicts": {v["rule"]["variant"]: v["status"] for v in checked.result.to_json()["verdicts"]},
    "refused": refused,
}))''',
]


@pytest.mark.timing
def test_a_notebook_defined_pipeline_is_measured_profiled_and_budgeted(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nb.cells[0].metadata["tags"] = ["parameters"]
    source = tmp_path / "mine.ipynb"
    nbformat.write(nb, source)
    out = tmp_path / "mine.out.ipynb"
    pm.execute_notebook(str(source), str(out), parameters={"workers": 3}, cwd=str(tmp_path),
                        kernel_name="python3", progress_bar=False)
    executed = nbformat.read(out, as_version=4)
    text = "".join(str(o.get("text", "")) for c in executed.cells for o in c.get("outputs", []))
    line = next(s for s in text.splitlines() if s.startswith("WORKBENCH_SUMMARY "))
    got = json.loads(line.removeprefix("WORKBENCH_SUMMARY "))
    # measured in worker processes (3 per variant, the injected parameter), both equivalent
    assert got["variants"] == ["pure", "vectorized"] and got["equivalent"] == [True, True]
    assert got["groups"] == [3, 3] and got["pipeline"] == "<object>:scores"
    assert got["speedup"] > 1.5 and got["speedup_low"] > 1.0
    # linear (the sizes are measured one after another, so the band allows a neighbour; a
    # call takes several scheduler slices even at the smallest size, so a neighbour process
    # sharing the CPU slows every size alike rather than only the calls longer than a slice)
    assert got["sizes"] == [400, 800, 1600] and 0.5 < got["slope"] < 1.5, got["slope"]
    # the profilers saw the cell's own functions, under the cell's file name
    assert "digits" in got["flame_top"]
    assert "dynamic-code" not in got["flame_location"]
    assert got["memory_in_cell"] and got["memory_peak"] > 0
    assert "total += ord(ch) - 48" in got["line_sources"]
    # absolute budgets apply; checking notebook code against a git ref is refused plainly
    assert got["verdicts"] == {"pure": "pass", "vectorized": "breach"}
    assert "not importable by name" in got["refused"]
    assert "the pipeline <object>:scores was given as an object" in got["refused"]
    # the comparison rendered inline, as HTML
    html = [str(o["data"]["text/html"]) for c in executed.cells for o in c.get("outputs", [])
            if "text/html" in o.get("data", {})]
    assert any("vectorized" in h for h in html)
