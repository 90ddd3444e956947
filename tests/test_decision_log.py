"""The decision log's reliability: concurrent writers, a writer killed mid-append, damaged
lines and schema versions, and supersession. Writers are real processes."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.decisions import DecisionLog, DecisionRecord, Suggestion, new_id
from workbench.errors import ExecutionError, InvalidInputError

ROOT = Path(__file__).resolve().parents[1]


def record(stage: str = "chunk", variant: str = "pure", rationale: str = "fast enough",
           ident: str | None = None) -> DecisionRecord:
    return DecisionRecord(
        id=ident or new_id(), created_at="2026-11-28T08:00:00+00:00", author="ann",
        pipeline="my.pipe:make", workload="tiny", stage=stage, variant=variant,
        rationale=rationale, alternatives=(), suggestion=Suggestion("pure", "pure meets it"))


WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from test_decision_log import record
    from workbench.decisions import DecisionLog

    log = DecisionLog(sys.argv[1])
    for i in range(int(sys.argv[2])):
        log.append(record(stage=f"s{{i % 7}}", rationale=f"{{sys.argv[3]}} {{i}}"))
""").format(tests=str(ROOT / "tests"))


def test_two_processes_appending_500_records_each_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "decisions" / "decisions.jsonl"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), "500", name])
               for name in ("a", "b")]
    assert [w.wait(timeout=600) for w in writers] == [0, 0]
    read = DecisionLog(path).read()
    assert len(read.records) == 1000 and read.torn == ()
    for name in ("a", "b"):
        assert sorted(int(r.rationale.split()[1]) for r in read.records
                      if r.rationale.startswith(name + " ")) == list(range(500))
    assert len({r.id for r in read.records}) == 1000
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 1001
    # each record supersedes exactly the one before it on its stage, across both writers
    last: dict[str, str] = {}
    for r in read.records:
        assert r.supersedes == last.get(r.stage)
        last[r.stage] = r.id


KILLED = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {tests!r})
    from test_decision_log import record
    from workbench.decisions import DecisionLog, store

    log = DecisionLog(sys.argv[1])
    log.append(record(rationale="before the kill"))
    real = os.write

    def half(fd, data):
        written = real(fd, bytes(data[: len(data) // 2]))
        open(sys.argv[2], "w").close()  # tell the test: half of the line is on disk
        time.sleep(600)
        return written

    store.os.write = half
    log.append(record(rationale="cut short " + "x" * 5000))
""").format(tests=str(ROOT / "tests"))


def test_a_writer_killed_mid_append_leaves_earlier_records_and_reports_the_cut_line(
        tmp_path: Path) -> None:
    path, ready = tmp_path / "log.jsonl", tmp_path / "ready"
    DecisionLog(path).append(record(rationale="first"))
    child = subprocess.Popen([sys.executable, "-c", KILLED, str(path), str(ready)])
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    damaged = path.read_bytes()
    assert not damaged.endswith(b"\n")

    read = DecisionLog(path).read()
    assert [r.rationale for r in read.records] == ["first", "before the kill"]
    assert read.torn == (3,)
    (notice,) = read.notices()
    assert notice.startswith(f"{path}:3: a line cut short") and "skipped" in notice
    assert path.read_bytes() == damaged  # reading never rewrites

    # the lock died with the writer; the next append ends the cut line and stands alone
    after = DecisionLog(path, lock_timeout=5).append(record(rationale="after"))
    assert path.read_bytes().startswith(damaged + b"\n")
    read = DecisionLog(path).read()
    assert [r.rationale for r in read.records] == ["first", "before the kill", "after"]
    assert read.torn == (3,) and read.records[-1] == after


def test_a_damaged_line_in_the_middle_is_an_error_naming_it_and_nothing_is_written(
        tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    log = DecisionLog(path)
    log.append(record())
    with path.open("a", encoding="utf-8") as handle:
        handle.write("this is not a record\n")
    before = path.read_bytes()
    with pytest.raises(InvalidInputError, match=rf"{path}:2: not a JSON record"):
        log.read()
    with pytest.raises(InvalidInputError, match=rf"{path}:2: not a JSON record"):
        log.append(record())
    assert path.read_bytes() == before
    path.write_bytes(before.replace(b"this is not a record", b'["a", "list"]'))
    with pytest.raises(InvalidInputError, match=r":2: a decision record is a JSON object"):
        log.read()


@pytest.mark.parametrize(("version", "said"), [
    (0, "schema_version 0; expected an integer from 1 to 2"),
    (3, "schema_version 3 is newer than this workbench reads"),
    ("1", "schema_version '1'"),
])
def test_a_record_of_another_schema_version_is_a_clear_error(
        tmp_path: Path, version: object, said: str) -> None:
    path = tmp_path / "log.jsonl"
    DecisionLog(path).append(record())
    data = record().to_json()
    data["schema_version"] = version
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(data) + "\n")
    with pytest.raises(InvalidInputError, match=rf"{path}:2: .*{said}"):
        DecisionLog(path).read()


def test_a_missing_field_names_the_line_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    data = record().to_json()
    del data["variant"]
    path.write_text(json.dumps(data) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=rf"{path}:1: malformed decision record "
                                                r"\(missing field 'variant'\)"):
        DecisionLog(path).read()


def test_later_decisions_supersede_earlier_ones_on_the_same_stage(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "log.jsonl")
    first = log.append(record("chunk", "pure"))
    other = log.append(record("embed", "native"))
    second = log.append(record("chunk", "native"))
    assert (first.supersedes, other.supersedes, second.supersedes) == (None, None, first.id)
    read = log.read()
    assert read.superseded_by() == {first.id: second.id}
    assert read.choices("my.pipe:make") == {"chunk": "native", "embed": "native"}
    assert read.choices("another:pipe") == {}
    assert read.find(second.id[:6]) == second
    with pytest.raises(InvalidInputError, match="no decision 'd-nope'"):
        read.find("d-nope")
    with pytest.raises(InvalidInputError, match="already holds decision"):
        log.append(record(ident=first.id))


def test_a_held_lock_times_out_with_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    from filelock import FileLock

    log = DecisionLog(tmp_path / "log.jsonl", lock_timeout=0.2)
    with FileLock(str(log.lock_path)), \
            pytest.raises(ExecutionError, match=r"has held .*log.jsonl.lock for more than"):
        log.append(record())
    assert not log.path.exists()
    log.append(record())
    with FileLock(str(log.lock_path)), \
            pytest.raises(ExecutionError, match=r"for more than 0.2 s; read again later"):
        log.read()  # a write may be in progress: not read half-written


@functools.cache
def _sample_line() -> str:
    from result_samples import decision

    return json.dumps(decision().to_json(), separators=(",", ":"), ensure_ascii=False)


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_every_prefix_of_a_record_line_reads_as_cut_short(data: st.DataObject) -> None:
    from workbench.decisions.store import _cut_short

    line = _sample_line()
    cut = data.draw(st.integers(1, len(line) - 1))
    assert _cut_short(line[:cut])
    assert not _cut_short("garbage " + line[:cut])


def test_an_append_reads_only_the_leading_fields_of_the_lines_it_wrote() -> None:
    from workbench.decisions.store import _head

    line = _sample_line()
    full = json.loads(line)
    assert _head(line + "\n") == {k: full[k] for k in ("id", "pipeline", "pipeline_name",
                                                       "stage")}
    assert _head(line[:-1]) is None and _head(" " + line) is None  # not as the log writes
    spaced = json.dumps(full)  # another writer's spacing: the append parses it whole
    assert _head(spaced) is None
