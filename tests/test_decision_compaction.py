"""Decisions small enough to commit: evidence compacted (folded stacks, down-sampled memory,
per-worker samples), stored packed, read back unchanged, damaged entries refused, old
records whole; and the export drawing the compacted evidence."""

from __future__ import annotations

import json
import random
import statistics
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from result_samples import ENV

from workbench.app.views import decision_log_html
from workbench.decisions import DecisionLog, DecisionRecord, build_decision
from workbench.decisions.compaction import MAX_SAMPLES, MAX_SNAPSHOTS, RECORD_BUDGET, compact
from workbench.decisions.folding import OTHER
from workbench.decisions.packing import pack, unpack
from workbench.decisions.store import LogRead
from workbench.errors import InvalidInputError
from workbench.measure.comparison import VariantResult, build_comparison
from workbench.measure.config import MeasureConfig
from workbench.measure.measurement import Measurement
from workbench.measure.protocol import WorkerRun
from workbench.measure.targets import TargetSpec
from workbench.profile import Flamegraph, MemoryTrack, Overhead
from workbench.profile.memory import AllocationSite, AllocationStack, Phase, Snapshot
from workbench.stages import EquivalenceResult

WHEN = "2026-11-28T00:00:00+00:00"
TARGET = TargetSpec("stage", "embed", "native", "tiny")
RUNNER = ["_run_module_as_main (<frozen runpy>:198)", "_run_code (<frozen runpy>:88)",
          "<module> (workbench/profile/run_target.py:193)",
          "main (workbench/profile/run_target.py:173)",
          "_run (workbench/profile/run_target.py:124)"]
LOOP = [*RUNNER, "_run_loop (workbench/profile/run_target.py:48)",
        "prepare.<locals>.call (workbench/measure/targets.py:279)",
        "embed_native (workbench/rag/embed.py:113)"]
MIB = 2**20


def _vocabulary(size: int = 600) -> list[str]:
    rng = random.Random(0)
    pkgs = ("numba/core", "llvmlite/binding", "scipy/sparse", "numpy/_core",
            "<frozen importlib._bootstrap>", "pycparser/c_parser", "torch/nn", "polars/io")
    names = ("_find_and_load", "_load_unlocked", "exec_module", "<module>", "compile_ir",
             "_call_with_frames_removed", "decorate", "run_pass", "__init__", "wrapper")
    return [f"{rng.choice(names)} ({rng.choice(pkgs)}/m{i}.py:{rng.randrange(1, 900)})"
            for i in range(size)]


VOCABULARY = _vocabulary()


def _frames(rng: random.Random, depth: int) -> list[str]:
    """An import-time chain as deep as memray and py-spy see them: from one of a few
    entry points, mostly the frame that usually follows the one before (a module's
    imports are the same each time), sometimes another."""
    at = rng.randrange(12)
    out = []
    for _ in range(depth):
        out.append(VOCABULARY[at])
        at = (at * 7 + 3) % len(VOCABULARY) if rng.random() < 0.97 else \
            rng.randrange(len(VOCABULARY))
    return out


def big_flame(seed: int = 1) -> Flamegraph:
    """~1,000 samples: the measured calls in a few heavy stacks, setup in 200 deep import
    stacks of one to three samples each (py-spy's shape: over half a megabyte of JSON)."""
    rng = random.Random(seed)
    stacks: dict[str, int] = {}
    for i, leaf in enumerate(("hashing_native (workbench/rag/hashing.py:191)",
                              "chunk_id (workbench/rag/types.py:30)",
                              "<listcomp> (workbench/rag/hashing.py:193)")):
        stacks[";".join([*LOOP, "_run (workbench/rag/embed.py:64)", leaf])] = 400 // (i + 1)
    stacks[";".join(LOOP[:6])] = 3  # in the loop, in the harness alone
    for _ in range(200):
        path = ";".join([*RUNNER, *_frames(rng, rng.randrange(30, 110))])
        stacks[path] = stacks.get(path, 0) + rng.choice((1, 1, 1, 2, 3))
    ordered = tuple(sorted(stacks.items(), key=lambda s: (-s[1], s[0])))
    return Flamegraph(TARGET, 100, False, False, ordered, Overhead(5000, 2.0, 2.2),
                      "py-spy 0.4.3", WHEN)


def big_memory(seed: int = 2) -> MemoryTrack:
    """5,000 snapshots over the three phases (the heap peaks in the preparation, RSS in the
    measured calls), 300 sites and 400 deep allocation stacks."""
    rng = random.Random(seed)
    snaps = []
    for i in range(5000):
        ms = float(i)
        rss = int((45 + 60 * min(ms, 3000) / 3000 + rng.random()) * MIB)
        heap = int((10 + 30 * min(ms, 2000) / 2000 - (5 if ms > 2500 else 0)) * MIB)
        snaps.append(Snapshot(ms, rss + (70 * MIB if ms == 4321 else 0),
                              heap + (9 * MIB if ms == 1234 else 0)))
    sites = tuple(AllocationSite(f"f{i}", f"pkg/m{i}.py:{i}", int(MIB * 8 / (i + 1) ** 1.6) + 100,
                                 i + 1) for i in range(300))
    stacks = tuple(AllocationStack(tuple([*RUNNER, *_frames(rng, rng.randrange(20, 64))]),
                                   int(MIB * 4 / (i + 1) ** 1.2), rng.randrange(1, 5000))
                   for i in range(400))
    return MemoryTrack(TARGET, 49 * MIB, 176 * MIB, 159_573, False, tuple(snaps), sites,
                       stacks, Overhead(2, 0.001, 0.0012), "memray 1.20.0", WHEN,
                       phases=(Phase("prepare", 100.0, 2100.0), Phase("warmup", 2100.0, 4000.0),
                               Phase("measured", 4000.0, 4999.5)))


def measurement(variant: str, ns: float, *, workers: int = 5, samples: int = 100,
                seed: int = 3) -> Measurement:
    rng = random.Random(f"{seed}{variant}")
    runs = tuple(WorkerRun(index=w, ok=True, batch_ns=tuple(
        int(ns * (1 + 0.3 * rng.random())) for _ in range(samples)), items_per_call=208,
        rss_peak_kb=40_000, heap_peak_bytes=90_000, fingerprint=dict(ENV))
        for w in range(workers))
    return Measurement(TargetSpec("stage", "embed", variant, "tiny"), MeasureConfig(), runs,
                       WHEN, dict(ENV))


def comparison(samples: int = 100) -> Any:
    return build_comparison("embed", "tiny", tuple(
        VariantResult(v, measurement(v, ns, samples=samples),
                      equivalence=EquivalenceResult(True, "same vectors"))
        for v, ns in (("pure", 26e6), ("vectorized", 2.6e6), ("native", 3.8e5),
                      ("parallel", 22e6))))


def decided(flame: Flamegraph | None = None, memory: MemoryTrack | None = None,
            samples: int = 100) -> DecisionRecord:
    return build_decision(
        stage="embed", variant="native", rationale="115x faster than pure, equivalent",
        pipeline="workbench.rag.reference:reference_pipeline", comparison=comparison(samples),
        profiles=(flame or big_flame(), memory or big_memory()), who="ann",
        decision_id="d-00000000c0de", clock=lambda: datetime(2026, 11, 28, tzinfo=UTC))


@pytest.fixture(scope="module")
def record() -> DecisionRecord:
    return decided()


def _line(tmp_path: Path, record: DecisionRecord) -> tuple[DecisionLog, bytes]:
    log = DecisionLog(tmp_path / "decisions.jsonl")
    log.append(record)
    return log, log.path.read_bytes()


def _totals(stacks: Any) -> dict[tuple[str, ...], int]:
    """Each frame path's total weight (the node's, as an icicle draws it)."""
    out: dict[tuple[str, ...], int] = {}
    for frames, weight in stacks:
        for depth in range(1, len(frames) + 1):
            out[frames[:depth]] = out.get(frames[:depth], 0) + weight
    return out


def test_a_decision_with_large_real_shaped_evidence_is_under_64_kb_and_reads_back_unchanged(
        tmp_path: Path, record: DecisionRecord) -> None:
    whole = (comparison(), big_flame(), big_memory())
    assert sum(len(json.dumps(e.to_json())) for e in whole) > 1_000_000  # as it used to be
    log, line = _line(tmp_path, record)
    assert len(line) <= RECORD_BUDGET and line.count(b"\n") == 1
    (back,) = log.read().records
    assert back == record and back.compaction == record.compaction
    assert json.dumps(back.to_json()) == json.dumps(record.to_json())
    assert [e.kind for e in back.evidence] == ["comparison", "flamegraph", "memory_track"]
    assert back.to_json()["schema_version"] == 2
    # what was cut is said in the record, piece by piece
    stored = json.loads(line)["evidence"]
    assert [c["field"] for c in stored[1]["compacted"]["cuts"]] == ["stacks"]
    assert {c["field"] for c in stored[2]["compacted"]["cuts"]} == {"snapshots", "sites",
                                                                    "stacks"}


def test_the_flame_keeps_every_sample_and_each_kept_frame_s_total(
        record: DecisionRecord) -> None:
    full, small = big_flame(), record.evidence[1]
    assert isinstance(small, Flamegraph)
    (cut,) = record.cuts(1) or ()
    assert cut.how == "folded" and cut.threshold_pct is not None and cut.share_pct is not None
    assert (small.samples, small.loop_samples) == (full.samples, full.loop_samples)
    assert small.stage_samples == full.stage_samples
    assert cut.before == len(full.stacks) > cut.after == len(small.stacks)
    # the 'other' leaves hold exactly the share the cut states
    other = sum(c for s, c in small.stacks if s.endswith(OTHER))
    assert other == pytest.approx(cut.share_pct / 100 * full.samples)
    assert f"{cut.threshold_pct:g} % of the samples" in cut.text
    assert f"{other:,} samples" in cut.text
    # every frame path the compacted flame keeps (other than the 'other' leaves) has the
    # total it had; the ones it dropped carried less than the threshold
    before = _totals((tuple(s.split(";")), c) for s, c in full.stacks)
    after = _totals((tuple(s.split(";")), c) for s, c in small.stacks)
    kept = {p: w for p, w in after.items() if p[-1] != OTHER}
    assert all(before[p] == w for p, w in kept.items())
    least = cut.threshold_pct / 100 * full.samples
    assert all(w < least for p, w in before.items() if p not in kept
               and "_run_loop" not in " ".join(p))
    assert small.top_frames(3)[0].function == "hashing_native"  # the stage's own frames stay


def test_the_memory_track_keeps_its_peaks_phases_and_byte_accounting(
        record: DecisionRecord) -> None:
    full, small = big_memory(), record.evidence[2]
    assert isinstance(small, MemoryTrack)
    cuts = {c.field: c for c in record.cuts(2) or ()}
    assert small.phases == full.phases
    assert (small.peak_rss_bytes, small.peak_heap_bytes) == (full.peak_rss_bytes,
                                                             full.peak_heap_bytes)
    assert len(full.snapshots) == 5000 and len(small.snapshots) <= MAX_SNAPSHOTS
    assert cuts["snapshots"].before == 5000 and cuts["snapshots"].after == len(small.snapshots)
    assert set(small.snapshots) <= set(full.snapshots)
    for series in ("rss", "heap"):  # the peaks of the series, overall
        assert max(getattr(s, series) for s in small.snapshots) == \
            max(getattr(s, series) for s in full.snapshots)
    assert small.measured() is not None and full.measured() is not None
    assert small.measured()._replace(snapshots=0) == full.measured()._replace(snapshots=0)  # type: ignore[union-attr]
    for p in full.phases:  # both sides of every phase boundary
        for edge in (p.start_ms, p.end_ms):
            before = [s for s in full.snapshots if s.ms < edge][-1:]
            after = [s for s in full.snapshots if s.ms >= edge][:1]
            assert before and set(before + after) <= set(small.snapshots)
    # bytes: the sites and the stacks hold what they held, the rest in one 'other'
    assert sum(s.bytes for s in small.sites) == sum(s.bytes for s in full.sites)
    other = small.sites[-1]
    assert other.function == "other" and other.bytes == pytest.approx(
        cuts["sites"].share_pct / 100 * sum(s.bytes for s in full.sites))  # type: ignore[operator]
    assert sum(s.bytes for s in small.stacks) == sum(s.bytes for s in full.stacks)
    assert sum(s.allocations for s in small.stacks) == sum(s.allocations for s in full.stacks)
    folded = sum(s.bytes for s in small.stacks if s.frames[-1] == OTHER)
    assert folded == pytest.approx(cuts["stacks"].share_pct / 100  # type: ignore[operator]
                                   * sum(s.bytes for s in full.stacks))


def test_each_worker_s_samples_are_summarised_keeping_its_median(
        record: DecisionRecord) -> None:
    full, small = comparison(), record.evidence[0]
    (cut,) = record.cuts(0) or ()
    assert cut.how == "reduced" and cut.before == 4 * 5 * 100 and cut.after <= MAX_SAMPLES
    for a, b in zip(full.results, small.results, strict=True):  # type: ignore[attr-defined]
        for x, y in zip(a.measurement.runs, b.measurement.runs, strict=True):
            assert statistics.median(y.batch_ns) == statistics.median(x.batch_ns)
            assert (min(y.batch_ns), max(y.batch_ns)) == (min(x.batch_ns), max(x.batch_ns))
            assert y.fingerprint == x.fingerprint  # stored once, given back to every worker
    assert record.alternatives == decided().alternatives  # read from the whole evidence
    # a comparison with few samples is kept as it is
    few = decided(samples=15)
    assert few.cuts(0) == () and few.evidence[0] == comparison(samples=15)


def test_a_large_piece_is_folded_harder_until_the_record_fits(tmp_path: Path) -> None:
    """Evidence that does not fit at 0.5 % is folded at a larger share, which its cut
    states; the record still fits."""
    record = build_decision(
        stage="embed", variant="native", rationale="x" * 30_000, pipeline="p:q",
        comparison=comparison(samples=15), profiles=(big_flame(4), big_flame(5), big_memory()),
        who="ann", clock=lambda: datetime(2026, 11, 28, tzinfo=UTC))
    _, line = _line(tmp_path, record)
    assert len(line) <= RECORD_BUDGET
    shares = [c.threshold_pct for cuts in record.compaction for c in cuts or ()
              if c.threshold_pct is not None]
    assert max(shares) > 0.5  # type: ignore[type-var]
    assert any(f"under {max(shares):g} % of the" in c.text  # type: ignore[type-var]
               for cuts in record.compaction for c in cuts or ())


def test_small_evidence_is_stored_whole_and_says_so() -> None:
    flame = Flamegraph(TARGET, 100, False, False, ((";".join([*LOOP, "leaf (x.py:1)"]), 9),
                                                   ("setup (x.py:2)", 1)),
                       Overhead(10, 1.0, 1.05), "py-spy", WHEN)
    memory = replace(big_memory(), snapshots=big_memory().snapshots[:50],
                     sites=big_memory().sites[:3], stacks=big_memory().stacks[:1])
    record = decided(flame, memory, samples=15)
    assert record.compaction == ((), (), ())  # compacted, and nothing needed cutting
    assert record.evidence == (comparison(samples=15), flame, memory)
    assert DecisionRecord.from_json(record.to_json()) == record
    assert record.to_html().count("stored in full: nothing needed cutting") == 3
    assert "compacted" not in record.to_text()


@dataclass(frozen=True)
class _LaterTrack(MemoryTrack):
    """A memory track with fields added later: more stacks, and a figure."""

    peak_stacks: tuple[AllocationStack, ...] = ()
    note: str = ""


def test_fields_a_memory_track_gains_are_kept_and_compacted_by_what_they_hold() -> None:
    full = big_memory()
    later = _LaterTrack(*(getattr(full, f.name) for f in fields(MemoryTrack)),
                        peak_stacks=full.stacks, note="kept")
    small, cuts = compact(later)
    assert isinstance(small, _LaterTrack) and small.note == "kept"
    assert {c.field for c in cuts} == {"snapshots", "sites", "stacks", "peak_stacks"}
    assert small.peak_stacks == small.stacks != full.stacks


def test_an_old_record_with_whole_evidence_still_loads_and_renders(tmp_path: Path) -> None:
    """A schema 1 record, evidence embedded whole, as the log used to hold them."""
    flame, memory = big_flame(), big_memory()
    new = decided(flame, memory)
    old = replace(new, evidence=(comparison(), flame, memory), compaction=())
    data = old.to_json()
    data["schema_version"] = 1
    assert "compacted" not in json.dumps(data["evidence"])
    path = tmp_path / "decisions.jsonl"
    path.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    (back,) = DecisionLog(path).read().records
    assert back == old and back.cuts(1) is None
    assert back.evidence[2] == memory and len(back.evidence[2].snapshots) == 5000  # type: ignore[attr-defined]
    page = back.to_html()
    assert page.count("<details class=\"wb-evidence") == 3 and "compacted:" not in page
    assert "class='wb-flame'" in page and "class='wb-memory-chart'" in page
    assert "evidence: comparison, flamegraph, memory_track" in back.to_text()
    assert "compacted" not in back.to_text()


def test_the_export_draws_the_compacted_evidence_and_says_what_was_cut(
        record: DecisionRecord) -> None:
    page = decision_log_html(LogRead(Path("decisions.jsonl"), (record,)))
    for kind in ("comparison", "flamegraph", "memory_track"):
        assert f'<details class="wb-evidence wb-evidence-{kind}"><summary>' in page
    flame = page.split('wb-evidence-flamegraph">')[1].split("</details>")[0]
    assert "<svg xmlns='http://www.w3.org/2000/svg' class='wb-flame'" in flame
    assert flame.count("<rect ") > 10 and "hashing_native" in flame
    assert f"<title>{OTHER}" in flame  # the folded share is drawn, as 'other'
    assert "compacted: stacks: " in flame and "folded into &#39;other (folded)&#39;" in flame
    memory = page.split('wb-evidence-memory_track">')[1].split("</details>")[0]
    assert "class='wb-memory-chart'" in memory and "<polyline" in memory
    assert memory.count("class='wb-phase'") == 3  # preparing, warm-up, measured calls
    assert "compacted: snapshots: 5,000 down-sampled to" in memory
    text = record.to_text()
    assert "compacted: stacks: " in text and "compacted: samples: the 2,000 timed" in text


# -- the stored form: lossless, and checked ----------------------------------------------

def test_packing_gives_every_record_back_but_its_summaries() -> None:
    for result in (comparison(), big_flame(), big_memory()):
        record = result.to_json()
        entry = pack(record, [])
        back, cuts = unpack(json.loads(json.dumps(entry)))
        assert cuts == [] and type(result).from_json(back) == result
        assert "summary" not in json.dumps(back)
        smaller = 1.2 if result.kind == "comparison" else 4  # fingerprints; frames
        assert len(json.dumps(entry)) * smaller < len(json.dumps(record))


def test_an_object_with_a_shared_key_of_its_own_is_stored_as_it_is() -> None:
    odd = replace(measurement("pure", 1e6, samples=3), environment={"$shared": 0, **ENV})
    entry = pack(odd.to_json(), [])
    assert "shared" not in entry["compacted"]
    assert Measurement.from_json(unpack(entry)[0]) == odd


def _damaged(entry: dict[str, Any], how: str) -> dict[str, Any]:
    header = entry["compacted"]
    stacks = entry["stacks"]
    changes = {
        "frame out of range": lambda: stacks[0][0].append(10**6),
        "sharing with no earlier": lambda: stacks[0].__setitem__(0, [2, 0, 1]),
        "sharing too much": lambda: stacks[1].__setitem__(0, [10**4, 0]),
        "framed field missing": lambda: header["framed"].__setitem__("nothing", "list"),
        "frames not text": lambda: header["frames"].append(7),
        "header not an object": lambda: entry.__setitem__("compacted", []),
        "cut not an object": lambda: header.__setitem__("cuts", ["folded"]),
        "cut without text": lambda: header.__setitem__("cuts", [{"field": "stacks"}]),
    }
    changes[how]()
    return entry


def test_a_small_entry_that_would_unfold_to_gigabytes_is_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.decisions import packing

    entry = pack(big_memory().to_json(), [])
    frames = sum(len(s.frames) for s in big_memory().stacks)
    monkeypatch.setattr(packing, "MAX_FRAMES", frames - 1)
    with pytest.raises(InvalidInputError, match=f"unfold to more than {frames - 1:,} frames"):
        unpack(entry)
    monkeypatch.setattr(packing, "MAX_FRAMES", frames)
    assert unpack(entry)[0]["stacks"][0][0] == list(big_memory().stacks[0].frames)
    bomb = {"schema_version": 1, "kind": "x", "a": [{"$shared": 0}] * 1000,
            "compacted": {"shared": [{"k": "v" * 60_000}]}}
    with pytest.raises(InvalidInputError, match="shared objects unfold to more than"):
        unpack(bomb)


@pytest.mark.parametrize("how", ["frame out of range", "sharing with no earlier",
                                 "sharing too much", "framed field missing",
                                 "frames not text", "header not an object",
                                 "cut not an object", "cut without text"])
def test_a_damaged_packed_entry_is_refused_naming_the_line_and_nothing_changes(
        tmp_path: Path, how: str) -> None:
    data = decided(big_flame(), big_memory(), samples=5).to_json()
    data["evidence"][1] = _damaged(data["evidence"][1], how)
    path = tmp_path / "decisions.jsonl"
    path.write_text(json.dumps(data) + "\n", encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(InvalidInputError, match=rf"{path}:1: .*(packed evidence|a cut)"):
        DecisionLog(path).read()
    assert path.read_bytes() == before
