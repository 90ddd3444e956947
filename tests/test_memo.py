"""Memo tables (workbench.memo) and batch sequences (workbench.batches)."""

from __future__ import annotations

import gc
import sys
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.batches import BatchSequence, observed_repeat_rate
from workbench.errors import InvalidInputError
from workbench.memo import (
    MAX_KEY_CHARS,
    MemoTable,
    approx_bytes,
    live_tables,
    text_hash,
)


class Absent(Exception):
    """Raised by a probe's compute: the key was not in the table."""


def _absent() -> Any:
    raise Absent


def held(table: MemoTable[Any, Any], keys: Any) -> set[Any]:
    """The keys among ``keys`` the table holds (a probe that stores nothing)."""
    out = set()
    for k in keys:
        try:
            table.get_or_compute(k, _absent)
        except Absent:
            continue
        out.add(k)
    return out


def sized(value: int) -> int:
    """A value's size is the value itself: byte bounds are easy to reason about."""
    return value


def table(**kw: Any) -> MemoTable[Any, Any]:
    kw.setdefault("key", "a small integer")
    kw.setdefault("version", "1")
    return MemoTable("t", **kw)


class Model:
    """A plain LRU with the same bounds and the same order of work: what the table must
    agree with (``get_many`` looks every key up, then stores the misses in order)."""

    def __init__(self, max_entries: int | None, max_bytes: int | None) -> None:
        self.data: OrderedDict[int, int] = OrderedDict()
        self.max_entries, self.max_bytes = max_entries, max_bytes

    def lookup(self, key: int) -> bool:
        if key in self.data:
            self.data.move_to_end(key)
            return True
        return False

    def store(self, key: int, value: int) -> None:
        if self.max_bytes is not None and value > self.max_bytes:
            return
        self.data.pop(key, None)
        self.data[key] = value
        while ((self.max_entries is not None and len(self.data) > self.max_entries)
               or (self.max_bytes is not None and sum(self.data.values()) > self.max_bytes)):
            self.data.popitem(last=False)

    def get_many(self, keys: list[int]) -> int:
        found = [self.lookup(k) for k in keys]
        for k, hit in zip(keys, found, strict=True):
            if not hit:
                self.store(k, value_of(k))
        return sum(found)


bounds = st.tuples(st.none() | st.integers(1, 6), st.none() | st.integers(1, 40)).filter(
    lambda b: b != (None, None))
# operations: ("one", key) or ("many", keys); a key's value (and size) is key % 13 + 1
ops = st.lists(st.one_of(st.tuples(st.just("one"), st.integers(0, 9)),
                         st.tuples(st.just("many"), st.lists(st.integers(0, 9), max_size=5))),
               max_size=40)


def value_of(key: int) -> int:
    return key % 13 + 1


@given(bounds, ops)
def test_counters_bounds_and_lru_agree_with_a_plain_lru(b: tuple[Any, Any], script: Any) -> None:
    t = table(max_entries=b[0], max_bytes=b[1], sizeof=sized)
    model = Model(*b)
    lookups = hits = 0
    for kind, arg in script:
        keys = [arg] if kind == "one" else arg
        expected_hits = model.get_many(keys)
        if kind == "one":
            assert t.get_or_compute(arg, lambda k=arg: value_of(k)) == value_of(arg)
        else:
            assert t.get_many(arg, lambda pos, ks=arg: [value_of(ks[i]) for i in pos]) == \
                [value_of(k) for k in arg]
        lookups, hits = lookups + len(keys), hits + expected_hits
        s = t.stats()
        assert s.hits + s.misses == lookups and s.hits == hits
        assert b[0] is None or s.entries <= b[0]
        assert b[1] is None or s.bytes <= b[1]
        assert s.entries == len(model.data) and s.bytes == sum(model.data.values())
    assert held(t, range(10)) == set(model.data)


def test_least_recently_used_goes_first() -> None:
    t = table(max_entries=2)
    t.get_or_compute("a", lambda: 1)
    t.get_or_compute("b", lambda: 2)
    t.get_or_compute("a", lambda: 99)  # a hit: a is now the most recent
    t.get_or_compute("c", lambda: 3)
    assert held(t, "abc") == {"a", "c"}
    assert t.stats().evictions == 1


def test_a_value_larger_than_the_byte_bound_is_returned_not_kept() -> None:
    t = table(max_bytes=10, sizeof=sized)
    t.get_or_compute("a", lambda: 4)
    t.get_or_compute("b", lambda: 5)
    assert t.get_or_compute("big", lambda: 11) == 11
    s = t.stats()
    assert (s.entries, s.bytes, s.evictions) == (2, 9, 1)  # a and b survive
    assert held(t, ["a", "b", "big"]) == {"a", "b"}


def test_set_bounds_evicts_now() -> None:
    t = table(max_entries=5)
    for k in range(5):
        t.get_or_compute(k, lambda k=k: k)
    t.set_bounds(max_entries=2, max_bytes=None)
    assert t.stats().entries == 2 and t.stats().evictions == 3
    assert held(t, range(5)) == {3, 4}


def test_set_version_drops_entries_and_counts_invalidations() -> None:
    t = table(max_entries=10)
    for k in range(4):
        t.get_or_compute(k, lambda k=k: k)
    t.set_version("1")  # the same version: nothing happens
    assert t.stats().entries == 4 and t.stats().invalidations == 0
    t.set_version("2")
    s = t.stats()
    assert (s.version, s.entries, s.bytes, s.invalidations) == ("2", 0, 0, 4)
    assert t.get_or_compute(0, lambda: 7) == 7  # recomputed under the new version
    assert "version 2" in t.describe()


def test_a_value_computed_across_a_version_change_is_not_kept() -> None:
    t = table(max_entries=10)

    def compute() -> int:
        t.set_version("2")  # the model changed while this value was being computed
        return 1

    assert t.get_or_compute("k", compute) == 1
    assert t.stats().entries == 0


def test_get_many_computes_only_the_misses_in_one_call_in_order() -> None:
    t = table(max_entries=10)
    t.get_many(["b", "d"], lambda pos: [f"v{i}" for i in pos])
    calls: list[list[int]] = []

    def compute(positions: list[int]) -> list[str]:
        calls.append(positions)
        return [f"new-{p}" for p in positions]

    out = t.get_many(["a", "b", "c", "d", "e"], compute)
    assert calls == [[0, 2, 4]]
    assert out == ["new-0", "v0", "new-2", "v1", "new-4"]
    assert t.get_many(["a", "c"], compute) == ["new-0", "new-2"] and len(calls) == 1
    s = t.stats()
    assert (s.hits, s.misses) == (4, 5)


def test_get_many_refuses_a_wrong_number_of_values() -> None:
    t = table(max_entries=10)
    with pytest.raises(InvalidInputError, match="returned 1 values for 2 missing keys"):
        t.get_many(["a", "b"], lambda pos: ["only one"])


def test_threads_keep_counters_consistent_and_bounds_held() -> None:
    t = table(max_entries=50, max_bytes=300, sizeof=sized)
    threads, per_thread = 8, 2000
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def hammer(seed: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                k = (i * 7 + seed * 13) % 120
                if i % 5 == 0:
                    keys = [k, (k + 1) % 120, (k + 2) % 120]
                    got = t.get_many(keys, lambda pos, ks=keys: [value_of(ks[p]) for p in pos])
                    assert got == [value_of(x) for x in keys]
                else:
                    assert t.get_or_compute(k, lambda k=k: value_of(k)) == value_of(k)
                s = t.stats()
                assert s.entries <= 50 and s.bytes <= 300
        except BaseException as exc:  # reported below: a thread's failure is the test's
            errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so they really interleave
    try:
        workers = [threading.Thread(target=hammer, args=(n,)) for n in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors[0]
    s = t.stats()
    lookups = threads * per_thread // 5 * 3 + threads * (per_thread - per_thread // 5)
    assert s.hits + s.misses == lookups
    assert s.hits > 0 and s.evictions > 0
    assert s.entries <= s.misses - s.evictions
    present = held(t, range(120))
    assert len(present) == s.entries
    assert s.bytes == sum(value_of(k) for k in present)


@pytest.mark.parametrize("part", ["x" * (MAX_KEY_CHARS + 1), b"y" * 1000])
def test_long_key_parts_are_refused_with_their_length_and_the_limit(part: Any) -> None:
    t = table(max_entries=10)
    with pytest.raises(InvalidInputError) as err:
        t.get_or_compute(("doc", part, 256), lambda: 1)
    assert f"{len(part):,} characters" in str(err.value)
    assert f"at most {MAX_KEY_CHARS}" in str(err.value)
    with pytest.raises(InvalidInputError, match="is a payload"):
        t.get_many(["fine", part], lambda pos: [1] * len(pos))
    assert t.stats().lookups == 0  # nothing was looked up, not even the good key


def test_a_key_at_the_limit_is_accepted_and_an_unhashable_one_is_refused() -> None:
    t = table(max_entries=10)
    assert t.get_or_compute("x" * MAX_KEY_CHARS, lambda: 1) == 1
    with pytest.raises(InvalidInputError, match=r"must be hashable.*got a list"):
        t.get_or_compute(["a", "list"], lambda: 1)


@pytest.mark.parametrize(("kw", "message"), [
    ({}, "needs a bound: max_entries, max_bytes or both"),
    ({"max_entries": 0}, "integer >= 1 or None; got 0"),
    ({"max_bytes": -5}, "got -5"),
    ({"max_entries": True}, "got True"),
    ({"max_entries": 1.5}, "got 1.5"),
    ({"max_entries": 1, "key": ""}, "key must be a non-empty description"),
    ({"max_entries": 1, "key": "  "}, "key must be a non-empty description"),
    ({"max_entries": 1, "version": ""}, "version must be a non-empty description"),
])
def test_bad_settings_are_refused(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        table(**kw)


def test_bad_controls_are_refused() -> None:
    t = table(max_entries=3)
    with pytest.raises(InvalidInputError, match="a version is a non-empty string"):
        t.set_version("")
    with pytest.raises(InvalidInputError, match="needs a bound"):
        t.set_bounds(max_entries=None, max_bytes=None)
    with pytest.raises(InvalidInputError, match="needs a name"):
        MemoTable("", key="k", version="1", max_entries=1)


def test_stats_clear_and_reset() -> None:
    t = table(max_entries=3)
    assert t.stats().hit_rate is None
    t.get_or_compute("a", lambda: 1)
    t.get_or_compute("a", lambda: 1)
    assert t.stats().hit_rate == 0.5 and t.stats().to_json()["hits"] == 1
    t.clear()
    s = t.stats()
    assert (s.entries, s.bytes, s.hits, s.misses) == (0, 0, 1, 1)
    t.reset_counters()
    assert t.stats().lookups == 0


def test_describe_names_key_version_and_bounds() -> None:
    t = MemoTable("emb", key="text hash, model", version="m-1", max_entries=10,
                  max_bytes=2048, hashes_payload=True)
    text = t.describe()
    for part in ("'emb'", "text hash, model", "hashes whole payloads", "m-1", "10 entries",
                 "2,048 bytes"):
        assert part in text


def test_text_hash_is_stable_and_short() -> None:
    assert text_hash("abc") == text_hash(b"abc")
    assert len(text_hash("abc")) == 32 and text_hash("abc") != text_hash("abd")
    assert text_hash("abc") == "cf4ab791c62b8d2b2109c90275287816"  # BLAKE2b-128, fixed


def test_approx_bytes_counts_arrays_and_containers() -> None:
    row = np.zeros(384, np.float32)
    assert approx_bytes(row) >= row.nbytes
    assert approx_bytes((row, row)) > 2 * row.nbytes
    assert approx_bytes("x" * 1000) > 1000
    assert approx_bytes({"k": "x" * 1000}) > 1000


def test_live_tables_lists_tables_while_they_live() -> None:
    t = MemoTable("zz-live-check", key="k", version="1", max_entries=1)
    assert t in live_tables()
    del t
    gc.collect()
    assert "zz-live-check" not in [x.name for x in live_tables()]


# -- batch sequences ------------------------------------------------------------------------

def test_a_batch_sequence_is_a_sequence_of_its_batches() -> None:
    seq = BatchSequence(((1, 2), (2, 3), (3, 4)), repeat_rate=0.5, warm=2, description="d")
    assert len(seq) == 3 and seq[1] == (2, 3) and list(seq) == [(1, 2), (2, 3), (3, 4)]
    assert seq.items == 6
    assert seq.summary() == "3 batches, 6 items, stated repeat rate 50%, 2 to warm a cache; d"


@pytest.mark.parametrize(("kw", "message"), [
    ({"batches": ((1,),)}, "at least 2 batches.*got tuple of 1"),
    ({"batches": [(1,), (2,)]}, "at least 2 batches.*got list of 2"),
    ({"warm": 0}, "warm must be an integer from 1 to 2.*got 0"),
    ({"warm": 3}, "warm must be an integer from 1 to 2.*got 3"),
    ({"warm": True}, "got True"),
    ({"repeat_rate": -0.1}, "between 0 and 1; got -0.1"),
    ({"repeat_rate": 1.5}, "got 1.5"),
    ({"repeat_rate": "0.5"}, "got '0.5'"),
    ({"repeat_rate": True}, "got True"),
    ({"batches": ((1,), (), (2,))}, "batch 1 is empty"),
    ({"batches": ((1,), iter([2]), (2,))}, "batch 1 is an iterator"),
])
def test_bad_batch_sequences_are_refused(kw: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"batches": ((1,), (2,), (3,)), "repeat_rate": 0.5, **kw}
    with pytest.raises(InvalidInputError, match=message):
        BatchSequence(**args)


@pytest.mark.parametrize(("batches", "rate"), [
    ([[1, 2], [1, 3]], 0.5),
    ([[1], [2], [1, 2]], 2 / 3),  # 2 in batch 1 is new; 1 and 2 in batch 2 repeat
    ([[1], [2, 2]], 0.0),  # a repeat inside a later batch is not an earlier batch's item
    ([[1, 2]], 0.0),
    ([["a"], ["a"], ["a"]], 1.0),
])
def test_observed_repeat_rate_examples(batches: list[list[Any]], rate: float) -> None:
    assert observed_repeat_rate(batches) == pytest.approx(rate)


@given(st.lists(st.lists(st.integers(0, 20), min_size=1, max_size=8), min_size=1, max_size=6))
def test_observed_repeat_rate_is_the_definition(batches: list[list[int]]) -> None:
    later = [(i, x) for i, b in enumerate(batches) if i for x in b]
    repeats = sum(any(x in b for b in batches[:i]) for i, x in later)
    assert observed_repeat_rate(batches) == (repeats / len(later) if later else 0.0)
