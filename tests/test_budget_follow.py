"""Budgets that follow a decision: the budgets file edited with its comments kept, the
chosen variant held at exactly the decision's limits, everything else as it was."""

from __future__ import annotations

import dataclasses
import functools
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from workbench.budget.rules import METRICS, Rule
from workbench.budget.spec import load_budgets, parse_budgets
from workbench.decisions import DecisionRecord
from workbench.decisions.budget_follow import follow_decision, limit_text, plan_follow
from workbench.errors import ExecutionError, InvalidInputError

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("pure", "vectorized", "native")
STAGES = {s: VARIANTS for s in ("clean", "chunk", "embed", "retrieve")}
Limit = tuple[str, str, float, str]
P50_2MS: Limit = ("latency_p50", "absolute", 2e6, "error")
RSS_15X: Limit = ("peak_rss", "relative", 1.5, "error")


@functools.cache
def _sample() -> DecisionRecord:
    from result_samples import decision

    return decision()


def decided(stage: str, variant: str, *limits: Limit, id: str = "d-aaaabbbbcccc",
            author: str = "ann\nwith a newline") -> DecisionRecord:
    rules = tuple(Rule(stage, variant, metric, kind, value, level)  # type: ignore[arg-type]
                  for metric, kind, value, level in limits)
    return dataclasses.replace(_sample(), stage=stage, variant=variant, limits=rules,
                               author=author, id=id)


def rules_of(path: Path, stages: Mapping[str, Sequence[str]] = STAGES,
             ) -> dict[tuple[str, str], list[tuple[object, ...]]]:
    """Every stage/variant's rules (metric, kind, value, level), sorted."""
    spec = load_budgets(path, stages=stages)
    # a stage's targets ([target.STAGE]) hold whichever variant runs: a decision leaves them
    return {(s, v): sorted((r.metric, r.kind, r.value, r.level) for r in spec.rules_for(s, v)
                           if not r.target)
            for s, vs in stages.items() for v in vs}


def comments(text: str) -> list[str]:
    """The comment of every line (in these files '#' only starts comments)."""
    return [line[line.index("#"):] for line in text.splitlines() if "#" in line]


def others_unchanged(before: dict[tuple[str, str], list[tuple[object, ...]]],
                     after: dict[tuple[str, str], list[tuple[object, ...]]],
                     chosen: tuple[str, str]) -> bool:
    return {k: v for k, v in before.items() if k != chosen} == \
        {k: v for k, v in after.items() if k != chosen}


def with_defaults(defaults: list[tuple[object, ...]], *limits: Limit,
                  ) -> list[tuple[object, ...]]:
    """``limits`` plus the defaults for the metrics they do not name."""
    named = {limit[0] for limit in limits}
    return sorted([*limits, *(r for r in defaults if r[0] not in named)])


# -- the proof: comments survive -------------------------------------------------

COMMENTED = """\
# Budgets of my pipeline.
# Checked in CI.

[defaults]   # every stage
latency_p95 = { limit = "1.1x", level = "warn" }   # noisy: warn only
peak_rss = "1.5x"

# chunk: two variants share a table
[stage.chunk]
variant = ["pure", "native"]   # vectorized is new
latency_p50 = "1.1x"  # median
# (between keys)
scaling = 1.2
# this one leads into embed

[stage.embed]  # pure only
latency_p50 = "1.2x"  # the hashing model
heap_peak = "64MiB"   # no arrays

# the end
"""


def test_a_budgets_file_with_comments_keeps_them_after_a_decision_updates_it(
        tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text(COMMENTED, encoding="utf-8")
    before = rules_of(path)
    # native leaves chunk's list and gets its own table; embed/pure's table is reused
    follow_decision(path, decided("chunk", "native", P50_2MS, RSS_15X), stages=STAGES)
    embed: tuple[Limit, ...] = (("latency_p50", "relative", 1.2, "error"),
                                ("heap_peak", "absolute", 2**26, "warn"),
                                ("throughput", "absolute", 2500, "warn"))
    follow_decision(path, decided("embed", "pure", *embed), stages=STAGES)
    text = path.read_text(encoding="utf-8")
    kept = [c for c in comments(text) if not c.startswith("# decided ")]
    assert kept == comments(COMMENTED)  # every comment, in the same order
    assert "# decided d-aaaabbbbcccc (2026-11-28, ann with a newline): chunk uses native" \
        in text.splitlines()
    # a key that already says the decision's limit keeps its spelling, a replaced one its
    # comment; a new key goes before the comment lines that lead into what follows
    assert 'latency_p50 = "1.2x"  # the hashing model\n' in text
    assert 'throughput = { limit = "2500 items/s", level = "warn" }\n\n# decided' in text
    assert text.endswith('[stage."chunk/native"]\nlatency_p50 = { limit = "2ms", level = '
                         '"error" }\npeak_rss = { limit = "1.5x", level = "error" }\n\n'
                         "# the end\n")
    assert 'heap_peak = { limit = "64MiB", level = "warn" }   # no arrays\n' in text
    assert 'variant = ["pure"]   # vectorized is new' in text
    after = rules_of(path)
    # there is no [stage.clean]: it has only the defaults (of pure: no variant key)
    assert after[("chunk", "native")] == with_defaults(before[("clean", "native")], P50_2MS,
                                                       RSS_15X) == sorted([P50_2MS, RSS_15X])
    assert after[("embed", "pure")] == with_defaults(before[("clean", "pure")], *embed)
    assert {k: v for k, v in after.items() if k not in (("chunk", "native"), ("embed", "pure"))} \
        == {k: v for k, v in before.items() if k not in (("chunk", "native"), ("embed", "pure"))}


# -- the repository's own budgets.toml ---------------------------------------------------


def test_the_real_budgets_file_budgets_a_new_variant_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    shutil.copy(ROOT / "budgets.toml", path)
    before_text = path.read_text(encoding="utf-8")
    before = rules_of(path)
    done = follow_decision(path, decided("chunk", "vectorized", P50_2MS, RSS_15X),
                           stages=STAGES)
    assert done.changed and done.path == path
    assert done.summary == (f'{path}: [stage."chunk/vectorized"] latency_p50 <= 2 ms (error), '
                            "peak_rss <= 1.5x baseline (error)")
    text = path.read_text(encoding="utf-8")
    assert text.startswith(before_text)  # vectorized was in no table: only an addition
    assert text[len(before_text):] == (
        "\n# decided d-aaaabbbbcccc (2026-11-28, ann with a newline): chunk uses vectorized\n"
        '[stage."chunk/vectorized"]\n'
        'latency_p50 = { limit = "2ms", level = "error" }\n'
        'peak_rss = { limit = "1.5x", level = "error" }\n')
    spec = parse_budgets(text, stages=STAGES)
    defaults = [r for r in spec.rules if r.stage == "*" and r.metric not in
                ("latency_p50", "peak_rss")]
    assert sorted((r.metric, r.kind, r.value, r.level)
                  for r in spec.rules_for("chunk", "vectorized") if not r.target) == \
        sorted([P50_2MS, RSS_15X, *((r.metric, r.kind, r.value, r.level) for r in defaults)])
    assert [r for r in spec.rules if r.target] == [r for r in parse_budgets(
        before_text, stages=STAGES).rules if r.target]  # the targets stay as they were
    after = rules_of(path)
    assert after[("chunk", "vectorized")] == with_defaults(before[("chunk", "vectorized")],
                                                           P50_2MS, RSS_15X)
    assert after[("chunk", "vectorized")] == with_defaults(before[("clean", "vectorized")],
                                                           P50_2MS, RSS_15X)
    assert others_unchanged(before, after, ("chunk", "vectorized"))


LISTED = """\
[defaults]
variant = "*"
peak_rss = { limit = "1.5x", level = "error" }
throughput = { limit = "0.9x", level = "warn" }

[stage.chunk]
variant = ["pure", "native"]
latency_p50 = { limit = "1.1x", level = "error" }

[stage.embed]
variant = ["pure", "native"]
latency_p50 = { limit = "1.1x", level = "error" }
"""


def test_a_variant_in_a_variant_list_leaves_it_for_a_table_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text(LISTED, encoding="utf-8")
    before_text = path.read_text(encoding="utf-8")
    before = rules_of(path)
    done = follow_decision(path, decided("chunk", "native", P50_2MS, RSS_15X), stages=STAGES)
    assert done.summary.endswith("; native taken out of [stage.chunk]'s variants")
    text = path.read_text(encoding="utf-8")
    chunk = text.split("[stage.chunk]\n")[1].split("\n\n")[0]
    assert chunk.startswith('variant = ["pure"]\n')
    assert comments(before_text) == [c for c in comments(text) if not c.startswith("# decided")]
    after = rules_of(path)
    defaults = before[("chunk", "vectorized")]  # in no stage table: only the defaults
    assert after[("chunk", "native")] == with_defaults(defaults, P50_2MS, RSS_15X)
    assert others_unchanged(before, after, ("chunk", "native"))


# -- "*" tables --------------------------------------------------------------------------


def test_a_table_for_every_variant_is_narrowed_only_with_the_stage_names(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text('[stage.embed]\nvariant = "*"  # all of them\nlatency_p95 = "1.2x"\n',
                    encoding="utf-8")
    before = path.read_bytes()
    choice = decided("embed", "vectorized", ("latency_p95", "absolute", 5e5, "error"))
    with pytest.raises(InvalidInputError, match=r'\[stage.embed\] applies to every variant'):
        follow_decision(path, choice)
    assert path.read_bytes() == before
    done = follow_decision(path, choice, stages=STAGES)
    assert '[stage.embed] variant "*" -> pure, native' in done.summary
    text = path.read_text(encoding="utf-8")
    assert 'variant = ["pure", "native"]  # all of them' in text
    spec = load_budgets(path, stages=STAGES)
    assert [(r.variant, r.value) for r in spec.rules_for("embed", "vectorized")] == \
        [("vectorized", 5e5)]
    assert [r.value for r in spec.rules_for("embed", "native")] == [1.2]
    assert [r.value for r in spec.rules_for("embed", "pure")] == [1.2]


def test_the_every_variant_table_of_a_one_variant_stage_becomes_its_table(
        tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text('# lead\n[stage.embed]\nvariant = "*"\nlatency_p95 = "1.2x"\n'
                    '# into clean\n[stage.clean]\nlatency_p50 = "1.1x"\n', encoding="utf-8")
    stages = {"embed": ("native",), "clean": ("pure",)}
    follow_decision(path, decided("embed", "native", P50_2MS), stages=stages)
    text = path.read_text(encoding="utf-8")
    assert text == ('# lead\n# decided d-aaaabbbbcccc (2026-11-28, ann with a newline): embed '
                    'uses native\n[stage.embed]\nvariant = "native"\n'
                    'latency_p50 = { limit = "2ms", level = "error" }\n'
                    '# into clean\n[stage.clean]\nlatency_p50 = "1.1x"\n')


# -- later decisions, duplicates ---------------------------------------------------------


def test_a_second_decision_replaces_the_limits_and_the_comment(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    shutil.copy(ROOT / "budgets.toml", path)
    first = follow_decision(path, decided("chunk", "native", P50_2MS, RSS_15X), stages=STAGES)
    text = path.read_text(encoding="utf-8")
    # the same decision again: nothing to change
    again = follow_decision(path, decided("chunk", "native", P50_2MS, RSS_15X), stages=STAGES)
    assert first.changed and not again.changed and again.text is None
    assert "unchanged" in again.summary and path.read_text(encoding="utf-8") == text
    later = decided("chunk", "native", ("latency_p50", "absolute", 3e6, "warn"),
                    id="d-ddddeeeeffff", author="bob")
    follow_decision(path, later, stages=STAGES)
    final = path.read_text(encoding="utf-8")
    assert final.count('[stage."chunk/native"]') == 1 and final.count("# decided") == 1
    assert "# decided d-ddddeeeeffff (2026-11-28, bob): chunk uses native\n" \
           '[stage."chunk/native"]\nlatency_p50 = { limit = "3ms", level = "warn" }\n' in final
    native = rules_of(path)[("chunk", "native")]
    assert [r for r in native if r[0] in ("latency_p50", "peak_rss")] == [
        ("latency_p50", "absolute", 3e6, "warn"), ("peak_rss", "relative", 1.5, "error")]  # default


def test_a_second_table_dedicated_to_the_variant_is_removed_keeping_its_comments(
        tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text('[stage."chunk/native"]\nlatency_p50 = "1.1x"  # old\n# lead 2\n'
                    '[stage.chunk]\nvariant = "native"\npeak_rss = "1.2x"\n# lead embed\n\n'
                    '[stage.embed]\nlatency_p50 = "1.1x"\n', encoding="utf-8")
    done = follow_decision(path, decided("chunk", "native", P50_2MS))
    assert "[stage.chunk] removed" in done.summary
    assert path.read_text(encoding="utf-8") == (
        "# decided d-aaaabbbbcccc (2026-11-28, ann with a newline): chunk uses native\n"
        '[stage."chunk/native"]\nlatency_p50 = { limit = "2ms", level = "error" }  # old\n'
        "# lead 2\n# lead embed\n\n[stage.embed]\nlatency_p50 = \"1.1x\"\n")


def test_pure_reuses_the_stage_table_and_no_limits_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text("# mine\n[stage.clean]   # pure's table\nlatency_p50 = \"1.1x\"\n",
                    encoding="utf-8")
    before = path.read_bytes()
    nothing = follow_decision(path, decided("clean", "pure"))
    assert not nothing.changed and "no limits" in nothing.summary
    assert path.read_bytes() == before
    follow_decision(path, decided("clean", "pure", ("latency_p99", "absolute", 1e7, "error")))
    text = path.read_text(encoding="utf-8")
    assert text.count("[stage.clean]") == 1 and "# pure's table" in text
    assert [r.metric for r in load_budgets(path).rules_for("clean", "pure")] == ["latency_p99"]
    assert 'latency_p99 = { limit = "10ms", level = "error" }' in text


def test_the_decision_comment_is_one_line_whatever_the_author_writes(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    hostile = "eve\r\n[stage.x]\x00\x1b[31m\u2028\u2029\x85 ok"
    follow_decision(path, decided("chunk", "native", P50_2MS, author=hostile))
    (line,) = [ln for ln in path.read_text(encoding="utf-8").split("\n") if "decided" in ln]
    assert line == ("# decided d-aaaabbbbcccc (2026-11-28, eve [stage.x] [31m ok): chunk uses "
                    "native")
    assert len(load_budgets(path).rules) == 1


# -- refusals ------------------------------------------------------------------------------


def test_a_malformed_file_is_refused_untouched_and_a_missing_one_is_created(
        tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text("# keep me\n[stage.chunk]\nlatency_p50 = 1.1\n", encoding="utf-8")
    before = path.read_bytes()
    choice = decided("chunk", "native", P50_2MS)
    with pytest.raises(InvalidInputError, match=r"budgets.toml:3: .*has no unit"):
        follow_decision(path, choice)
    path.write_text("[stage.chunk]\nlatency_p50 = \n", encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(InvalidInputError, match="malformed TOML"):
        follow_decision(path, choice)
    assert path.read_bytes() == before
    fresh = tmp_path / "new" / "budgets.toml"
    done = follow_decision(fresh, choice)
    assert done.changed and fresh.read_text(encoding="utf-8").startswith("# ")
    assert [r.value for r in load_budgets(fresh).rules_for("chunk", "native")] == [2e6]


@pytest.mark.parametrize(("text", "match"), [
    ('stage.chunk.latency_p50 = "1.1x"\n', "inline or with dotted keys"),
    ('[stage]\nchunk = { latency_p50 = "1.1x" }\n', r"\[stage.chunk\] covers chunk/pure"),
    ('[stage."chunk/*"]\nlatency_p50 = "1.1x"\n', "cannot be narrowed"),
])
def test_tables_that_cannot_be_edited_are_refused(tmp_path: Path, text: str,
                                                  match: str) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=match):
        follow_decision(path, decided("chunk", "pure", P50_2MS))
    assert path.read_text(encoding="utf-8") == text


def test_decisions_that_cannot_be_budgets_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    with pytest.raises(InvalidInputError, match="unknown stage/variant chunk/gpu"):
        follow_decision(path, decided("chunk", "gpu", P50_2MS), stages=STAGES)
    with pytest.raises(InvalidInputError, match="cannot name a budgets table"):
        follow_decision(path, decided("chunk/x", "native", P50_2MS))
    with pytest.raises(InvalidInputError, match="are not budget rules"):
        follow_decision(path, decided("chunk", "native", P50_2MS,
                                      ("latency_p50", "absolute", 3e6, "warn")))
    assert not path.exists()


def test_an_update_that_would_not_hold_the_variant_is_not_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.decisions import budget_follow

    path = tmp_path / "budgets.toml"
    path.write_text('[stage.chunk]\nlatency_p50 = "1.1x"\n', encoding="utf-8")
    monkeypatch.setattr(budget_follow, "limit_text", lambda rule: "3ms")
    with pytest.raises(ExecutionError, match=r"budgets.toml: the update would hold chunk/native"):
        follow_decision(path, decided("chunk", "native", P50_2MS))
    assert path.read_text(encoding="utf-8") == '[stage.chunk]\nlatency_p50 = "1.1x"\n'


# -- values written back exactly -----------------------------------------------------------

POSITIVE = st.floats(min_value=5e-324, max_value=1e300, allow_nan=False,
                     allow_infinity=False, allow_subnormal=True)


def accepted(metric: str, kind: str, value: float) -> bool:
    """Whether the grammar takes this limit: hit rates and contention are absolute only,
    and a hit rate is at most 1."""
    unit = METRICS[metric].kind
    return not (unit in ("fraction", "ratio") and kind == "relative") and \
        not (unit == "fraction" and value > 1)


@given(st.sampled_from(sorted(METRICS)), st.sampled_from(("relative", "absolute")), POSITIVE)
def test_limits_are_written_as_text_that_reads_back_exactly(metric: str, kind: str,
                                                            value: float) -> None:
    assume(accepted(metric, kind, value))
    rule = Rule("chunk", "pure", metric, kind, value)  # type: ignore[arg-type]
    text = limit_text(rule)
    plain = metric == "scaling" and kind == "absolute"
    spec = parse_budgets(f"[stage.chunk]\n{metric} = {text if plain else repr(text)}\n")
    (back,) = spec.rules
    assert (back.kind, back.value) == (kind, value), text


@given(st.lists(st.tuples(st.sampled_from(sorted(METRICS)),
                          st.sampled_from(("relative", "absolute")), POSITIVE,
                          st.sampled_from(("error", "warn"))).filter(lambda t: accepted(*t[:3])),
                min_size=1, max_size=6, unique_by=lambda t: (t[0], t[1])))
def test_a_decision_is_planned_as_exactly_its_limits(limits: list[Limit]) -> None:
    record = decided("chunk", "native", *limits)
    plan = plan_follow(Path("/nonexistent/budgets.toml"), record)  # planned, never written
    assert plan.changed and plan.text is not None
    spec = parse_budgets(plan.text)
    assert sorted((r.metric, r.kind, r.value, r.level) for r in spec.rules) == sorted(limits)


@pytest.mark.parametrize(("metric", "value", "text"), [
    ("latency_p50", 2e6, "2ms"), ("latency_p50", 1500, "1.5us"), ("latency_p95", 1.5e9, "1.5s"),
    ("latency_p99", 0.5, "0.5ns"), ("peak_rss", 800e6, "800MB"),
    ("heap_peak", 64 * 2**20, "64MiB"), ("peak_rss", 1024, "1KiB"), ("peak_rss", 999, "999B"),
    ("throughput", 2500, "2500 items/s"), ("scaling", 1.2, "1.2"),
])
def test_limits_are_written_in_the_most_readable_exact_unit(metric: str, value: float,
                                                            text: str) -> None:
    assert limit_text(Rule("chunk", "pure", metric, "absolute", value)) == text
    assert limit_text(Rule("chunk", "pure", metric, "relative", 1.1)) == "1.1x"


# -- file modes and the decide command -----------------------------------------------------


def test_the_updated_file_keeps_its_mode_and_a_new_one_gets_the_umasks(tmp_path: Path) -> None:
    import os
    import stat

    path = tmp_path / "budgets.toml"
    path.write_text("[stage.chunk]\nlatency_p50 = \"1.1x\"\n", encoding="utf-8")
    path.chmod(0o664)
    follow_decision(path, decided("chunk", "native", P50_2MS))
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


def test_only_the_decided_variants_earlier_comment_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text("# decided to keep this loose\n[stage.chunk]\nlatency_p50 = \"1.1x\"\n",
                    encoding="utf-8")
    follow_decision(path, decided("chunk", "native", P50_2MS, id="d-1"))
    follow_decision(path, decided("chunk", "vectorized", P50_2MS, id="d-2"))
    follow_decision(path, decided("chunk", "native", RSS_15X, id="d-3"))
    decided_lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
                     if ln.startswith("# decided")]
    assert decided_lines == [
        "# decided to keep this loose",
        "# decided d-3 (2026-11-28, ann with a newline): chunk uses native",
        "# decided d-2 (2026-11-28, ann with a newline): chunk uses vectorized"]
