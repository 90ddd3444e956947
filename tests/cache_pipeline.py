"""A small pipeline with a cached variant and batch-sequence workloads, for the cache
protocol's tests (worker processes import it by name)."""

from __future__ import annotations

import random

from workbench import stage, workload
from workbench.batches import BatchSequence
from workbench.memo import MemoTable
from workbench.pipeline import Pipeline

#: What one key costs to compute (a pure function of the key).
WORK = 400
TABLE: MemoTable[tuple[int, int], int] = MemoTable(
    "digits", key="key, work", version="1", max_entries=100_000)


def _digest(key: int, work: int) -> int:
    total = key
    for i in range(work):
        total = (total * 31 + i) % 1_000_003
    return total


@stage(input="tuple[int, ...]", output="tuple[int, ...]")
def digest(keys: tuple[int, ...], *, work: int = WORK, bound: int = 100_000,
           ) -> tuple[int, ...]:
    """Each key's digest, computed every time (``bound``: the cached variant's entries)."""
    return tuple(_digest(k, work) for k in keys)


@digest.variant("cached")
def digest_cached(keys: tuple[int, ...], *, work: int = WORK, bound: int = 100_000,
                  ) -> tuple[int, ...]:
    """Each key's digest from a memo table keyed by (key, work), of ``bound`` entries."""
    TABLE.set_bounds(max_entries=bound, max_bytes=None)
    return tuple(TABLE.get_or_compute((k, work), lambda k=k: _digest(k, work)) for k in keys)


def pipeline() -> Pipeline:
    return Pipeline.of(digest, name="digests")


def _batches(n: int, seed: int, repeat: float, count: int = 5) -> tuple[tuple[int, ...], ...]:
    """``count`` batches of ``n`` distinct keys; after the first, round(repeat * n) keys of
    each batch come from earlier batches and the rest are new."""
    rng = random.Random(seed)
    fresh = iter(range(10**6, 10**7))
    seen: list[int] = []
    out = []
    for b in range(count):
        old = rng.sample(seen, round(repeat * n)) if b else []
        keys = tuple(old + [next(fresh) for _ in range(n - len(old))])
        seen.extend(k for k in keys if k not in set(seen))
        out.append(keys)
    return tuple(out)


@workload("distinct-keys", size=40, seed=3)
def distinct_keys(n: int, seed: int) -> BatchSequence:
    """5 batches of n keys, none repeated anywhere."""
    return BatchSequence(_batches(n, seed, 0.0), 0.0, warm=2, description="all distinct")


@workload("repeat-keys", size=40, seed=4)
def repeat_keys(n: int, seed: int) -> BatchSequence:
    """5 batches of n keys; after the first, 75 % of each batch repeats earlier keys."""
    return BatchSequence(_batches(n, seed, 0.75), 0.75, warm=1, description="75 % repeats")


@workload("one-input", size=40, seed=5)
def one_input(n: int, seed: int) -> tuple[int, ...]:
    """n keys, each twice: a single input with repeats inside it."""
    keys = tuple(random.Random(seed).sample(range(10**6), n // 2))
    return keys + keys


LEAKY: MemoTable[tuple[int, int], int] = MemoTable(
    "leaky", key="key, work", version="1", max_entries=100_000)


@digest.variant("leaky")
def digest_leaky(keys: tuple[int, ...], *, work: int = WORK, bound: int = 100_000,
                 ) -> tuple[int, ...]:
    """A broken cache: a hit returns a stale value (equivalence must catch it)."""
    out = []
    for k in keys:
        before = LEAKY.stats().hits
        value = LEAKY.get_or_compute((k, work), lambda k=k: _digest(k, work))
        out.append(value + 1 if LEAKY.stats().hits > before else value)
    return tuple(out)
