"""The equivalence predicates as laws: each is reflexive, symmetric where it says so (and
shown not to be where it says not), passes just inside its tolerance and fails just
outside, and says how outputs differ (the first differing place and both values, how many
differ, the largest difference, and for ``exact`` on rounded floats the predicate to use).
"""

from __future__ import annotations

import math
import operator
import pickle
import subprocess
import sys
from functools import reduce
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import workbench
from workbench import (
    InvalidInputError,
    MissingDependencyError,
    allclose,
    arrays,
    close,
    cosine,
    embeddings,
    exact,
    floats,
    frame_equal,
    frames,
    same_items,
    stage,
)
from workbench.predicates import Equivalence, EquivalenceResult, walk


def judge(predicate: Equivalence, reference: Any, candidate: Any,
          variant: str = "vectorized") -> EquivalenceResult:
    return predicate(reference, candidate, variant=variant, params={})


any_floats = st.floats(allow_nan=True, allow_infinity=True)
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
leaves = st.one_of(any_floats, st.integers(), st.text(max_size=5), st.none(), st.booleans())
nested = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=20)
float_arrays = hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=5),
                          elements=any_floats)
matrices = hnp.arrays(np.float64, st.tuples(st.integers(0, 6), st.integers(1, 6)),
                      elements=st.floats(-1e3, 1e3))


def fresh(value: Any) -> Any:
    """An equal copy made of new objects (a NaN that is not the same object)."""
    if isinstance(value, float):
        return value + 0.0
    if isinstance(value, list | tuple):
        return type(value)(fresh(v) for v in value)
    if isinstance(value, dict):
        return {k: fresh(v) for k, v in value.items()}
    return value


# -- reflexive -------------------------------------------------------------------------

@given(nested)
def test_exact_and_floats_are_reflexive_on_any_structure_with_nan_and_inf(value: Any) -> None:
    for predicate in (exact, floats, close(rel=0.0), close(rel=0.1, abs=1.0)):
        assert judge(predicate, value, fresh(value)), (predicate, value)


@given(float_arrays)
def test_arrays_and_exact_are_reflexive_on_arrays_with_nan(a: np.ndarray) -> None:
    for predicate in (arrays, allclose(rtol=0.0, atol=0.0), exact, floats):
        assert judge(predicate, a, a.copy())


@given(matrices)
def test_cosine_is_reflexive_on_finite_matrices_zero_rows_included(a: np.ndarray) -> None:
    for threshold in (1.0, 0.99, 1e-9):
        result = judge(cosine(threshold), a, a.copy())
        assert result and (len(a) == 0 or result.worst == 1.0)


@given(st.lists(finite, max_size=8), st.lists(st.text(max_size=3), max_size=8))
def test_frames_are_reflexive(xs: list[float], names: list[str]) -> None:
    n = min(len(xs), len(names))
    frame = pl.DataFrame({"x": xs[:n], "name": names[:n]})
    assert judge(frames, frame, frame.clone()) and judge(exact, frame, frame.clone())


@given(st.lists(st.one_of(st.integers(-3, 3), st.text(max_size=2), st.tuples(st.integers()))))
def test_same_items_is_reflexive(items: list[Any]) -> None:
    assert judge(same_items, items, list(items))


# -- symmetric, and where not ----------------------------------------------------------

pairs = st.tuples(finite, finite)


@given(st.lists(pairs, max_size=6), st.sampled_from([0.0, 1e-9, 1e-3, 0.5]),
       st.sampled_from([0.0, 1e-6, 1.0]))
def test_close_is_symmetric(xy: list[tuple[float, float]], rel: float, tol: float) -> None:
    a, b = [x for x, _ in xy], [y for _, y in xy]
    predicate = close(rel=rel, abs=tol)
    assert bool(judge(predicate, a, b)) == bool(judge(predicate, b, a))


@given(matrices, st.data())
def test_cosine_and_exact_are_symmetric(a: np.ndarray, data: st.DataObject) -> None:
    b = data.draw(hnp.arrays(np.float64, a.shape, elements=st.floats(-1e3, 1e3)))
    for predicate in (cosine(0.9), exact):
        assert bool(judge(predicate, a, b)) == bool(judge(predicate, b, a))


@given(st.lists(st.integers(0, 4), max_size=8), st.lists(st.integers(0, 4), max_size=8))
def test_same_items_is_symmetric(a: list[int], b: list[int]) -> None:
    assert bool(judge(same_items, a, b)) == bool(judge(same_items, b, a))


def test_allclose_measures_the_relative_tolerance_against_pure() -> None:
    """Not symmetric, as numpy.allclose is not: 0.9 is within 10 % of pure's 1.0, but 1.0
    is not within 10 % of pure's 0.9. (Frames follow their library's rule, which for
    Polars changed between versions.)"""
    loose = allclose(rtol=0.1, atol=0.0)
    assert judge(loose, np.array([1.0]), np.array([0.9]))
    assert not judge(loose, np.array([0.9]), np.array([1.0]))
    assert judge(close(rel=0.1), [0.9], [1.0]) and judge(close(rel=0.1), [1.0], [0.9])


# -- tolerance boundaries --------------------------------------------------------------

magnitudes = st.floats(1e-100, 1e100) | st.floats(-1e100, -1e-100)
tolerances = st.sampled_from([1e-12, 1e-9, 1e-6, 1e-3])


@given(magnitudes, tolerances)
def test_close_rel_passes_just_inside_and_fails_just_outside(a: float, rel: float) -> None:
    predicate = close(rel=rel)
    assert judge(predicate, [a], [a * (1 + 0.9 * rel)])
    assert not judge(predicate, [a], [a * (1 + 1.1 * rel)])


@given(st.floats(-1e3, 1e3), st.sampled_from([1e-6, 1e-3, 1.0]))
def test_close_abs_passes_just_inside_and_fails_just_outside(a: float, tol: float) -> None:
    predicate = close(rel=0.0, abs=tol)
    assert judge(predicate, a, a + 0.9 * tol)
    assert not judge(predicate, a, a - 1.1 * tol)


@given(hnp.arrays(np.float64, st.integers(1, 8), elements=magnitudes), tolerances)
def test_allclose_passes_just_inside_and_fails_just_outside(r: np.ndarray, rtol: float) -> None:
    predicate = allclose(rtol=rtol, atol=0.0)
    assert judge(predicate, r, r * (1 + 0.9 * rtol))
    outside = r.copy()
    outside[-1] *= 1 + 1.1 * rtol
    assert not judge(predicate, r, outside)


@given(st.floats(0.5, 0.999), st.floats(0.0, 2 * math.pi))
def test_cosine_passes_just_inside_and_fails_just_outside(threshold: float,
                                                          turn: float) -> None:
    step = (1 - threshold) * 0.05

    def at(cos: float) -> np.ndarray:
        angle = math.acos(cos)
        return np.array([[math.cos(turn + angle), math.sin(turn + angle)]])

    reference = np.array([[math.cos(turn), math.sin(turn)]])
    assert judge(cosine(threshold), reference, at(threshold + step))
    below = judge(cosine(threshold), reference, at(threshold - step))
    assert not below and below.worst is not None and below.worst < threshold


@given(st.lists(st.floats(1.0, 1e6), min_size=1, max_size=6), tolerances)
def test_frames_pass_just_inside_and_fail_just_outside(xs: list[float], rtol: float) -> None:
    predicate = frame_equal(rtol=rtol, atol=0.0)
    reference = pl.DataFrame({"x": xs})
    assert judge(predicate, reference, pl.DataFrame({"x": [x * (1 + 0.9 * rtol) for x in xs]}))
    assert not judge(predicate, reference,
                     pl.DataFrame({"x": [*xs[:-1], xs[-1] * (1 + 1.1 * rtol)]}))


# -- same_items ------------------------------------------------------------------------

@given(st.lists(st.integers(0, 5), max_size=10).flatmap(
    lambda xs: st.tuples(st.just(xs), st.permutations(xs))))
def test_same_items_ignores_order(drawn: tuple[list[int], list[int]]) -> None:
    items, shuffled = drawn
    assert judge(same_items, items, shuffled)
    assert judge(same_items, iter(items), tuple(shuffled))


@given(st.lists(st.integers(0, 3), min_size=1, max_size=10), st.data())
def test_same_items_names_what_is_missing_and_extra_with_counts(items: list[int],
                                                                 data: st.DataObject) -> None:
    dropped = data.draw(st.sampled_from(items))
    candidate = [*items, 9, 9]
    candidate.remove(dropped)
    result = judge(same_items, items, candidate, "native")
    assert not result
    assert f"native gave {len(candidate)} items, pure {len(items)}" in result.detail
    assert f"missing 1 (pure has, native lacks): {dropped}" in result.detail
    assert "extra 2 (native has, pure lacks): 9 (x2)" in result.detail


def test_same_items_pairs_unhashable_items() -> None:
    assert judge(same_items, [[1], {"a": 2}], [{"a": 2}, [1]])
    result = judge(same_items, [[1], [1]], [[1], [2]])
    assert not result and "missing 1" in result.detail and "[2]" in result.detail


# -- what the detail says --------------------------------------------------------------

@given(st.lists(finite, min_size=1, max_size=30), st.data())
def test_exact_names_the_first_difference_the_count_and_the_largest(
        xs: list[float], data: st.DataObject) -> None:
    where = data.draw(st.sets(st.integers(0, len(xs) - 1), min_size=1))
    ys = [x + 1.5 if i in where else x for i, x in enumerate(xs)]
    result = judge(exact, xs, ys, "native")
    first = min(where)
    assert not result
    assert f"item {first} differs: pure {xs[first]!r} vs native {ys[first]!r}" in result.detail
    assert f"{len(where)} of {len(xs)} items differ" in result.detail or len(xs) == 1
    largest = max(abs(x - y) for x, y in zip(xs, ys, strict=True))
    assert f"largest |diff| {largest:.3g}" in result.detail
    assert result.worst == largest


@given(st.lists(any_floats, min_size=walk.VECTORIZED, max_size=3 * walk.VECTORIZED),
       st.data())
def test_long_float_sequences_compared_in_numpy_say_what_the_item_walk_says(
        xs: list[float], data: st.DataObject) -> None:
    changes = data.draw(st.lists(st.sampled_from(
        [lambda x: x, lambda x: x * (1 + 1e-12), lambda x: x + 1.0, lambda x: math.nan]),
        min_size=len(xs), max_size=len(xs)))
    ys = [change(x) for change, x in zip(changes, xs, strict=True)]
    for predicate in (exact, floats, close(rel=1e-3, abs=1e-6)):
        vectorized = judge(predicate, xs, ys)
        saved, walk.VECTORIZED = walk.VECTORIZED, 10**9
        try:
            item_by_item = judge(predicate, xs, ys)
        finally:
            walk.VECTORIZED = saved
        assert vectorized == item_by_item


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 5)),
                  elements=finite), st.data())
def test_arrays_name_the_first_element_in_c_order(a: np.ndarray, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, a.size - 1))
    b = a.copy()
    b.flat[i:] = 2 * np.abs(b.flat[i:]) + 1  # at least |x| + 1 away: beyond the tolerance
    row, col = np.unravel_index(i, a.shape)
    for predicate in (exact, arrays):
        detail = judge(predicate, a, b).detail
        assert f"element [{row}, {col}] differs: pure {a[row, col].item()!r}" in detail
        assert f"{a.size - i} of {a.size} elements differ" in detail or a.size == 1


def test_frames_name_the_row_and_column_and_their_shape_differences() -> None:
    reference = pl.DataFrame({"id": [1, 2, 3], "total": [1.0, 2.0, 3.0]})
    candidate = pl.DataFrame({"id": [1, 2, 3], "total": [1.0, 2.5, 3.0]})
    for predicate in (exact, frames):
        result = judge(predicate, reference, candidate)
        assert "row 1, column 'total' differs: pure 2.0 vs vectorized 2.5" in result.detail
        assert "1 of 6 values differ" in result.detail and result.worst == 0.5
    shorter = judge(frames, reference, reference.head(2))
    assert "vectorized gave 2 rows, pure 3" in shorter.detail
    renamed = judge(frames, reference, reference.rename({"total": "sum"}))
    assert "columns differ: pure only 'total'; vectorized only 'sum'" in renamed.detail
    retyped = judge(frames, reference, reference.with_columns(pl.col("id").cast(pl.Float64)))
    assert "gave dtype Float64, pure Int64" in retyped.detail and not retyped
    assert judge(frame_equal(check_dtypes=False), reference,
                 reference.with_columns(pl.col("id").cast(pl.Float64)))
    assert judge(frame_equal(check_order=False), reference, reference.reverse())
    assert "frames compares Polars or pandas" in judge(frames, [1.0], [1.0]).detail


def test_pandas_frames_go_through_pandas_own_testing() -> None:
    pd = pytest.importorskip("pandas")
    reference = pd.DataFrame({"x": [1.0, 2.0], "s": ["a", "b"]})
    assert judge(frames, reference, pd.DataFrame({"x": [1.0, 2.0 + 1e-9], "s": ["a", "b"]}))
    result = judge(frames, reference, pd.DataFrame({"x": [1.0, 2.1], "s": ["a", "b"]}))
    assert not result and "row 1, column 'x' differs: pure 2.0 vs vectorized 2.1" in result.detail
    assert judge(exact, reference, reference.copy())


def test_a_missing_frame_library_is_named_with_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "polars.testing", None)  # what an absent module does
    frame = pl.DataFrame({"x": [1.0]})
    with pytest.raises(MissingDependencyError, match=r"polars\.testing.*pip install"):
        judge(frames, frame, frame)


def test_exact_on_rounded_floats_names_the_predicate_to_declare() -> None:
    values = [0.1] * 10
    summed, fsummed = reduce(operator.add, values), math.fsum(values)
    assert summed != fsummed  # the two orders really differ in the last bits
    result = judge(exact, (summed, 1.0), (fsummed, 1.0))
    assert not result and "equivalence=workbench.floats" in result.detail
    assert judge(floats, (summed, 1.0), (fsummed, 1.0))
    looser = judge(exact, [1.0], [1.0 + 3e-8])
    assert "equivalence=workbench.close(rel=1e-07)" in looser.detail
    assert judge(close(rel=1e-7), [1.0], [1.0 + 3e-8])
    near_zero = judge(floats, [1e6, 0.0], [1e6, 2e-12])  # a sum that cancels to ~0
    assert "equivalence=workbench.close(rel=1e-09, abs=1e-11)" in near_zero.detail
    assert judge(close(rel=1e-9, abs=1e-11), [1e6, 0.0], [1e6, 2e-12])
    array = judge(exact, np.array([summed]), np.array([fsummed]))
    assert "equivalence=workbench.arrays" in array.detail
    real = judge(exact, [1.0], [1.1])
    assert "declare" not in real.detail  # a real difference gets no hint
    assert "declare" not in judge(exact, [1, 2], [1, 3]).detail  # nor do integers


def test_shapes_types_lengths_and_keys_are_named() -> None:
    assert "native gave 2 items, pure 3" in judge(exact, [1, 2, 3], [1, 2], "native").detail
    assert "native gave a list, pure a tuple" in judge(exact, (1,), [1], "native").detail
    assert "keys differ: pure only 'a'; native only 'b'" in judge(
        floats, {"a": 1.0}, {"b": 1.0}, "native").detail
    assert "native gave shape (2,), pure (3,)" in judge(
        arrays, np.zeros(3), np.zeros(2), "native").detail
    kinds = judge(arrays, np.zeros(3), np.zeros(3, dtype=np.int64), "native")
    assert not kinds and "gave dtype int64, pure float64" in kinds.detail
    assert judge(arrays, np.zeros(3), np.zeros(3, dtype=np.float32))  # one kind: float
    assert not judge(exact, np.zeros(3), np.zeros(3, dtype=np.float32))  # exact: one dtype


def test_details_stay_short_for_huge_outputs() -> None:
    big = ["x" * 10_000 + str(i) for i in range(10_000)]
    other = [*big[:-1], "y" * 10_000]
    keys = judge(exact, {f"k{i}": 0 for i in range(1000)}, {f"j{i}": 0 for i in range(1000)})
    for result in (judge(exact, big, other), keys, judge(exact, list(range(10**5)), [])):
        assert not result and len(result.detail) < 800


def test_nan_matches_nan_unless_asked_otherwise() -> None:
    nan = float("nan")
    assert judge(exact, [nan], [float("nan")]) and judge(floats, [nan], [float("nan")])
    assert not judge(close(nan_equal=False), [nan], [nan])
    assert not judge(allclose(equal_nan=False), np.array([nan]), np.array([nan]))
    assert not judge(floats, [nan], [1.0]) and not judge(floats, [math.inf], [-math.inf])
    assert not judge(cosine(0.5), np.array([[nan, 1.0]]), np.array([[nan, 1.0]]))


# -- declaring them --------------------------------------------------------------------

@pytest.mark.parametrize(("make", "said"), [
    (lambda: close(rel=-1e-9), "rel must be a finite number >= 0"),
    (lambda: close(abs=float("nan")), "abs must be a finite number >= 0"),
    (lambda: close(rel="tiny"), "got 'tiny'"),  # type: ignore[arg-type]
    (lambda: allclose(atol=-1), "atol must be a finite number >= 0 (0 turns it off); got -1"),
    (lambda: frame_equal(rtol=math.inf), "rtol must be a finite number >= 0"),
    (lambda: frame_equal(check_order="no"),  # type: ignore[arg-type]
     "check_order must be True or False; got 'no'"),
    (lambda: cosine(0.0), "threshold must be a cosine in (0, 1]"),
    (lambda: cosine(1.5), "got 1.5"),
    (lambda: cosine(True), "got True"),
])
def test_factories_refuse_bad_arguments_naming_them(make: Any, said: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        make()
    assert said in str(raised.value)


def test_a_stage_refuses_a_factory_that_was_not_called() -> None:
    with pytest.raises(InvalidInputError, match=r"equivalence close does not take .*"
                                                r"workbench\.close\(rel=1e-6\)"):
        stage(input="x", output="y", equivalence=close)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="is not callable"):
        stage(input="x", output="y", equivalence="floats")  # type: ignore[arg-type]


def test_predicates_are_exported_picklable_and_import_workbench_stays_light() -> None:
    for name in ("exact", "floats", "close", "arrays", "allclose", "frames", "frame_equal",
                 "embeddings", "cosine", "same_items"):
        assert name in workbench.__all__ and callable(getattr(workbench, name))
    for predicate in (floats, close(rel=1e-6, abs=1e-12), arrays, frames, embeddings,
                      cosine(0.999), exact, same_items):
        assert pickle.loads(pickle.dumps(predicate)) == predicate
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, workbench; print(sorted(m for m in "
         "('numpy', 'polars', 'pandas') if m in sys.modules))"],
        capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
    assert embeddings == cosine(0.99) and floats == close(rel=1e-9, abs=0.0)


def test_the_reference_embed_stage_judges_with_the_exported_predicates() -> None:
    from workbench.rag.embed import SAME_DIRECTION, SAME_VALUES, embeddings_equivalent
    from workbench.rag.types import EmbeddingBatch

    assert (SAME_DIRECTION.threshold, SAME_VALUES.rtol, SAME_VALUES.atol) == (0.99, 0.0, 1e-5)
    assert not SAME_VALUES.equal_nan
    rng = np.random.default_rng(5)
    pure = EmbeddingBatch(("a", "b", "c"), rng.normal(size=(3, 8)).astype(np.float32))
    turned = pure.matrix.copy()
    turned[2] = -turned[2]
    native = embeddings_equivalent(pure, EmbeddingBatch(pure.ids, turned), variant="native",
                                   params={"model": "minilm"})
    assert not native and native.worst == pytest.approx(-1.0)
    assert "min cosine -1.00000 at row 2 (needs >= 0.99); 1 of 3 rows below" in native.detail
    nudged = pure.matrix + np.float32(1e-6)
    assert embeddings_equivalent(pure, EmbeddingBatch(pure.ids, nudged), variant="vectorized",
                                 params={"model": "hashing"})


def test_mappings_and_dataclasses_are_followed_by_key_and_field() -> None:
    from workbench.rag.types import Chunk

    a = (Chunk("d", "hello", 0, 5), Chunk("d", "world", 6, 11))
    b = (Chunk("d", "hello", 0, 5), Chunk("d", "worle", 6, 11))
    assert "item [1].text differs: pure 'world' vs native 'worle'" in judge(
        exact, a, b, "native").detail
    assert "item ['total'] differs: pure 2.0 vs native 2.5" in judge(
        floats, {"total": 2.0}, {"total": 2.5}, "native").detail
    assert judge(same_items, {"a": 1, "b": 2}, {"b": 2, "a": 1})
    assert "missing 1 (pure has, native lacks): ('a', 1)" in judge(
        same_items, {"a": 1}, {"a": 2}, "native").detail
