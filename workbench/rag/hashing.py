"""The ``hashing`` embedding model: FNV-1a feature hashing, in three interchangeable variants.

Contract, shared by every variant. A text's tokens are its maximal runs of characters other
than U+0020 (tabs and newlines are *not* separators). Its features are every token and every
bigram ``tokens[i] + " " + tokens[i + 1]``. A feature lands in bucket
``fnv1a64(feature.encode("utf-8")) % DIM`` and adds 1 to it. The vector is the count vector
divided by its L2 norm, computed in float64 and then cast to float32; a text without tokens
gives the zero vector. Counts are integers, so the norm is exact and every variant returns
bitwise-identical matrices.

``hashing_pure`` is plain Python, ``hashing_vectorized`` uses NumPy column-wise over tokens,
``hashing_native`` is a Numba kernel over the UTF-8 bytes of all texts (compiled on first use).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from workbench._optional import require

__all__ = [
    "DIM",
    "FNV_OFFSET",
    "FNV_PRIME",
    "fnv1a64",
    "hashing_native",
    "hashing_pure",
    "hashing_vectorized",
]

DIM = 384
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
_MASK = (1 << 64) - 1
_SPACE = 0x20
_OFFSET_U64 = np.uint64(FNV_OFFSET)
_PRIME_U64 = np.uint64(FNV_PRIME)
_SPACE_U64 = np.uint64(_SPACE)
_DIM_U64 = np.uint64(DIM)


def fnv1a64(data: bytes) -> int:
    """64-bit FNV-1a hash of ``data``."""
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & _MASK
    return h


def _tokens(text: str) -> list[str]:
    return [t for t in text.split(" ") if t]


# --------------------------------------------------------------------------- pure Python


def hashing_pure(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Embed ``texts`` as an ``(n, DIM)`` float32 matrix, in plain Python."""
    rows: list[list[float]] = []
    for text in texts:
        tokens = _tokens(text)
        features = tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]
        counts = Counter(fnv1a64(f.encode("utf-8")) % DIM for f in features)
        norm = math.sqrt(sum(c * c for c in counts.values()))
        row = [0.0] * DIM
        for bucket, c in counts.items():
            row[bucket] = c / norm
        rows.append(row)
    return np.array(rows, dtype=np.float32).reshape(len(rows), DIM)


# --------------------------------------------------------------------------- NumPy


def _fnv_continue(
    state: npt.NDArray[np.uint64],
    buf: npt.NDArray[np.uint8],
    starts: npt.NDArray[np.int64],
    lengths: npt.NDArray[np.int64],
) -> npt.NDArray[np.uint64]:
    """Continue each FNV-1a ``state[i]`` over ``buf[starts[i] : starts[i] + lengths[i]]``.

    Items are sorted by length descending so byte column ``j`` updates a prefix only.
    """
    order = np.argsort(-lengths, kind="stable")
    h = state[order]
    pos = starts[order]
    sorted_len = lengths[order]
    prime = np.uint64(FNV_PRIME)
    # active[j] = number of items longer than j (sorted_len is descending).
    max_len = int(sorted_len[0]) if len(sorted_len) else 0
    active = np.searchsorted(-sorted_len, -np.arange(max_len), side="left")
    for j in range(max_len):
        m = int(active[j])
        h[:m] ^= buf[pos[:m] + j]
        h[:m] *= prime
    out = np.empty_like(h)
    out[order] = h
    return out


def hashing_vectorized(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Embed ``texts`` as an ``(n, DIM)`` float32 matrix, hashing all tokens at once with NumPy."""
    n = len(texts)
    per_text = [_tokens(t) for t in texts]
    n_tok = np.fromiter((len(t) for t in per_text), dtype=np.int64, count=n)
    counts = np.zeros(n * DIM, dtype=np.int64)
    total = int(n_tok.sum())
    if total:
        joined = " ".join(tok for toks in per_text for tok in toks).encode("utf-8")
        buf = np.frombuffer(joined, dtype=np.uint8)
        # 0x20 never occurs inside a multi-byte sequence and tokens contain no U+0020,
        # so the spaces of ``joined`` are exactly the separators between tokens.
        spaces = np.flatnonzero(buf == _SPACE)
        starts = np.concatenate(([0], spaces + 1)).astype(np.int64)
        ends = np.concatenate((spaces, [len(buf)])).astype(np.int64)
        lengths = ends - starts
        row = np.repeat(np.arange(n, dtype=np.int64), n_tok)

        uni = _fnv_continue(np.full(total, FNV_OFFSET, dtype=np.uint64), buf, starts, lengths)
        pair = np.flatnonzero(row[:-1] == row[1:])  # left token of each bigram
        prime = np.uint64(FNV_PRIME)
        mid = (uni[pair] ^ np.uint64(_SPACE)) * prime
        bi = _fnv_continue(mid, buf, starts[pair + 1], lengths[pair + 1])

        dim = np.uint64(DIM)
        uni_cells = row * DIM + (uni % dim).astype(np.int64)
        bi_cells = row[pair] * DIM + (bi % dim).astype(np.int64)
        flat = np.concatenate((uni_cells, bi_cells))
        counts += np.bincount(flat, minlength=n * DIM)
    matrix = counts.reshape(n, DIM).astype(np.float64)
    norms = np.sqrt((matrix * matrix).sum(axis=1))
    np.divide(matrix, norms[:, None], out=matrix, where=norms[:, None] > 0)
    return np.ascontiguousarray(matrix, dtype=np.float32)


# --------------------------------------------------------------------------- Numba


@functools.cache
def _native_kernel() -> Callable[..., Any]:
    """Compile (or load from cache) the Numba kernel; imports numba on first call.

    The kernel refers to module globals only (no closure cells), so numba's on-disk cache
    can key and reuse it across processes.
    """
    numba = require("numba", feature="the native variants", extra="native")
    prange = numba.prange

    @numba.njit(nogil=True, parallel=True, cache=True)  # type: ignore[untyped-decorator]
    def kernel(buf: Any, bounds: Any, out: Any) -> None:
        for t in prange(len(bounds) - 1):
            counts = np.zeros(DIM, dtype=np.int64)
            h = _OFFSET_U64  # FNV state of the current token
            hb = _OFFSET_U64  # FNV state of the bigram "previous token, space, current token"
            prev = _OFFSET_U64
            have_prev = False
            in_tok = False
            # One step past the end acts as a closing space.
            for p in range(bounds[t], bounds[t + 1] + 1):
                b = np.uint64(buf[p]) if p < bounds[t + 1] else _SPACE_U64
                if b != _SPACE_U64:
                    if not in_tok:
                        h = _OFFSET_U64
                        hb = (prev ^ _SPACE_U64) * _PRIME_U64
                        in_tok = True
                    h = (h ^ b) * _PRIME_U64
                    hb = (hb ^ b) * _PRIME_U64
                elif in_tok:
                    counts[np.int64(h % _DIM_U64)] += 1
                    if have_prev:
                        counts[np.int64(hb % _DIM_U64)] += 1
                    prev = h
                    have_prev = True
                    in_tok = False
            sq = np.int64(0)
            for j in range(DIM):
                sq += counts[j] * counts[j]
            if sq > 0:
                norm = np.sqrt(np.float64(sq))
                for j in range(DIM):
                    out[t, j] = np.float32(np.float64(counts[j]) / norm)

    return kernel  # type: ignore[no-any-return]


def hashing_native(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Embed ``texts`` as an ``(n, DIM)`` float32 matrix with a parallel, GIL-free Numba kernel."""
    encoded = [t.encode("utf-8") for t in texts]
    bounds = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=bounds[1:])
    buf = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    out = np.zeros((len(encoded), DIM), dtype=np.float32)
    if len(encoded):
        _native_kernel()(buf, bounds, out)
    return out
