"""The loops repository the instruction-count tests share: a user's pipeline in a git
repository of its own (one stage whose work is a loop of ``STEPS`` iterations per item;
HEAD~1 does 2 % less work than HEAD), and the marks those tests carry.

The counts are real: Valgrind runs the counting worker on this pipeline. Tests that need
Valgrind skip, saying so, where it is not installed (CI installs it).
"""

from __future__ import annotations

import functools
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from git_repo import commit_all, git
from needs import require_tool

from workbench.measure.targets import TargetSpec, stage_target

__all__ = [
    "BUDGETS",
    "FAST",
    "PIPELINE",
    "STEPS",
    "VALGRIND",
    "loops_repo",
    "loops_spec",
    "needs_valgrind",
    "require_valgrind",
]

VALGRIND = "Valgrind", "as root: apt-get install valgrind, or `make valgrind`"

PIPELINE = '''"""One stage whose work is a loop: STEPS iterations per item."""
from workbench import Pipeline, stage, workload

STEPS = {steps}


@workload("items", size=4, seed=1)
def items(n, seed):
    return tuple(range(seed, seed + n))


@stage(input="tuple[int, ...]", output="tuple[int, ...]")
def work(xs):
    out = []
    for x in xs:
        total = 0
        for i in range(STEPS):
            total += (i * x) % 7
        out.append(total)
    return tuple(out)


@work.variant("vectorized")
def work_vectorized(xs):
    # (i * x) % 7 repeats every 7 steps: one period times the whole periods, plus the rest
    def period_sum(x, n):
        return sum((i * x) % 7 for i in range(n))
    return tuple(STEPS // 7 * period_sum(x, 7) + period_sum(x, STEPS % 7) for x in xs)


def make():
    return Pipeline.of(work, name="loops")
'''
PYPROJECT = '''[project]
name = "loops"
version = "0"

[tool.workbench]
pipeline = "loopspipe:make"
workload = "items"
'''
BUDGETS = '[stage.work]\ninstructions = { limit = "1.01x", level = "error" }\n'
STEPS = 5000
FAST = ["--workers", "2", "--samples", "3", "--warmup-seconds", "0.01", "--no-progress",
        "--max-time", "0", "--no-history"]


def require_valgrind() -> None:
    """Skip the calling test without Valgrind (fail it where tools are required)."""
    require_tool(shutil.which("valgrind") is not None, *VALGRIND)


def needs_valgrind(test: Callable[..., None]) -> Callable[..., None]:
    """Marked ``valgrind``; skipped (or failed, where tools are required) without it."""
    @functools.wraps(test)  # pytest reads the test's own parameters through it
    def run(*args: object, **kwargs: object) -> None:
        require_valgrind()
        test(*args, **kwargs)

    marked: Callable[..., None] = pytest.mark.valgrind(run)
    return marked


def commit_loops(repo: Path, steps: int, message: str) -> None:
    (repo / "loopspipe.py").write_text(PIPELINE.format(steps=steps))
    commit_all(repo, message)


@contextmanager
def loops_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """HEAD~1 loops STEPS times per item, HEAD 2 % more; the working directory and the
    import path lead to it while it is open."""
    root = tmp_path_factory.mktemp("loops") / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "budgets.toml").write_text(BUDGETS)
    commit_loops(root, STEPS, "the work")
    commit_loops(root, STEPS * 102 // 100, "2 % more work")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setattr(sys, "path", [str(root), *sys.path])
        yield root
    sys.modules.pop("loopspipe", None)


def loops_spec(variant: str = "pure") -> TargetSpec:
    return stage_target("work", variant, "items", pipeline="loopspipe:make")
