"""An importable pipeline for the memory-track tests: preparing it loads a large "model"
(in the workload, held for the whole run) and each call allocates a smaller, distinct
scratch buffer of its own, held while the call works. The two are told apart by the
functions that allocate them: :func:`load_model` and :func:`call_scratch`."""

from __future__ import annotations

from workbench import Pipeline, stage, workload

MODEL_BYTES = 48 * 2**20
SCRATCH_BYTES = 6 * 2**20


def load_model() -> bytearray:
    return bytearray(MODEL_BYTES)


def call_scratch() -> bytearray:
    return bytearray(SCRATCH_BYTES)


@workload("weighted", size=4, seed=0)
def weighted(n: int, seed: int) -> tuple[bytearray, tuple[int, ...]]:
    """A model and n items."""
    return load_model(), tuple(range(seed, seed + n))


@stage(input="tuple[bytearray, tuple[int, ...]]", output="int",
       count_items=lambda data, params: len(data[1]))
def score(data: tuple[bytearray, tuple[int, ...]]) -> int:
    model, items = data
    scratch = call_scratch()
    for i, x in enumerate(items):
        scratch[i * 4096] = (model[i] + x) % 256
    return sum(scratch[::4096])


def make() -> Pipeline:
    return Pipeline.of(score, name="weighing")
