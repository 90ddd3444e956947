"""Budgets: the budgets.toml grammar, its errors, the digest, units and single-run guards."""

from __future__ import annotations

import inspect
import time
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from workbench.budget.guard import PerfBudgetError, budgeted_stage, parse_budget, profile
from workbench.budget.spec import BudgetSpec, Rule, load_budgets, parse_budgets
from workbench.budget.units import parse_quantity
from workbench.errors import InvalidInputError, WorkbenchError
from workbench.formatting import value as format_value

STAGES = ("clean", "chunk", "embed", "retrieve")

EXAMPLE = """\
[defaults]
latency_p95 = "1.1x"

[stage.embed]
latency_p50 = { limit = "1.1x", level = "warn" }
latency_p99 = ["1.2x", "250ms"]
throughput = "0.9x"
peak_rss = "800MB"
heap_peak = "64MiB"
scaling = 1.2

[stage."embed/native"]
latency_p50 = "500us"
throughput = { limit = "2000 items/s", level = "error" }

[stage.chunk]
variant = ["pure", "native"]
peak_rss = "1.5x"
scaling = "1.1x"
"""


def rule(spec: BudgetSpec, stage: str, variant: str, metric: str, kind: str) -> Rule:
    found = [r for r in spec.rules if (r.stage, r.variant, r.metric, r.kind)
             == (stage, variant, metric, kind)]
    assert len(found) == 1, found
    return found[0]


# -- every rule form ---------------------------------------------------------------------


def test_every_rule_form_parses_to_canonical_units() -> None:
    spec = parse_budgets(EXAMPLE, stages=STAGES)
    # short form: relative, level error, default variant pure, wildcard stage
    r = rule(spec, "*", "pure", "latency_p95", "relative")
    assert (r.value, r.level, r.line) == (1.1, "error", 2)
    # table form with a level
    assert rule(spec, "embed", "pure", "latency_p50", "relative").level == "warn"
    # an array: a relative and an absolute limit on one metric
    assert rule(spec, "embed", "pure", "latency_p99", "relative").value == 1.2
    assert rule(spec, "embed", "pure", "latency_p99", "absolute").value == 250e6  # ns
    assert rule(spec, "embed", "pure", "throughput", "relative").value == 0.9
    assert rule(spec, "embed", "pure", "peak_rss", "absolute").value == 800e6  # bytes
    assert rule(spec, "embed", "pure", "heap_peak", "absolute").value == 64 * 2**20
    assert rule(spec, "embed", "pure", "scaling", "absolute").value == 1.2
    # a stage/variant label
    assert rule(spec, "embed", "native", "latency_p50", "absolute").value == 500e3
    assert rule(spec, "embed", "native", "throughput", "absolute").value == 2000.0
    # a list of variants gives one rule per variant; relative scaling
    assert rule(spec, "chunk", "native", "peak_rss", "relative").value == 1.5
    assert rule(spec, "chunk", "pure", "scaling", "relative").value == 1.1
    assert spec.stages == ("embed", "chunk")
    assert rule(spec, "embed", "pure", "heap_peak", "absolute").line == 9


@pytest.mark.parametrize(("text", "value"), [
    ('"120ms"', 120e6), ('"1.5 s"', 1.5e9), ('"250us"', 250e3), ('"800 ns"', 800.0),
])
def test_time_units(text: str, value: float) -> None:
    spec = parse_budgets(f"[stage.embed]\nlatency_p95 = {text}\n")
    assert spec.rules[0].kind == "absolute" and spec.rules[0].value == pytest.approx(value)


@pytest.mark.parametrize(("text", "value"), [
    ('"512 MiB"', 512 * 2**20), ('"800MB"', 800e6), ('"2GB"', 2e9), ('"1KiB"', 1024.0),
    ('"1.5GiB"', 1.5 * 2**30), ('"100KB"', 100e3), ('"4096 B"', 4096.0),
])
def test_size_units(text: str, value: float) -> None:
    spec = parse_budgets(f"[stage.embed]\npeak_rss = {text}\n")
    assert spec.rules[0].value == pytest.approx(value)


def test_scaling_takes_a_plain_exponent_as_number_or_string() -> None:
    for text in ("1.2", '"1.2"'):
        r = parse_budgets(f"[stage.embed]\nscaling = {text}\n").rules[0]
        assert (r.kind, r.value) == ("absolute", 1.2)


def test_defaults_and_star_stage_are_the_same_and_stage_rules_take_precedence() -> None:
    a = parse_budgets('[defaults]\nlatency_p95 = "1.1x"\n')
    b = parse_budgets('[stage."*"]\nlatency_p95 = "1.1x"\n')
    assert a.digest() == b.digest()
    spec = parse_budgets(EXAMPLE, stages=STAGES)
    # embed/pure names no latency_p95 of its own: it inherits the default
    assert [r.metric for r in spec.rules_for("clean", "pure")] == ["latency_p95"]
    assert "latency_p95" in [r.metric for r in spec.rules_for("embed", "pure")]
    # defaults apply to the pure variant only (their variant), not to embed/native
    assert {r.metric for r in spec.rules_for("embed", "native")} == {"latency_p50", "throughput"}
    own = parse_budgets('[defaults]\nlatency_p95 = "1.1x"\n[stage.embed]\nlatency_p95 = "2x"\n')
    assert [r.value for r in own.rules_for("embed", "pure")] == [2.0]


def test_star_variant_applies_to_every_variant() -> None:
    spec = parse_budgets('[defaults]\nvariant = "*"\nlatency_p50 = "1.2x"\n')
    assert [r.metric for r in spec.rules_for("embed", "native")] == ["latency_p50"]


def test_variants_are_checked_when_the_caller_gives_them() -> None:
    known = {"embed": ["pure", "native"], "clean": ["pure"]}
    parse_budgets('[stage."embed/native"]\nlatency_p50 = "1x"\n', stages=known)
    with pytest.raises(InvalidInputError, match=r"budgets.toml:1: unknown variant 'numba' of "
                       r"stage 'embed'; choose one of: pure, native"):
        parse_budgets('[stage."embed/numba"]\nlatency_p50 = "1x"\n', stages=known)


def test_digest_ignores_order_comments_and_lines_but_not_values() -> None:
    a = parse_budgets('[stage.embed]\nlatency_p50 = "1.1x"\npeak_rss = "1GB"\n')
    b = parse_budgets('# budgets\n\n[stage.embed]\npeak_rss = "1000MB"  # same\n'
                      'latency_p50 = "1.1x"\n')
    c = parse_budgets('[stage.embed]\nlatency_p50 = "1.2x"\npeak_rss = "1GB"\n')
    assert a.digest() == b.digest() != c.digest()
    assert len(a.digest()) == 64


def test_rules_and_spec_round_trip_through_json() -> None:
    spec = parse_budgets(EXAMPLE, stages=STAGES)
    again = BudgetSpec.from_json(spec.to_json())
    assert again == spec and again.digest() == spec.digest()
    with pytest.raises(InvalidInputError, match="malformed budget rule"):
        Rule.from_json({"stage": "x", "metric": "bogus"})


def test_limit_text_shows_direction() -> None:
    spec = parse_budgets(EXAMPLE, stages=STAGES)
    assert rule(spec, "embed", "pure", "throughput", "relative").limit_text() == ">= 0.9x baseline"
    assert rule(spec, "embed", "pure", "latency_p99", "absolute").limit_text() == "<= 250 ms"


# -- every bad form ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ('[stage.embd]\nlatency_p95 = "1.1x"\n',
     "budgets.toml:1: unknown stage 'embd'; choose one of: clean, chunk, embed, retrieve"),
    ('[stage.embed]\n\nlatncy_p95 = "1.1x"\n',
     "budgets.toml:3: unknown metric 'latncy_p95' in [stage.embed]; choose one of: latency_p50"),
    ('[stage.embed]\nlatency_p95 = { limit = "1.1x", level = "fatal" }\n',
     "budgets.toml:2: [stage.embed] latency_p95: unknown level 'fatal'; choose one of: error, "
     "warn"),
    ('[stage.embed]\nlatency_p95 = "0x"\n', "budgets.toml:2: [stage.embed] latency_p95 = '0x': "
     "limits must be positive"),
    ('[stage.embed]\nlatency_p95 = "-5ms"\n', "limits must be positive"),
    ('[stage.embed]\npeak_rss = "0MB"\n', "limits must be positive"),
    ('[stage.embed]\nscaling = -1\n', "limits must be positive"),
    ('[stage.embed]\nlatency_p95 = "1.1"\n', "budgets.toml:2: [stage.embed] latency_p95 = '1.1' "
     "has no unit: write '1.1x' for a ratio to the baseline, or an absolute time with a unit "
     "(ns, us, ms, s)"),
    ('[stage.embed]\nthroughput = 0.9\n', "throughput = 0.9 has no unit: write '0.9x'"),
    ('[stage.embed]\nlatency_p95 = "12 parsecs"\n', "budgets.toml:2: [stage.embed] latency_p95 "
     "= '12 parsecs': unknown unit 'parsecs'; latency_p95 takes a ratio such as '1.1x' or an "
     "absolute time (ns, us, ms, s)"),
    ('[stage.embed]\nlatency_p95 = "fast"\n', "'fast' is not a number followed by an optional "
     "unit"),
    ('[stage.embed]\nlatency_p95 = "800MB"\n', "budgets.toml:2: [stage.embed] latency_p95 = "
     "'800MB' is a size, but latency_p95 takes a ratio such as '1.1x' or an absolute time"),
    ('[stage.embed]\npeak_rss = "120ms"\n', "'120ms' is a time, but peak_rss takes"),
    ('[stage.embed]\nthroughput = "5MB"\n', "is a size, but throughput takes a ratio such as "
     "'1.1x' or an absolute throughput (items/s)"),
    ('[stage.embed]\nscaling = "2 items/s"\n', "is a throughput, but scaling takes"),
    ('[stage.embed]\nlatency_p95 = true\n', "latency_p95 = True: latency_p95 takes"),
    ('[stage.embed]\nlatency_p95 = { level = "warn" }\n', "a limit table takes the keys limit "
     "(required) and level"),
    ('[stage.embed]\nlatency_p95 = { limit = "1x", lvl = "warn" }\n', "got ['limit', 'lvl']"),
    ('[stage.embed]\nlatency_p95 = []\n', "is an empty array"),
    ('[stage.embed]\nlatency_p95 = ["1.1x", "1.2x"]\n', "two relative limits for embed/pure "
     "latency_p95 (line 2); keep one"),
    ('[stage.embed]\nvariant = 3\n', "budgets.toml:2: variant must be a name, a list of names"),
    ('[stage."embed/native"]\nvariant = "pure"\n', "already names its variant"),
    ('[defaults]\nlatency_p95 = "1.1x"\n[stage."*"]\nlatency_p95 = "1.1x"\n',
     "mean the same; keep one of them"),
    ('[budgets]\nx = 1\n', "budgets.toml:1: unknown top-level key(s) ['budgets']"),
    ('stage = 3\n', "stage must be tables"),
    ('[stage]\nembed = "1.1x"\n', "stage.embed must be a table of limits"),
])
def test_bad_forms_are_rejected_with_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_budgets(text, stages=STAGES)
    assert expected in str(info.value)


def test_malformed_toml_gives_path_line_and_column() -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_budgets('[stage.embed]\nlatency_p95 = "1.1x"\n[stage.chunk\n', source="b.toml")
    message = str(info.value)
    assert message.startswith("b.toml:3:13: malformed TOML: ")
    assert "(at line 3, column 13)" in message


def test_load_budgets_reads_a_file_and_names_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text('[stage.embed]\n\nlatency_p95 = "1.1y"\n')
    with pytest.raises(InvalidInputError, match=rf"^{path}:3: .*unknown unit 'y'"):
        load_budgets(path)
    path.write_text(EXAMPLE)
    assert load_budgets(path, stages=STAGES).source == str(path)
    with pytest.raises(InvalidInputError, match="does not exist"):
        load_budgets(tmp_path / "missing.toml")


# -- units -------------------------------------------------------------------------------


def test_quantities_and_formatting() -> None:
    assert parse_quantity(" 2000 items/s ") == (2000.0, "items/s")
    assert parse_quantity("1.1x") == (1.1, "x")
    assert parse_quantity("1e3") == (1000.0, None)
    assert format_value(1.5e6, "time") == "1.5 ms"
    assert format_value(64 * 2**20, "size") == "64 MiB"
    assert format_value(None, "size") == "-"
    assert format_value(123456.0, "throughput") == "123,456 items/s"


# -- single-run guards -------------------------------------------------------------------


def slow_add(a: int, b: int = 2, *, scale: float = 1.0) -> float:
    """Add slowly."""
    time.sleep(0.002)
    return (a + b) * scale


def test_budgeted_stage_preserves_signature_name_and_return_value() -> None:
    guarded = budgeted_stage(slow_add, {"latency": "10s", "heap": "64MiB", "rss": "64GB"})
    assert guarded.__name__ == "slow_add" and guarded.__doc__ == "Add slowly."
    assert inspect.signature(guarded) == inspect.signature(slow_add)
    assert guarded(1, b=3, scale=2.0) == 8.0


def test_budgeted_stage_does_not_consume_lazy_results() -> None:
    consumed: list[int] = []

    def lazy(n: int):  # type: ignore[no-untyped-def]
        for i in range(n):
            consumed.append(i)
            yield i

    out = budgeted_stage(lazy, {"latency_ms": 10_000})(3)
    assert consumed == []
    assert list(out) == [0, 1, 2]


def test_profile_raises_with_figures_on_an_absurd_limit() -> None:
    with pytest.raises(PerfBudgetError) as info, profile({"latency": "1ns", "heap": "1KiB"},
                                                         label="tiny"):
        data = [bytes(1000) for _ in range(200)]
        time.sleep(0.001)
        del data
    err = info.value
    assert isinstance(err, WorkbenchError)
    assert {b.limit.key for b in err.breaches} == {"latency", "heap"}
    assert err.figures.wall_ns >= 1_000_000
    assert err.figures.heap_peak_bytes is not None and err.figures.heap_peak_bytes > 200_000
    assert "performance budget exceeded in tiny: latency" in str(err)
    assert "> limit 1 ns" in str(err) and "> limit 1 KiB" in str(err)


def test_profile_passes_on_a_generous_budget_and_reports_figures() -> None:
    with profile({"latency_s": 60, "rss": "1000GB", "rss_growth_gib": 100, "heap": "1GiB"}) as p:
        sum(range(1000))
    assert p.figures is not None
    assert p.figures.wall_ns > 0 and p.figures.rss_peak_bytes
    assert p.figures.heap_peak_bytes is not None


def test_profile_lets_the_block_exception_through() -> None:
    with pytest.raises(KeyError), profile({"latency": "1ns"}):
        raise KeyError("x")


@pytest.mark.parametrize(("budget", "expected"), [
    ({"latncy": "1ms"}, "unknown budget key 'latncy'; accepted: latency"),
    ({"latency": "800MB"}, "budget latency='800MB': expected a time such as '120ms'"),
    ({"heap": "12 parsecs"}, "expected a size such as '800MB'"),
    ({"rss_mb": "5MB"}, "expected a plain number of MB"),
    ({"rss_parsecs": 5}, "unknown size unit 'parsecs'"),
    ({"latency_ms": 0}, "must be positive"),
    ({"heap": True}, "must be a number of B or a string"),
    ({"latency": "soon"}, "budget 'latency': 'soon' is not a number"),
])
def test_guard_budgets_are_validated(budget: dict[str, float | str], expected: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_budget(budget)
    assert expected in str(info.value)
    with pytest.raises(InvalidInputError):
        budgeted_stage(slow_add, budget)  # validated when wrapping, not at the first call


def test_guard_units() -> None:
    limits = parse_budget({"latency": "120ms", "latency_us": 5, "rss": "800MB", "heap_mib": 64,
                           "rss_growth": 1000})
    assert [lim.value for lim in limits] == [120e6, 5e3, 800e6, 64 * 2**20, 1000.0]


# the spelled-out unit suffixes and the short ones they stand for
LONG_SUFFIXES = {
    "latency": {"seconds": "s", "second": "s", "secs": "s", "sec": "s",
                "milliseconds": "ms", "msec": "ms", "millis": "ms",
                "microseconds": "us", "usec": "us", "nanoseconds": "ns", "nsec": "ns"},
    "size": {"bytes": "b", "byte": "b", "kilobytes": "kb", "megabytes": "mb",
             "gigabytes": "gb", "kibibytes": "kib", "mebibytes": "mib", "gibibytes": "gib"},
}


def _recase(text: str, flips: list[bool]) -> str:
    return "".join(c.upper() if flip else c for c, flip in zip(text, flips + [False] * 30,
                                                               strict=False))


@settings(max_examples=200, deadline=None)
@given(base=st.sampled_from(["latency", "rss", "rss_growth", "heap"]),
       data=st.data(), number=st.floats(min_value=1e-3, max_value=1e6),
       flips=st.lists(st.booleans(), max_size=26))
def test_a_spelled_out_suffix_is_the_same_limit_as_its_short_form(
        base: str, data: st.DataObject, number: float, flips: list[bool]) -> None:
    table = LONG_SUFFIXES["latency" if base == "latency" else "size"]
    long = data.draw(st.sampled_from(sorted(table)))
    (spelled,) = parse_budget({_recase(f"{base}_{long}", flips): number})  # any case
    (short,) = parse_budget({f"{base}_{table[long]}": number})
    assert (spelled.metric, spelled.value, spelled.written) == \
        (short.metric, short.value, short.written)


@given(suffix=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=9))
def test_an_unknown_suffix_is_refused_naming_the_key_and_the_accepted_ones(
        suffix: str) -> None:
    known = set(LONG_SUFFIXES["size"]) | set(LONG_SUFFIXES["size"].values()) | {"growth"}
    assume(suffix not in known)
    with pytest.raises(InvalidInputError) as info:
        parse_budget({f"rss_{suffix}": 1})
    text = str(info.value)
    assert f"'rss_{suffix}'" in text and "bytes" in text and "mib" in text


def test_the_protocol_documents_guard_examples_run() -> None:
    with profile({"latency_s": 1, "rss_growth_bytes": 10**8}):
        sum(range(1000))
    fast = budgeted_stage(slow_add, {"latency_ms": 100})
    assert fast(1, 2) == 3


def test_a_unit_in_the_value_of_a_suffixed_key_is_refused_saying_why() -> None:
    with pytest.raises(InvalidInputError, match=r"rss_bytes='5MB'.*plain number of bytes"
                                               r".*or write rss='5MB'"):
        parse_budget({"rss_bytes": "5MB"})
    (bare,) = parse_budget({"RSS_GROWTH": 10})
    assert (bare.metric, bare.value) == ("rss_growth", 10.0)


# -- stage targets: [target.STAGE] holds whichever variant the stage runs ----------------

TARGETS = """
[target.embed]
latency_p50 = "8 ms"
latency_p95 = { limit = "8 ms", level = "warn" }

[stage.embed]
variant = ["pure", "native"]
latency_p50 = "1.1x"
"""


def test_a_target_applies_to_every_variant_until_a_check_binds_it_to_the_one_running() -> None:
    spec = parse_budgets(TARGETS, stages={"embed": ["pure", "vectorized", "native"]})
    targets = [r for r in spec.rules if r.target]
    assert [(r.variant, r.metric, r.kind, r.level) for r in targets] == [
        ("*", "latency_p50", "absolute", "error"), ("*", "latency_p95", "absolute", "warn")]
    # the selection rule and the panel: every variant is held to the target
    assert {r.metric for r in spec.rules_for("embed", "vectorized")} == {"latency_p50",
                                                                         "latency_p95"}
    # a check: the target holds the decided variant only
    bound = spec.selecting({"embed": "vectorized"})
    assert [r.variant for r in bound.rules if r.target] == ["vectorized", "vectorized"]
    assert not [r for r in bound.rules_for("embed", "pure") if r.target]
    assert [r for r in bound.rules_for("embed", "vectorized") if r.target]
    # nothing decided: the stage runs pure
    assert {r.variant for r in spec.selecting({}).rules if r.target} == {"pure"}
    # a target and a stage rule on the same metric are two rules, and round-trip
    assert BudgetSpec.from_json(spec.to_json()) == spec
    assert spec.digest() != parse_budgets(TARGETS.replace("[target.embed]",
                                                          "[stage.embed2]")).digest()


@pytest.mark.parametrize("text, expected", [
    ('[target.embed]\nvariant = "native"\nlatency_p50 = "1ms"\n',
     r"budgets.toml:2: \[target.embed\] takes no variant key"),
    ('[target."embed/native"]\nlatency_p50 = "1ms"\n',
     r"budgets.toml:1: \[target.embed/native\] names a stage, not a variant"),
    ('[target.nope]\nlatency_p50 = "1ms"\n', r"budgets.toml:1: unknown stage 'nope'"),
    ('target = 3\n', r"target must be tables such as \[target.embed\]"),
    ('[target.embed]\nlatency_p50 = ["1ms", "2ms"]\n', r"two absolute limits"),
])
def test_bad_targets_are_refused_naming_the_line(text: str, expected: str) -> None:
    with pytest.raises(InvalidInputError, match=expected):
        parse_budgets(text, stages={"embed": ["pure", "native"]})


def test_rules_written_before_targets_existed_read_back_unchanged() -> None:
    old = {"stage": "embed", "variant": "pure", "metric": "latency_p50",
           "kind": "relative", "value": 1.1, "level": "error", "line": 3}
    assert Rule.from_json(old) == Rule("embed", "pure", "latency_p50", "relative", 1.1,
                                       "error", 3)
    assert "target" not in Rule.from_json(old).canonical()  # old digests are unchanged
    with pytest.raises(InvalidInputError, match="target 'yes' is not true or false"):
        Rule.from_json({**old, "target": "yes"})
