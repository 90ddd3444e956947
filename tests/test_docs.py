"""The documentation cannot rot: its examples run, its links and paths exist, and the
repository stands alone (nothing points outside it).

Each ```python block of ``docs/*.md`` runs on its own, in a fresh namespace, in the order
of its file: a block is an example a reader copies whole. A profiler or metric an example
registers is removed after it, so that no example changes what later tests see.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [ROOT / "README.md", *DOCS]
# Backticked text that names a file or folder of the repository; `reports/` is where runs
# write (not committed), and placeholders (WORKLOAD, <run>, NB, *) are not paths.
TOP = ("workbench/", "tests/", "docs/", "notebooks/", "benchmarks/", ".ci/", ".github/",
       "requirements/")
TOP_FILES = ("README.md", "Makefile", "pyproject.toml", "environment.yml", "budgets.toml",
             "LICENSE")


def _blocks(page: Path) -> list[tuple[int, str]]:
    blocks, lines = [], page.read_text().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            start, body = i + 1, []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            blocks.append((start + 1, "\n".join(body)))
        i += 1
    return blocks


EXAMPLES = [pytest.param(page, line, code, id=f"{page.name}:{line}")
            for page in DOCS for line, code in _blocks(page)]


def test_the_docs_have_examples_and_the_protocols_guard_examples_are_among_them() -> None:
    code = "\n".join(c for _, _, c in (p.values for p in EXAMPLES))
    assert 'profile({"latency_s": 1, "rss_growth_bytes": 10**8})' in code
    assert 'budgeted_stage(batch_square, {"latency_ms": 100})' in code
    assert "except PerfBudgetError" in code


@pytest.fixture
def registrations() -> Iterator[None]:
    """Whatever an example registers (profilers, metrics) is removed afterwards."""
    from workbench.measure.metrics import METRICS, unregister_metric
    from workbench.profile import registry

    profilers, metrics = {p.name for p in registry.profilers()}, set(METRICS)
    try:
        yield
    finally:
        for p in registry.profilers():
            if p.name not in profilers:
                registry.unregister(p.name)
        for name in set(METRICS) - metrics:
            unregister_metric(name)


@pytest.mark.parametrize(("page", "line", "code"), EXAMPLES)
def test_every_python_example_in_the_docs_runs(page: Path, line: int, code: str,
                                               registrations: None) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_example_{page.stem}_{line}"}
    exec(compile(code, f"{page.relative_to(ROOT)}:{line}", "exec"), namespace)


def _links(text: str) -> list[str]:
    return [m for m in re.findall(r"\]\(([^)\s]+)\)", text)
            if not re.match(r"[a-z]+:", m) and not m.startswith("#")]


def _paths(text: str) -> list[str]:
    found = []
    for token in re.findall(r"`([^`\s]+)`", text):
        token = token.split("::", 1)[0].rstrip(".,:;")
        if re.search(r"[A-Z]{3,}|[<>*{}$]|\.\.\.", token.replace("README", "")
                     .replace("LICENSE", "")):
            continue  # a placeholder or a pattern, not a path
        if token.startswith(TOP) or token in TOP_FILES:
            found.append(token)
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_and_paths_name_files_of_the_repository(page: Path) -> None:
    text = page.read_text()
    missing = [link for link in _links(text)
               if not (page.parent / link.split("#", 1)[0]).exists()]
    missing += [path for path in _paths(text) if not (ROOT / path).exists()]
    assert not missing, f"{page.name} names what the repository lacks: {missing}"


def test_the_path_check_sees_a_missing_file() -> None:
    assert _paths("see `workbench/nope.py` and `docs/protocol.md`") == \
        ["workbench/nope.py", "docs/protocol.md"]
    assert _paths("`reports/baseline-WORKLOAD.json`, `tests/x.py::test_y`") == ["tests/x.py"]
    assert _links("[a](measurement.md) [b](https://example.org) [c](#top)") == \
        ["measurement.md"]


def test_the_readme_links_the_docs() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in ("docs/protocol.md", "docs/measurement.md", "docs/architecture.md",
                 "docs/decision-table.md", "docs/decisions.md", "docs/caching.md"):
        assert name in readme, f"README.md does not point at {name}"


def test_nothing_in_the_repository_points_outside_it() -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    outside = "../" + "shared"  # spelled in two parts so this file does not match itself
    hits = []
    for name in files:
        path = ROOT / name
        if not path.is_file():
            continue
        try:
            if outside in path.read_text(encoding="utf-8"):
                hits.append(name)
        except UnicodeDecodeError:
            continue
    assert not hits, f"these files point outside the repository: {hits}"
