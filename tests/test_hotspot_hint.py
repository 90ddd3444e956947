"""The hotspot hint reads the evidence at hand: where a flame graph's samples go (Python,
array-library kernels, C extensions), the decision table's row named with its figures,
the flame graph it reads (pure's newest, else the newest), real py-spy ``--native`` runs
of a NumPy stage and of a pure-Python loop, and the fallback where ``--native`` fails.

The panel's side (its button, ``%wb flame`` in a cell) is in ``test_panel_hint.py``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from result_samples import LOOP, WHEN

from workbench.decisions import Hint, read_hotspot
from workbench.decisions.evidence import pick_profiles
from workbench.decisions.frames import frame_kind, sample_kind, split_samples
from workbench.decisions.hotspots import ARRAY_SHARE, GIL_FACT, LOOP_SHARE, OWN_SHARE
from workbench.measure.targets import TargetSpec
from workbench.profile import Flamegraph, Overhead, flamegraph
from workbench.profile import pyspy as pyspy_module

TESTS = Path(__file__).parent
NUMPY = "add (numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so)"
BLAS = "dgemm_kernel_HASWELL (libscipy_openblas64_-32a4b2a6.so)"
LIBC = "0x7fac4cf70d24 (libc.so.6)"
JSON_C = "encode (_json.cpython-311-x86_64-linux-gnu.so)"
OWN = "inner (my/stage.py:9)"


def _flame(*leaves: tuple[str, int], native: bool = True, variant: str = "pure",
           stage: str = "chunk", tool: str = "py-spy 0.4.3", when: str = WHEN) -> Flamegraph:
    """A flame graph whose measured samples end in ``leaves`` below the stage's frame
    (a leaf may be several frames: ``"a;b"``)."""
    stacks = tuple((f"{LOOP};{stage} (my/stage.py:5);{leaf}", n) for leaf, n in leaves)
    return Flamegraph(TargetSpec("stage", stage, variant, "tiny"), 100, native, False,
                      stacks, Overhead(10, 1.0, 1.05), tool, when)


# -- frames and samples ---------------------------------------------------------------------

def test_frames_are_kinds_of_code() -> None:
    assert frame_kind(NUMPY) == frame_kind(BLAS) == "array"
    assert frame_kind("mean (numpy/_core/fromnumeric.py:3500)") == "array"
    assert frame_kind("collect (polars/lazyframe/frame.py:2000)") == "array"
    assert frame_kind(LIBC) == frame_kind("thread_run (libpython3.11.so.1.0)") == "system"
    assert frame_kind(JSON_C) == "extension"
    assert frame_kind("findall (re/__init__.py:216)") == "stdlib"
    assert frame_kind("_find (<frozen importlib._bootstrap>:241)") == "stdlib"
    assert frame_kind(OWN) == frame_kind("f (3391735555.py:14)") == "own"


def test_a_sample_is_charged_by_its_leaf_read_upwards() -> None:
    # libc called by NumPy is NumPy's time; libc under own Python is own time
    assert sample_kind([OWN, NUMPY, LIBC]) == "array"
    assert sample_kind([OWN, LIBC]) == "own"
    assert sample_kind([OWN, JSON_C, LIBC]) == "extension"
    assert sample_kind([OWN, NUMPY, JSON_C]) == "array"  # a kernel's callee is the kernel's
    # only the bottom run of native frames counts: NumPy above own Python is not the leaf's
    assert sample_kind([NUMPY, OWN]) == "own"
    assert sample_kind(["mean (numpy/_core/fromnumeric.py:3500)", LIBC]) == "array"
    assert sample_kind([LIBC]) is None


LEAVES = st.sampled_from([NUMPY, BLAS, LIBC, JSON_C, OWN, "g (my/other.py:3)",
                          "findall (re/__init__.py:216)", f"{NUMPY};{LIBC}", f"{OWN};{LIBC}"])
STACKS = st.lists(st.tuples(LEAVES.map(lambda leaf: f"stage (my/stage.py:1);{leaf}"),
                            st.integers(1, 50)), max_size=12)


@given(STACKS, STACKS)
def test_the_split_adds_up_and_is_additive(first: list[tuple[str, int]],
                                           second: list[tuple[str, int]]) -> None:
    a, b, both = split_samples(first), split_samples(second), split_samples(first + second)
    assert both.total == a.total + b.total == sum(both.counts.values())
    assert all(both.counts[k] == a.counts[k] + b.counts[k] for k in both.counts)
    # every stack has the stage's own frame above its leaf: no sample is left out
    assert both.total == sum(n for _, n in first + second)
    if both.total:
        assert sum(both.share(k) for k in both.counts) == pytest.approx(1.0)
    assert split_samples(list(reversed(first))).counts == a.counts


# -- the rules and their thresholds ---------------------------------------------------------

def test_array_kernels_read_as_array_ops_with_their_figures() -> None:
    hint = read_hotspot(flame=_flame((f"{NUMPY};{LIBC}", 50), (BLAS, 21), (OWN, 18),
                                     (JSON_C, 11)))
    assert (hint.type, hint.leans) == ("array ops", "vectorized")
    assert hint.reading == ("71 % of samples in NumPy/OpenBLAS kernels, 18 % own Python, "
                            "11 % C extensions (flame graph of chunk/pure)")
    assert hint.recommendation == "vectorize first"
    assert any("71% array libraries, 11% C extensions" in f for f in hint.facts)
    assert GIL_FACT in hint.facts


def test_the_array_threshold_is_half_the_samples() -> None:
    assert ARRAY_SHARE == 0.5
    at = read_hotspot(flame=_flame((NUMPY, 50), ("findall (re/__init__.py:216)", 50)))
    assert at.type == "array ops"
    below = read_hotspot(flame=_flame((NUMPY, 49), ("findall (re/__init__.py:216)", 51)))
    assert below.type is None and "no dominant kind" in below.recommendation
    # array kernels and C extensions together, the kernels the larger part
    mixed = read_hotspot(flame=_flame((NUMPY, 30), (JSON_C, 25), (OWN, 45)))
    assert mixed.type == "array ops"
    compiled = read_hotspot(flame=_flame((NUMPY, 10), (JSON_C, 60), (OWN, 30)))
    assert compiled.type is None and "60 % of samples already in compiled extensions" in \
        compiled.recommendation


def test_own_python_reads_as_tight_loops_or_a_udf_by_its_busiest_function() -> None:
    assert (OWN_SHARE, LOOP_SHARE) == (0.5, 0.25)
    loop = read_hotspot(flame=_flame((OWN, 26), ("g (my/other.py:3)", 24), (NUMPY, 49),
                                     ("findall (re/__init__.py:216)", 1)))
    assert loop.type == "tight loops" and loop.leans == "native"
    assert loop.reading == (f"50 % of samples in own Python (26 % in {OWN} alone, as self "
                            "time), 49 % array-library kernels, 1 % stdlib (flame graph of "
                            "chunk/pure)")
    spread = read_hotspot(flame=_flame(*((f"f{i} (my/stage.py:{i})", 24) for i in range(3)),
                                       ("f9 (my/stage.py:9)", 28)))
    assert spread.type == "tight loops"  # 28 % in one function
    udf = read_hotspot(flame=_flame(*((f"f{i} (my/stage.py:{i})", 24) for i in range(4)),
                                    ("findall (re/__init__.py:216)", 4)))
    assert udf.type == "CPU-bound UDF" and "spread out" in udf.reading


def test_budgets_and_memory_come_before_the_flame_graph() -> None:
    from workbench.budget.check_result import Verdict
    from workbench.budget.rules import Rule

    def verdict(metric: str, status: str) -> Verdict:
        rule = Rule("chunk", "pure", metric, "absolute", 1e6, "error")
        return Verdict(rule, status, "tiny", status, observed=2e6)  # type: ignore[arg-type]

    flame = _flame((NUMPY, 90), (OWN, 10))
    met = read_hotspot(verdicts=[verdict("latency_p50", "pass")], flame=flame)
    assert met.type == "composable logic"
    assert met.reading == "pure meets every error-level time budget"
    memory = read_hotspot(verdicts=[verdict("latency_p50", "breach")], flame=flame,
                          peak_rss=950e6, rss_limit=1e9)
    assert memory.type == "memory-bound" and "95% of the" in memory.reading
    slow = read_hotspot(verdicts=[verdict("latency_p50", "breach")], flame=flame)
    assert slow.type == "array ops"


def test_notebook_code_is_named_by_its_cell() -> None:
    flame = replace(_flame(("steps (3391735555.py:14)", 9), (NUMPY, 1)),
                    cells=(("3391735555.py", "In [3]"),))
    hint = read_hotspot(flame=flame)
    assert hint.type == "tight loops"
    assert "(90 % in steps (In [3], line 14) alone, as self time)" in hint.reading


def test_a_flame_graph_says_how_it_was_sampled() -> None:
    plain = read_hotspot(flame=_flame((OWN, 10), native=False))
    assert plain.type == "tight loops"
    assert "sampled without --native: time in C is charged to the Python frame" in \
        plain.reading
    failed = read_hotspot(flame=_flame((OWN, 10), native=False, tool=(
        f"py-spy 0.4.3; {pyspy_module.NATIVE_FALLBACK}native unwinding is not supported")))
    assert "py-spy --native failed (native unwinding is not supported), sampled without " \
        "it" in failed.reading
    empty = read_hotspot(flame=_flame())
    assert empty.type is None
    assert "a longer flame graph (the flame graph of chunk/pure has no samples" in \
        empty.recommendation
    nothing = read_hotspot()
    assert nothing.type is None and "a flame graph of the stage would tell" in \
        nothing.recommendation


def test_the_reading_travels_in_the_record_and_old_records_load() -> None:
    hint = read_hotspot(flame=_flame((NUMPY, 9), (OWN, 1)))
    assert Hint.from_json(hint.to_json()) == hint
    old = {"type": "array ops", "recommendation": "vectorize first", "leans": "vectorized",
           "facts": ["x"]}
    assert Hint.from_json(old).reading == "" and Hint.from_json(old).to_json() == old


# -- which flame graph ------------------------------------------------------------------------

def test_pure_s_newest_flame_graph_is_read_else_the_newest() -> None:
    old_pure = _flame((NUMPY, 9), when="2026-12-01T00:00:00+00:00")
    native = _flame((OWN, 9), variant="native")
    new_pure = _flame((OWN, 9), when="2026-12-02T00:00:00+00:00")
    other_stage = _flame((OWN, 9), stage="embed")
    assert pick_profiles([old_pure, native]) == (old_pure,)
    assert pick_profiles([old_pure, new_pure, native]) == (new_pure,)
    assert pick_profiles([native]) == (native,)
    assert pick_profiles([new_pure, other_stage], "chunk") == (new_pure,)
    assert pick_profiles([new_pure], "chunk", kinds={"memory_track"}) == ()
    vectorized = _flame((OWN, 9), variant="vectorized")
    assert pick_profiles([native, vectorized]) == (vectorized,)
    hint = read_hotspot(flame=native)
    assert "(flame graph of chunk/native)" in hint.reading


# -- real py-spy runs -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def importable() -> Iterator[None]:
    """The runner processes import :mod:`hotspot_pipeline` by name."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(TESTS) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        yield


@pytest.mark.slow
def test_real_native_flame_graphs_read_as_array_ops_and_tight_loops(importable: None) -> None:
    arrays = flamegraph("spectra", "numbers", pipeline="hotspot_pipeline:arrays",
                        duration=1.0, native=True, timeout=120)
    loops = flamegraph("collatz", "numbers", pipeline="hotspot_pipeline:loops",
                       duration=1.0, native=True, timeout=120)
    assert arrays.native and loops.native
    assert pyspy_module.native_fallback(arrays) is None
    array_hint, loop_hint = read_hotspot(flame=arrays), read_hotspot(flame=loops)
    assert array_hint.type == "array ops", array_hint
    assert "NumPy" in array_hint.reading and "kernels" in array_hint.reading
    # compiled frames were seen as such: NumPy's or BLAS's shared objects
    assert any(".so" in stack for stack, _ in arrays.stage_stacks())
    assert loop_hint.type == "tight loops", loop_hint
    assert "in steps (hotspot_pipeline.py:" in loop_hint.reading


@pytest.fixture
def no_native_pyspy(tmp_path: Path) -> Path:
    """A py-spy as on a platform without native unwinding: ``--native`` is refused with
    py-spy's message, anything else runs the real py-spy."""
    real = pyspy_module.find_tool("py-spy", feature=pyspy_module.FEATURE)
    script = tmp_path / "py-spy"
    script.write_text(
        "#!/bin/sh\nfor a in \"$@\"; do\n  if [ \"$a\" = --native ]; then\n"
        "    echo 'Error: Collecting stack traces from native extensions (`--native`) is "
        "not supported on your platform.' >&2\n    exit 1\n  fi\ndone\n"
        f"exec {real} \"$@\"\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


@pytest.mark.slow
def test_where_native_fails_the_flame_graph_falls_back_and_the_hint_says_so(
        importable: None, no_native_pyspy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pyspy_module, "find_tool", lambda name, feature: str(no_native_pyspy))
    flame = flamegraph("collatz", "numbers", pipeline="hotspot_pipeline:loops",
                       duration=0.5, native=True, timeout=120)
    assert not flame.native and flame.stage_samples > 0
    reason = pyspy_module.native_fallback(flame)
    assert reason is not None and "not supported on your platform" in reason
    hint = read_hotspot(flame=flame)
    assert hint.type == "tight loops"
    assert "py-spy --native failed (Error: Collecting stack traces from native extensions" \
        in hint.reading and "sampled without it" in hint.reading
    assert Flamegraph.from_json(flame.to_json()).tool == flame.tool  # kept in the record
