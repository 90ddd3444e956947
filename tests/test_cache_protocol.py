"""The cache protocol: warm-up never fills the tables for the timed calls, the cache state
is the one asked for, counters cover the timed calls only, contention is measured."""

from __future__ import annotations

import argparse
import os

import pytest

from workbench import InvalidInputError
from workbench.app.args import add_measure_flags, config_of
from workbench.measure.cache_figures import cache_figures, hit_rates
from workbench.measure.config import CACHE_STATES, MeasureConfig
from workbench.measure.engine import compare, measure
from workbench.measure.measurement import Measurement
from workbench.memo import MemoTable

PIPE = "cache_pipeline:pipeline"


def _cached(workload: str, **config: object) -> Measurement:
    settings: dict[str, object] = {"workers": 2, "samples": 4, "warmup_calls": 3,
                                   "warmup_seconds": 0.0, **config}
    m = measure("digest", workload, variant="cached", pipeline=PIPE,
                config=MeasureConfig(**settings))  # type: ignore[arg-type]
    assert m.ok, m.error_text()
    return m


@pytest.mark.parametrize("state", CACHE_STATES)
def test_warm_up_cannot_inflate_the_hit_rate(state: str) -> None:
    # warm-up calls the first batch 3 times: without the protocol emptying the tables,
    # the timed calls of cold and steady would hit on it
    m = _cached("distinct-keys", cache=state)
    assert [r.cache["state"] for r in m.runs if r.cache] == [state, state]
    assert hit_rates(m) == [0.0, 0.0]
    for r in m.runs:
        assert r.cache is not None and r.cache["hits"] == 0
        assert r.cache["misses"] == r.cache["batches"] * 40  # every timed key, once
    # the same protocol does count hits where the workload repeats keys
    assert min(hit_rates(_cached("repeat-keys", cache=state, workers=1))) > 0 or \
        state == "cold"


def test_each_state_times_what_it_names() -> None:
    # repeat-keys: 5 batches of 40; after the first, 30 of each 40 keys are old
    warm, steady, cold = (_cached("repeat-keys", cache=s) for s in ("warm", "steady", "cold"))
    assert hit_rates(warm) == [0.75, 0.75]  # batches 2-5 after batch 1 filled the tables
    assert [r.cache["batches"] for r in warm.runs if r.cache] == [4, 4]
    assert hit_rates(steady) == [0.6, 0.6]  # every batch from empty: 0 + 4 * 30 of 200
    assert [r.cache["batches"] for r in steady.runs if r.cache] == [5, 5]
    assert hit_rates(cold) == [0.0, 0.0]  # emptied before each batch; no repeats inside
    assert [len(g) for g in warm.groups] == [4, 4]  # one sample per timed batch
    assert warm.items_per_call == 40 and not warm.per_batch


def test_a_short_sequence_is_replayed_from_the_same_state_not_carried_over() -> None:
    m = _cached("repeat-keys", cache="warm", samples=10)  # 4 timed batches a pass: 3 passes
    assert [len(g) for g in m.groups] == [12, 12]
    assert hit_rates(m) == [0.75, 0.75]  # a carried-over second pass would hit far more


def test_a_single_input_is_timed_cold_and_says_why() -> None:
    m = _cached("one-input", cache="warm")
    figures = cache_figures(m)
    assert figures is not None and figures.state == "cold"
    assert "a single input: timed cold" in figures.note
    assert hit_rates(m) == [0.5, 0.5]  # each key twice inside the input: half hit
    assert "  memo tables cache (cold): hit rate 50.0 %" in m.to_text()
    assert "memo tables" in m.to_html()


def test_contention_is_measured_at_1_and_n_threads_from_the_same_state() -> None:
    m = _cached("repeat-keys", contention_threads=3)
    for r in m.runs:  # the worker widens from its one pinned CPU to up to 3 for the threads
        assert r.contention is not None and r.contention["threads"] == 3
        assert r.contention["cpus"] == min(3, len(os.sched_getaffinity(0)))
        assert len(r.contention["single_ns"]) == len(r.contention["multi_ns"]) == 3
        assert r.contention["items"] == 4 * 40
    figures = cache_figures(m)
    assert figures is not None and figures.contention is not None and figures.threads == 3
    assert f"3 threads on {figures.cpus} CPU" in m.to_text()
    assert figures.single is not None and figures.single.value > 0


def test_an_uncached_variant_on_a_sequence_is_timed_batch_by_batch_with_no_cache_record(
) -> None:
    m = measure("digest", "repeat-keys", variant="pure", pipeline=PIPE,
                config=MeasureConfig(workers=1, samples=4, warmup_seconds=0.0))
    assert m.ok and [len(g) for g in m.groups] == [4] and m.items_per_call == 40
    assert m.runs[0].cache is None and m.runs[0].contention is None
    assert cache_figures(m) is None and "memo tables" not in m.to_text()
    assert "cache" not in m.runs[0].to_json()  # records without caches keep their shape


def test_equivalence_on_a_sequence_is_judged_batch_by_batch() -> None:
    config = MeasureConfig(workers=1, samples=2, warmup_seconds=0.0, mode="inprocess")
    comp = compare("digest", "repeat-keys", variants=["cached", "leaky"], pipeline=PIPE,
                   config=config)
    cached, leaky = comp.result("cached").equivalence, comp.result("leaky").equivalence
    assert cached is not None and cached.equivalent
    assert "every one of 5 batches" in cached.detail
    assert leaky is not None and not leaky.equivalent
    assert leaky.detail.startswith("batch 2 of 5:")  # its first hits come in batch 2


def test_measuring_in_process_leaves_other_tables_alone() -> None:
    other: MemoTable[str, int] = MemoTable("other", key="name", version="1", max_entries=10)
    other.get_or_compute("a", lambda: 1)
    m = measure("digest", "repeat-keys", variant="cached", pipeline=PIPE,
                config=MeasureConfig(workers=1, samples=2, warmup_seconds=0.0,
                                     mode="inprocess"))
    assert m.ok and hit_rates(m) == [0.75]
    assert len(other) == 1 and other.stats().hits == 0


@pytest.mark.parametrize(("settings", "message"), [
    ({"cache": "hot"}, "cache state 'hot' is unknown; choose one of: cold, warm, steady"),
    ({"contention_threads": 1}, "contention_threads must be an integer >= 2; got 1"),
])
def test_bad_cache_settings_are_refused(settings: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        MeasureConfig(**settings)  # type: ignore[arg-type]


def test_the_cache_flags_reach_the_config_and_bad_ones_are_refused() -> None:
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_measure_flags(parser, output=False)
    args = parser.parse_args(["--cache-state", "steady", "--contention-threads", "4"])
    assert config_of(args).cache == "steady" and config_of(args).contention_threads == 4
    for bad in (["--cache-state", "hot"], ["--contention-threads", "1"]):
        with pytest.raises(argparse.ArgumentError):
            parser.parse_args(bad)


def test_a_table_travels_to_worker_processes_empty_and_is_measured_there() -> None:
    import pickle

    table: MemoTable[int, int] = MemoTable("cell", key="n", version="1", max_entries=100)
    table.get_or_compute(1, lambda: 1)
    copy = pickle.loads(pickle.dumps(table))
    assert (copy.name, copy.key, copy.version, copy.max_entries) == ("cell", "n", "1", 100)
    assert len(copy) == 0 and copy.stats().lookups == 0 and len(table) == 1
    assert copy.get_or_compute(2, lambda: 4) == 4 and len(copy) == 1  # a lock of its own
    data = tuple(range(20)) * 2

    def cell() -> list[int]:  # as a notebook cell would: the table is shipped by value
        return [table.get_or_compute(n, lambda n=n: n * n) for n in data]

    m = measure(cell, config=MeasureConfig(workers=2, samples=3, warmup_seconds=0.0))
    assert m.ok, m.error_text()
    assert hit_rates(m) == [0.5, 0.5]  # single input, cold: each key's second lookup hits
