"""The profiler adapters' pure parts: argv builders, artifact parsers, error mapping, results.

No profiler runs here: fixtures in tests/fixtures/profile stand for the tools' files.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import pytest

from workbench.errors import InvalidInputError
from workbench.measure.targets import TargetSpec
from workbench.profile import Flamegraph, LineProfile, MemoryTrack, Overhead, parse_collapsed
from workbench.profile.flame import frame_stats, split_frame
from workbench.profile.icicle import icicle_svg
from workbench.profile.lines import function_refs, parse_line_stats
from workbench.profile.memory import AllocationSite, AllocationStack, Snapshot
from workbench.profile.memray_run import memray_argv
from workbench.profile.pyspy import pyspy_argv, pyspy_error

FIXTURES = Path(__file__).parent / "fixtures" / "profile"
SPEC = TargetSpec("stage", "chunk", "pure", "tiny")


def _flame() -> Flamegraph:
    stacks = parse_collapsed((FIXTURES / "collapsed.txt").read_text())
    return Flamegraph(SPEC, 100, False, False, stacks, "<svg height='40'><rect/></svg>",
                      Overhead(10, 1.0, 1.05), "py-spy 0.4.3", "2026-01-01T00:00:00+00:00")


def test_collapsed_stacks_give_self_and_total_shares_inside_the_loop() -> None:
    fg = _flame()
    assert fg.samples == 110
    assert fg.loop_samples == 100
    rows = {r.function: r for r in fg.top_frames(20)}
    assert rows["chunk"].location == "workbench/rag/chunk.py:54"
    assert rows["chunk"].self_pct == pytest.approx(30.0)
    assert rows["chunk"].total_pct == pytest.approx(90.0)
    assert rows["__create_fn__.<locals>.__init__"].self_pct == pytest.approx(55.0)
    assert rows["materialize"].total_pct == pytest.approx(100.0)
    assert "prepare" not in rows and "_run_loop" not in rows  # setup and runner excluded
    assert fg.top_frames(1)[0].function == "__create_fn__.<locals>.__init__"
    assert fg.top_frames(1, by="total")[0].total_pct == pytest.approx(100.0)
    everything = {r.function: r for r in fg.top_frames(50, scope="all")}
    assert everything["get_workload"].self_pct == pytest.approx(100 * 8 / 110)


def test_recursive_frames_count_once_per_sample_and_bad_lines_are_rejected() -> None:
    stats = frame_stats(parse_collapsed("f (a.py:1);f (a.py:1);g (a.py:5) 4\n"), scope="all")
    rows = {r.function: r for r in stats}
    assert rows["f"].total_pct == pytest.approx(100.0)
    assert rows["g"].self_pct == pytest.approx(100.0)
    with pytest.raises(InvalidInputError, match="line 2"):
        parse_collapsed("a;b 3\nnot a count\n")
    with pytest.raises(InvalidInputError, match="scope"):
        frame_stats((), scope="setup")
    assert split_frame("<module> (x.py:3)") == ("<module>", "x.py:3")
    assert split_frame("native_fn") == ("native_fn", "")


def test_flamegraph_json_round_trip_and_renderings(tmp_path: Path) -> None:
    fg = _flame()
    again = Flamegraph.from_json(json.loads(json.dumps(fg.to_json())))
    assert again == fg
    assert again.to_json()["schema_version"] == 1
    page = fg.to_html()
    assert "<iframe" in page and "srcdoc=" in page and "&lt;svg" in page
    assert "chunk" in fg.to_text() and "overhead +5 %" in fg.to_text()
    assert fg._repr_svg_() == fg.svg
    assert Flamegraph.load(fg.save(tmp_path / "f.json")) == fg
    assert fg.save(tmp_path / "f.svg").read_text() == fg.svg
    with pytest.raises(InvalidInputError, match=r"\.json"):
        fg.save(tmp_path / "f.png")
    with pytest.raises(InvalidInputError, match="schema_version"):
        Flamegraph.from_json({**fg.to_json(), "schema_version": 99})


def test_line_stats_fixture_parses_into_kernprof_table() -> None:
    unit, functions = parse_line_stats(json.loads((FIXTURES / "linestats.json").read_text()))
    assert unit == 1e-9
    (fn,) = functions
    assert fn.name == "chunk" and fn.first_line == 60
    assert [r.line for r in fn.rows] == list(range(60, 68))
    assert fn.total_s == pytest.approx(1e-3)
    by_line = {r.line: r for r in fn.rows}
    assert by_line[60].hits == 0 and by_line[60].source.startswith("def chunk")
    assert fn.pct(by_line[67]) == pytest.approx(50.0)
    profile = LineProfile(SPEC, functions, unit, Overhead(5, 0.5, 1.5), "line_profiler 5",
                          "2026-01-01T00:00:00+00:00")
    text = profile.to_text()
    assert "Timer unit: 1e-06 s" in text and "Line #" in text and "% Time" in text
    assert "   67      2000        500.0      0.2     50.0" in text
    assert profile.hottest_lines(1)[0][2].line == 67
    assert LineProfile.from_json(json.loads(json.dumps(profile.to_json()))) == profile
    assert "<table" in profile.to_html() and "yield text" in profile.to_html()
    with pytest.raises(InvalidInputError, match="line-stats"):
        parse_line_stats({"unit": 1e-9})


def test_argv_builders() -> None:
    program = [sys.executable, "-m", "workbench.profile.run_target", "--job", "j.json"]
    argv = pyspy_argv("/bin/py-spy", Path("/t/out.txt"), "raw", program, rate=250)
    assert argv[:2] == ["/bin/py-spy", "record"]
    assert argv[argv.index("--format") + 1] == "raw"
    assert argv[argv.index("--rate") + 1] == "250"
    assert "--function" in argv and "--native" not in argv
    assert argv[argv.index("--") + 1:] == program
    native = pyspy_argv("py-spy", Path("o.svg"), "flamegraph", program, native=True,
                        by_line=True)
    assert "--native" in native and "--function" not in native
    with pytest.raises(InvalidInputError):
        pyspy_argv("py-spy", Path("o"), "png", program)
    m = memray_argv(Path("/t/c.bin"), ["-m", "workbench.profile.run_target"], native=True)
    assert m[1:4] == ["-m", "memray", "run"] and "--native" in m
    assert m[m.index("--output") + 1] == "/t/c.bin"
    assert m[-2:] == ["-m", "workbench.profile.run_target"]


@pytest.mark.parametrize("fixture", ["pyspy_denied_root_docker.txt", "pyspy_denied_user.txt",
                                     "pyspy_denied_reason.txt"])
def test_ptrace_denial_maps_to_advice(fixture: str) -> None:
    error = pyspy_error((FIXTURES / fixture).read_text(), "chunk/pure")
    message = str(error)
    assert "chunk/pure" in message
    assert "run as root" in message
    assert "kernel.yama.ptrace_scope=0" in message
    assert "--cap-add SYS_PTRACE" in message
    assert "Traceback" not in message


def test_other_pyspy_failures_keep_their_reason() -> None:
    message = str(pyspy_error((FIXTURES / "pyspy_other_error.txt").read_text(), "x/pure"))
    assert "Failed to find python version" in message
    assert "ptrace" not in message and "py-spy>" not in message


def _track() -> MemoryTrack:
    stacks = (AllocationStack(("<module> (a.py:1)", "load (a.py:5)"), 3 * 2**20, 2),
              AllocationStack(("<module> (a.py:1)", "work (a.py:9)"), 2**20, 10))
    sites = (AllocationSite("load", "a.py:5", 3 * 2**20, 2),
             AllocationSite("work", "a.py:9", 2**20, 10))
    snaps = (Snapshot(0.0, 10 * 2**20, 0), Snapshot(50.0, 14 * 2**20, 4 * 2**20))
    return MemoryTrack(SPEC, 4 * 2**20, 14 * 2**20, 12, False, snaps, sites, stacks,
                       Overhead(2, 0.1, 0.12), "memray 1.20.0", "2026-01-01T00:00:00+00:00")


def test_memory_track_round_trip_and_self_contained_html(tmp_path: Path) -> None:
    track = _track()
    assert MemoryTrack.from_json(json.loads(json.dumps(track.to_json()))) == track
    assert track.top_sites(1)[0].function == "load"
    text = track.to_text()
    assert "peak heap 4.0 MiB" in text and "peak RSS 14.0 MiB" in text
    page = track.to_html()
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org", "")
    assert page.count("<svg") == 2 and "load (a.py:5)" in page and "<table" in page
    assert MemoryTrack.load(track.save(tmp_path / "m.json")) == track


def test_icicle_widths_follow_weights() -> None:
    svg = icicle_svg([(("a", "b"), 75), (("a", "c"), 25)], width=400)
    assert "width='399.50'" in svg  # "all" and "a" span the whole width
    assert "width='299.50'" in svg and "width='99.50'" in svg
    assert "no allocations" in icicle_svg([])


def test_function_refs_name_importable_functions_and_ship_the_others() -> None:
    from workbench.rag import chunk as chunk_module

    def local(x: int) -> int:
        return x

    refs, shipped = function_refs([
        "workbench.rag.chunk:window_count", chunk_module.window_count,
        chunk_module.chunk,  # the Stage: its pure function, named by the module attribute
        chunk_module.chunk.get("pure"),  # the Variant: the same function
        local,
    ])
    assert refs == ["workbench.rag.chunk:window_count"] * 2 + ["workbench.rag.chunk:chunk"] * 2
    assert shipped == (local,)
    with pytest.raises(InvalidInputError, match="module:qualname"):
        function_refs(["no_colon"])
    with pytest.raises(InvalidInputError, match="no Python code"):
        function_refs([functools.partial(local, 1)])



def test_importing_the_package_loads_no_profiler() -> None:
    from workbench.subproc import run_child

    code = ("import sys, workbench.profile as p; p.Flamegraph; p.MemoryTrack; p.LineProfile; "
            "print(sorted(m for m in ('memray', 'line_profiler', 'matplotlib', 'IPython') "
            "if m in sys.modules))")
    done = run_child([sys.executable, "-c", code], what="import check", timeout=60)
    assert done.stdout.strip() == "[]"


def test_runner_reads_a_job_on_stdin_and_reports_on_stdout() -> None:
    from workbench.subproc import run_child

    job = {"schema_version": 1, "target": SPEC.to_json(), "calls": 3}
    done = run_child([sys.executable, "-m", "workbench.profile.run_target"],
                     what="target runner", timeout=60, stdin=json.dumps(job))
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"] and report["calls"] == 3 and report["items"] == 40
    assert report["loop_s"] > 0 and "Warning" not in done.stderr
