"""The ``hashing`` embedding kernels: variant equivalence, laws, a hand-checked example."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.rag.hashing import (
    DIM,
    FNV_OFFSET,
    FNV_PRIME,
    fnv1a64,
    hashing_native,
    hashing_pure,
    hashing_vectorized,
)

Kernel = Callable[[Sequence[str]], npt.NDArray[np.float32]]
FAST: dict[str, Kernel] = {"vectorized": hashing_vectorized, "native": hashing_native}
ALL: dict[str, Kernel] = {"pure": hashing_pure, **FAST}

_fragments = st.sampled_from(
    [
        " ", "  ", "\t", "\n", "\r\n", "\x00", "\u00a0", "\u3000", "\u200b", "é", "e\u0301",
        "ß", "Σ", "日本語", "中文 字", "😀", "\U0001f469\u200d\U0001f4bb", "🇫🇷", "a", "b",
        "the", "x" * 300, "ü" * 120,
    ]
)  # fmt: skip
_text = st.lists(
    st.one_of(st.text(st.characters(codec="utf-8"), max_size=10), _fragments),
    max_size=10,
).map("".join)
_texts = st.lists(st.one_of(_text, st.sampled_from(["", " ", "   ", "\t"])), max_size=8)


def _tokens(text: str) -> list[str]:
    return [t for t in text.split(" ") if t]


@settings(max_examples=80, deadline=None)
@given(_texts)
def test_variants_match_pure_bitwise(texts: list[str]) -> None:
    expected = hashing_pure(texts)
    assert expected.shape == (len(texts), DIM) and expected.dtype == np.float32
    for name, kernel in FAST.items():
        got = kernel(texts)
        assert got.shape == expected.shape and got.dtype == np.float32, name
        assert got.flags.c_contiguous, name
        assert np.allclose(got, expected, rtol=0, atol=1e-5), name
        assert np.array_equal(got, expected), name  # counts are exact, so bits agree too


@settings(max_examples=60, deadline=None)
@given(_texts)
def test_rows_are_unit_norm_or_zero(texts: list[str]) -> None:
    for name, kernel in ALL.items():
        matrix = kernel(texts)
        for text, row in zip(texts, matrix, strict=True):
            norm = float(np.linalg.norm(row.astype(np.float64)))
            if _tokens(text):
                assert abs(norm - 1.0) <= 1e-5, (name, text)
            else:
                assert not row.any(), (name, text)


def test_fnv1a64_by_hand() -> None:
    # FNV-1a of the single byte "a" (0x61), straight from the definition.
    by_hand = ((0xCBF29CE484222325 ^ 0x61) * 0x100000001B3) % 2**64
    assert by_hand == 0xAF63DC4C8601EC8C  # the published FNV-1a 64 test vector for "a"
    assert fnv1a64(b"a") == by_hand
    assert fnv1a64(b"") == FNV_OFFSET
    assert fnv1a64(b"foobar") == 0x85944171F73967E8  # published test vector
    assert FNV_PRIME == 0x100000001B3


@pytest.mark.parametrize("name", sorted(ALL))
def test_known_small_example(name: str) -> None:
    bucket_a = 0xAF63DC4C8601EC8C % DIM
    matrix = ALL[name](["a", "a b", "a\tb"])
    one_hot = np.zeros(DIM, dtype=np.float32)
    one_hot[bucket_a] = 1.0
    assert np.array_equal(matrix[0], one_hot)
    # "a b": features "a", "b", "a b"; each adds 1 to its bucket.
    counts = np.zeros(DIM)
    for feature in (b"a", b"b", b"a b"):
        counts[fnv1a64(feature) % DIM] += 1
    assert np.array_equal(matrix[1], (counts / np.linalg.norm(counts)).astype(np.float32))
    # A tab is not a separator: "a\tb" is one token.
    single = np.zeros(DIM, dtype=np.float32)
    single[fnv1a64(b"a\tb") % DIM] = 1.0
    assert np.array_equal(matrix[2], single)


@pytest.mark.parametrize("name", sorted(ALL))
def test_empty_batch_and_repeats(name: str) -> None:
    assert ALL[name]([]).shape == (0, DIM)
    matrix = ALL[name](["x x", "  x   x  "])  # spacing does not matter
    assert np.array_equal(matrix[0], matrix[1])


def test_importing_the_module_does_not_import_numba() -> None:
    code = "import sys, workbench.rag.hashing; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
