"""An importable pipeline for the cluster tests: one stage whose ``vectorized`` variant
does an eighth of the work of ``pure`` (an 8x difference: far above what a neighbour on
one core does to a ratio), and a ``parallel`` variant that maps the pure kernel over
partitions with Dask."""

from __future__ import annotations

from collections.abc import Sequence

from workbench import Pipeline, stage, workload

ROUNDS = 1_000  # pure: 8 x ROUNDS loop steps per item


@workload("spins", size=8, seed=0)
def spins(n: int, seed: int) -> tuple[int, ...]:
    return tuple(range(seed, seed + n))


def _spin(x: int, rounds: int) -> int:
    total = x
    for i in range(rounds):
        total = (total + i * i) % 1_000_003
    return total


def _spin_all(xs: Sequence[int]) -> tuple[int, ...]:
    return tuple(_spin(x, 8 * ROUNDS) for x in xs)


@stage(input="tuple[int, ...]", output="tuple[int, ...]")
def spin(xs: tuple[int, ...]) -> tuple[int, ...]:
    return _spin_all(xs)


@spin.variant("vectorized")
def spin_eighth(xs: tuple[int, ...]) -> tuple[int, ...]:
    """An eighth of the loop, the same answer: the rest only adds a constant (mod p)."""
    return tuple((_spin(x, ROUNDS) + _TAIL) % 1_000_003 for x in xs)


# sum over i in [ROUNDS, 8*ROUNDS) of i*i, modulo the same prime: what the rest adds
_TAIL = sum(i * i for i in range(ROUNDS, 8 * ROUNDS)) % 1_000_003


@spin.variant("parallel")
def spin_parallel(xs: tuple[int, ...]) -> tuple[int, ...]:
    from workbench.parallel import parallel_map

    return tuple(y for part in parallel_map(_spin_all, list(xs)) for y in part)


def make() -> Pipeline:
    return Pipeline.of(spin, name="spinning")
