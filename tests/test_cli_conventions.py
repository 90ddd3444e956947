"""The conventions a command-line user expects: ``python -m``, help with defaults and exit
codes, flags validated at parse time and never silently ignored, ``--json -``, colour by
``NO_COLOR``/``FORCE_COLOR``, no progress bars off a terminal, and files with the umask."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import workbench
from workbench.budget.history import HistoryRow, record_rows
from workbench.cli import build_parser, main

FAST = ["--workers", "2", "--samples", "3", "--warmup-seconds", "0.01", "--no-progress"]
ROOT = Path(__file__).resolve().parents[1]

PIPE = '''
from workbench import Pipeline, stage

@stage(input="docs", output="int")
def work(docs):
    return sum(i * i % 7 for i in range(2000))

def make():
    return Pipeline.of(work, name="throwaway")
'''


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway pipeline with a budget, on the reference pipeline's ``tiny`` workload."""
    import workbench.rag.workloads  # noqa: F401  (registers tiny)

    (tmp_path / "conv_pipe.py").write_text(PIPE)
    (tmp_path / "budgets.toml").write_text('[stage.work]\nlatency_p50 = "10s"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


TARGET = ["--pipeline", "conv_pipe:make", "--workload", "tiny"]


def test_python_dash_m_workbench_is_the_command() -> None:
    out = subprocess.run([sys.executable, "-m", "workbench", "--version"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"workbench {workbench.__version__}"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


def test_every_default_is_in_the_help_and_the_exit_codes_are_listed() -> None:
    parser = build_parser()
    assert "exit codes:" in parser.format_help() and "130" in parser.format_help()
    commands = _subparsers(parser)
    assert "exit codes:" in commands["check"].format_help()
    missing = []
    for name, cmd in commands.items():
        text = " ".join(cmd.format_help().split())
        for action in cmd._actions:
            default = action.default
            if not action.option_strings or default in (None, False, [], argparse.SUPPRESS):
                continue
            shown = f"{default:g}" if isinstance(default, float) else str(default)
            if shown not in text:
                missing.append(f"{name} {action.option_strings[0]} (default {shown})")
    assert not missing, missing
    # the measurement flags default to None in argparse; their help names MeasureConfig's
    from workbench.measure.config import MeasureConfig

    compare = " ".join(commands["compare"].format_help().split())
    d = MeasureConfig()
    for flag, value in (("--workers", d.workers), ("--samples", d.samples),
                        ("--timeout", f"{d.timeout:g}")):
        assert f"{flag} {flag[2:].upper()} " in compare and f"(default {value})" in compare


@pytest.mark.parametrize(("argv", "flag"), [
    (["compare", "chunk", "--timeout", "0"], "--timeout"),
    (["compare", "chunk", "--workers", "-1"], "--workers"),
    (["compare", "chunk", "--samples", "x"], "--samples"),
    (["compare", "chunk", "--warmup-seconds", "-1"], "--warmup-seconds"),
    (["compare", "chunk", "--max-time", "-1"], "--max-time"),
    (["check", "--max-time", "nan"], "--max-time"),
    (["check", "--threads", "0"], "--threads"),
    (["sweep", "chunk", "--sizes", "1,2"], "--sizes"),
    (["flame", "chunk", "--rate", "0"], "--rate"),
    (["flame", "chunk", "--duration", "0"], "--duration"),
    (["memory", "chunk", "--calls", "0"], "--calls"),
    (["lines", "chunk", "--duration", "-2"], "--duration"),
    (["history", "chunk", "--metric", "speed"], "--metric"),
    (["check", "--inprocess"], "--inprocess"),
    (["baseline", "--inprocess"], "--inprocess"),
    (["run", "--json", ""], "--json"),
    # accepted-but-unused flags are refused, not ignored
    (["stages", "--param", "chunk.size=3"], "--param"),
    (["stages", "--workload", "tiny"], "--workload"),
    (["workloads", "--model", "m"], "--model"),
    (["report", "--param", "chunk.size=3"], "--param"),
    (["run", "--log", "elsewhere.jsonl"], "--log"),
    (["decisions", "--stage", "chunk", "show", "abc"], "--stage"),
    (["decide", "chunk", "pure", "--because", "x", "--level", "warn"], "--level"),
    (["decide", "chunk", "pure", "--because", "x", "--no-budget-update"],
     "--no-budget-update"),
    (["check", "--history", "h.sqlite", "--no-history"], "--no-history"),
    # a value split at a space: named, with the quoted form to write
    (["decide", "chunk", "pure", "--because", "x", "--latency", "10", "s"],
     "unrecognized arguments: s; if '10 s' is one value of --latency, quote it: "
     "--latency '10 s'"),
])
def test_bad_flags_exit_2_at_parse_time_naming_themselves(
        argv: list[str], flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert flag in err, err


def test_a_refused_flag_after_a_value_is_not_taken_for_the_rest_of_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flame", "embed", "--variant", "pure", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --no-progress" in err and "quote it" not in err, err


def test_a_usage_error_comes_before_the_busy_warning_which_comes_when_measuring_begins(
        project: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(os, "getloadavg", lambda: (5.0, 5.0, 5.0))  # the machine looks busy
    assert main(["compare", "tokenize", *TARGET, *FAST]) == 2
    assert capsys.readouterr().err == ("workbench compare: error: unknown stage 'tokenize'; "
                                       "choose one of: work\n")
    assert main(["sweep", "work", *TARGET, "-w", "nosuch", "--sizes", "5,10,20", *FAST]) == 2
    err = capsys.readouterr().err
    assert "unknown workload 'nosuch@5'" in err and "WARNING" not in err
    assert main(["compare", "work", *TARGET, *FAST]) == 0
    assert capsys.readouterr().err.startswith("WARNING: the machine is busy")


def test_stages_and_workloads_json_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stages", "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "workbench.stages/1"
    assert [s["name"] for s in doc["stages"]] == ["clean", "chunk", "embed", "retrieve"]
    for s in doc["stages"]:  # chunk and embed have the cached tier, embed the parallel one
        assert [v["name"] for v in s["variants"]] == [
            "pure", *(["cached"] * (s["name"] in ("chunk", "embed"))), "vectorized", "native",
            *(["parallel"] * (s["name"] == "embed"))]
    assert main(["workloads", "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "workbench.workloads/1"
    by_name = {w["name"]: w for w in doc["workloads"]}
    assert by_name["tiny"]["default"] is True and by_name["tiny"]["size"] > 0


def test_compare_json_dash_puts_one_document_on_stdout_and_no_bar_off_a_terminal(
        capsys: pytest.CaptureFixture[str]) -> None:
    # no --no-progress: stderr is not a terminal here, so the bar switches itself off
    argv = ["compare", "chunk", "--workload", "tiny", "--variants", "pure", "vectorized",
            "--workers", "2", "--samples", "3", "--warmup-seconds", "0.01", "--json", "-"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert set(doc["summary"]["variants"]) == {"pure", "vectorized"}
    assert "vectorized" in err  # the table went to stderr
    assert "\r" not in err and "it/s" not in err and "run/s" not in err


def test_run_json_dash(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--workload", "tiny", "--json", "-"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["kind"] == "pipeline-run"
    assert err


def test_sweep_and_decide_json_dash(project: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sweep", "work", *TARGET, *FAST, "--sizes", "2,3,4", "--json", "-"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["kind"] == "sweep" and "work" in err
    log = project / "decisions.jsonl"
    assert main(["decide", "work", "pure", *TARGET, *FAST, "--because", "the only variant",
                 "--log", str(log), "--json", "-"]) == 0
    out, err = capsys.readouterr()
    record = json.loads(out)
    assert record["variant"] == "pure" and record["stage"] == "work"
    assert record["id"] in log.read_text() and "recorded" in err
    # on a comparison given as evidence nothing is measured: measurement flags are refused
    compared = project / "work.json"
    assert main(["compare", "work", *TARGET, *FAST, "--json", str(compared)]) == 0
    capsys.readouterr()
    assert main(["decide", "work", "pure", *TARGET, "--because", "again", "--log", str(log),
                 "--evidence", str(compared), "--samples", "5"]) == 2
    assert "--samples" in capsys.readouterr().err


def test_baseline_json_is_honoured_and_check_json_dash(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stored = project / "base.json"
    assert main(["baseline", *TARGET, *FAST, "--out", str(stored), "--json", "-"]) == 0
    out, _ = capsys.readouterr()
    assert json.loads(out) == json.loads(stored.read_text())
    assert main(["check", *TARGET, *FAST, "--no-history", "--baseline", str(stored),
                 "--json", "-"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["kind"] == "budget-check" and "work" in err


def test_colour_follows_no_color_and_force_color(
        project: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["check", *TARGET, *FAST, "--no-history", "--json", str(project / "c.json")]
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert main(argv) == 0
    assert "\x1b[" in capsys.readouterr().out  # forced, though stdout is captured
    monkeypatch.setenv("NO_COLOR", "1")  # NO_COLOR wins over FORCE_COLOR
    assert main(argv) == 0
    assert "\x1b[" not in capsys.readouterr().out


def test_colour_helper_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.terminal import use_color

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color(Tty())  # type: ignore[arg-type]
    monkeypatch.setenv("TERM", "dumb")
    assert not use_color(Tty())  # type: ignore[arg-type]
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty())  # type: ignore[arg-type]


def _history_db(path: Path) -> Path:
    # latency is recorded in nanoseconds
    for i, (pure, native) in enumerate([(900e3, 1.4e6), (910e3, 1.35e6),
                                        (905e3, 1.36e6), (895e3, 1.37e6)]):
        rows = [HistoryRow("chunk", "pure", "tiny", "latency_p50", pure),
                HistoryRow("chunk", "native", "tiny", "latency_p50", native)]
        record_rows(path, rows, run_id=f"r{i}", created_at=f"2026-11-0{i + 1}T00:00:00Z")
    return path


def test_history_keeps_variants_apart(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = _history_db(tmp_path / "h.sqlite")
    assert main(["history", "chunk", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "chunk/native on tiny latency_p50: 4 points" in out
    assert "chunk/pure on tiny latency_p50: 4 points" in out
    assert "first 900 us, latest 895 us" in out.replace("µs", "us")
    assert "step" not in out.replace("no steps", "")  # neither series has a step
    assert main(["history", "chunk", "--db", str(db), "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "workbench.history/1"
    series = {s["variant"]: [p["value"] for p in s["points"]] for s in doc["series"]}
    assert series == {"native": [1.4e6, 1.35e6, 1.36e6, 1.37e6],
                      "pure": [900e3, 910e3, 905e3, 895e3]}
    assert main(["history", "chunk", "--db", str(db), "--variant", "pure",
                 "--json", "-"]) == 0
    assert [s["variant"] for s in json.loads(capsys.readouterr().out)["series"]] == ["pure"]


def test_files_take_the_users_umask(project: Path) -> None:
    (project / "reports").mkdir()
    old = os.umask(0o022)
    try:
        stored = project / "reports" / "base.json"
        assert main(["baseline", *TARGET, *FAST, "--out", str(stored)]) == 0
        check = project / "reports" / "check.json"
        assert main(["check", *TARGET, *FAST, "--baseline", str(stored),
                     "--json", str(check)]) == 0
        history = project / "reports" / "history.sqlite"
    finally:
        os.umask(old)
    for path in (stored, check, history):
        assert path.stat().st_mode & 0o777 == 0o644, (path, oct(path.stat().st_mode))


def test_a_profile_writes_its_json_record_to_stdout_with_o_dash(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lines", "chunk", "--workload", "tiny", "--duration", "0.2", "-o", "-"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["kind"] == "line_profile" and doc["functions"]
    assert "chunk" in err  # the table went to stderr
