"""Budgets that follow a decision: the budgets file edited with its comments kept, the
chosen variant held at exactly the decision's limits, everything else as it was."""

from __future__ import annotations

import dataclasses
import functools
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.budget.rules import METRICS, Rule
from workbench.budget.spec import load_budgets, parse_budgets
from workbench.decisions import DecisionRecord
from workbench.decisions.budget_follow import follow_decision, limit_text
from workbench.errors import InvalidInputError

ROOT = Path(__file__).resolve().parents[1]
STAGES = {"clean": ("pure", "vectorized", "native"), "chunk": ("pure", "vectorized", "native"),
          "embed": ("pure", "vectorized", "native"),
          "retrieve": ("pure", "vectorized", "native")}


@functools.cache
def _sample() -> DecisionRecord:
    from result_samples import decision

    return decision()


def decided(stage: str, variant: str, *limits: tuple[str, str, float, str]) -> DecisionRecord:
    rules = tuple(Rule(stage, variant, metric, kind, value, level)  # type: ignore[arg-type]
                  for metric, kind, value, level in limits)
    return dataclasses.replace(_sample(), stage=stage, variant=variant, limits=rules,
                               author="ann\nwith a newline", id="d-aaaabbbbcccc")


def _all_rules(path: Path) -> dict[tuple[str, str], list[tuple[object, ...]]]:
    spec = load_budgets(path, stages=STAGES)
    return {(s, v): sorted((r.metric, r.kind, r.value, r.level) for r in spec.rules_for(s, v))
            for s, vs in STAGES.items() for v in vs}


def test_the_real_budgets_file_keeps_its_comments_and_every_other_rule(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    shutil.copy(ROOT / "budgets.toml", path)
    before_text = path.read_text(encoding="utf-8")
    before = _all_rules(path)
    done = follow_decision(path, decided("chunk", "native", ("latency_p50", "absolute", 2e6,
                                                             "error"),
                                         ("peak_rss", "relative", 1.5, "error")),
                           stages=STAGES)
    assert done.changed and '[stage."chunk/native"] latency_p50 <= 2 ms (error)' in done.summary
    text = path.read_text(encoding="utf-8")
    comments = [ln for ln in before_text.splitlines() if ln.lstrip().startswith("#")
                or "#" in ln.split("=", 1)[-1]]
    for line in comments:
        if "variant" not in line.split("#")[0]:
            assert line in text, line
    assert '# the hashing model (the default); minilm is too slow for CI' in text
    assert "# decided d-aaaabbbbcccc (2026-11-28, ann with a newline): chunk uses native" \
        in text
    after = _all_rules(path)
    assert after[("chunk", "native")] == sorted(
        [("latency_p50", "absolute", 2e6, "error"), ("peak_rss", "relative", 1.5, "error")]
        + [r for r in before[("chunk", "native")] if r[0] not in ("latency_p50", "peak_rss")])
    assert {k: v for k, v in after.items() if k != ("chunk", "native")} == \
        {k: v for k, v in before.items() if k != ("chunk", "native")}
    # the same decision again: nothing to change, no second table or comment
    again = follow_decision(path, decided("chunk", "native", ("latency_p50", "absolute", 2e6,
                                                              "error"),
                                          ("peak_rss", "relative", 1.5, "error")),
                            stages=STAGES)
    assert not again.changed and path.read_text(encoding="utf-8") == text
    # a later decision replaces the limits and the comment
    follow_decision(path, dataclasses.replace(
        decided("chunk", "native", ("latency_p50", "absolute", 3e6, "warn")),
        id="d-ddddeeeeffff"), stages=STAGES)
    final = path.read_text(encoding="utf-8")
    assert final.count('[stage."chunk/native"]') == 1 and final.count("# decided") == 1
    assert "d-ddddeeeeffff" in final
    native = _all_rules(path)[("chunk", "native")]
    assert [r for r in native if r[0] == "latency_p50"] == [("latency_p50", "absolute", 3e6,
                                                              "warn")]


def test_a_table_for_every_variant_is_narrowed_only_with_the_stage_names(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text('[stage.embed]\nvariant = "*"  # all of them\nlatency_p95 = "1.2x"\n',
                    encoding="utf-8")
    choice = decided("embed", "vectorized", ("latency_p95", "absolute", 5e5, "error"))
    with pytest.raises(InvalidInputError, match=r'\[stage.embed\] applies to every variant'):
        follow_decision(path, choice)
    assert "variant = \"*\"" in path.read_text(encoding="utf-8")
    follow_decision(path, choice, stages=STAGES)
    spec = load_budgets(path, stages=STAGES)
    assert [(r.variant, r.value) for r in spec.rules_for("embed", "vectorized")] == \
        [("vectorized", 5e5)]
    assert [r.value for r in spec.rules_for("embed", "native")] == [1.2]
    assert "# all of them" in path.read_text(encoding="utf-8")


def test_pure_reuses_the_stage_table_and_no_limits_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text("# mine\n[stage.clean]   # pure's table\nlatency_p50 = \"1.1x\"\n",
                    encoding="utf-8")
    before = path.read_bytes()
    assert not follow_decision(path, decided("clean", "pure")).changed
    assert path.read_bytes() == before
    follow_decision(path, decided("clean", "pure", ("latency_p99", "absolute", 1e7, "error")))
    text = path.read_text(encoding="utf-8")
    assert text.count("[stage.clean]") == 1 and "# pure's table" in text
    assert [r.metric for r in load_budgets(path).rules_for("clean", "pure")] == ["latency_p99"]


def test_a_malformed_file_is_refused_untouched_and_a_missing_one_is_created(
        tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text("[stage.chunk]\nlatency_p50 = 1.1\n", encoding="utf-8")
    before = path.read_bytes()
    choice = decided("chunk", "native", ("latency_p50", "absolute", 2e6, "error"))
    with pytest.raises(InvalidInputError, match="has no unit"):
        follow_decision(path, choice)
    assert path.read_bytes() == before
    fresh = tmp_path / "new" / "budgets.toml"
    assert follow_decision(fresh, choice).changed
    assert [r.value for r in load_budgets(fresh).rules_for("chunk", "native")] == [2e6]


@given(st.sampled_from(sorted(METRICS)), st.sampled_from(("relative", "absolute")),
       st.floats(min_value=1e-6, max_value=1e15, allow_nan=False, allow_infinity=False))
def test_limits_are_written_as_text_that_reads_back_exactly(metric: str, kind: str,
                                                            value: float) -> None:
    rule = Rule("chunk", "pure", metric, kind, value)  # type: ignore[arg-type]
    text = limit_text(rule)
    value_text = text if metric == "scaling" and kind == "absolute" and "x" not in text \
        else f'"{text}"'
    spec = parse_budgets(f"[stage.chunk]\n{metric} = {value_text}\n")
    (back,) = spec.rules
    assert (back.kind, back.value) == (kind, value), text


def test_the_updated_file_keeps_its_mode_and_a_new_one_gets_the_umasks(tmp_path: Path) -> None:
    import os
    import stat

    path = tmp_path / "budgets.toml"
    path.write_text("[stage.chunk]\nlatency_p50 = \"1.1x\"\n", encoding="utf-8")
    path.chmod(0o664)
    follow_decision(path, decided("chunk", "native", ("latency_p50", "absolute", 2e6, "error")))
    assert stat.S_IMODE(path.stat().st_mode) == 0o664
    old = os.umask(0o027)
    try:
        fresh = tmp_path / "fresh.toml"
        follow_decision(fresh, decided("chunk", "pure", ("latency_p50", "absolute", 1e6,
                                                         "error")))
    finally:
        os.umask(old)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o640


def test_a_malformed_budgets_file_stops_the_decision_before_anything_is_written(
        tmp_path: Path) -> None:
    from result_samples import measurement

    from workbench import app
    from workbench.budget.limits import flag_rules
    from workbench.measure.comparison import VariantResult, build_comparison
    from workbench.stages import EquivalenceResult

    path = tmp_path / "budgets.toml"
    path.write_text("[stage.chunk]\nvariant = [\"pure\", \"native\"]\nlatency_p50 = \"1.1x\"\n"
                    "[stage.chunk]\n", encoding="utf-8")  # a table twice: not TOML
    before = path.read_bytes()
    results = tuple(VariantResult(v, measurement(v, 1e6, workers=2, samples=5,
                                                 workload="tiny", stage="chunk"),
                                  equivalence=EquivalenceResult(True, "same"))
                    for v in ("pure", "native"))
    log = tmp_path / "log.jsonl"
    with pytest.raises(InvalidInputError, match="malformed TOML"):
        app.decide("chunk", "native", "fast", log=log,
                   evidence=(build_comparison("chunk", "tiny", results),), budgets=path,
                   limits=flag_rules({"latency": "2ms"}, "chunk", "native"))
    assert not log.exists() and path.read_bytes() == before
