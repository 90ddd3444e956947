"""The selection rule (Hypothesis properties over synthetic verdict sets) and the hotspot
hint read from evidence.

The rule's three promises: it never suggests a variant that differs from pure, it
suggests pure whenever pure is eligible, and it never skips an eligible, less escalated
variant.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from result_samples import measurement

from workbench.budget.check_result import Verdict
from workbench.budget.rules import Rule
from workbench.decisions import eligible, suggest
from workbench.decisions.rule import NO_VARIANT
from workbench.measure.comparison import Comparison, VariantResult
from workbench.stages import EquivalenceResult

# -- the rule --------------------------------------------------------------------

OTHERS = ("vectorized", "native", "numba", "gpu")


def _equivalence(same: bool | None) -> EquivalenceResult | None:
    if same is None:  # not checked
        return None
    return EquivalenceResult(same, "same" if same else "item 0 differs")


def _comparison(equivalent: dict[str, bool | None]) -> Comparison:
    results = tuple(VariantResult(
        v, measurement(v, 1e6, workers=1, samples=3, workload="tiny", stage="s"),
        equivalence=EquivalenceResult(True, "the reference") if v == "pure" else
        _equivalence(equivalent[v]))
        for v in ("pure", *equivalent))
    return Comparison("s", "tiny", "pure", results)


def _verdict(variant: str, status: str, level: str, excess: float = 2.0) -> Verdict:
    rule = Rule("s", variant, "latency_p50", "absolute", 1e6, level)
    return Verdict(rule, status, "tiny", status, observed=1e6 * excess)  # type: ignore[arg-type]


STATUSES = ("pass", "breach", "inconclusive", "no-baseline", "not-comparable")


@st.composite
def cases(draw: Any) -> tuple[Comparison, dict[str, list[Verdict]], list[str]]:
    names = draw(st.lists(st.sampled_from(OTHERS), unique=True, max_size=4))
    equivalent = {v: draw(st.sampled_from((True, False, None))) for v in names}
    verdicts = {v: [_verdict(v, draw(st.sampled_from(STATUSES)),
                             draw(st.sampled_from(("error", "warn"))),
                             draw(st.floats(1.01, 10.0)))
                    for _ in range(draw(st.integers(0, 3)))]
                for v in ("pure", *names)}
    order = draw(st.permutations(["pure", *names]))
    return _comparison(equivalent), verdicts, order


def _eligible(c: Comparison, verdicts: dict[str, list[Verdict]], v: str) -> bool:
    eq = c.result(v).equivalence
    return (v == "pure" or (eq is not None and eq.equivalent)) and not any(
        x.status == "breach" and x.rule.level == "error" for x in verdicts.get(v, ()))


@given(cases())
def test_eligible_is_equivalent_and_within_every_error_level_limit(case: Any) -> None:
    c, verdicts, _ = case
    for v in c.variants:
        ok, why = eligible(c, v, verdicts.get(v, ()))
        assert ok == _eligible(c, verdicts, v)
        assert why.startswith("equivalent" if ok else ("not equivalent", "breaches"))


@given(cases())
def test_never_suggests_a_variant_that_is_not_known_to_be_equivalent(case: Any) -> None:
    c, verdicts, order = case
    s = suggest(c, verdicts, order)
    if s.variant is not None and s.variant != "pure":
        eq = c.result(s.variant).equivalence
        assert eq is not None and eq.equivalent


@given(cases())
def test_pure_is_suggested_whenever_it_is_eligible(case: Any) -> None:
    c, verdicts, order = case
    s = suggest(c, verdicts, order)
    assert (s.variant == "pure") == _eligible(c, verdicts, "pure")


@given(cases())
def test_the_suggestion_is_the_least_escalated_eligible_variant(case: Any) -> None:
    c, verdicts, order = case
    s = suggest(c, verdicts, order)
    ranked = ["pure", *(v for v in order if v != "pure")]
    eligible = [v for v in ranked if _eligible(c, verdicts, v)]
    assert s.variant == (eligible[0] if eligible else None)
    if s.variant is None:
        assert s.reason.startswith(NO_VARIANT) and s.closest in c.variants
        assert f"closest: {s.closest}" in s.reason
    else:
        eq = c.result(s.variant).equivalence
        assert eq is not None and eq.equivalent  # never a variant that differs from pure


@given(cases(), st.data())
def test_adding_a_breach_never_makes_that_variant_suggested(case: Any, data: Any) -> None:
    c, verdicts, order = case
    before = suggest(c, verdicts, order)
    victim = data.draw(st.sampled_from(c.variants))
    worse = {**verdicts, victim: [*verdicts[victim], _verdict(victim, "breach", "error")]}
    after = suggest(c, worse, order)
    assert after.variant != victim
    if before.variant != victim:
        assert after.variant == before.variant


def test_no_eligible_variant_names_the_closest_by_breaches() -> None:
    c = _comparison({"vectorized": True, "native": True})
    verdicts = {"pure": [_verdict("pure", "breach", "error", 3.0)] * 2,
                "vectorized": [_verdict("vectorized", "breach", "error", 3.0)],
                "native": [_verdict("native", "breach", "error", 1.5)]}
    s = suggest(c, verdicts)
    assert s.variant is None and s.closest == "native"
    assert s.reason == (f"{NO_VARIANT}; closest: native (latency_p50 <= 1 ms)")
    assert suggest(c, None).variant == "pure"
    warn_only = {"pure": [_verdict("pure", "breach", "warn")]}
    assert suggest(c, warn_only).variant == "pure"




# -- the hotspot hint --------------------------------------------------------------------

def _flame(*leaves: tuple[str, int], native: bool = False) -> Any:
    from result_samples import LOOP, TARGET, WHEN

    from workbench.profile import Flamegraph, Overhead

    stacks = tuple((f"{LOOP};chunk (my/stage.py:5);{leaf}", n) for leaf, n in leaves)
    return Flamegraph(TARGET, 100, native, False, stacks, Overhead(10, 1.0, 1.05), "py-spy",
                      WHEN)


def _rule_verdict(metric: str, status: str, level: str = "error") -> Verdict:
    rule = Rule("s", "pure", metric, "absolute", 1e6, level)
    return Verdict(rule, status, "tiny", status, observed=2e6)  # type: ignore[arg-type]


def test_frames_are_classed_by_where_their_code_lives() -> None:
    from workbench.decisions.hotspots import frame_class

    assert frame_class("dot (numpy/core/multiarray.py:10)") == "array"
    assert frame_class("collect (polars/lazyframe/frame.py:2000)") == "array"
    assert frame_class("findall (re/__init__.py:216)") == "stdlib"
    assert frame_class("_call_with_frames_removed (<frozen importlib._bootstrap>:241)") == \
        "stdlib"
    assert frame_class("sgemm_kernel (libopenblas.so)") == "native"
    assert frame_class("chunk (mypkg/chunking.py:12)") == "own"


def test_the_hotspot_type_follows_the_documented_rules() -> None:
    from workbench.decisions import DECISION_TABLE, read_hotspot

    slow = [_rule_verdict("latency_p50", "breach")]
    array = read_hotspot(verdicts=slow, flame=_flame(("dot (numpy/core/x.py:1)", 80),
                                                     ("inner (my/stage.py:9)", 20)))
    assert (array.type, array.leans) == ("array ops", "vectorized")
    assert array.recommendation == DECISION_TABLE["array ops"].recommended
    assert any("80% array libraries" in f for f in array.facts)
    loop = read_hotspot(verdicts=slow, flame=_flame(("inner (my/stage.py:9)", 60),
                                                    ("other (my/stage.py:20)", 40)))
    assert (loop.type, loop.leans) == ("tight loops", "native")
    spread = read_hotspot(verdicts=slow, flame=_flame(
        *((f"f{i} (my/stage.py:{i})", 10) for i in range(10))))
    assert spread.type == "CPU-bound UDF"
    fine = read_hotspot(verdicts=[_rule_verdict("latency_p50", "pass")],
                        flame=_flame(("inner (my/stage.py:9)", 100)))
    assert (fine.type, fine.leans) == ("composable logic", "pure")
    memory = read_hotspot(verdicts=slow, peak_rss=950e6, rss_limit=1e9)
    assert memory.type == "memory-bound" and any("95% of the" in f for f in memory.facts)
    tail = read_hotspot(verdicts=[_rule_verdict("latency_p50", "pass"),
                                  _rule_verdict("latency_p99", "breach")])
    assert tail.type == "latency-critical"
    unread = read_hotspot()
    assert unread.type is None and "flame graph" in unread.recommendation
    assert any(f.startswith("GIL: not read") for f in unread.facts)
    warn_only = read_hotspot(verdicts=[_rule_verdict("peak_rss", "breach", "warn")])
    assert warn_only.type != "memory-bound"
