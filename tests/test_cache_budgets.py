"""Budgets on memo tables: ``hit_rate``, ``cache_bytes`` and ``contention`` in the grammar,
as flags, and in verdicts on measurements built from chosen worker figures (no timing)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.budget.limits import flag_rules
from workbench.budget.spec import BudgetSpec, Rule, parse_budgets
from workbench.errors import InvalidInputError
from workbench.formatting import value as format_value
from workbench.measure.metrics import FLAGS, METRICS


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
