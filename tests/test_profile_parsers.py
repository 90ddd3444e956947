"""The profiler adapters' pure parts: argv builders, artifact parsers, error mapping,
results and their renderings.

No profiler runs here: fixtures in tests/fixtures/profile stand for the tools' files.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from workbench.errors import ExecutionError, InvalidInputError
from workbench.measure.targets import TargetSpec
from workbench.profile import Flamegraph, LineProfile, MemoryTrack, Overhead, parse_collapsed
from workbench.profile.flame import frame_stats, is_harness_frame, split_frame, strip_harness
from workbench.profile.lines import FunctionLines, LineRow, function_refs, parse_line_stats
from workbench.profile.memory import (
    AllocationSite,
    AllocationStack,
    CallsPeak,
    Holding,
    Phase,
    Snapshot,
)
from workbench.profile.memray_replay import rooted
from workbench.profile.memray_run import memray_argv
from workbench.profile.pyspy import pyspy_argv, pyspy_error
from workbench.render.charts import icicle_svg, memory_chart_svg
from workbench.render.profile import flame_svg
from workbench.results import mime_type

FIXTURES = Path(__file__).parent / "fixtures" / "profile"
SPEC = TargetSpec("stage", "chunk", "pure", "tiny")
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
SCRIPT = "<script>window.__wb_pwned=1</script>"
LOOP = ("_run_module_as_main (<frozen runpy>:173);_run_code (<frozen runpy>:65);"
        "<module> (workbench/profile/run_target.py:1);main (workbench/profile/run_target.py:147);"
        "_run (workbench/profile/run_target.py:100);_run_loop (workbench/profile/run_target.py:39)")
CALL = "prepare.<locals>.call (workbench/measure/targets.py:143)"
MATERIALIZE = "materialize (workbench/stages.py:63)"


def _flame(stacks: str | None = None) -> Flamegraph:
    text = (FIXTURES / "collapsed.txt").read_text() if stacks is None else stacks
    return Flamegraph(SPEC, 100, False, False, parse_collapsed(text),
                      Overhead(10, 1.0, 1.05), "py-spy 0.4.3", "2026-01-01T00:00:00+00:00")


def _self_contained(page: str) -> None:
    assert "<script" not in page.lower()
    assert not EXTERNAL.search(page)


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


def test_stage_stacks_are_rooted_at_the_stage_function() -> None:
    fg = _flame()
    rooted = fg.stage_stacks()
    # measured samples below the harness: the 10 in materialize alone and setup are out
    assert sum(c for _, c in rooted) == fg.stage_samples == 90
    assert {s.split(";")[0] for s, _ in rooted} == {"chunk (workbench/rag/chunk.py:54)"}
    assert dict(rooted)["chunk (workbench/rag/chunk.py:54);"
                        "__create_fn__.<locals>.__init__ (<string>:2)"] == 55
    for stack, _ in rooted:
        assert not any(is_harness_frame(f) for f in stack.split(";"))
    assert fg.stage_stacks(keep_harness=True) == fg.stacks


def test_strip_harness_drops_exactly_the_leading_harness_run() -> None:
    user = "score (cell.py:3)"
    helper = "helper (cell.py:9)"
    abc = "ABCMeta.__instancecheck__ (<frozen abc>:117)"
    lam = "<lambda> (workbench/measure/targets.py:260)"
    memray = ["_run_module_as_main (<frozen runpy>:198)", "main (memray/commands/run.py:40)",
              "_run_module_as_main (<frozen runpy>:198)",
              "<module> (/site/workbench/profile/run_target.py:1)"]
    assert strip_harness([*memray, CALL, MATERIALIZE, user, helper]) == [user, helper]
    # harness-like frames below the first stage frame stay
    assert strip_harness([CALL, user, MATERIALIZE, CALL, abc]) == [user, MATERIALIZE, CALL, abc]
    assert strip_harness([lam, user]) == [user]
    # materialize's own isinstance check is harness; abc at the root is not
    assert strip_harness([CALL, MATERIALIZE, abc]) == []
    assert strip_harness([abc, user]) == [abc, user]
    assert strip_harness([]) == []
    stacks = (f"{LOOP};{CALL};{MATERIALIZE};{user};{helper} 7\n"
              f"{LOOP};{CALL};{MATERIALIZE};{abc} 2\n"
              f"{LOOP};{lam};{user};{MATERIALIZE} 3\n"
              f"{LOOP} 4\n"
              f"{CALL};{user} 5\n"  # outside the measured loop (the warm-up call)
              " 1\n")
    fg = _flame(stacks)
    assert fg.stage_stacks() == ((f"{user};{helper}", 7), (f"{user};{MATERIALIZE}", 3))
    assert fg.loop_samples == 16 and fg.stage_samples == 10 and fg.samples == 22
    assert fg.stage_stacks(keep_harness=True) == fg.stacks
    assert "6 in the harness itself" in fg.to_text()


def test_flamegraph_json_round_trip_and_renderings(tmp_path: Path) -> None:
    fg = _flame()
    again = Flamegraph.from_json(json.loads(json.dumps(fg.to_json())))
    assert again == fg
    record = fg.to_json()
    assert record["schema_version"] == 3 and "svg" not in record
    assert record["summary"]["stage_samples"] == 90
    text = fg.to_text()
    assert "chunk" in text and "overhead +5 %" in text and fg.summary_line() in text
    page = fg.to_html()
    _self_contained(page)
    assert page.count("<svg") == 2 and "class='wb-flame'" in page
    assert "<details>" in page and "with harness, setup and warm-up" in page
    assert page.index("class='wb-flame'") < page.index("<details>")
    bundle = fg._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", mime_type("flamegraph")}
    assert Flamegraph.load(fg.save(tmp_path / "f.json")) == fg
    svg = fg.save(tmp_path / "f.svg").read_text()
    assert svg.strip() == flame_svg(fg)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and int(root.get("width", 0)) >= 600
    titles = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert titles[1].startswith("chunk (workbench/rag/chunk.py:54)")  # below the root box
    assert not any("_run_loop" in t or "run_target" in t for t in titles)
    with pytest.raises(InvalidInputError, match=r"\.json"):
        fg.save(tmp_path / "f.png")
    with pytest.raises(InvalidInputError, match="schema_version"):
        Flamegraph.from_json({**fg.to_json(), "schema_version": 99})


def test_a_version_1_flamegraph_record_reads_without_its_svg() -> None:
    fg = _flame()
    v1 = {**fg.to_json(), "schema_version": 1, "svg": "<svg><script>x()</script></svg>"}
    del v1["summary"]
    assert Flamegraph.from_json(json.loads(json.dumps(v1))) == fg


def test_frame_names_are_escaped_in_the_flame_graph() -> None:
    evil = f"{SCRIPT} (<img onerror=alert(1)>.py:1)"
    fg = _flame(f"{LOOP};{CALL};{evil};leaf{SCRIPT} (a.py:2) 9\n{LOOP};{CALL};{evil} 1\n")
    assert fg.stage_stacks()[0][0].startswith(SCRIPT)
    page = fg.to_html()
    _self_contained(page)
    assert "&lt;script&gt;window.__wb_pwned=1&lt;/script&gt;" in page
    assert "<img" not in page
    ET.fromstring(flame_svg(fg))  # escaped into well-formed XML
    ET.fromstring(flame_svg(fg, keep_harness=True))


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
    page = profile.to_html()
    _self_contained(page)
    assert "<table" in page and "yield text" in page and "class='wb-share'" in page
    assert "style=" not in page.replace("<style>", "")
    with pytest.raises(InvalidInputError, match="line-stats"):
        parse_line_stats({"unit": 1e-9})


def test_line_profile_escapes_names_and_source() -> None:
    fn = FunctionLines(f"evil{SCRIPT}", f"/src/{SCRIPT}.py", 1,
                       (LineRow(1, 0, 0.0, "def f():"),
                        LineRow(2, 3, 1e-3, f"    return '{SCRIPT}'")))
    profile = LineProfile(SPEC, (fn,), 1e-9, Overhead(3, 0.1, 0.2), "line_profiler 5",
                          "2026-01-01T00:00:00+00:00")
    page = profile.to_html()
    _self_contained(page)
    assert page.count("&lt;script&gt;") == 3
    assert LineProfile.from_json(profile.to_json()) == profile


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


def _track(**changes: object) -> MemoryTrack:
    mib = 2**20
    # the calls' view: what "work" allocated during the calls, rooted at the stage
    stacks = (AllocationStack(("stage (a.py:7)", "work (a.py:9)"), mib, 10),)
    sites = (AllocationSite("work", "a.py:9", mib, 10),)
    # the whole process's high-water mark: the preparation's "load" dominates it
    whole_stacks = (AllocationStack(("<module> (a.py:1)", "load (a.py:5)"), 3 * mib, 2),
                    AllocationStack(("<module> (a.py:1)", "work (a.py:9)"), mib, 10))
    whole_sites = (AllocationSite("load", "a.py:5", 3 * mib, 2),
                   AllocationSite("work", "a.py:9", mib, 10))
    snaps = (Snapshot(0.0, 10 * mib, 0), Snapshot(50.0, 14 * mib, 3 * mib),
             Snapshot(100.0, 15 * mib, 3 * mib), Snapshot(150.0, 18 * mib, 4 * mib),
             Snapshot(200.0, 16 * mib, 2 * mib))
    phases = (Phase("prepare", 5.0, 60.0), Phase("warmup", 60.0, 90.0),
              Phase("measured", 90.0, 160.0))
    holdings = (Holding("prepare", "load", 3 * mib), Holding("prepare", "imports", mib // 2),
                Holding("prepare", "tiny", 10), Holding("warmup", "imports", 4096))
    track = MemoryTrack(SPEC, 4 * mib, 18 * mib, 12, False, snaps, sites, stacks,
                        Overhead(2, 0.1, 0.12), "memray 1.20.0", "2026-01-01T00:00:00+00:00",
                        phases=phases, calls=CallsPeak(mib, 20, 2 * mib), holdings=holdings,
                        whole_process_sites=whole_sites, whole_process_stacks=whole_stacks)
    return dataclasses.replace(track, **changes)  # type: ignore[arg-type]


def test_memory_track_round_trip_and_self_contained_html(tmp_path: Path) -> None:
    track = _track()
    assert MemoryTrack.from_json(json.loads(json.dumps(track.to_json()))) == track
    record = track.to_json()
    assert record["schema_version"] == 4
    assert record["sites"] == [["work", "a.py:9", 2**20, 10]]  # the calls' view is the main
    assert record["whole_process_sites"][0] == ["load", "a.py:5", 3 * 2**20, 2]
    assert record["summary"]["calls_held_bytes"] == 2**20
    assert track.top_sites(1)[0].function == "work"
    assert track.top_whole_process_sites(1)[0].function == "load"
    text = track.to_text()
    assert "the measured calls held 1 MiB at their peak" in text.splitlines()[0]
    assert "peak heap 4 MiB" in text and "peak RSS 18 MiB" in text
    assert "measured calls (90 ms to 160 ms, 2 snapshots)" in text
    assert "1 MiB held at their peak; 20 allocations of 2 MiB in all" in text
    # the calls' sites lead, the phases are a line each, the whole process comes last
    assert (text.index("work (a.py:9)") < text.index("preparing: ") < text.index("warm-up: ")
            < text.index("high-water mark") < text.index("load (a.py:5)"))
    page = track.to_html()
    _self_contained(page)
    assert "style=" not in page.replace("<style>", "")
    assert page.count("<svg") == 3 and "<table" in page
    folded = page.index("<details>")
    assert "load (a.py:5)" not in page[:folded] and "load (a.py:5)" in page[folded:]
    assert page.index("work (a.py:9)") < page.index("preparing: ") < folded
    assert page.count("class='wb-phase'") == 3 and "measured calls" in page
    assert MemoryTrack.load(track.save(tmp_path / "m.json")) == track
    ET.fromstring(memory_chart_svg(track.snapshots, track.phases, title=SCRIPT))


def test_measured_phase_alone() -> None:
    m = _track().measured()
    assert m is not None and m.snapshots == 2  # at 100 and 150 ms
    assert (m.peak_rss_bytes, m.peak_heap_bytes) == (18 * 2**20, 4 * 2**20)
    # growth over the last snapshot before the calls (50 ms: 14 MiB RSS, 3 MiB heap)
    assert (m.rss_growth_bytes, m.heap_growth_bytes) == (4 * 2**20, 2**20)
    empty = _track(phases=(Phase("measured", 160.0, 170.0),))
    assert empty.measured() is None
    assert "no memory snapshot fell within the measured calls" in empty.to_text()
    assert "no memory snapshot fell" in empty.to_html()


def test_preparing_and_warm_up_come_to_one_line_each() -> None:
    track = _track()
    mib = 2**20
    # preparing (5 to 60 ms) is read from the snapshots at 0, 50 and 100 ms
    prepare = track.phase_summary("prepare")
    assert prepare is not None
    assert (prepare.peak_rss_bytes, prepare.rss_growth_bytes) == (15 * mib, 5 * mib)
    assert prepare.holdings == (("load", 3 * mib), ("imports", mib // 2), ("tiny", 10))
    # the warm-up (60 to 90 ms) has no snapshot of its own: its neighbours at 50 and 100
    warmup = track.phase_summary("warmup")
    assert warmup is not None and warmup.rss_growth_bytes == mib and warmup.held_bytes == 4096
    assert track.phase_summary("nothing") is None
    lines = [line.strip() for line in track.to_text().splitlines()]
    assert ("preparing: 15 MiB peak RSS, +5 MiB, 55 ms (still held when the calls start: "
            "3.5 MiB, of which load 3 MiB, imports 512 KiB)") in lines  # "tiny" is < 1 %
    assert ("warm-up: 15 MiB peak RSS, +1 MiB, 30 ms (still held when the calls start: "
            "4 KiB, of which imports 4 KiB)") in lines
    assert sum(line.startswith(("preparing:", "warm-up:")) for line in lines) == 2
    bare = _track(snapshots=(), holdings=())
    assert "preparing: no RSS snapshot, 55 ms" in bare.to_text()


def test_calls_that_allocate_nothing_say_so() -> None:
    track = _track(calls=CallsPeak(0, 0, 0), sites=(), stacks=())
    assert "the measured calls made no allocation that memray saw" in track.to_text()
    page = track.to_html()
    assert "no allocation of the measured calls" in page  # the empty icicle
    assert page.index("<details>") > page.index("made no allocation")


def test_older_memory_records_read_their_stacks_as_the_whole_process() -> None:
    track = _track(calls=None, holdings=(), sites=(), stacks=())
    v2 = {**track.to_json(), "schema_version": 2,
          "sites": track.to_json()["whole_process_sites"],
          "stacks": track.to_json()["whole_process_stacks"]}
    for key in ("calls", "holdings", "whole_process_sites", "whole_process_stacks", "summary"):
        del v2[key]
    old = MemoryTrack.from_json(v2)
    assert old == track and old.calls is None and old.sites == ()
    assert old.top_whole_process_sites(1)[0].function == "load"
    assert "no view of the measured calls' own allocations" in old.to_text()
    assert "load (a.py:5)" in old.to_text()
    page = old.to_html()
    _self_contained(page)
    assert "<details open>" in page and "load (a.py:5)" in page


def test_a_version_1_memory_record_reads_with_no_phases() -> None:
    track = _track(calls=None, holdings=(), sites=(), stacks=(), phases=())
    v1 = {**track.to_json(), "schema_version": 1,
          "sites": track.to_json()["whole_process_sites"],
          "stacks": track.to_json()["whole_process_stacks"]}
    for key in ("phases", "calls", "holdings", "whole_process_sites", "whole_process_stacks",
                "summary"):
        del v1[key]
    old = MemoryTrack.from_json(v1)
    assert old == track
    assert old.phases == () and old.measured() is None
    assert old.phase_summary("prepare") is None
    assert "phases were not recorded" in old.to_text()
    _self_contained(old.to_html())


@pytest.mark.parametrize(("change", "message"), [
    ({"sites": [["work", "a.py:9", -1, 10]]}, r"a site's bytes must be an integer >= 0; got -1"),
    ({"whole_process_stacks": [["frame", 1, 1]]}, r"a stack's frames must be a list"),
    ({"calls": [1, 2]}, r"the calls' figures must be \[held bytes, allocations, allocated "
                        r"bytes\] or null; got \[1, 2\]"),
    ({"calls": [1, "2", 3]}, r"the calls' allocations must be an integer >= 0; got '2'"),
    ({"holdings": [["later", "x", 1]]}, r"a holding's phase must be 'prepare' or 'warmup'"),
    ({"holdings": [["prepare", "x", 1.5]]}, r"a holding's bytes must be an integer"),
])
def test_a_damaged_memory_record_is_refused_with_the_reason(change: dict[str, object],
                                                            message: str) -> None:
    with pytest.raises(InvalidInputError, match=rf"malformed memory_track record.*{message}"):
        MemoryTrack.from_json({**_track().to_json(), **change})
    missing = {k: v for k, v in _track().to_json().items() if k != "whole_process_sites"}
    with pytest.raises(InvalidInputError, match="missing field 'whole_process_sites'"):
        MemoryTrack.from_json(missing)


def test_memory_names_are_escaped() -> None:
    evil = (AllocationStack((f"{SCRIPT} (x.py:1)", "f (<b>.py:2)"), 2**20, 1),)
    track = _track(sites=(AllocationSite(SCRIPT, f"{SCRIPT}.py:1", 2**20, 1),), stacks=evil,
                   whole_process_sites=(AllocationSite(f"<i>{SCRIPT}", "y.py:1", 2**20, 1),),
                   whole_process_stacks=evil, holdings=(Holding("prepare", SCRIPT, 1),))
    page = track.to_html()
    _self_contained(page)
    assert "<b>" not in page and "<i>" not in page and "&lt;script&gt;" in page


def test_calls_stacks_are_rooted_at_the_stage() -> None:
    runner = ["_run_module_as_main (<frozen runpy>:198)", "main (memray/commands/run.py:40)",
              "<module> (workbench/profile/run_target.py:1)",
              "_run (workbench/profile/run_target.py:100)",
              "_run_loop (workbench/profile/run_target.py:39)", CALL, MATERIALIZE]
    user = ["embed (workbench/rag/embed.py:100)", "hashing_pure (workbench/rag/hashing.py:73)"]
    assert rooted([*runner, *user]) == tuple(user)
    # native frames: the interpreter's above the stage go, those below the stage stay
    native = ["_start (??:0)", "Py_BytesMain (Modules/main.c:1)", runner[0], *runner[1:],
              "_PyEval_Vector (Python/ceval.c:6434)", user[0],
              "PyByteArray_Resize (Objects/bytearrayobject.c:233)"]
    assert rooted(native) == (user[0], "PyByteArray_Resize (Objects/bytearrayobject.c:233)")
    # a harness-only stack (materialize's list) keeps what is below its last harness frame
    assert rooted([*runner, "list_resize (Objects/listobject.c:81)"]) == \
        ("list_resize (Objects/listobject.c:81)",)
    assert rooted(runner) == (MATERIALIZE,)
    thread = ["_bootstrap (threading.py:995)", "run (threading.py:975)", "work (my/w.py:3)"]
    assert rooted(thread) == tuple(thread)  # another thread's stack is kept whole


def test_icicle_widths_follow_weights() -> None:
    svg = icicle_svg([(("a", "b"), 75), (("a", "c"), 25)], width=400)
    assert "width='399.50'" in svg  # "all" and "a" span the whole width
    assert "width='299.50'" in svg and "width='99.50'" in svg
    assert "no allocations" in icicle_svg([], empty="no allocations")
    ET.fromstring(svg)


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
    bounds = [report["phases"][name] for name in ("prepare", "warmup", "measured")]
    flat = [t for span in bounds for t in span]
    assert flat == sorted(flat) and flat[0] > 1e12  # epoch milliseconds, in order


def test_the_shared_run_sequence(tmp_path: Path) -> None:
    from workbench.profile._common import profiled_run, runner_argv

    def plain(job: Path) -> list[str]:  # the runner itself stands for a tool
        return [sys.executable, *runner_argv(job)]

    run = profiled_run(tmp_path, SPEC, plain, what="no tool", seconds=0.0, calls=2,
                       threads=1, timeout=60)
    assert run.overhead.calls == 2 and run.report["calls"] == 2
    assert run.overhead.profiled_s == run.report["loop_s"] and run.completed.returncode == 0
    with pytest.raises(ExecutionError, match=r"no tool wrote no out\.bin"):
        profiled_run(tmp_path, SPEC, plain, what="no tool", seconds=0.0, calls=1, threads=1,
                     timeout=60, outputs=(tmp_path / "out.bin",))
    with pytest.raises(ExecutionError, match=r"failing tool failed .*status 3"):
        profiled_run(tmp_path, SPEC, lambda job: [sys.executable, "-c", "exit(3)"],
                     what="failing tool", seconds=0.0, calls=1, threads=1, timeout=60)
