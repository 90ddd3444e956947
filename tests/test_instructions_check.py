"""`workbench check --against` with an instruction rule: the parent's count and this
commit's, both under Cachegrind in the same run (:mod:`loops_repo`: HEAD does 2 % more
work than HEAD~1; the budget allows 1 %)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from loops_repo import FAST, needs_valgrind

from workbench.cli import main

pytestmark = pytest.mark.slow


@needs_valgrind
def test_check_against_the_parent_breaches_and_against_itself_passes(
    loops_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "check.json"
    code = main(["check", "--against", "HEAD~1", *FAST, "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 1, text
    verdicts = json.loads(out.read_text())["verdicts"]
    [counted] = [v for v in verdicts if v["rule"]["metric"] == "instructions"]
    assert counted["status"] == "breach" and counted["ratio"] > 1.01
    assert "instructions per call current/baseline" in text
    assert main(["check", "--against", "HEAD", *FAST, "--json", str(out)]) == 0
    capsys.readouterr()
    [same] = [v for v in json.loads(out.read_text())["verdicts"]
              if v["rule"]["metric"] == "instructions"]
    # the same code from two checkouts: within the band of 1, well below the limit's
    assert same["status"] == "pass" and "below its band" in same["message"]
    assert "band ±" in same["message"] and "measured spread" in same["message"]
