"""The main job as a new user meets it: ``workbench report`` (what ``make run`` runs) on a
fresh ``git clone`` of this repository, twice, checked from the files it writes.

The first run judges the stages' targets (absolute limits) at once and says in one line
that it stored the baseline the next run uses; the second judges every rule, relative
ones against the first run, and names it. The compare page's suggestions escalate where
pure misses a target; the decisions page draws the committed decisions' evidence. What
runs is the clone's committed code, budgets and decision log (``HEAD``, not a working
tree's uncommitted changes)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.kernel]

ROOT = Path(__file__).resolve().parents[1]
#: A relative rule judged across two runs on a shared machine can be undecided when the
#: machine's load differs between them (CI runs other tests beside this one): decided
#: there means pass or breach; on a quiet machine every error-level rule is (closing note
#: of the issue). A stage's target holds with a margin of 2.5x or more: always decided.
DECIDED = ("pass", "breach")


def _report(clone: Path, out: Path, *args: str) -> tuple[int, Path, dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(clone)}
    before = set(out.glob("*/summary.json"))
    done = subprocess.run([sys.executable, "-m", "workbench", "report", "--out", str(out),
                           "--no-progress", *args], cwd=clone, env=env, text=True,
                          capture_output=True, timeout=1200)
    (summary,) = set(out.glob("*/summary.json")) - before
    data: dict[str, Any] = json.loads(summary.read_text())
    assert done.returncode == data["exit_code"], done.stderr[-3000:]
    return done.returncode, summary.parent, data


def _verdicts(run: Path) -> list[dict[str, Any]]:
    """Every verdict the budgets notebook displayed (its JSON record), with its rule."""
    (path,) = run.glob("*-budgets.ipynb")
    nb = json.loads(path.read_text())
    found = [json.loads(json.dumps(data)) for cell in nb["cells"]
             for out in cell.get("outputs", [])
             for mime, data in out.get("data", {}).items()
             if mime == "application/vnd.workbench.budget-check+json"]
    assert len(found) == 1, f"{len(found)} budget checks shown"
    check: dict[str, Any] = found[0]
    return [{**v, "against": check.get("against"), "notes": check.get("notes", [])}
            for v in check["verdicts"]]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fresh") / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(path)],
                   check=True, timeout=300)
    return path


def test_a_fresh_clone_judges_on_its_first_run_and_against_it_on_its_second(
        clone: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    code, first, summary = _report(clone, out)
    assert code == 0 and summary["status"] == "pass", summary["notebooks"]
    verdicts = _verdicts(first)
    targets = [v for v in verdicts if v["rule"].get("target")]
    budgets = (clone / "budgets.toml").read_text()
    assert {v["rule"]["stage"] for v in targets} == set(re.findall(r"^\[target\.(\w+)\]",
                                                                   budgets, re.M))
    assert all(v["status"] in DECIDED for v in targets if v["rule"]["level"] == "error")
    assert not [v for v in verdicts if v["status"] == "no-baseline"]
    (note,) = [n for n in verdicts[0]["notes"] if n.startswith("first run")]
    assert str(first / "baseline-tiny.json") in note and (first / "baseline-tiny.json").is_file()

    # the compare page: the rule escalates where pure misses a target, and only there
    stages = summary["stages"]
    assert stages["embed"]["suggested"]["variant"] != "pure"
    assert stages["retrieve"]["suggested"]["variant"] != "pure"
    assert stages["clean"]["suggested"]["variant"] == "pure"
    for stage in stages.values():  # defaults that decide: p95 intervals, no pooled warning
        for variant in stage["variants"].values():
            figures = variant["figures"] or {}
            if "p95_ns" in figures:
                assert figures["p95_ns"]["interval"] is not None, figures["p95_ns"]["note"]
            assert "overstates" not in json.dumps(figures)
    # the decisions page: the committed decisions, their evidence drawn
    decided = {s: d["decided"]["variant"] for s, d in stages.items() if d["decided"]}
    assert decided and set(decided) <= set(stages)
    page = (first / "04-decisions.html").read_text()
    assert page.count("<svg") >= 2 * len(decided)

    code, second, summary = _report(clone, out, "--notebook", "compare",
                                    "--notebook", "budgets")
    verdicts = _verdicts(second)
    assert not [v for v in verdicts if v["status"] == "no-baseline"]
    assert first.name in verdicts[0]["against"]
    assert not [n for n in verdicts[0]["notes"] if n.startswith("first run")]
    relative = [v for v in verdicts if v["rule"]["kind"] == "relative"
                and v["rule"]["level"] == "error"]
    assert relative and all(v["status"] in (*DECIDED, "inconclusive") for v in relative)
    assert all(v["ratio_low"] is not None for v in relative if v["rule"]["metric"] !=
               "instructions")
