"""Instruction counts beside wall time from each front end: `workbench compare --metric
instructions`, `%wb compare --metric instructions` and the panel's "count instructions"
box (:mod:`loops_repo`'s pipeline, counted under Cachegrind)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from loops_repo import FAST, needs_valgrind

from workbench.cli import main

pytestmark = pytest.mark.slow


@needs_valgrind
def test_compare_with_the_instructions_metric_shows_them_beside_wall_time(
    loops_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # pure only (each variant is six Cachegrind runs): the panel's test below counts both
    # variants and reads the ratio from the same JSON summary
    out = tmp_path / "compare.json"
    assert main(["compare", "work", "--variants", "pure", *FAST[:-3], "--metric",
                 "instructions", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "instructions/call" in text and "simulated CPU" in text
    summary = json.loads(out.read_text())["summary"]["variants"]
    assert list(summary) == ["pure"] and summary["pure"]["instructions_per_call"] > 1e6


@needs_valgrind
def test_the_magic_and_the_panel_count_instructions_beside_wall_time(loops_root: Path) -> None:
    from IPython.terminal.interactiveshell import TerminalInteractiveShell
    from IPython.testing.globalipapp import start_ipython
    from IPython.utils.capture import capture_output

    from workbench.measure.comparison import Comparison
    from workbench.notebook import session as sessions
    from workbench.notebook.panel.main import build_panel

    start_ipython()  # the first call in a process makes the shell; later ones return None
    shell = TerminalInteractiveShell.instance()
    shell.run_line_magic("load_ext", "workbench")
    sessions.reset(sessions.Session.for_directory(loops_root))
    try:
        with capture_output() as cap:
            # pure only: the magic passes the flag on; the panel below counts both
            ran = shell.run_cell("c = %wb compare work --variants pure --workers 2 "
                                 "--samples 3 --no-progress --metric instructions")
        assert ran.error_in_exec is None, cap.stdout
        c = shell.user_ns["c"]
        assert isinstance(c, Comparison) and c.counted
        pure = c.result("pure").instructions
        assert pure is not None and pure.instructions is not None and pure.instructions > 1e6
        assert "instructions/call" in c.to_text()

        panel = build_panel(workers=2, samples=3)
        panel.count_instructions.value = True
        panel.rows["work"].measure.value = True
        panel.measure_button.click()
        assert panel.count_instructions.disabled  # no changing it while measuring
        assert panel.wait(600), "the panel's job did not finish"
        timing = panel.tabs.timing.value
        assert "instructions/call" in timing and "simulated CPU" in timing, \
            panel.errors.value
        counted = panel.comparisons["work"].result("vectorized").instructions
        assert counted is not None and counted.ok
        summary = panel.comparisons["work"].to_json()["summary"]["variants"]
        ratio = summary["vectorized"]["instruction_ratio"]
        assert ratio is not None and ratio < 0.1  # the closed form skips all but 7 + STEPS % 7
    finally:
        sessions.reset()
