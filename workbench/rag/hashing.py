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
    encoded = [t.encode("utf-8") for t in texts]
    # Texts joined by one space: tokens never span two texts. 0x20 never occurs inside a
    # multi-byte UTF-8 sequence, so tokens are exactly the maximal runs of non-0x20 bytes.
    buf = np.frombuffer(b" ".join(encoded), dtype=np.uint8)
    text_start = np.zeros(n, dtype=np.int64)
    np.cumsum([len(e) + 1 for e in encoded[:-1]], out=text_start[1:])
    edges = np.diff((buf != _SPACE).astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    lengths = np.flatnonzero(edges == -1) - starts
    row = np.searchsorted(text_start, starts, side="right") - 1

    uni = _fnv_continue(np.full(len(starts), FNV_OFFSET, dtype=np.uint64), buf, starts, lengths)
    pair = np.flatnonzero(row[:-1] == row[1:])  # left token of each bigram
    mid = (uni[pair] ^ np.uint64(_SPACE)) * np.uint64(FNV_PRIME)
    bi = _fnv_continue(mid, buf, starts[pair + 1], lengths[pair + 1])

    dim = np.uint64(DIM)
    cells = np.concatenate(
        (row * DIM + (uni % dim).astype(np.int64), row[pair] * DIM + (bi % dim).astype(np.int64))
    )
    counts = np.bincount(cells, minlength=n * DIM).reshape(n, DIM).astype(np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", counts, counts))  # integer sums: exact in any order
    np.divide(counts, norms[:, None], out=counts, where=norms[:, None] > 0)
    return counts.astype(np.float32)


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
        """out[t] = the normalized feature counts of the text ``buf[bounds[t]:bounds[t + 1]]``;
        rows of texts without tokens are left as they are (zero)."""
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
