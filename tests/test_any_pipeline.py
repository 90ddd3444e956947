"""A user's own pipeline, in a repository of its own, through every layer of the workbench.

Not the reference pipeline: two stages over lines of numbers (parse -> norms), each with a
pure and a vectorized variant, and workloads registered by the user's modules. The
repository's ``pyproject.toml`` names the pipeline and workload in ``[tool.workbench]``,
so the commands below need no ``--pipeline`` or ``--workload``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from git_repo import commit_all, git
from synthetic import constant_in_file, use_synthetic_workers

from workbench.cli import main
from workbench.measure.config import MeasureConfig
from workbench.measure.launch import process_launcher
from workbench.measure.sweep import Sweep
from workbench.measure.targets import TargetSpec

pytestmark = pytest.mark.slow

PIPELINE = '''"""Lines of comma-separated numbers -> rows of floats -> squared norms."""
import random

from workbench import Pipeline, stage, workload
from workbench.stages import EquivalenceResult

REPEAT = {repeat}


@workload("rows", size=200, seed=5)
def rows(n, seed):
    rng = random.Random(seed)
    return tuple(",".join(f"{{rng.random():.5f}}" for _ in range(40)) for _ in range(n))


@workload("broken", size=10)
def broken(n):
    raise OSError("rows.csv is missing")


@workload("empty", size=10)
def empty(n):
    return ()


@stage(input="tuple[str, ...]", output="tuple[tuple[float, ...], ...]")
def parse(lines):
    return tuple(tuple(float(x) for x in line.split(",")) for line in lines)


@parse.variant("vectorized")
def parse_vectorized(lines):
    import numpy as np
    values = np.array(",".join(lines).split(","), dtype=np.float64).reshape(len(lines), -1)
    return tuple(map(tuple, values.tolist()))


def square_sum(row):
    total = 0.0
    for _ in range(REPEAT):
        total = 0.0
        for x in row:
            total += x * x
    return total


def close(reference, candidate, *, variant, params):
    worst = max(abs(a - b) for a, b in zip(reference, candidate, strict=True))
    return EquivalenceResult(worst <= 1e-9, f"max |diff| {{worst:.1e}}", worst)


@stage(input="tuple[tuple[float, ...], ...]", output="tuple[float, ...]", equivalence=close)
def norms(rows):
    return tuple(square_sum(r) for r in rows)


@norms.variant("vectorized")
def norms_vectorized(rows):
    import numpy as np
    a = np.asarray(rows)
    return tuple((a * a).sum(axis=1).tolist())


def make():
    return Pipeline.of(parse, norms, name="nums")
'''

DATA = '''from workbench import Workload, register_workload

register_workload(Workload("wide", lambda n: tuple(",".join(["0.5"] * 80) for _ in range(n)),
                           60, "80 halves per line"))
'''

PYPROJECT = '''[project]
name = "nums"
version = "0"

[tool.workbench]
pipeline = "numspipe:make"
workload = "rows"
modules = ["numsdata"]
'''
BUDGETS = '[stage.norms]\nlatency_p50 = "1.1x"\n'
FAST = ["--workers", "3", "--samples", "6", "--warmup-seconds", "0.05", "--no-progress"]


def _commit(repo: Path, repeat: int, message: str) -> str:
    (repo / "numspipe.py").write_text(PIPELINE.format(repeat=repeat))
    return commit_all(repo, message)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The user's repository: HEAD~1 squares each row once, HEAD twice (more work)."""
    root = tmp_path_factory.mktemp("user") / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "budgets.toml").write_text(BUDGETS)
    (root / "numsdata.py").write_text(DATA)
    _commit(root, 1, "one pass")
    _commit(root, 2, "two passes")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setattr(sys, "path", list(sys.path))
        yield root
    for name in ("numspipe", "numsdata"):
        sys.modules.pop(name, None)


def test_compare_uses_the_projects_pipeline_and_workload_without_flags(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "compare.json"
    assert main(["compare", "norms", *FAST, "--json", str(out)]) == 0, capsys.readouterr()
    data = json.loads(out.read_text())
    assert (data["stage"], data["workload"]) == ("norms", "rows")
    pure, vec = data["results"]
    assert (pure["variant"], vec["variant"]) == ("pure", "vectorized")
    assert vec["equivalence"]["equivalent"] is True
    # numpy beats the loop (about 2x on an idle machine; the verdict may stay undecided
    # when a neighbour takes some workers' core, but never says the opposite)
    speedup = vec["versus_baseline"]["speedup"]
    assert speedup["value"] > 1.0 and speedup["interval"]["high"] > 1.0, speedup
    assert data["summary"]["variants"]["vectorized"]["verdict"] in ("faster", "inconclusive")
    target = pure["measurement"]["target"]
    assert target["pipeline"] == "numspipe:make" and "by_value" not in target
    env = pure["measurement"]["environment"]
    assert env["git_sha"] == git(repo, "rev-parse", "HEAD")  # the measured code's commit
    assert env["workbench_version"]


def test_stages_and_workloads_list_the_configured_pipeline(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stages"]) == 0
    out = capsys.readouterr().out
    assert "pipeline nums (numspipe:make)" in out and "parse:" in out and "norms:" in out
    assert "clean" not in out
    assert main(["workloads"]) == 0
    listed = {line.split()[1] if line.startswith("*") else line.split()[0]: line
              for line in capsys.readouterr().out.splitlines() if "size" in line}
    assert listed["rows"].startswith("* rows") and "(numspipe)" in listed["rows"]
    assert "(numsdata)" in listed["wide"]


@pytest.mark.timing
def test_a_workload_from_a_listed_module_and_a_parameterized_sweep(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep.json"
    code = main(["sweep", "norms", "-w", "wide", "--sizes", "30,60,120", "--variants", "pure",
                 *FAST, "--json", str(out)])
    assert code == 0, capsys.readouterr()
    result = Sweep.from_json(json.loads(out.read_text()))
    assert result.sizes == (30, 60, 120) and result.workload == "wide"
    fit = result.slopes["pure"]
    # linear in the number of rows (sizes measured one after another: a neighbour that
    # comes and goes moves the slope, so the band is wide)
    assert fit is not None and 0.5 < fit.slope < 1.5, fit
    first = result.points[0][1].result("pure").measurement
    assert first.target.workload == "wide@30" and first.target.modules == ("numsdata",)
    assert first.items_per_call == 30


def test_each_profiler_sees_the_users_code(repo: Path) -> None:
    from workbench.profile import flamegraph, line_profile, memory_track

    flame = flamegraph("norms", "rows", pipeline="numspipe:make", duration=0.6)
    assert flame.top_frames(1)[0].function == "square_sum"
    assert "numspipe.py" in flame.top_frames(1)[0].location
    memory = memory_track("parse", "rows@4000", pipeline="numspipe:make", calls=1)
    assert memory.peak_heap_bytes > 0
    assert any("numspipe.py" in frame for s in memory.stacks for frame in s.frames)
    lines = line_profile("norms", "rows", pipeline="numspipe:make", duration=0.3,
                         functions=["numspipe:square_sum"])
    rows = {r.source.strip(): r for r in lines.function("square_sum").rows}
    assert rows["total += x * x"].hits > rows["for _ in range(REPEAT):"].hits > 0


def test_check_against_the_parent_fails_on_more_work_and_passes_on_identical_code(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # synthetic workers whose cost is each checkout's REPEAT (real detection of real
    # work is test_budget_cli's): the project's pipeline, HEAD~1's worktree, the verdict
    use_synthetic_workers(monkeypatch, lambda spec, root, index:
                          1e6 * constant_in_file(root, "numspipe", "REPEAT"))
    report = tmp_path / "check.json"
    args = ["check", "--against", "HEAD~1", *FAST, "--no-history", "--json", str(report)]
    assert main(args) == 1, capsys.readouterr().out
    data = json.loads(report.read_text())
    (verdict,) = data["verdicts"]
    assert verdict["status"] == "breach" and verdict["ratio"] == pytest.approx(2, rel=0.05)
    assert "norms/pure" in capsys.readouterr().out
    (repo / "README").write_text("same code, one more commit\n")
    commit_all(repo, "docs")
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0, out
    (verdict,) = json.loads(report.read_text())["verdicts"]
    assert verdict["status"] == "pass" and verdict["ratio"] == pytest.approx(1, rel=0.05)


def test_a_worker_names_the_modules_it_looked_in_for_an_unknown_workload(repo: Path) -> None:
    spec = TargetSpec("stage", "norms", "pure", "ghost", {}, "numspipe:make", ("numsdata",))
    run = process_launcher(spec, MeasureConfig(workers=1, samples=2), 0)
    assert not run.ok and run.error is not None
    assert "unknown workload 'ghost'" in run.error
    assert "(looked in the modules numspipe, numsdata)" in run.error


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["-w", "nowhere"], 2,
         "unknown workload 'nowhere' (looked in the modules numspipe); choose one of: broken"),
        (["-w", "broken"], 3, "workload 'broken': make(10) raised OSError: rows.csv is missing"),
        (["-w", "empty"], 2, "workload 'empty': make(10) returned an empty value (())"),
        (["--param", "norms.scale=2"], 2, "unknown parameter 'scale' for stage 'norms'"),
        (["--param", "norm.scale=2"], 2, "unknown stage 'norm'; choose one of: parse, norms"),
        (["--param", "scale"], 2, "expected STAGE.KEY=VALUE"),
    ],
)
def test_bad_input_exits_with_one_clear_line_and_writes_nothing(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    argv: list[str], code: int, message: str,
) -> None:
    out = tmp_path / "never.json"
    assert main(["compare", "norms", *argv, *FAST, "--json", str(out)]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()
