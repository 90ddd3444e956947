"""An importable pipeline for the hotspot-hint tests: one stage whose time goes to NumPy's
kernels (:func:`spectra`: sorting and multiplying float arrays) and one whose time goes to
a tight pure-Python loop of its own (:func:`collatz`)."""

from __future__ import annotations

from workbench import Pipeline, stage, workload


@workload("numbers", size=64, seed=0)
def numbers(n: int, seed: int) -> tuple[int, ...]:
    """n seeded integers."""
    return tuple((seed * 7919 + i * 104729) % 100_003 + 1 for i in range(n))


@stage(input="tuple[int, ...]", output="float")
def spectra(items: tuple[int, ...]) -> float:
    """Array work: a seeded matrix built from the items, multiplied and sorted in NumPy."""
    import numpy as np

    rng = np.random.default_rng(len(items))
    m = rng.standard_normal((160, 160)) + np.asarray(items, dtype=float).mean()
    total = 0.0
    for _ in range(4):
        m = np.sort(m @ m.T, axis=1) / 160.0
        total += float(m.sum())
    return total


def steps(x: int) -> int:
    """The Collatz sequence's length from ``x``: a tight loop of plain Python."""
    count = 0
    while x != 1:
        x = x // 2 if x % 2 == 0 else 3 * x + 1
        count += 1
    return count


@stage(input="tuple[int, ...]", output="int")
def collatz(items: tuple[int, ...]) -> int:
    return sum(steps(x) for x in items for _ in range(20))


def arrays() -> Pipeline:
    return Pipeline.of(spectra, name="arrays")


def loops() -> Pipeline:
    return Pipeline.of(collatz, name="loops")
