"""Cosine top-k kernels: variant equivalence (ids and scores), laws, bad input."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from workbench.errors import InvalidInputError
from workbench.rag.retrieve import retrieve_pure, retrieve_vectorized
from workbench.rag.retrieve_numba import retrieve_native
from workbench.rag.types import EmbeddingBatch, Hit

Results = tuple[tuple[Hit, ...], ...]
Kernel = Callable[[EmbeddingBatch, npt.NDArray[np.float32], int], Results]
FAST: dict[str, Kernel] = {"vectorized": retrieve_vectorized, "native": retrieve_native}
ALL: dict[str, Kernel] = {"pure": retrieve_pure, **FAST}

# Few distinct values make exact ties and parallel vectors likely; the full float32 range
# reaches the overflow / underflow rows the fast variants must score exactly.
_value = st.one_of(
    st.sampled_from([0.0, 1.0, -1.0, 2.0, 0.5]),
    st.floats(-4, 4, width=32),
    st.floats(width=32, allow_nan=False, allow_infinity=False),
)


@st.composite
def _cases(draw: st.DrawFn) -> tuple[EmbeddingBatch, npt.NDArray[np.float32], int]:
    dim = draw(st.integers(1, 9))
    row = st.lists(_value, min_size=dim, max_size=dim)
    rows = draw(st.lists(row, max_size=24))
    duplicate = draw(st.booleans())
    if rows and duplicate:  # exact duplicates and zero vectors
        pool: list[list[float]] = [*rows, [0.0] * dim]
        rows += draw(st.lists(st.sampled_from(pool), max_size=6))
    n = len(rows)
    distinct_ids = draw(st.booleans())
    id_text = st.text("ab:é0", max_size=4)
    ids = draw(st.lists(id_text, min_size=n, max_size=n, unique=distinct_ids))
    matrix = np.array(rows, dtype=np.float32).reshape(n, dim)
    qrows = draw(st.lists(st.one_of(row, st.sampled_from([*rows, [0.0] * dim])), max_size=4))
    queries = np.array(qrows, dtype=np.float32).reshape(len(qrows), dim)
    k = draw(st.integers(1, n + 3))
    return EmbeddingBatch(tuple(ids), matrix), queries, k


def _index(matrix: npt.ArrayLike, ids: list[str] | None = None) -> EmbeddingBatch:
    m = np.ascontiguousarray(matrix, dtype=np.float32)
    return EmbeddingBatch(tuple(ids or [f"c{i:04d}" for i in range(len(m))]), m)


def _ids(results: Results) -> list[list[str]]:
    return [[h.chunk_id for h in hits] for hits in results]


def _assert_all_agree(index: EmbeddingBatch, queries: npt.NDArray[np.float32], k: int) -> None:
    expected = retrieve_pure(index, queries, k)
    assert len(expected) == len(queries)
    assert all(len(hits) == min(k, len(index)) for hits in expected)
    for name, kernel in FAST.items():
        got = kernel(index, queries, k)
        assert _ids(got) == _ids(expected), name
        assert got == expected, name  # this implementation also agrees on score bits


@settings(max_examples=100, deadline=None)
@given(_cases())
def test_variants_match_pure(case: tuple[EmbeddingBatch, npt.NDArray[np.float32], int]) -> None:
    _assert_all_agree(*case)


def test_variants_match_on_near_ties_and_many_tiles() -> None:
    rng = np.random.default_rng(7)
    base = rng.standard_normal(37).astype(np.float32)
    close = base + rng.standard_normal((700, 37)).astype(np.float32) * np.float32(1e-4)
    far = rng.standard_normal((500, 37)).astype(np.float32)
    matrix = np.concatenate([close, far, close[:50], np.zeros((3, 37), np.float32)])
    ids = [f"c{i:05d}" for i in rng.permutation(len(matrix))]
    queries = np.stack([base, far[0], np.zeros(37, np.float32), close[5]])
    for k in (1, 7, 60, 2000):
        _assert_all_agree(_index(matrix, ids), queries, k)


def test_ties_broken_by_chunk_id_then_row() -> None:
    index = _index(np.ones((4, 3)), ["b", "a", "c", "a"])
    for name, kernel in ALL.items():
        (hits,) = kernel(index, np.ones((1, 3), np.float32), 3)
        assert [h.chunk_id for h in hits] == ["a", "a", "b"], name


def test_known_small_example() -> None:
    index = _index([[1, 0], [0, 1], [1, 1], [0, 0]], ["x", "y", "z", "zero"])
    for name, kernel in ALL.items():
        (hits,) = kernel(index, np.array([[2, 0]], np.float32), 2)
        assert hits == (Hit("x", 1.0), Hit("z", 1 / math.sqrt(2))), name
        (all_hits,) = kernel(index, np.array([[-1, 0]], np.float32), 10)
        assert [h.chunk_id for h in all_hits] == ["y", "zero", "z", "x"], name
        assert all_hits[1].score == 0.0


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(2, 12), st.integers(0, 2**32 - 1))
def test_an_indexed_vector_retrieves_itself_first(n: int, dim: int, seed: int) -> None:
    matrix = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    cos = unit @ unit.T
    np.fill_diagonal(cos, -1.0)
    assume(n == 1 or cos.max() < 1 - 1e-6)  # distinct directions
    index = _index(matrix)
    for name, kernel in ALL.items():
        results = kernel(index, matrix, 1)
        assert [hits[0].chunk_id for hits in results] == list(index.ids), name


@pytest.mark.parametrize("name", sorted(ALL))
def test_empty_index_k_above_n_and_no_queries(name: str) -> None:
    kernel = ALL[name]
    empty = _index(np.zeros((0, 4)))
    assert kernel(empty, np.ones((3, 4), np.float32), 5) == ((), (), ())
    index = _index(np.eye(3))
    assert kernel(index, np.zeros((0, 3), np.float32), 2) == ()
    (hits,) = kernel(index, np.array([[3, 2, 1]], np.float32), 99)
    assert [h.chunk_id for h in hits] == ["c0000", "c0001", "c0002"]


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("k", [0, -1])
def test_k_below_one_is_rejected(name: str, k: int) -> None:
    with pytest.raises(InvalidInputError, match=f"got {k}"):
        ALL[name](_index(np.eye(3)), np.eye(3, dtype=np.float32), k)


@pytest.mark.parametrize("name", sorted(ALL))
def test_bad_queries_and_index_are_rejected(name: str) -> None:
    kernel, index = ALL[name], _index(np.eye(3))
    with pytest.raises(InvalidInputError, match=r"dim 4 .* dim 3"):
        kernel(index, np.ones((2, 4), np.float32), 1)
    with pytest.raises(InvalidInputError, match=r"shape \(3,\)"):
        kernel(index, np.ones(3, np.float32), 1)
    with pytest.raises(InvalidInputError, match="query 1"):
        kernel(index, np.array([[1, 0, 0], [np.nan, 0, 0]], np.float32), 1)
    with pytest.raises(InvalidInputError, match="'c0001'"):
        kernel(_index(np.array([[1, 0, 0], [0, np.inf, 0]])), np.ones((1, 3), np.float32), 1)
    with pytest.raises(InvalidInputError, match="True"):
        kernel(index, np.eye(3, dtype=np.float32), True)


def test_importing_the_module_does_not_import_numba() -> None:
    code = "import sys, workbench.rag.retrieve; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
