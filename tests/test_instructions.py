"""Instruction counts under Cachegrind: determinism, subtraction, detection, errors, and
verdicts on counts. The commands that count (check, compare, the magic and the panel) are
tested in test_instructions_check.py and test_instructions_fronts.py, so that the three
files, each minutes of Valgrind, run side by side under ``make test``.

The counts are real: Valgrind runs the counting worker on a user's pipeline in a
repository of its own (:mod:`loops_repo`). Tests that need Valgrind skip, saying so, where
it is not installed (CI installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loops_repo import (
    FAST,
    PIPELINE,
    STEPS,
    loops_spec,
    needs_valgrind,
    require_valgrind,
)

from workbench.budget.instructions import judge_count
from workbench.budget.rules import Rule
from workbench.budget.spec import parse_budgets
from workbench.budget.verdict import check
from workbench.errors import ExecutionError
from workbench.measure.cachegrind import (
    ValgrindUnavailable,
    read_counts,
    real_interpreter,
    valgrind_path,
)
from workbench.measure.instructions import (
    CHECKOUT_SPREAD,
    TOLERANCE,
    InstructionCount,
    InstructionSettings,
    count_instructions,
)
from workbench.measure.targets import TargetSpec

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def counts(loops_root: Path) -> tuple[InstructionCount, InstructionCount]:
    """The same code counted in two runs: 4 calls at three memory layouts (the default
    number), and 8 calls at the first of them."""
    require_valgrind()
    return (count_instructions(loops_spec(), InstructionSettings(calls=4), strict=True),
            count_instructions(loops_spec(), InstructionSettings(calls=8, layouts=1),
                               strict=True))


@needs_valgrind
def test_two_counts_of_the_same_code_agree_within_the_tolerance(
    counts: tuple[InstructionCount, InstructionCount],
) -> None:
    a, eight = counts
    assert a.ok and eight.ok and a.instructions is not None and eight.instructions is not None
    # the same cost per call at the same layout, from 8 calls as from 4
    first = a.settings["per_layout_ir"][0]
    assert abs(eight.instructions - first) <= TOLERANCE * first, (a.per_call, eight.per_call)
    # and the median over layouts within their spread of it
    assert abs(a.instructions - first) <= max(a.spread, TOLERANCE) * a.instructions
    # the loop dominates: 4 items x 5100 iterations of a few bytecodes each
    assert 1e6 < a.instructions < 1e8
    assert a.settings["aslr"] == "off" and a.settings["threads"] == 1
    assert a.tool.startswith("valgrind-") and not a.incomparable(eight)


@needs_valgrind
def test_the_per_call_count_is_the_difference_of_k_calls_and_none(
    counts: tuple[InstructionCount, InstructionCount],
) -> None:
    a, eight = counts
    sizes = a.settings["layouts"]
    assert len(sizes) == 3 == len(set(sizes))  # three memory layouts, the median kept
    per_layout = []
    for size in sizes:
        none, four = a.totals[f"{size}:0"]["Ir"], a.totals[f"{size}:4"]["Ir"]
        assert none > 1e8  # start-up and imports: they cancel in the difference
        per_layout.append((four - none) / 4)
    assert a.settings["per_layout_ir"] == per_layout
    assert a.settings["heap_shifts"] == [0, 613, 1499]  # each layout moves the heap too
    assert a.spread == (max(per_layout) - min(per_layout)) / a.instructions
    assert a.per_call["Ir"] == sorted(per_layout)[1]
    [size] = eight.settings["layouts"]
    assert size == sizes[0]  # the same environment size: the same layout as a's first
    # the same preparation (to a few thousand instructions of 3.6e8: the environment's
    # variables, PYTEST_CURRENT_TEST among them, differ in content, not in size)
    assert eight.totals[f"{size}:0"]["Ir"] == pytest.approx(a.totals[f"{size}:0"]["Ir"],
                                                            rel=1e-4)
    assert eight.per_call["Ir"] == (eight.totals[f"{size}:8"]["Ir"]
                                    - eight.totals[f"{size}:0"]["Ir"]) / 8


@needs_valgrind
def test_two_percent_more_work_is_seen_and_breaches_a_one_percent_budget(
    loops_root: Path, counts: tuple[InstructionCount, InstructionCount], tmp_path: Path,
) -> None:
    old = tmp_path / "old"
    old.mkdir()
    (old / "loopspipe.py").write_text(PIPELINE.format(steps=STEPS))
    before = count_instructions(loops_spec(), InstructionSettings(calls=4), root=old, strict=True)
    now = counts[0]
    assert now.instructions is not None and before.instructions is not None
    ratio = now.instructions / before.instructions
    # 2 % more loop iterations; not exactly 2 %: CPython's cost per iteration moves a
    # little with the count (small ints are cached, bigger ones allocated), and there is
    # a fixed cost per call
    assert 1.012 < ratio < 1.05, ratio
    spec = parse_budgets('[stage.work]\ninstructions = "1.01x"\n')
    result = check(spec, [], instructions=[now], baseline_instructions=[before])
    [verdict] = result.verdicts
    assert verdict.status == "breach" and verdict.ratio == pytest.approx(ratio)
    assert "simulated" in verdict.message and result.exit_code() == 1
    loose = parse_budgets('[stage.work]\ninstructions = "1.05x"\n')
    assert check(loose, [], instructions=[now], baseline_instructions=[before]
                 ).verdicts[0].status == "pass"


def test_missing_valgrind_exits_3_naming_it(loops_root: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()  # a PATH with git and python, but no valgrind
    for tool in ("git",):
        found = shutil.which(tool)
        assert found is not None
        (bare / tool).symlink_to(found)
    env = {**os.environ, "PATH": f"{bare}{os.pathsep}{Path(sys.executable).parent}"}
    env.pop("WORKBENCH_VALGRIND", None)
    done = subprocess.run([sys.executable, "-m", "workbench.cli", "compare", "work",
                           *FAST[:-3], "--metric", "instructions"], cwd=loops_root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr
    assert "valgrind" in done.stderr and "not on PATH" in done.stderr


def test_a_missing_explicit_valgrind_and_a_script_interpreter_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WORKBENCH_VALGRIND", str(tmp_path / "nowhere"))
    with pytest.raises(ValgrindUnavailable, match="WORKBENCH_VALGRIND"):
        valgrind_path()
    shim = tmp_path / "python"
    shim.write_text("#!/bin/sh\nexec python3 \"$@\"\n")
    shim.chmod(0o755)
    with pytest.raises(ValgrindUnavailable, match="a script"):
        real_interpreter(str(shim))
    assert real_interpreter(sys.executable) == sys.executable


def test_cachegrind_output_is_read_and_malformed_output_refused() -> None:
    text = "desc: I1 cache: 32768 B\ncmd: python\nevents: Ir I1mr\nfl=a.c\n1 2 3\n" \
           "summary: 1234 56\n"
    assert read_counts(text) == {"Ir": 1234, "I1mr": 56}
    with pytest.raises(ExecutionError, match="summary"):
        read_counts("events: Ir\n")
    with pytest.raises(ExecutionError, match="does not match"):
        read_counts("events: Ir I1mr\nsummary: 12\n")


# -- verdicts on counts (no Valgrind needed) ----------------------------------------------

_ENV = {"cpu_model": "x", "python": "3.11.7", "packages": {}}


def _count(ir: float, *, variant: str = "pure", tool: str = "valgrind-3.19.0",
           env: dict[str, object] | None = None, error: str | None = None,
           spread: float | None = None) -> InstructionCount:
    spec = TargetSpec("stage", "work", variant, "items", {}, "loopspipe:make")
    settings: dict[str, object] = {"aslr": "off"}
    if spread is not None:
        settings["layout_spread"] = spread
    return InstructionCount(spec, {} if error else {"Ir": ir}, 10, 1, False, 4, tool,
                            settings, env or _ENV, error=error)


def _rule(limit: float, kind: str = "relative", metric: str = "instructions") -> Rule:
    return Rule("work", "pure", metric, "relative" if kind == "relative" else "absolute",
                limit)


_KEY = ("work", "pure", "items")


def _expected(value: float, limit: float, band: float) -> str:
    if value > limit * (1 + band):
        return "breach"
    return "pass" if value <= limit * (1 - band) else "inconclusive"


@settings(max_examples=300, deadline=None)
@given(base=st.floats(1e3, 1e10), ratio=st.floats(0.5, 2.0), limit=st.floats(0.8, 1.5),
       spread=st.sampled_from([None, 0.0005, 0.004, 0.02]))
def test_a_relative_instruction_rule_decides_against_the_limit_widened_by_its_band(
    base: float, ratio: float, limit: float, spread: float | None,
) -> None:
    verdict = judge_count(_rule(limit), _count(base * ratio, spread=spread), "items",
                          {_KEY: _count(base)})
    band = max(CHECKOUT_SPREAD, spread or 0.0)
    measured = (base * ratio) / base  # the ratio as floating point gives it
    assert verdict.status == _expected(measured, limit, band), verdict.message
    assert verdict.ratio == pytest.approx(ratio)
    assert f"band ±{100 * band:.2g} %" in verdict.message


def test_relative_rules_breach_pass_and_are_undecided_within_the_band_of_the_limit() -> None:
    base = {_KEY: _count(1e6)}
    b = CHECKOUT_SPREAD
    assert 0 < b < 0.005  # well under 1 %, or a 1.01x limit could not pass identical code
    # identical code, and code within the measured spread across checkouts of it: pass
    for ratio in (1.0, 1 + b, 1 - b):
        same = judge_count(_rule(1.01), _count(1e6 * ratio), "items", base)
        assert same.status == "pass", same.message
    assert "within the limit 1.01x, below its band" in same.message
    assert f"pass at or below {1.01 * (1 - b):.4f}x" in same.message
    # +2 %: over the limit by more than the band
    over = judge_count(_rule(1.01), _count(1.02e6), "items", base)
    assert over.status == "breach" and over.ratio == pytest.approx(1.02)
    assert f"breach above {1.01 * (1 + b):.4f}x" in over.message
    # at the limit, and just inside either edge of the band: undecided, and final
    for ratio in (1.01, 1.01 * (1 - b) * 1.0001, 1.01 * (1 + b) * 0.9999):
        near = judge_count(_rule(1.01), _count(1e6 * ratio), "items", base)
        assert near.status == "inconclusive", (ratio, near.message)
    assert near.message.startswith("undecided: within the band of the limit")
    assert "more counts will not help" in near.message and "limit further" in near.message
    # a limit below 1 demands a cut, with the same band
    cut = judge_count(_rule(0.95), _count(0.96e6), "items", base)
    assert cut.status == "breach"
    assert judge_count(_rule(0.95), _count(0.94e6), "items", base).status == "pass"


def test_absolute_rules_breach_pass_and_are_undecided_within_the_band_of_the_limit() -> None:
    b = CHECKOUT_SPREAD
    over = judge_count(_rule(2e6, "absolute"), _count(2.02e6), "items", {})
    assert over.status == "breach" and "over the limit 2 M by 1.00%" in over.message
    under = judge_count(_rule(2e6, "absolute"), _count(1.98e6), "items", {})
    assert under.status == "pass" and "within the limit 2 M, below its band" in under.message
    for value in (2e6, 2e6 * (1 + b) * 0.9999, 2e6 * (1 - b) * 1.0001):
        near = judge_count(_rule(2e6, "absolute"), _count(value), "items", {})
        assert near.status == "inconclusive", (value, near.message)
        assert near.message.startswith("undecided: within the band of the limit")
    # the band is applied to absolute limits too: 0.1 % over is not a breach
    assert judge_count(_rule(2e6, "absolute"), _count(2.002e6), "items", {}
                       ).status == "inconclusive"
    for verdict in (over, under, near):
        assert f"band ±{100 * b:.2g} %, the measured spread across checkouts" \
            in verdict.message, verdict.message
    # a count that moves with the memory layout widens an absolute limit's band too
    wide = judge_count(_rule(2e6, "absolute"), _count(2.01e6, spread=0.008), "items", {})
    assert wide.status == "inconclusive" and "band ±0.8 %" in wide.message


def test_failures_and_incomparable_baselines_are_not_judged() -> None:
    failed = judge_count(_rule(1.1), _count(0, error="worker died"), "items", {})
    assert failed.status == "inconclusive" and "worker died" in failed.message
    assert judge_count(_rule(1.1), _count(1e6), "items", {}).status == "no-baseline"
    other = judge_count(_rule(1.1), _count(1e6), "items",
                        {_KEY: _count(1e6, tool="valgrind-3.22.0")})
    assert other.status == "not-comparable" and "valgrind version" in other.message
    moved = judge_count(_rule(1.1), _count(1e6), "items",
                        {_KEY: _count(1e6, env={**_ENV, "python": "3.12.0"})})
    assert moved.status == "not-comparable" and "python" in moved.message
    misses = judge_count(_rule(1e3, "absolute", "l1_misses"), _count(1e6), "items", {})
    assert misses.status == "inconclusive" and "cache simulation" in misses.message


def test_a_count_that_moves_with_the_memory_layout_widens_the_band() -> None:
    b = CHECKOUT_SPREAD
    # the baseline's layouts spread 0.6 %: the band is ±0.6 %, named as the baseline's
    base = {_KEY: _count(1e6, spread=0.006)}
    same = judge_count(_rule(1.01), _count(1.005e6, spread=0.002), "items", base)
    assert same.status == "inconclusive", same.message  # 1.005 > 1.01 x 0.994
    assert "band ±0.6 %, the baseline count's measured spread over memory layouts" \
        in same.message and f"wider than the ±{100 * b:.2g} % measured across checkouts" \
        in same.message
    assert judge_count(_rule(1.01), _count(1e6, spread=0.002), "items", base
                       ).status == "pass"  # 1.0 <= 1.01 x 0.994
    # +2 % is over 1.01x by more than ±0.6 %, +1.5 % is not
    assert judge_count(_rule(1.01), _count(1.02e6), "items", base).status == "breach"
    assert judge_count(_rule(1.01), _count(1.015e6), "items", base).status == "inconclusive"
    # the current count's spread widens it the same way; the wider of the two is used
    now = judge_count(_rule(1.01), _count(1.015e6, spread=0.009), "items", base)
    assert now.status == "inconclusive" and "band ±0.9 %, the current count's" in now.message
    # spreads within the floor leave the band at the floor, and the message says so
    tight = judge_count(_rule(1.01), _count(1.009e6, spread=b / 2), "items",
                        {_KEY: _count(1e6, spread=b / 4)})
    assert tight.status == "inconclusive"
    assert f"band ±{100 * b:.2g} %, the measured spread across checkouts, wider than the " \
        f"layout spreads: current {100 * b / 2:.2g} %, baseline {100 * b / 4:.2g} %" \
        in tight.message


def test_instruction_rules_parse_with_counts_and_refuse_other_units() -> None:
    spec = parse_budgets('[stage.work]\ninstructions = ["1.005x", "2.5M"]\n'
                         'll_misses = { limit = "12k", level = "warn" }\n')
    values = {(r.metric, r.kind): (r.value, r.level) for r in spec.rules}
    assert values == {("instructions", "relative"): (1.005, "error"),
                      ("instructions", "absolute"): (2.5e6, "error"),
                      ("ll_misses", "absolute"): (12e3, "warn")}
    with pytest.raises(Exception, match="is a time, but instructions takes"):
        parse_budgets('[stage.work]\ninstructions = "2ms"\n')


def test_an_instruction_rule_without_a_count_is_not_evaluated_and_says_why() -> None:
    absolute = check(parse_budgets('[stage.work]\ninstructions = "2M"\n'), [])
    [verdict] = absolute.verdicts
    assert verdict.status == "inconclusive" and "instruction count" in verdict.message
    # relative, with no baseline count: not counted at all, since it could not be judged
    relative = check(parse_budgets('[stage.work]\ninstructions = "1.01x"\n'), [])
    [verdict] = relative.verdicts
    assert verdict.status == "no-baseline" and "workbench baseline" in verdict.message


def test_counts_round_trip_through_json_and_refuse_malformed_records() -> None:
    count = _count(1.5e6)
    assert InstructionCount.from_json(json.loads(json.dumps(count.to_json()))) == count
    with pytest.raises(Exception, match="malformed instruction count"):
        InstructionCount.from_json({"per_call": {"Ir": "many"}})


def test_a_check_without_baseline_counts_does_not_count_what_it_cannot_judge(
    loops_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from workbench.budget.instructions import count_sides

    monkeypatch.setenv("WORKBENCH_VALGRIND", str(tmp_path / "nowhere"))
    spec = parse_budgets('[stage.work]\ninstructions = "1.01x"\n')
    args = (spec, [("work", "pure")], "items", "loopspipe:make", None,
            [("current", None, None)])
    # a stored baseline without counts (or none): relative rules cannot be judged, so
    # nothing runs, not even the search for Valgrind
    assert count_sides(*args, baseline=()) == {"current": ()}
    # a stored count of work/pure on items, or an absolute rule: counting is worth it
    with pytest.raises(ValgrindUnavailable, match="WORKBENCH_VALGRIND"):
        count_sides(*args, baseline=[_count(1e6)])
    absolute = parse_budgets('[stage.work]\ninstructions = "2M"\n')
    with pytest.raises(ValgrindUnavailable, match="WORKBENCH_VALGRIND"):
        count_sides(absolute, *args[1:], baseline=())
    # both sides counted now (check --against): always
    with pytest.raises(ValgrindUnavailable, match="WORKBENCH_VALGRIND"):
        count_sides(*args)
