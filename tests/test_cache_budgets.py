"""Budgets on memo tables: ``hit_rate``, ``cache_bytes`` and ``contention`` in the grammar,
as flags, and in verdicts on measurements built from chosen worker figures (no timing)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.budget.check_result import Verdict
from workbench.budget.limits import flag_rules
from workbench.budget.sequential import pending
from workbench.budget.spec import BudgetSpec, Rule, parse_budgets
from workbench.budget.verdict import check
from workbench.errors import InvalidInputError
from workbench.formatting import value as format_value
from workbench.measure.config import MeasureConfig
from workbench.measure.measurement import Measurement
from workbench.measure.metrics import FLAGS, METRICS
from workbench.measure.protocol import WorkerRun
from workbench.measure.targets import TargetSpec


def only(spec: BudgetSpec, metric: str) -> Rule:
    found = [r for r in spec.rules if r.metric == metric]
    assert len(found) == 1, found
    return found[0]


def parsed(body: str, header: str = "[stage.embed]") -> BudgetSpec:
    return parse_budgets(f"{header}\n{body}\n")


# -- the registry --------------------------------------------------------------------------


def test_the_three_metrics_are_registered_in_the_cache_family_with_their_flags() -> None:
    assert {n: (METRICS[n].family, METRICS[n].kind, METRICS[n].direction)
            for n in ("hit_rate", "cache_bytes", "contention")} == {
        "hit_rate": ("cache", "fraction", "higher"),
        "cache_bytes": ("cache", "size", "lower"),
        "contention": ("cache", "ratio", "higher")}
    assert (FLAGS["hit-rate"], FLAGS["cache-bytes"], FLAGS["contention"]) == (
        "hit_rate", "cache_bytes", "contention")
    assert METRICS["hit_rate"].name_in_text == "hit rate"
    assert METRICS["cache_bytes"].name_in_text == "cache size"


def test_fractions_and_ratios_are_formatted() -> None:
    assert format_value(0.9, "fraction") == "90.0 %"
    assert format_value(0.93, "ratio") == "0.93x"
    assert format_value(None, "fraction") == "-"


# -- the grammar: every accepted form ---------------------------------------------------------


@pytest.mark.parametrize(("body", "value"), [
    ("hit_rate = 0.8", 0.8),
    ('hit_rate = "0.8"', 0.8),
    ('hit_rate = "80%"', 0.8),
    ('hit_rate = "80 %"', 0.8),
    ('hit_rate = "100%"', 1.0),
    ("hit_rate = 1", 1.0),
])
def test_a_hit_rate_is_a_fraction_or_a_percentage(body: str, value: float) -> None:
    r = only(parsed(body), "hit_rate")
    assert (r.kind, r.direction) == ("absolute", "higher")
    assert r.value == pytest.approx(value)
    assert r.limit_text() == f">= {format_value(value, 'fraction')}"


@pytest.mark.parametrize(("body", "value"), [
    ("contention = 0.8", 0.8), ('contention = "0.8"', 0.8), ("contention = 1.5", 1.5)])
def test_contention_is_a_plain_positive_number(body: str, value: float) -> None:
    r = only(parsed(body), "contention")
    assert (r.kind, r.value, r.direction) == ("absolute", value, "higher")
    assert r.limit_text() == f">= {value:g}x"


@pytest.mark.parametrize(("body", "kind", "value"), [
    ('cache_bytes = "64MiB"', "absolute", 64 * 2.0**20),
    ('cache_bytes = "10 MB"', "absolute", 10e6),
    ('cache_bytes = "1.2x"', "relative", 1.2),
    ('cache_bytes = { limit = "2GB", level = "warn" }', "absolute", 2e9),
])
def test_cache_bytes_is_a_size_or_a_ratio(body: str, kind: str, value: float) -> None:
    r = only(parsed(body), "cache_bytes")
    assert (r.kind, r.value, r.direction) == (kind, value, "lower")


@pytest.mark.parametrize("share", ['"25% rss"', '"0.25 rss"', '"25%rss"', '" 0.25 RSS "'])
@pytest.mark.parametrize("rss_first", [True, False])
def test_a_share_of_rss_resolves_against_the_peak_rss_limit_wherever_it_is(
        share: str, rss_first: bool) -> None:
    lines = ['peak_rss = "800MB"', f"cache_bytes = {share}"]
    spec = parsed("\n".join(lines if rss_first else lines[::-1]))
    r = only(spec, "cache_bytes")
    assert (r.kind, r.stage, r.variant, r.level) == ("absolute", "embed", "pure", "error")
    assert r.value == pytest.approx(200e6)
    assert r.line == (3 if rss_first else 2)  # its own line (the header is line 1)


def test_a_share_takes_the_variants_own_rss_before_a_star_variant_and_the_defaults() -> None:
    text = """\
[defaults]
peak_rss = "4GB"

[stage."embed/native"]
cache_bytes = { limit = "50% rss", level = "warn" }

[stage.embed]
variant = "*"
peak_rss = "1GB"

[stage."embed/cached"]
peak_rss = ["300MB", "1.1x"]
cache_bytes = "10% rss"

[stage.chunk]
cache_bytes = "0.1 rss"
"""
    spec = parse_budgets(text)
    got = {(r.stage, r.variant): (r.value, r.level) for r in spec.rules
           if r.metric == "cache_bytes"}
    assert got == {("embed", "native"): (pytest.approx(500e6), "warn"),
                   ("embed", "cached"): (pytest.approx(30e6), "error"),
                   ("chunk", "pure"): (pytest.approx(400e6), "error")}


def test_a_targets_share_resolves_against_the_targets_rss() -> None:
    spec = parse_budgets('[target.embed]\ncache_bytes = "25% rss"\npeak_rss = "400MB"\n')
    r = only(spec, "cache_bytes")
    assert (r.target, r.variant, r.value) == (True, "*", pytest.approx(100e6))


@given(share=st.integers(1, 100), rss_mb=st.integers(1, 10_000), rss_first=st.booleans(),
       percent=st.booleans())
def test_a_share_is_that_part_of_the_rss_limit_in_any_order(
        share: int, rss_mb: int, rss_first: bool, percent: bool) -> None:
    written = f'"{share}% rss"' if percent else f'"{share / 100} rss"'
    lines = [f'peak_rss = "{rss_mb}MB"', f"cache_bytes = {written}"]
    spec = parsed("\n".join(lines if rss_first else lines[::-1]))
    assert only(spec, "cache_bytes").value == pytest.approx(share / 100 * rss_mb * 1e6)


@given(p=st.floats(0.001, 1.0))
def test_a_fraction_and_its_percentage_are_the_same_limit(p: float) -> None:
    plain = only(parsed(f"hit_rate = {p!r}"), "hit_rate").value
    pct = only(parsed(f'hit_rate = "{100 * p!r}%"'), "hit_rate").value
    assert plain == p and pct == pytest.approx(p)


@given(p=st.floats(1.0, 1e6, exclude_min=True))
def test_a_hit_rate_above_one_is_refused(p: float) -> None:
    with pytest.raises(InvalidInputError, match="fraction above 1"):
        parsed(f"hit_rate = {p!r}")


# -- the grammar: every refused form ------------------------------------------------------


@pytest.mark.parametrize(("body", "says"), [
    ('hit_rate = "1.1x"', ["'1.1x'", "no ratio to the baseline", "hit rate of 0",
                           "'0.8' or '80%'"]),
    ('contention = "0.8x"', ["'0.8x'", "itself a ratio", "'0.8'"]),
    ("hit_rate = 1.5", ["1.5", "above 1", "from 0 to 1", "'80%'"]),
    ('hit_rate = "150%"', ["'150%'", "above 1"]),
    ("hit_rate = -1", ["-1", "must be positive", "from 0 to 1"]),
    ("hit_rate = 0", ["0", "must be positive"]),
    ('hit_rate = "abc"', ["'abc'", "absolute fraction", "percentage"]),
    ('hit_rate = "80ms"', ["'80ms'", "is a time", "fraction"]),
    ("hit_rate = true", ["True", "fraction"]),
    ('contention = "80%"', ["'80%'", "is a fraction", "plain positive number"]),
    ("contention = -0.5", ["-0.5", "must be positive", "plain positive number"]),
    ('contention = "fast"', ["'fast'", "plain positive number"]),
    ("cache_bytes = 64", ["64", "has no unit", "size"]),
    ('cache_bytes = "64ms"', ["'64ms'", "is a time", "'25% rss'"]),
    ('cache_bytes = "150% rss"\npeak_rss = "1GB"', ["'150% rss'", "at most 1"]),
    ('cache_bytes = "0% rss"\npeak_rss = "1GB"', ["'0% rss'", "above 0"]),
    ('cache_bytes = "25% heap"', ["'25% heap'", "unknown unit", "'25% rss'"]),
])
def test_bad_limits_are_refused_naming_the_value_and_what_is_accepted(
        body: str, says: list[str]) -> None:
    with pytest.raises(InvalidInputError) as exc:
        parsed(body)
    message = str(exc.value)
    assert message.startswith("budgets.toml:2:"), message
    for part in says:
        assert part in message, (part, message)


@pytest.mark.parametrize(("text", "where", "line"), [
    ('[stage.embed]\ncache_bytes = "25% rss"\n', "embed/pure", 2),
    ('[stage."embed/cached"]\ncache_bytes = "25% rss"\n[stage.embed]\npeak_rss = "1GB"\n',
     "embed/cached", 2),
    ('[stage.embed]\nvariant = "*"\ncache_bytes = "25% rss"\n'
     '[stage."embed/pure"]\npeak_rss = "1GB"\n', "embed/*", 3),
    ('[target.embed]\ncache_bytes = "25% rss"\n', "target embed/*", 2),
])
def test_a_share_without_an_absolute_rss_limit_is_refused(text: str, where: str,
                                                          line: int) -> None:
    with pytest.raises(InvalidInputError) as exc:
        parse_budgets(text)
    message = str(exc.value)
    assert f"of {where}, which has no absolute peak_rss limit" in message, message
    assert 'peak_rss = "800MB"' in message and '"64MiB"' in message
    assert message.startswith(f"budgets.toml:{line}:"), message


def test_a_share_of_a_relative_rss_limit_is_refused_saying_why() -> None:
    with pytest.raises(InvalidInputError, match="only a ratio to the baseline"):
        parsed('cache_bytes = "25% rss"\npeak_rss = "1.2x"')


def test_a_share_and_an_absolute_size_are_two_limits_of_one_kind() -> None:
    with pytest.raises(InvalidInputError, match="two absolute limits for embed/pure cache_bytes"):
        parse_budgets('[stage.embed]\ncache_bytes = "25% rss"\npeak_rss = "1GB"\n'
                      '[stage."embed/pure"]\ncache_bytes = "1MB"\n')


# -- flags ------------------------------------------------------------------------------------


def test_flags_make_cache_rules() -> None:
    rules = flag_rules({"hit-rate": "0.8", "contention": "0.8", "cache-bytes": "64MiB"},
                       "retrieve", "cached")
    got = {r.metric: (r.kind, r.value) for r in rules}
    assert got == {"hit_rate": ("absolute", 0.8), "contention": ("absolute", 0.8),
                   "cache_bytes": ("absolute", 64 * 2.0**20)}
    # argparse names (hit_rate) work too, and a percentage is a fraction
    assert flag_rules({"hit_rate": "80%"}, "s", "v")[0].value == pytest.approx(0.8)


def test_a_flag_share_of_rss_resolves_against_the_rss_flag() -> None:
    rules = flag_rules({"cache-bytes": "25% rss", "rss": "1GB"}, "s", "v", level="warn")
    r = next(r for r in rules if r.metric == "cache_bytes")
    assert (r.kind, r.value, r.level) == ("absolute", pytest.approx(250e6), "warn")
    with pytest.raises(InvalidInputError) as exc:
        flag_rules({"cache-bytes": "25% rss"}, "s", "v")
    assert "--cache-bytes = '25% rss'" in str(exc.value)
    assert "give --rss with an absolute size" in str(exc.value)


@pytest.mark.parametrize(("flags", "says"), [
    ({"hit-rate": "1.5"}, ["--hit-rate = '1.5'", "above 1", "from 0 to 1"]),
    ({"hit-rate": "-1"}, ["--hit-rate = '-1'", "must be positive"]),
    ({"hit-rate": "abc"}, ["--hit-rate", "'abc'", "absolute fraction"]),
    ({"hit-rate": "1.1x"}, ["--hit-rate = '1.1x'", "no ratio to the baseline"]),
    ({"contention": "abc"}, ["--contention", "'abc'", "plain positive number"]),
    ({"contention": "0"}, ["--contention = '0'", "must be positive"]),
    ({"cache-bytes": "lots"}, ["--cache-bytes", "'lots'", "size"]),
])
def test_bad_flag_values_are_refused(flags: dict[str, str], says: list[str]) -> None:
    with pytest.raises(InvalidInputError) as exc:
        flag_rules(flags, "s", "v", source="limits")  # type: ignore[arg-type]
    message = str(exc.value)
    assert message.startswith("limits: ")
    for part in says:
        assert part in message, (part, message)


# -- verdicts -----------------------------------------------------------------------------

ENV = {"cpu_model": "Test CPU @ 3GHz", "python": "3.11.7", "packages": {"numpy": "2.0.0"}}
LOOKUPS = 1000


def worker(i: int, *, hit_rate: float | None, size: float, contention: float | None,
           rss_kb: int = 100_000) -> WorkerRun:
    """A worker whose timed calls looked ``LOOKUPS`` keys up at ``hit_rate`` (None: no memo
    table), with tables of ``size`` bytes at their largest, whose throughput with 4
    threads was ``contention`` times its throughput with 1 (None: not measured)."""
    cache = None if hit_rate is None else {
        "state": "warm", "batches": 8, "hits": round(LOOKUPS * hit_rate),
        "misses": LOOKUPS - round(LOOKUPS * hit_rate), "evictions": 0, "entries": 500,
        "bytes": size, "tables": [{"name": "embed", "key": "text", "version": "1",
                                   "max_entries": 1000, "max_bytes": None,
                                   "hashes_payload": True}], "note": ""}
    timing = None if contention is None else {
        "threads": 4, "items": 40, "single_ns": [2_000_000] * 3,
        "multi_ns": [round(2_000_000 / contention)] * 3}
    return WorkerRun(index=i, ok=True, batch_ns=tuple(1_000_000 + 1000 * j for j in range(20)),
                     items_per_call=40, rss_peak_kb=rss_kb, cache=cache, contention=timing)


def cached(hit_rates: Sequence[float | None] = (0.9,) * 5,
           sizes: Sequence[float] = (10e6,) * 5,
           contention: Sequence[float | None] | None = None) -> Measurement:
    ratios = contention if contention is not None else [0.95] * len(hit_rates)
    runs = tuple(worker(i, hit_rate=h, size=s, contention=c)
                 for i, (h, s, c) in enumerate(zip(hit_rates, sizes, ratios, strict=True)))
    return Measurement(TargetSpec("stage", "embed", "cached", "small"), MeasureConfig(), runs,
                       "2026-01-01T00:00:00+00:00", dict(ENV))


def judged(body: str, current: Measurement, baseline: Measurement | None = None) -> Verdict:
    spec = parse_budgets(f'[stage."embed/cached"]\n{body}\n')
    result = check(spec, [current], None if baseline is None else [baseline])
    assert len(result.verdicts) == 1, result.to_text()
    return result.verdicts[0]


def test_a_hit_rate_of_zero_breaches_and_of_point_nine_passes_with_five_workers() -> None:
    zero = judged("hit_rate = 0.8", cached(hit_rates=[0.0] * 5))
    assert zero.status == "breach", zero.message
    assert zero.observed == 0.0 and zero.workers == 5
    assert "hit rate 0.0 % [0.0 %, 0.0 %] is under the limit 80.0 %" in zero.message
    good = judged('hit_rate = "80%"', cached(hit_rates=[0.9] * 5))
    assert good.status == "pass", good.message
    assert good.observed == pytest.approx(0.9)
    assert "within the limit 80.0 %" in good.message
    assert "from worker values" in good.message


def test_a_hit_rate_straddling_the_limit_is_inconclusive() -> None:
    v = judged("hit_rate = 0.8", cached(hit_rates=[0.6, 0.7, 0.85, 0.9, 0.95]))
    assert v.status == "inconclusive", v.message
    assert v.observed == pytest.approx(0.85)
    assert (v.observed_low, v.observed_high) == (pytest.approx(0.6), pytest.approx(0.95))
    assert "the interval contains the limit 80.0 %" in v.message


@given(rates=st.lists(st.floats(0.0, 1.0), min_size=5, max_size=9),
       limit=st.floats(0.01, 1.0))
def test_a_hit_rate_rule_breaches_when_every_worker_is_under_it_and_passes_when_none_is(
        rates: list[float], limit: float) -> None:
    rates = [round(LOOKUPS * r) / LOOKUPS for r in rates]  # what the counters can say
    v = judged(f"hit_rate = {limit!r}", cached(hit_rates=rates, sizes=[1e6] * len(rates),
                                               contention=[1.0] * len(rates)))
    if max(rates) < limit:
        assert v.status == "breach", v.message
    if min(rates) >= limit:
        assert v.status == "pass", v.message
    # the interval holds the median worker: a verdict never contradicts it
    ordered = sorted(rates)
    if ordered[len(rates) // 2] < limit:
        assert v.status != "pass", v.message
    if ordered[(len(rates) - 1) // 2] >= limit:
        assert v.status != "breach", v.message


def test_cache_bytes_absolute_and_as_a_share_of_rss() -> None:
    sizes = [9e6, 9.5e6, 10e6, 10.5e6, 11e6]
    ok = judged('cache_bytes = "64MiB"', cached(sizes=sizes))
    assert ok.status == "pass" and ok.observed == 10e6, ok.message
    assert "cache size 9.54 MiB" in ok.message
    over = judged('cache_bytes = "1MiB"', cached(sizes=sizes))
    assert over.status == "breach" and "over the limit 1 MiB" in over.message
    # a quarter of a 20 MB RSS limit is 5 MB: over; the RSS rule has its own verdict
    spec = parse_budgets('[stage."embed/cached"]\ncache_bytes = "25% rss"\npeak_rss = "20MB"\n')
    by_metric = {v.rule.metric: v for v in check(spec, [cached(sizes=sizes)]).verdicts}
    assert by_metric["cache_bytes"].status == "breach"
    assert by_metric["cache_bytes"].rule.value == pytest.approx(5e6)


def test_cache_bytes_relative_to_the_baseline() -> None:
    base = cached(sizes=[10e6, 10.1e6, 10.2e6, 10.3e6, 10.4e6])
    same = judged('cache_bytes = "1.2x"', cached(sizes=[10e6, 10.1e6, 10.2e6, 10.3e6, 10.4e6]),
                  base)
    assert same.status == "pass", same.message
    grown = judged('cache_bytes = "1.2x"', cached(sizes=[20e6, 20.1e6, 20.2e6, 20.3e6, 20.4e6]),
                   base)
    assert grown.status == "breach" and grown.ratio == pytest.approx(2.0, rel=0.02)
    assert "(19.3 MiB vs 9.73 MiB)" in grown.message  # the median workers
    empty = judged('cache_bytes = "1.2x"', cached(sizes=[0, 1e6, 1e6, 1e6, 1e6]), base)
    assert empty.status == "inconclusive"
    assert "1 current worker(s) recorded 0" in empty.message


def test_contention_passes_above_its_limit_and_breaches_below() -> None:
    good = judged("contention = 0.8", cached(contention=[0.93, 0.95, 0.97, 0.94, 0.96]))
    assert good.status == "pass" and good.observed == pytest.approx(0.95, rel=1e-3)
    assert "contention (throughput N threads / 1) 0.95x" in good.message
    bad = judged("contention = 0.8", cached(contention=[0.4, 0.45, 0.5, 0.42, 0.48]))
    assert bad.status == "breach" and "under the limit 0.8x" in bad.message
    mixed = judged("contention = 0.8", cached(contention=[0.6, 0.7, 0.85, 0.9, 1.0]))
    assert mixed.status == "inconclusive"


@pytest.mark.parametrize(("body", "m", "why"), [
    ("hit_rate = 0.8", cached(hit_rates=[None] * 5),
     "hit rate was not recorded: this variant looked nothing up in a memo table"),
    ('cache_bytes = "1MB"', cached(hit_rates=[None] * 5),
     "cache size was not recorded: this variant looked nothing up in a memo table"),
    ("contention = 0.8", cached(contention=[None] * 5),
     "the contention of this variant was not measured"),
])
def test_a_figure_not_recorded_is_inconclusive_saying_why(body: str, m: Measurement,
                                                          why: str) -> None:
    v = judged(body, m)
    assert v.status == "inconclusive" and why in v.message, v.message
    assert v.observed is None and v.confidence is None


def test_a_baseline_without_memo_tables_says_so() -> None:
    v = judged('cache_bytes = "1.2x"', cached(), cached(hit_rates=[None] * 5))
    assert v.status == "inconclusive"
    assert "not recorded for the baseline: the baseline looked nothing up" in v.message


def test_cache_verdicts_are_judged_once_not_by_more_looks() -> None:
    spec = parse_budgets('[stage."embed/cached"]\nhit_rate = 0.8\n')
    result = check(spec, [cached(hit_rates=[0.6, 0.7, 0.85, 0.9, 0.95])])
    assert result.verdicts[0].status == "inconclusive"
    assert pending(result) == ()
