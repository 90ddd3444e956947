"""The native variant of the retrieval kernels: a parallel Numba scan and selection with
the GIL released, on the thread count timed fastest here (:func:`native_threads`).

It follows the ranking rule of :mod:`workbench.rag.retrieve` exactly: cheap float32 scores
first, then every row that could still reach the top k rescored with the exact sequential
float64 formula, so its hits equal the other variants' bit for bit.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from workbench import notes
from workbench._optional import require
from workbench.rag.retrieve import (
    _SQ_HI,
    _SQ_LO,
    F32,
    F64,
    Results,
    _check,
    _margin,
    _nonfinite_row,
    _rank,
    _unit_queries,
)
from workbench.rag.types import EmbeddingBatch

if TYPE_CHECKING:
    from workbench.rag.backend_choice import Choice

__all__ = ["THREADS_VAR", "native_threads", "retrieve_native"]

_TILE = 64  # rows per tile in the native scan
_TILES_PER_TASK = 8
#: Overrides the native variant's timed thread count (an integer, or ``auto``).
THREADS_VAR = "WORKBENCH_RETRIEVE_THREADS"
_PROBE_ROWS = 32_768  # the thread-count probe uses at most this many of the index's rows


# Long by necessity: the two kernels are defined inside so that numba is imported only when
# the native variant first runs (import workbench stays light), and a numba kernel cannot
# call a Python helper, so each kernel's loop body is written out in full.
@functools.cache
def _native_kernels() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Compile (or load from cache) the two Numba kernels; imports numba on first call.

    The kernels refer to module globals only (no closure cells) so numba's on-disk cache
    can reuse them across processes.
    """
    numba = _numba()
    prange = numba.prange

    @numba.njit(nogil=True, parallel=True, cache=True)  # type: ignore[untyped-decorator]
    def scan(x: Any, unit: Any, approx: Any, bad: Any) -> None:
        """approx[j, i] = float32 cosine of row i and unit query j (-inf if bad[i] != 0);
        bad[i]: 0 ok, 1 re-check exactly, 2 non-finite. Tiles of rows are transposed so
        the float32 sums vectorize across rows (each lane still sums in index order);
        two queries share every pass over a tile."""
        n, dim = x.shape
        nq = unit.shape[0]
        d4 = dim - dim % 4
        span = _TILE * _TILES_PER_TASK
        for task in prange((n + span - 1) // span):
            xt = np.zeros((dim, _TILE), dtype=np.float32)
            acc = np.zeros((2, _TILE), dtype=np.float32)
            scale = np.zeros(_TILE)
            for lo in range(task * span, min(n, (task + 1) * span), _TILE):
                m = min(_TILE, n - lo)
                for d in range(dim):
                    for r in range(m):
                        xt[d, r] = x[lo + r, d]
                sq = acc[0]
                sq[:] = 0.0
                for d in range(dim):
                    row = xt[d]
                    for r in range(_TILE):
                        sq[r] += row[r] * row[r]
                for r in range(m):
                    bad[lo + r] = 0
                    scale[r] = 0.0
                    if _SQ_LO <= sq[r] <= _SQ_HI:
                        scale[r] = 1.0 / np.sqrt(np.float64(sq[r]))
                    else:
                        exact = 0.0
                        for d in range(dim):
                            v = np.float64(x[lo + r, d])
                            exact += v * v
                        bad[lo + r] = 0 if exact == 0.0 else (1 if np.isfinite(exact) else 2)
                for j in range(0, nq, 2):
                    j2 = min(j + 1, nq - 1)
                    a, b = acc[0], acc[1]
                    a[:] = 0.0
                    b[:] = 0.0
                    for d in range(0, d4, 4):
                        r0, r1, r2, r3 = xt[d], xt[d + 1], xt[d + 2], xt[d + 3]
                        c0, c1, c2, c3 = unit[j, d], unit[j, d + 1], unit[j, d + 2], unit[j, d + 3]
                        e0, e1, e2, e3 = (
                            unit[j2, d],
                            unit[j2, d + 1],
                            unit[j2, d + 2],
                            unit[j2, d + 3],
                        )
                        for r in range(_TILE):  # 4 index-order steps per load/store of a, b
                            v0, v1, v2, v3 = r0[r], r1[r], r2[r], r3[r]
                            a[r] = a[r] + v0 * c0 + v1 * c1 + v2 * c2 + v3 * c3
                            b[r] = b[r] + v0 * e0 + v1 * e1 + v2 * e2 + v3 * e3
                    for d in range(d4, dim):
                        r0, c0, e0 = xt[d], unit[j, d], unit[j2, d]
                        for r in range(_TILE):
                            a[r] += r0[r] * c0
                            b[r] += r0[r] * e0
                    for r in range(m):
                        approx[j, lo + r] = np.float64(a[r]) * scale[r]
                        approx[j2, lo + r] = np.float64(b[r]) * scale[r]
                for r in range(m):
                    if bad[lo + r] != 0:
                        approx[:, lo + r] = -np.inf

    @numba.njit(nogil=True, parallel=True, cache=True)  # type: ignore[untyped-decorator]
    def select(
        x: Any,
        q64: Any,
        qn: Any,
        approx: Any,
        bad: Any,
        kk: int,
        margin: float,
        rows: Any,
        scores: Any,
        counts: Any,
    ) -> None:
        """Per query: exact scores of the rows within ``margin`` of the k-th best approximate
        score, and of the re-check rows, into rows[j, :counts[j]] and scores[j, :counts[j]].
        The k-th best comes from a bounded min-heap (np.partition is slow to compile)."""
        nq = approx.shape[0]
        n, dim = x.shape
        for j in prange(nq):
            a = approx[j]
            heap = np.empty(kk)
            size = 0
            for i in range(n):
                v = a[i]
                if size < kk:  # push, sift up
                    c = size
                    size += 1
                    while c > 0 and heap[(c - 1) // 2] > v:
                        heap[c] = heap[(c - 1) // 2]
                        c = (c - 1) // 2
                    heap[c] = v
                elif v > heap[0]:  # replace the root, sift down
                    c = 0
                    while 2 * c + 1 < kk:
                        child = 2 * c + 1
                        if child + 1 < kk and heap[child + 1] < heap[child]:
                            child += 1
                        if heap[child] >= v:
                            break
                        heap[c] = heap[child]
                        c = child
                    heap[c] = v
            limit = heap[0] - margin
            m = 0
            for i in range(n):
                if a[i] >= limit or bad[i] != 0:
                    s = 0.0
                    if qn[j] > 0.0:
                        dot = 0.0
                        sq = 0.0
                        for d in range(dim):
                            v = np.float64(x[i, d])
                            dot += q64[j, d] * v
                            sq += v * v
                        if sq > 0.0:
                            s = dot / (qn[j] * np.sqrt(sq))
                    rows[j, m] = i
                    scores[j, m] = s
                    m += 1
            counts[j] = m

    return scan, select


def _numba() -> Any:
    return require("numba", feature="the native variants", extra="native")


@contextlib.contextmanager
def _numba_threads(threads: int) -> Iterator[None]:
    """Run Numba's parallel regions started here on ``threads`` threads, then restore."""
    numba = _numba()
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        yield
    finally:
        numba.set_num_threads(before)


_chosen: list[Choice[int]] = []  # the thread-count Choice, made on the first native call


def native_threads(x: F32, unit: F32, q64: F64, qn: F64, kk: int, margin: float) -> int:
    """The Numba thread count of :func:`retrieve_native` in this process, chosen on its
    first call (these arguments) by timing the kernels with 1 thread and with one per
    allowed CPU (up to ``NUMBA_NUM_THREADS``) on at most 32,768 of its rows; or set by
    ``WORKBENCH_RETRIEVE_THREADS``. Records the note ``retrieve.native``."""
    if not _chosen:
        from workbench.rag.backend_choice import Candidate, env_threads, fastest, thread_counts

        numba = _numba()
        limit = min(int(numba.config.NUMBA_NUM_THREADS), _allowed_cpus())
        requested = env_threads(os.environ, THREADS_VAR)
        counts, lowered = thread_counts(requested, limit)
        why = f"; {THREADS_VAR}={requested}{lowered}" if requested is not None else (
            f"; {limit} CPU allowed" if limit == 1 else "")
        xs = x[:_PROBE_ROWS]
        scan, select = _native_kernels()
        nq, rows = len(unit), len(xs)
        approx, bad = np.empty((nq, rows)), np.empty(rows, dtype=np.int8)
        out = (np.empty((nq, rows), dtype=np.int64), np.empty((nq, rows)),
               np.empty(nq, dtype=np.int64))

        def probe(threads: int) -> None:
            with _numba_threads(threads):
                scan(xs, unit, approx, bad)
                select(xs, q64, qn, approx, bad, min(kk, rows), margin, *out)

        _chosen.append(fastest(
            [Candidate("numba", n, functools.partial(int, n)) for n in counts], probe,
            probe_text=f"the first call's {rows} x {x.shape[1]} index and {nq} queries",
            why=why, rounds=7))
    notes.record("retrieve.native", _chosen[0].note)
    return _chosen[0].threads


def _allowed_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def retrieve_native(index: EmbeddingBatch, queries: npt.ArrayLike, k: int) -> Results:
    """Top-``k`` hits per query: parallel Numba scan and selection, GIL released, on the
    thread count timed fastest here (:func:`native_threads`)."""
    q, kk = _check(index, queries, k)
    n, x = len(index), index.matrix
    if n == 0:
        return tuple(() for _ in range(len(q)))
    q64, qn, unit = _unit_queries(q)
    scan, select = _native_kernels()
    margin = _margin(index.dim)
    threads = native_threads(x, unit, q64, qn, kk, margin)
    approx = np.empty((len(q), n))
    bad = np.empty(n, dtype=np.int8)
    with _numba_threads(threads):
        scan(x, unit, approx, bad)
    if (bad == 2).any():
        raise _nonfinite_row(index, int(np.flatnonzero(bad == 2)[0]))
    rows = np.empty((len(q), n), dtype=np.int64)
    scores = np.empty((len(q), n))
    counts = np.empty(len(q), dtype=np.int64)
    with _numba_threads(threads):
        select(x, q64, qn, approx, bad, kk, margin, rows, scores, counts)
    return tuple(
        _rank(index, rows[j, : counts[j]], scores[j, : counts[j]], kk) for j in range(len(q))
    )
