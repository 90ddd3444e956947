"""busy_note: the 1-minute load average against the CPUs allowed, with getloadavg faked."""

from __future__ import annotations

import os

import pytest

from workbench.measure import load


def _load(monkeypatch: pytest.MonkeyPatch, one_minute: float, cpus: int = 2) -> None:
    monkeypatch.setattr(os, "getloadavg", lambda: (one_minute, 0.0, 0.0))
    monkeypatch.setattr(load, "allowed_cpus", lambda: cpus)


def test_an_idle_machine_gives_no_note(monkeypatch: pytest.MonkeyPatch) -> None:
    _load(monkeypatch, 0.3)
    assert load.busy_note() is None
    _load(monkeypatch, load.THRESHOLD)  # at the threshold: still idle enough
    assert load.busy_note() is None


def test_a_neighbour_on_one_core_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    _load(monkeypatch, 1.07)
    note = load.busy_note()
    assert note is not None
    assert "load average 1.07" in note and "2 allowed CPUs" in note
    assert "only meaningful on an otherwise idle machine" in note


def test_the_callers_own_threads_are_subtracted(monkeypatch: pytest.MonkeyPatch) -> None:
    _load(monkeypatch, 2.3)
    assert load.busy_note(threads=2) is None  # our own two threads, and a little noise
    note = load.busy_note(threads=1)
    assert note is not None and "minus 1 of this run's own" in note and "1.30" in note
    assert load.busy_note(threads=1, threshold=2.0) is None


def test_no_load_average_means_no_note(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable() -> tuple[float, float, float]:
        raise OSError("load average unobtainable")

    monkeypatch.setattr(os, "getloadavg", unavailable)
    assert load.busy_note() is None
    monkeypatch.delattr(os, "getloadavg")
    assert load.busy_note() is None


def test_allowed_cpus_and_top_processes_read_this_machine() -> None:
    assert load.allowed_cpus() >= 1
    top = load.top_processes(seconds=0.05, top=3)
    assert len(top) <= 3
    assert all(pid != os.getpid() and percent > 0 and command for pid, percent, command in top)


def test_compare_warns_on_a_busy_machine(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.cli import main

    monkeypatch.setattr(os, "getloadavg", lambda: (1.9, 1.0, 1.0))
    assert main(["compare", "chunk", "-w", "tiny", "--inprocess", "--workers", "1",
                 "--samples", "2", "--warmup-seconds", "0", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "WARNING: the machine is busy" in err and "1.90" in err
