"""The cached tier in the selection rule, the decision's evidence and the hotspot hint.

Comparisons are built from measurements whose worker runs carry memo-table counters and
contention timings (chosen numbers, nothing timed): a cached variant is suggested before
vectorized only when its four conditions hold, and the reason and the evidence name each
condition with its figure.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from workbench.budget.check_result import Verdict
from workbench.budget.rules import Rule
from workbench.decisions.cache_conditions import cache_check
from workbench.decisions.rule import NO_VARIANT, Suggestion, eligible, suggest
from workbench.measure.comparison import Comparison, VariantResult, build_comparison
from workbench.measure.config import MeasureConfig
from workbench.measure.measurement import Measurement
from workbench.measure.protocol import WorkerRun
from workbench.measure.targets import TargetSpec
from workbench.stages import EquivalenceResult

WORKERS = 6  # the fewest for a 95 % interval of the median
TABLE = {"name": "chunks", "key": "sha256 of the text, and the chunk size",
         "version": "1", "max_entries": 10_000, "max_bytes": None, "hashes_payload": False}
ENV = {"cpu_model": "Test CPU", "python": "3.11.7"}


def _run(w: int, ns: float, *, hit_rate: float | None, size: int,
         tables: tuple[dict[str, Any], ...], contention: float | None) -> WorkerRun:
    lookups = 1000
    hits = 0 if hit_rate is None else round(lookups * hit_rate)
    if 0 < hits < lookups:  # workers differ a little
        hits += (w % 3) - 1
    cache = {"state": "warm", "batches": 8, "hits": hits if hit_rate is not None else 0,
             "misses": lookups - hits if hit_rate is not None else 0, "evictions": 0,
             "entries": 900, "bytes": size + 1000 * w, "tables": list(tables), "note": ""}
    timing = None if contention is None else {
        "threads": 2, "items": 400, "single_ns": [1_000_000] * 3,
        "multi_ns": [round(1_000_000 / (contention * (1 + 0.01 * (w - 2))))] * 3}
    return WorkerRun(index=w, ok=True, batch_ns=tuple(int(ns * (1 + 0.01 * (i % 5)))
                                                      for i in range(10)),
                     items_per_call=40, rss_peak_kb=160_000 + w, heap_peak_bytes=90_000,
                     cache=cache, contention=timing)


def _measurement(variant: str, ns: float, *, cached: bool = False,
                 hit_rate: float | None = 0.9, size: int = 3_300_000,
                 tables: tuple[dict[str, Any], ...] = (TABLE,),
                 contention: float | None = 0.97) -> Measurement:
    runs = tuple(
        _run(w, ns, hit_rate=hit_rate, size=size, tables=tables, contention=contention)
        if cached else
        WorkerRun(index=w, ok=True, batch_ns=tuple(int(ns * (1 + 0.01 * (i % 5)))
                                                   for i in range(10)),
                  items_per_call=40, rss_peak_kb=150_000 + w)
        for w in range(WORKERS))
    return Measurement(TargetSpec("stage", "chunk", variant, "docs"), MeasureConfig(), runs,
                       "2026-11-28T00:00:00+00:00", dict(ENV))


def comparison(**cache: Any) -> Comparison:
    """pure, cached (with ``cache``'s figures), vectorized and native, all equivalent."""
    same = EquivalenceResult(True, "same")
    return build_comparison("chunk", "docs", (
        VariantResult("pure", _measurement("pure", 1e6),
                      equivalence=EquivalenceResult(True, "the reference")),
        VariantResult("native", _measurement("native", 2e5), equivalence=same),
        VariantResult("vectorized", _measurement("vectorized", 5e5), equivalence=same),
        VariantResult("cached", _measurement("cached", 3e5, cached=True, **cache),
                      equivalence=same)))  # type: ignore[return-value]


def verdict(variant: str, metric: str, status: str, value: float = 1e6,
            level: str = "error") -> Verdict:
    rule = Rule("chunk", variant, metric, "absolute", value, level)
    return Verdict(rule, status, "docs", status, observed=value)  # type: ignore[arg-type]


SLOW_PURE = {"pure": [verdict("pure", "latency_p50", "breach")]}
ORDER = ("pure", "vectorized", "native", "cached")  # declared last: the tier still leads


# -- the rule --------------------------------------------------------------------------------

def test_a_cached_variant_that_holds_the_four_conditions_is_suggested_before_vectorized(
        ) -> None:
    c = comparison()
    s = suggest(c, SLOW_PURE, ORDER)
    assert s.variant == "cached"
    assert "its memo tables hold the four cache conditions" in s.reason
    assert "pure: 1 error-level breach" in s.reason
    check = s.cache_of("cached")
    assert check is not None and check.held
    assert [x.letter for x in check.conditions] == ["a", "b", "c", "d"]
    assert suggest(c, {}, ORDER).variant == "pure"  # pure meets the budget: it wins
    assert eligible(c, "cached")[0]


def test_a_cache_that_never_hits_is_skipped_naming_condition_b_with_its_figure() -> None:
    s = suggest(comparison(hit_rate=0.0), SLOW_PURE, ORDER)
    assert s.variant == "vectorized"
    assert "cached: (b) hit rate 0.0 % [0.0 %, 0.0 %] is below 50 %" in s.reason
    check = s.cache_of("cached")
    assert check is not None and [x.letter for x in check.failed] == ["b"]
    ok, why = eligible(comparison(hit_rate=0.0), "cached")
    assert not ok and why.startswith("cache conditions not held: (b) hit rate 0.0 %")


def test_without_contention_timings_condition_d_fails() -> None:
    s = suggest(comparison(contention=None), SLOW_PURE, ORDER)
    assert s.variant == "vectorized"
    assert "cached: (d) contention was not measured" in s.reason


def test_contention_below_the_default_fails_condition_d() -> None:
    s = suggest(comparison(contention=0.5), SLOW_PURE, ORDER)
    assert s.variant == "vectorized" and "(d) 2 threads: 0.5" in s.reason
    assert "is below 0.8x" in s.reason


def test_a_cache_bytes_breach_fails_condition_c() -> None:
    verdicts = {**SLOW_PURE, "cached": [verdict("cached", "cache_bytes", "breach", 1e6,
                                                level="warn")]}
    s = suggest(comparison(), verdicts, ORDER)
    assert s.variant == "vectorized"
    assert "cached: (c) the cache holds 3.15 MiB" in s.reason
    assert "cache_bytes <= " in s.reason and ": breach" in s.reason


def test_without_an_rss_budget_c_holds_and_says_so() -> None:
    check = cache_check(comparison(), "cached")
    assert check is not None
    c = check.conditions[2]
    assert c.held and c.figure.startswith("no RSS budget: the cache holds 3.15 MiB (2 % of "
                                          "peak RSS)")
    passing = cache_check(comparison(), "cached",
                          [verdict("cached", "peak_rss", "pass", 1e9)])
    assert passing is not None and passing.conditions[2].held
    assert "peak_rss <= " in passing.conditions[2].figure


def test_an_unversioned_table_fails_condition_a() -> None:
    unversioned = ({**TABLE, "version": ""},)
    s = suggest(comparison(tables=unversioned), SLOW_PURE, ORDER)
    assert s.variant == "vectorized"
    assert "cached: (a) chunks records no version" in s.reason


def test_a_table_hashing_whole_payloads_passes_and_the_figure_says_so() -> None:
    check = cache_check(comparison(tables=({**TABLE, "hashes_payload": True},)), "cached")
    assert check is not None and check.held
    assert "hashes whole payloads" in check.conditions[0].figure


def test_a_hit_rate_budget_decides_condition_b_and_inconclusive_is_not_enough() -> None:
    for status, held in (("pass", True), ("inconclusive", False), ("breach", False)):
        check = cache_check(comparison(hit_rate=0.3), "cached",
                            [verdict("cached", "hit_rate", status, 0.2, level="warn")])
        assert check is not None and check.conditions[1].held is held, status
        assert "hit_rate >= " in check.conditions[1].figure
    # without a budget, 30 % is below the default
    default = cache_check(comparison(hit_rate=0.3), "cached")
    assert default is not None and not default.conditions[1].held


def test_only_measured_cache_figures_make_the_tier_not_the_name() -> None:
    c = comparison()
    assert cache_check(c, "vectorized") is None
    plain = Comparison("chunk", "docs", "pure", (
        c.result("pure"),
        VariantResult("cached", _measurement("cached", 3e5),
                      equivalence=EquivalenceResult(True, "same")),
        c.result("vectorized")))
    s = suggest(plain, SLOW_PURE, ORDER)  # no figures: an ordinary variant, in its order
    assert s.variant == "vectorized" and s.cache == ()


def test_no_eligible_variant_names_a_cached_closest_by_its_failed_condition() -> None:
    c = comparison(hit_rate=0.0)
    verdicts = {v: [verdict(v, "latency_p50", "breach")] for v in ("pure", "vectorized",
                                                                   "native")}
    s = suggest(c, verdicts, ORDER)
    assert s.variant is None and s.closest == "cached"
    assert s.reason.startswith(f"{NO_VARIANT}; closest: cached ((b) hit rate 0.0 %")


def test_the_suggestion_keeps_the_conditions_in_json_and_old_suggestions_load() -> None:
    s = suggest(comparison(hit_rate=0.0), SLOW_PURE, ORDER)
    again = Suggestion.from_json(s.to_json())
    assert again == s and again.cache and not again.cache[0].held
    old = {"variant": "pure", "reason": "pure meets the budget", "closest": None}
    assert Suggestion.from_json(old) == Suggestion("pure", "pure meets the budget")
    assert "cache" not in Suggestion("pure", "x").to_json()


@given(hit_rate=st.sampled_from([0.0, 0.3, 0.6, 0.95]),
       contention=st.sampled_from([None, 0.4, 0.85, 1.1]),
       versioned=st.booleans(), bytes_breach=st.booleans(),
       order=st.permutations(["pure", "cached", "vectorized", "native"]))
def test_cached_is_suggested_exactly_when_all_four_conditions_hold(
        hit_rate: float, contention: float | None, versioned: bool, bytes_breach: bool,
        order: list[str]) -> None:
    tables = (TABLE if versioned else {**TABLE, "key": ""},)
    c = comparison(hit_rate=hit_rate, contention=contention, tables=tables)
    verdicts = {**SLOW_PURE, "cached": [
        verdict("cached", "cache_bytes", "breach" if bytes_breach else "pass", 1e7,
                level="warn")]}
    s = suggest(c, verdicts, order)
    failing = {"a": not versioned, "b": hit_rate < 0.5, "c": bytes_breach,
               "d": contention is None or contention < 0.8}
    if not any(failing.values()):
        assert s.variant == "cached"
    else:
        # the next tier, in the declared order of vectorized and native
        assert s.variant == next(v for v in order if v in ("vectorized", "native"))
        for letter, fails in failing.items():
            assert (f"({letter}) " in s.reason) is fails, (letter, s.reason)


# -- the decision's evidence -----------------------------------------------------------------

def _decide(c: Comparison, variant: str, verdicts: dict[str, list[Verdict]]) -> Any:
    from datetime import UTC, datetime

    from workbench.decisions import build_decision

    return build_decision(stage="chunk", variant=variant, rationale="a reason",
                          pipeline="my.pipe:make", comparison=c, verdicts=verdicts,
                          order=ORDER, who="ann", decision_id="d-0123456789ab",
                          clock=lambda: datetime(2026, 11, 28, tzinfo=UTC))


def test_the_decision_names_the_four_conditions_with_their_figures() -> None:
    from workbench.decisions.record import DecisionRecord
    from workbench.render.decision import decision_body, decision_text

    d = _decide(comparison(hit_rate=0.0), "vectorized", SLOW_PURE)
    assert d.suggestion.variant == "vectorized"
    (check,) = d.suggestion.cache
    assert [(x.letter, x.held) for x in check.conditions] == \
        [("a", True), ("b", False), ("c", True), ("d", True)]
    cached = next(a for a in d.alternatives if a.variant == "cached")
    assert not cached.eligible and "(b) hit rate 0.0 %" in cached.why
    again = DecisionRecord.from_json(d.to_json())
    assert again.suggestion == d.suggestion
    text = decision_text(again)
    assert "cache conditions of cached (NOT all held: skipped by the rule):" in text
    for line in ("(a) key stable and versioned: held: chunks: key sha256 of the text",
                 "(b) hit rate at or above the threshold: NOT held: hit rate 0.0 % "
                 "[0.0 %, 0.0 %] is below 50 %",
                 "(c) the cache fits the RSS budget: held: no RSS budget: the cache holds "
                 "3.15 MiB (2 % of peak RSS)",
                 "(d) contention measured under load: held: 2 threads: 0.975x"):
        assert line in text
    html = decision_body(again)
    assert "no: (a) key stable and versioned: held" in html
    assert "(b) hit rate at or above the threshold: NOT held" in html


def test_a_chosen_cached_variant_keeps_its_conditions_and_other_decisions_are_unchanged(
        ) -> None:
    from workbench.render.decision import decision_text

    d = _decide(comparison(), "cached", SLOW_PURE)
    assert d.followed_suggestion and d.suggestion.cache[0].held
    assert "cache conditions of cached (all held):" in decision_text(d)
    plain = Comparison("chunk", "docs", "pure", tuple(
        r for r in comparison().results if r.variant != "cached"))
    before = _decide(plain, "pure", {})
    assert before.suggestion.cache == () and "cache" not in before.to_json()["suggestion"]
    assert "cache conditions" not in decision_text(before)


# -- the hotspot hint --------------------------------------------------------------------------

def _flame(*leaves: tuple[str, int]) -> Any:
    from result_samples import LOOP, WHEN

    from workbench.profile import Flamegraph, Overhead

    stacks = tuple((f"{LOOP};chunk (my/stage.py:5);{leaf}", n) for leaf, n in leaves)
    return Flamegraph(TargetSpec("stage", "chunk", "pure", "docs"), 100, True, False, stacks,
                      Overhead(10, 1.0, 1.05), "py-spy 0.4.3", WHEN)


OWN_PYTHON = _flame(("split (my/stage.py:9)", 20), ("clean (my/stage.py:14)", 20),
                    ("count (my/stage.py:20)", 20), ("join (my/stage.py:30)", 20),
                    ("findall (re/__init__.py:216)", 15),
                    ("add (numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so)", 5))
SLOW = [verdict("pure", "latency_p50", "breach")]


def test_repeated_items_with_the_time_in_python_read_as_composable_logic_caching() -> None:
    from workbench.decisions import DECISION_TABLE, read_hotspot

    hint = read_hotspot(verdicts=SLOW, flame=OWN_PYTHON, repeats=0.62)
    assert (hint.type, hint.leans) == ("composable logic (caching)", "cached")
    assert hint.recommendation == DECISION_TABLE["composable logic (caching)"].recommended
    assert hint.reading == (
        "62 % of the workload's items repeat an earlier one, and 80 % of samples are in own "
        "Python and 15 % in the standard library: a memo table keyed by a small stable key "
        "(workbench.MemoTable) would skip repeated work (flame graph of chunk/pure)")
    assert "repeats: 62 % of the workload's items repeat an earlier one" in hint.facts
    for few in (0.0, 0.29, None):
        other = read_hotspot(verdicts=SLOW, flame=OWN_PYTHON, repeats=few)
        assert other.type == "CPU-bound UDF", few
    arrays = _flame(("add (numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so)",
                     80), ("split (my/stage.py:9)", 20))
    assert read_hotspot(verdicts=SLOW, flame=arrays, repeats=0.9).type == "array ops"
    # pure within its time budget: nothing to escalate for, and nothing to cache for
    fine = read_hotspot(verdicts=[verdict("pure", "latency_p50", "pass")], flame=OWN_PYTHON,
                        repeats=0.9)
    assert fine.type == "composable logic"


@given(st.lists(st.integers(0, 30), min_size=1, max_size=200))
def test_item_repeats_is_the_share_of_items_equal_to_an_earlier_one(items: list[int]) -> None:
    from workbench.app.hinting import item_repeats

    earlier = sum(1 for i, x in enumerate(items) if x in items[:i])
    share = item_repeats(items)
    assert share is not None and abs(share - earlier / len(items)) < 1e-12
    assert item_repeats(tuple(items)) == share
    capped = item_repeats(items, limit=5)
    assert capped == item_repeats(items[:5])


@given(st.lists(st.lists(st.integers(0, 20), min_size=1, max_size=20), min_size=2,
                max_size=8))
def test_item_repeats_of_a_batch_sequence_is_its_observed_repeat_rate(
        batches: list[list[int]]) -> None:
    from workbench.app.hinting import item_repeats
    from workbench.batches import BatchSequence, observed_repeat_rate

    value = BatchSequence(tuple(batches), 0.5)
    assert item_repeats(value) == observed_repeat_rate(batches)


def test_unhashable_items_are_not_read() -> None:
    from workbench.app.hinting import item_repeats
    from workbench.batches import BatchSequence

    assert item_repeats([{"a": 1}, {"a": 1}]) is None
    assert item_repeats(BatchSequence(([[1]], [[1]]), 0.5)) is None
    assert item_repeats("a text") is None and item_repeats(3) is None


def test_the_app_reads_the_workload_s_repeats_only_with_a_flame_graph() -> None:
    from workbench.app.hinting import hotspot_hint, workload_repeats
    from workbench.fixed_workloads import from_value

    docs = from_value(["a", "b", "a", "a", "c", "b", "a", "d", "a", "b"], "docs")
    assert workload_repeats(docs) == 0.6
    verdicts = {"pure": SLOW}
    hint = hotspot_hint(None, verdicts, (OWN_PYTHON,), workload=docs)
    assert hint.type == "composable logic (caching)"
    unique = from_value(list("abcdefghij"), "unique")
    assert hotspot_hint(None, verdicts, (OWN_PYTHON,), workload=unique).type == \
        "CPU-bound UDF"
    without = hotspot_hint(None, verdicts, (), workload=docs)
    assert not any(f.startswith("repeats:") for f in without.facts)
