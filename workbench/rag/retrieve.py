"""Cosine top-k retrieval kernels, in three interchangeable variants.

Ranking rule, shared by every variant. ``score(q, x) = dot(q, x) / (|q| * |x|)``, where the
dot product and both squared norms are float64 sums of the float32 values taken in index
order (a zero-norm vector scores 0.0). Hits are ordered by the key
``(-rint(score * 1e9), chunk_id, row)``: scores compare at 1e-9 resolution (``rint`` rounds
half to even, like Python's ``round``), ties go to the smaller chunk id, then the earlier row.

The fast variants first rank with cheap float32 scores whose error is bounded by
``_tolerance(dim)``, then recompute every row that could still reach the top k with the exact
sequential float64 formula. Hence all variants return the same ids and bitwise-equal scores.

Every variant takes ``(index, queries (q, dim), k)`` and returns, per query, a tuple of at
most ``k`` hits, best first. ``k`` must be >= 1, ``queries`` must match the index dimension,
and all values must be finite (``InvalidInputError`` otherwise). The native (Numba) variant
is :mod:`workbench.rag.retrieve_numba`.
"""

from __future__ import annotations

import heapq
import math
import operator
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from workbench.errors import InvalidInputError
from workbench.rag.types import EmbeddingBatch, Hit

if TYPE_CHECKING:
    pass

__all__ = ["retrieve_pure", "retrieve_vectorized"]

Results = tuple[tuple[Hit, ...], ...]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# float32 squared norms inside [_SQ_LO, _SQ_HI] have no overflow and negligible underflow;
# rows outside it (and zero rows) are scored exactly instead.
_SQ_LO = 2.0**-80
_SQ_HI = 2.0**100


def _tolerance(dim: int) -> float:
    """Bound on |approximate - exact| score for float32 sums of ``dim`` products."""
    return 3.0 * (dim + 1) * 2.0**-24 + 1e-9


def _margin(dim: int) -> float:
    """How far below the k-th approximate score a row may sit and still reach the top k."""
    return 2.0 * _tolerance(dim) + 2e-9


def _check(index: EmbeddingBatch, queries: npt.ArrayLike, k: int) -> tuple[F32, int]:
    """Validate the arguments; return the queries as C-contiguous float32 and ``min(k, n)``."""
    if isinstance(k, bool):
        raise InvalidInputError(f"k must be an integer >= 1; got {k!r}")
    try:
        k = operator.index(k)
    except TypeError:
        raise InvalidInputError(f"k must be an integer >= 1; got {k!r}") from None
    if k < 1:
        raise InvalidInputError(f"k must be an integer >= 1; got {k}")
    q = np.ascontiguousarray(queries, dtype=np.float32)
    if q.ndim != 2:
        raise InvalidInputError(f"queries must be a 2-d (q, dim) array; got shape {q.shape}")
    if q.shape[1] != index.dim:
        raise InvalidInputError(f"queries have dim {q.shape[1]} but the index has dim {index.dim}")
    if not np.isfinite(q).all():
        bad = int(np.flatnonzero(~np.isfinite(q).all(axis=1))[0])
        raise InvalidInputError(f"query {bad} has non-finite values")
    return q, min(k, len(index))


def _nonfinite_row(index: EmbeddingBatch, row: int) -> InvalidInputError:
    return InvalidInputError(f"index row {row} (chunk {index.ids[row]!r}) has non-finite values")


def _rank(index: EmbeddingBatch, rows: I64, scores: F64, k: int) -> tuple[Hit, ...]:
    """The best ``k`` of the exactly scored candidate ``rows``, ordered by the ranking key."""
    keys = -np.rint(scores * 1e9)
    if len(keys) > k:  # only rows whose rounded score ties or beats the k-th can place
        keep = keys <= np.partition(keys, k - 1)[k - 1]
        keys, rows, scores = keys[keep], rows[keep], scores[keep]
    ids = index.ids
    order = sorted(
        zip(
            keys.tolist(),
            [ids[r] for r in rows.tolist()],
            rows.tolist(),
            scores.tolist(),
            strict=True,
        )
    )
    return tuple(Hit(cid, score) for _, cid, _, score in order[:k])


# --------------------------------------------------------------------------- pure Python


def _seq_dot(a: list[float], b: list[float]) -> float:
    total = 0.0
    for x, y in zip(a, b, strict=True):
        total += x * y
    return total


def retrieve_pure(index: EmbeddingBatch, queries: npt.ArrayLike, k: int) -> Results:
    """Top-``k`` hits per query with Python floats and ``heapq``."""
    q, kk = _check(index, queries, k)
    rows: list[list[float]] = index.matrix.tolist()
    norms = [math.sqrt(_seq_dot(r, r)) for r in rows]
    for i, norm in enumerate(norms):
        if not math.isfinite(norm):
            raise _nonfinite_row(index, i)
    out: list[tuple[Hit, ...]] = []
    for qv in q.tolist():
        qn = math.sqrt(_seq_dot(qv, qv))
        keyed = []
        for i, (row, xn) in enumerate(zip(rows, norms, strict=True)):
            score = 0.0 if qn == 0.0 or xn == 0.0 else _seq_dot(qv, row) / (qn * xn)
            keyed.append((-round(score * 1e9), index.ids[i], i, score))
        best = heapq.nsmallest(kk, keyed)
        out.append(tuple(Hit(cid, score) for _, cid, _, score in best))
    return tuple(out)


# --------------------------------------------------------------------------- NumPy


def _seq_sum_last(a: F64) -> F64:
    """Sum over the last axis strictly left to right (``add.accumulate`` is sequential)."""
    if a.shape[-1] == 0:
        return np.zeros(a.shape[:-1])
    result: F64 = np.add.accumulate(a, axis=-1)[..., -1]
    return result


def _exact_scores(x: F32, q64: F64, qn: float, chunk: int = 2048) -> F64:
    """Exact scores of the rows ``x`` (m, dim) against one query, in row chunks."""
    out = np.zeros(len(x))
    if qn == 0.0:
        return out
    for lo in range(0, len(x), chunk):
        xs = x[lo : lo + chunk].astype(np.float64)
        dots = _seq_sum_last(xs * q64) + 0.0  # a sum started at +0.0 is never -0.0
        xn = np.sqrt(_seq_sum_last(xs * xs))
        nz = xn > 0.0
        out[lo : lo + chunk][nz] = dots[nz] / (qn * xn[nz])
    return out


def _unit_queries(q: F32) -> tuple[F64, F64, F32]:
    """Queries in float64, their exact norms, and float32 unit vectors (zero stays zero)."""
    q64 = q.astype(np.float64)
    qn = np.sqrt(_seq_sum_last(q64 * q64))
    unit = np.zeros_like(q64)
    np.divide(q64, qn[:, None], out=unit, where=qn[:, None] > 0.0)
    return q64, qn, unit.astype(np.float32)


def retrieve_vectorized(index: EmbeddingBatch, queries: npt.ArrayLike, k: int) -> Results:
    """Top-``k`` hits per query: float32 matmul, ``argpartition``, exact float64 re-check."""
    q, kk = _check(index, queries, k)
    n, x = len(index), index.matrix
    if n == 0:
        return tuple(() for _ in range(len(q)))
    q64, qn, unit = _unit_queries(q)
    with np.errstate(over="ignore", invalid="ignore"):  # such rows are re-checked
        sq = np.einsum("ij,ij->i", x, x).astype(np.float64)
        bad = ~((sq >= _SQ_LO) & (sq <= _SQ_HI))
        approx = (x @ unit.T).T.astype(np.float64)  # (q, n)
    approx /= np.sqrt(np.where(bad, 1.0, sq))
    if bad.any():
        bad_rows = np.flatnonzero(bad)
        xb = x[bad_rows].astype(np.float64)
        sq_exact = _seq_sum_last(xb * xb)
        if not np.isfinite(sq_exact).all():
            raise _nonfinite_row(index, int(bad_rows[~np.isfinite(sq_exact)][0]))
        zero = sq_exact == 0.0
        bad[bad_rows[zero]] = False  # exact score 0.0 for every query
        approx[:, bad_rows[zero]] = 0.0
        approx[:, bad] = -np.inf  # still unknown: always re-checked below
    out: list[tuple[Hit, ...]] = []
    top = np.argpartition(approx, n - kk, axis=1)[:, n - kk]
    margin = _margin(index.dim)
    for j in range(len(q)):
        limit = approx[j, top[j]] - margin
        rows = np.flatnonzero((approx[j] >= limit) | bad)
        out.append(_rank(index, rows, _exact_scores(x[rows], q64[j], float(qn[j])), kk))
    return tuple(out)
