"""An importable pipeline for the cluster tests: one stage whose ``vectorized`` variant
does half the work of ``pure`` (a 2x difference), and a ``parallel`` variant that maps the
pure kernel over partitions with Dask."""

from __future__ import annotations

from collections.abc import Sequence

from workbench import Pipeline, stage, workload

ROUNDS = 4_000  # pure: 2 x ROUNDS loop steps per item


@workload("spins", size=8, seed=0)
def spins(n: int, seed: int) -> tuple[int, ...]:
    return tuple(range(seed, seed + n))


def _spin(x: int, rounds: int) -> int:
    total = x
    for i in range(rounds):
        total = (total + i * i) % 1_000_003
    return total


def _spin_all(xs: Sequence[int]) -> tuple[int, ...]:
    return tuple(_spin(x, 2 * ROUNDS) for x in xs)


@stage(input="tuple[int, ...]", output="tuple[int, ...]")
def spin(xs: tuple[int, ...]) -> tuple[int, ...]:
    return _spin_all(xs)


@spin.variant("vectorized")
def spin_half(xs: tuple[int, ...]) -> tuple[int, ...]:
    """Half the loop, the same answer: the second half only adds a constant (mod p)."""
    return tuple((_spin(x, ROUNDS) + _TAIL) % 1_000_003 for x in xs)


# sum over i in [ROUNDS, 2*ROUNDS) of i*i, modulo the same prime: what the second half adds
_TAIL = sum(i * i for i in range(ROUNDS, 2 * ROUNDS)) % 1_000_003


@spin.variant("parallel")
def spin_parallel(xs: tuple[int, ...]) -> tuple[int, ...]:
    from workbench.cluster.parallel import parallel_map

    return tuple(y for part in parallel_map(_spin_all, list(xs)) for y in part)


def make() -> Pipeline:
    return Pipeline.of(spin, name="spinning")
