"""`workbench baseline` / `check` / `history` from the real CLI: real processes where the
test proves measurement, synthetic workers (tests/synthetic.py) where it proves logic."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from synthetic import Cost, constant_in_file, use_synthetic_workers

from workbench.cli import main
from workbench.measure.targets import TargetSpec

pytestmark = pytest.mark.slow

PIPE = '''
from workbench import Pipeline, stage

N = {n}

@stage(input="docs", output="int")
def work(docs):
    total = 0
    for i in range(N):
        total += i * i % 7
    return total

def make():
    return Pipeline.of(work, name="throwaway")
'''
BUDGETS = '[stage.work]\nlatency_p50 = "1.1x"\npeak_rss = "1.5x"\n'
FAST = ["--workers", "3", "--samples", "8", "--warmup-seconds", "0.1", "--no-progress",
        "--no-history"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def _commit(repo: Path, module: str, n: int, message: str) -> None:
    (repo / f"{module}.py").write_text(PIPE.format(n=n))
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    # the throwaway pipelines run on the reference pipeline's ``tiny`` workload, which its
    # module registers: import it here, not rely on an earlier test having done so
    import workbench.rag.workloads  # noqa: F401

    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "budgets.toml").write_text(BUDGETS)
    monkeypatch.chdir(root)
    monkeypatch.syspath_prepend(str(root))
    return root


def _check(module: str, tmp_path: Path, *extra: str) -> int:
    # one look (--max-time 0) unless a test asks for more: sequential looks have their own
    return main(["check", "--pipeline", f"{module}:make", "--json",
                 str(tmp_path / "check.json"), *FAST, "--max-time", "0", *extra])


@pytest.mark.timing
def test_check_against_a_slower_parent_fails_and_an_identical_one_passes(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a commit and a child commit that does five times the work (busy work, not
    # sleep): far above what a neighbour on one core does to the ratio
    _commit(repo, "pipe_ab", 40_000, "fast")
    _commit(repo, "pipe_ab", 200_000, "slow")
    # WHEN the child is checked against its parent, both measured in this run, by real
    # worker processes importing each commit's code (4 per side: the worker-level interval)
    code = _check("pipe_ab", tmp_path, "--against", "HEAD~1", "--workers", "4")
    out = capsys.readouterr().out
    # THEN the error-level latency rule is breached: exit 1
    assert code == 1, out
    assert "breach" in out and "work/pure" in out
    result = json.loads((tmp_path / "check.json").read_text())
    (p50,) = [v for v in result["verdicts"] if v["rule"]["metric"] == "latency_p50"]
    # over the 1.1x limit with the interval above 1 (fixed per-call costs and neighbours
    # dilute the ratio of the work)
    assert p50["status"] == "breach" and p50["ratio"] > 2 and p50["ratio_low"] > 1.0
    # AND an identical commit on top is not a breach (pass, or undecided on a busy machine)
    (repo / "note.txt").write_text("the same code, another commit")
    _commit(repo, "pipe_ab", 200_000, "same again")
    code = _check("pipe_ab", tmp_path, "--against", "HEAD~1", "--workers", "4")
    out = capsys.readouterr().out
    assert code == 0, out
    (same,) = [v for v in json.loads((tmp_path / "check.json").read_text())["verdicts"]
               if v["rule"]["metric"] == "latency_p50"]
    assert same["status"] in ("pass", "inconclusive"), same["message"]


def _per_iteration(module: str, *, slow_index: int | None = None,
                   slow_root: str | None = None) -> Cost:
    """Synthetic costs: 100 ns per loop iteration of the checkout's ``N``; worker
    ``slow_index`` of the checkout whose path ends in ``slow_root`` 1.6x slower (a
    neighbour took half its core)."""
    def cost(spec: TargetSpec, root: Path, index: int) -> float:
        ns = 100.0 * constant_in_file(root, module, "N")
        hit = index == slow_index and slow_root is not None and root.name == slow_root
        return ns * (1.6 if hit else 1.0)
    return cost


def test_a_sequential_check_adds_worker_rounds_until_decided_and_says_so(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a child doing 30 % more work, checked with 2 workers per side to begin with,
    # on synthetic workers: 100 ns per iteration of each commit's N, where the parent's
    # (its worktree is "tree") second worker was slowed by a neighbour
    _commit(repo, "pipe_seq", 60_000, "base")
    _commit(repo, "pipe_seq", 78_000, "+30 %")
    use_synthetic_workers(monkeypatch, _per_iteration("pipe_seq", slow_index=1,
                                                      slow_root="tree"))
    code = _check("pipe_seq", tmp_path, "--against", "HEAD~1", "--workers", "2",
                  "--max-time", "120")
    out = capsys.readouterr().out
    (p50,) = [v for v in json.loads((tmp_path / "check.json").read_text())["verdicts"]
              if v["rule"]["metric"] == "latency_p50"]
    # THEN the first look already has the workers the rank bounds need at the check's
    # per-look level (sized from its error-level verdicts; at least 5 per side); the slowed
    # parent worker overlaps the child's, so that look cannot decide, and rounds of workers
    # are added until one does; the verdict records them and how it was formed
    first = p50["workers"] - 2 * (p50["look"] - 1)
    assert p50["look"] >= 2 and first >= 5, p50["message"]
    assert f"{p50['workers']}+{p50['workers']} worker values (rank)" in p50["message"]
    assert code == 1 and p50["status"] == "breach", out
    assert p50["ratio"] == pytest.approx(1.3, rel=0.05)
    # AND with --max-time 0 there is one look, sized from the verdicts too: it spends the
    # whole error share, so it needs fewer workers than a look of a sequential check
    assert _check("pipe_seq", tmp_path, "--against", "HEAD~1", "--workers", "2",
                  "--max-time", "0") in (0, 1)
    (once,) = [v for v in json.loads((tmp_path / "check.json").read_text())["verdicts"]
               if v["rule"]["metric"] == "latency_p50"]
    assert once["look"] == 1 and 2 < once["workers"] <= first, once["message"]
    assert "worker values (rank)" in once["message"] and "log-normal" not in once["message"]
    capsys.readouterr()
    assert _check("pipe_seq", tmp_path, "--max-time", "-1") == 2
    assert "--max-time" in capsys.readouterr().err


def test_first_commit_gets_a_no_baseline_notice_not_a_failure(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(repo, "pipe_first", 20_000, "only")
    code = _check("pipe_first", tmp_path, "--against", "HEAD~1")
    out = capsys.readouterr().out
    assert code == 0
    assert "NOTICE: no baseline: 'HEAD~1' does not name a commit" in out
    assert _check("pipe_first", tmp_path, "--against", "HEAD~1", "--strict") == 2


def test_baseline_file_round_trip_and_bad_files_exit_2(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # about the file, not detection: synthetic workers, so the same code passes exactly
    _commit(repo, "pipe_base", 20_000, "only")
    use_synthetic_workers(monkeypatch, _per_iteration("pipe_base"))
    out = tmp_path / "base.json"
    args = ["--pipeline", "pipe_base:make", *FAST[:-1]]
    assert main(["baseline", *args, "--out", str(out)]) == 0
    assert json.loads(out.read_text())["kind"] == "baseline"
    assert _check("pipe_base", tmp_path, "--baseline", str(out)) == 0
    capsys.readouterr()
    # a truncated baseline: exit 2, one clear line, the file left as it was
    broken = tmp_path / "broken.json"
    broken.write_text(out.read_text()[:100])
    assert _check("pipe_base", tmp_path, "--baseline", str(broken)) == 2
    assert "JSON" in capsys.readouterr().err
    assert broken.read_text() == out.read_text()[:100]
    # a baseline from a newer schema
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({**json.loads(out.read_text()), "schema_version": 99}))
    assert _check("pipe_base", tmp_path, "--baseline", str(newer)) == 2
    assert "99" in capsys.readouterr().err
    # a baseline for another workload
    assert _check("pipe_base", tmp_path, "--baseline", str(out), "--workload", "small") == 2
    assert "workload" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("budgets", "message"),
    [
        ("[stage.work\nlatency_p50 = '1.1x'", "budgets.toml:1"),
        ("[stage.nope]\nlatency_p50 = '1.1x'", "nope"),
        ("[stage.work]\nlatency_p50 = '1.1'", "1.1"),
        ("[stage.work]\nlatency_p50 = '12 parsecs'", "parsecs"),
        ("[stage.work]\nlatency_p42 = '1.1x'", "latency_p42"),
        ("[stage.work]\nlatency_p50 = { limit = '1.1x', level = 'fatal' }", "fatal"),
        ("[stage.work]\nlatency_p50 = '-3ms'", "-3ms"),
    ],
)
def test_bad_budgets_exit_2_with_one_clear_line(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], budgets: str, message: str
) -> None:
    _commit(repo, "pipe_bad", 1000, "only")
    (repo / "budgets.toml").write_text(budgets)
    assert _check("pipe_bad", tmp_path) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_budgets_file_and_history_without_db(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--budgets", "nowhere.toml", *FAST]) == 2
    assert "budgets file 'nowhere.toml' does not exist" in capsys.readouterr().err
    assert main(["history", "work", "--db", str(tmp_path / "none.sqlite")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_check_records_history_and_history_prints_the_trend(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _commit(repo, "pipe_hist", 20_000, "only")
    # this test is about the history, not detection: synthetic workers, and a generous
    # limit all the same
    use_synthetic_workers(monkeypatch, _per_iteration("pipe_hist"))
    (repo / "budgets.toml").write_text('[stage.work]\nlatency_p50 = "3x"\npeak_rss = "1.5x"\n')
    db = tmp_path / "h.sqlite"
    base = tmp_path / "b.json"
    assert main(["baseline", "--pipeline", "pipe_hist:make", *FAST[:-1], "--out", str(base)]) == 0
    for _ in range(2):
        assert main(["check", "--pipeline", "pipe_hist:make", *FAST[:-1], "--history", str(db),
                     "--baseline", str(base), "--json", str(tmp_path / "c.json")]) == 0
    capsys.readouterr()
    assert main(["history", "work", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    head = out.splitlines()[0]
    assert re.match(r"work/pure on tiny latency_p50: 2 points from \S+ to \S+; "
                    r"first [\d.]+ m?s, latest ", head), head
    assert "no steps found" in out  # two points are too few for a step fit
    import sqlite3

    with sqlite3.connect(db) as con:
        runs = con.execute("select count(distinct run_id) from history").fetchone()[0]
    assert runs == 2


def test_trend_figure_marks_steps() -> None:
    from workbench.budget.history import Point, Series
    from workbench.budget.steps import detect_steps
    from workbench.render.trend_plot import trend_figure

    values = [100.0, 101, 99, 100, 102, 120, 121, 119, 120, 122]
    series = Series("work", "latency_p50", tuple(
        Point(str(i), None, "t", "pure", "tiny", v, v * 0.98, v * 1.02)
        for i, v in enumerate(values)))
    steps = detect_steps(series.values)
    assert [s.index for s in steps] == [5]
    fig = trend_figure(series, steps)
    assert fig.axes[0].get_title() == "work: latency_p50 across checks"
    assert len(fig.axes[0].lines) == 2  # the series and one step marker


SCALING_PIPE = '''
from workbench import Pipeline, stage, workload

@workload("numbers{power}", size=40)
def numbers(n):
    return list(range(n))

@stage(input="docs", output="int")
def work(docs):
    n = len(docs)
    total = 0
    for i in range(50 * n ** {power}):
        total += i % 7
    return total

def make():
    return Pipeline.of(work, name="scaling")
'''


@pytest.mark.parametrize(("power", "status", "code"), [(2, "breach", 1), (1, "pass", 0)])
def test_check_sweeps_a_stage_with_a_scaling_budget(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], power: int, status: str,
    code: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a stage whose work grows as n**power and a budget "exponent at most 1.5", on
    # synthetic workers whose cost is that work (20 ns a step; the size from the workload)
    (repo / "budgets.toml").write_text('[stage.work]\nscaling = { limit = 1.5, level = "error" }')
    (repo / f"pipe_scale{power}.py").write_text(SCALING_PIPE.format(power=power))
    sizes: list[int] = []

    def cost(spec: TargetSpec, root: Path, index: int) -> float:
        workload = spec.workload or ""
        n = int(workload.rpartition("@")[2]) if "@" in workload else 40
        sizes.append(n)
        return 20.0 * 50 * float(n) ** power

    use_synthetic_workers(monkeypatch, cost)
    # WHEN it is checked on a workload of 40 items
    got = _check(f"pipe_scale{power}", tmp_path, "--workload", f"numbers{power}")
    out = capsys.readouterr().out
    # THEN it is swept at 10, 20 and 40 items and the fitted exponent decides
    assert {10, 20, 40} <= set(sizes), sizes
    assert got == code, out
    (verdict,) = json.loads((tmp_path / "check.json").read_text())["verdicts"]
    assert verdict["rule"]["metric"] == "scaling" and verdict["status"] == status
    assert verdict["observed"] == pytest.approx(power, abs=0.25)
    assert verdict["observed_low"] <= verdict["observed"] <= verdict["observed_high"]
