"""End to end: a stage whose vectorized variant sums floats in another order, measured by
the engine and decided through the app layer.

Declared with ``workbench.floats`` the variant is equivalent and its decision is recorded;
declared with ``exact`` it is refused, and the refusal names the first differing item,
the largest difference and the predicate to declare. Measured in this process (one
worker, two samples): the equivalence check is what is under test, not the timings.
"""

from __future__ import annotations

import operator
import random
from functools import reduce
from pathlib import Path

import numpy as np
import pytest

from workbench import InvalidInputError, Pipeline, Workload, exact, floats, stage
from workbench.app.deciding import decide, decisions
from workbench.app.measuring import compare
from workbench.measure.config import MeasureConfig
from workbench.predicates import Equivalence

QUICK = MeasureConfig(mode="inprocess", workers=1, samples=2, warmup_calls=1,
                      warmup_seconds=0.0)


def _rows(n: int, seed: int) -> tuple[tuple[float, ...], ...]:
    rng = random.Random(seed)
    return tuple(tuple(rng.uniform(0.0, 1.0) for _ in range(64)) for _ in range(n))


ROWS = Workload("float-rows", _rows, 30, seed=4)


def _pipeline(equivalence: Equivalence) -> Pipeline:
    @stage(name="total", input="tuple[tuple[float, ...], ...]", output="tuple[float, ...]",
           equivalence=equivalence)
    def total(rows: tuple[tuple[float, ...], ...]) -> tuple[float, ...]:
        """Each row's sum, left to right."""
        return tuple(reduce(operator.add, row, 0.0) for row in rows)

    @total.variant("vectorized")
    def total_vectorized(rows: tuple[tuple[float, ...], ...]) -> tuple[float, ...]:
        """Each row's sum in NumPy (pairwise: another order)."""
        return tuple(np.asarray(rows).sum(axis=1).tolist())

    return Pipeline.of(total, name="sums")


def _vectorized(pipeline: Pipeline) -> tuple[bool, str]:
    comparison = compare("total", ROWS, pipeline=pipeline, config=QUICK)
    (result,) = [r for r in comparison.results if r.variant == "vectorized"]
    assert result.equivalence is not None
    return result.equivalence.equivalent, result.equivalence.detail


def test_the_two_orders_really_differ_in_the_last_bits() -> None:
    pipe = _pipeline(floats)
    rows = ROWS.load()
    pure, vectorized = pipe.stage("total")(rows), pipe.stage("total")(rows, "vectorized")
    differing = [i for i, (a, b) in enumerate(zip(pure, vectorized, strict=True)) if a != b]
    assert differing and max(abs(a - b) / a for a, b in zip(pure, vectorized, strict=True)) < 1e-12


def test_declared_with_floats_the_variant_is_equivalent_and_can_be_recorded(
        tmp_path: Path) -> None:
    pipe = _pipeline(floats)
    equivalent, detail = _vectorized(pipe)
    assert equivalent and detail.startswith("all 30 items within rel 1e-09 (largest |diff|")
    comparison = compare("total", ROWS, pipeline=pipe, config=QUICK)
    log = tmp_path / "decisions.jsonl"
    decided = decide("total", "vectorized", "NumPy's sum, equal to pure's within rounding",
                     log=log, pipeline=pipe, workload=ROWS, evidence=(comparison,))
    assert (decided.record.stage, decided.record.variant) == ("total", "vectorized")
    (record,) = decisions(log).records
    chosen = next(a for a in record.alternatives if a.variant == "vectorized")
    assert record.id == decided.record.id and chosen.equivalent
    assert "within rel 1e-09" in chosen.equivalence


def test_declared_exact_the_variant_is_refused_with_how_and_what_to_declare(
        tmp_path: Path) -> None:
    pipe = _pipeline(exact)
    rows = ROWS.load()
    pure, vectorized = pipe.stage("total")(rows), pipe.stage("total")(rows, "vectorized")
    first = next(i for i, (a, b) in enumerate(zip(pure, vectorized, strict=True)) if a != b)
    equivalent, detail = _vectorized(pipe)
    assert not equivalent
    assert f"item {first} differs: pure {pure[first]!r} vs vectorized {vectorized[first]!r}" \
        in detail
    largest = max(abs(a - b) for a, b in zip(pure, vectorized, strict=True))
    assert f"largest |diff| {largest:.3g}" in detail and "relative" in detail
    assert detail.endswith("declare equivalence=workbench.floats")
    comparison = compare("total", ROWS, pipeline=pipe, config=QUICK)
    log = tmp_path / "decisions.jsonl"
    with pytest.raises(InvalidInputError, match=r"total/vectorized is not equivalent to pure.*"
                                                r"equivalence=workbench\.floats"):
        decide("total", "vectorized", "faster", log=log, pipeline=pipe, workload=ROWS,
               evidence=(comparison,))
    assert not log.exists()
