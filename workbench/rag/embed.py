"""The embed stage: chunks -> an :class:`EmbeddingBatch`, with two models.

``model="hashing"``: word uni+bigram feature hashing into 384 L2-normalised buckets
(:mod:`workbench.rag.hashing`). ``model="minilm"``: the real all-MiniLM-L6-v2 with mean
pooling (:mod:`workbench.rag.minilm`). Each model has the three variants; the stage
dispatches on ``(model, variant)`` and imports a model's module only when it runs. The
``parallel`` variant maps the vectorized kernel over partitions of the texts on Dask
workers (:func:`workbench.parallel.parallel_map`), one partition per worker.

Equivalence against pure: ``allclose(rtol=0, atol=1e-5)`` per element, except the compiled
MiniLM path (``minilm``/``native``), which must reach cosine >= 0.99 per vector
(:func:`workbench.cosine`, the predicate any stage can declare).
(``parallel`` runs the vectorized kernel, so it is held to ``allclose`` too.)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from workbench.errors import InvalidInputError
from workbench.predicates import EquivalenceResult, allclose, cosine
from workbench.rag.types import Chunk, EmbeddingBatch
from workbench.stages import stage

__all__ = ["DIM", "MODELS", "embed", "embed_texts"]

DIM = 384
#: model -> variant -> "module:function" of a kernel ``(texts) -> (n, 384) float32``.
MODELS: Mapping[str, Mapping[str, str]] = {
    "hashing": {
        v: f"workbench.rag.hashing:hashing_{v}" for v in ("pure", "vectorized", "native")
    },
    "minilm": {v: f"workbench.rag.minilm:minilm_{v}" for v in ("pure", "vectorized", "native")},
}
COSINE_FLOOR = 0.99
ATOL = 1e-5

Kernel = Callable[[Sequence[str]], npt.NDArray[np.float32]]


def check_embed_params(params: Mapping[str, Any]) -> None:
    if params["model"] not in MODELS:
        raise InvalidInputError(
            f"embedding model {params['model']!r} is unknown; choose one of {sorted(MODELS)}"
        )


def kernel(model: str, variant: str) -> Kernel:
    module, _, name = MODELS[model][variant].partition(":")
    fn: Kernel = getattr(importlib.import_module(module), name)
    return fn


def embed_texts(texts: Sequence[str], *, model: str = "hashing",
                variant: str = "pure") -> npt.NDArray[np.float32]:
    """Embed raw strings with one model/variant (queries use this)."""
    check_embed_params({"model": model})
    return kernel(model, variant)(texts)


def _run(chunks: Iterable[Chunk], model: str, variant: str) -> EmbeddingBatch:
    rows = list(chunks)
    matrix = kernel(model, variant)([c.text for c in rows])
    return EmbeddingBatch.from_rows([c.chunk_id for c in rows], matrix, DIM)


#: The compiled MiniLM path's predicate: every vector's cosine with pure's >= 0.99.
SAME_DIRECTION = cosine(COSINE_FLOOR)
#: Every other path's: each element within ATOL of pure's (NaN never matches).
SAME_VALUES = allclose(rtol=0.0, atol=ATOL, equal_nan=False)


def embeddings_equivalent(
    reference: EmbeddingBatch, candidate: EmbeddingBatch, *, variant: str,
    params: Mapping[str, Any]
) -> EquivalenceResult:
    if reference.ids != candidate.ids:
        return EquivalenceResult(False, "the chunk ids differ from pure's (order or content)")
    if len(reference) == 0:
        return EquivalenceResult(True, "no vectors (empty input)")
    same = (SAME_DIRECTION if params["model"] == "minilm" and variant == "native"
            else SAME_VALUES)
    return same(reference.matrix, candidate.matrix, variant=variant, params=params)


@stage(
    input="Iterable[Chunk]",
    output="EmbeddingBatch",
    equivalence=embeddings_equivalent,
    check_params=check_embed_params,
    materializes_output="to_numpy(): an (n, 384) matrix",
)
def embed(chunks: Iterable[Chunk], *, model: str = "hashing") -> EmbeddingBatch:
    """Reference embedding: hashing with dict counting, or MiniLM one text per forward."""
    return _run(chunks, model, "pure")


@embed.variant(
    "vectorized",
    materializes_input="list() of texts",
    materializes_output="to_numpy(): an (n, 384) matrix",
)
def embed_vectorized(chunks: Iterable[Chunk], *, model: str = "hashing") -> EmbeddingBatch:
    """Hashing in NumPy; MiniLM in length-sorted padded batches under inference_mode."""
    return _run(chunks, model, "vectorized")


@embed.variant(
    "native",
    materializes_input="list() of texts",
    materializes_output="to_numpy(): an (n, 384) matrix",
)
def embed_native(chunks: Iterable[Chunk], *, model: str = "hashing") -> EmbeddingBatch:
    """Hashing in a Numba kernel; MiniLM through a compiled inference path."""
    return _run(chunks, model, "native")


def _embed_part(texts: Sequence[str], model: str) -> npt.NDArray[np.float32]:
    """One partition on a Dask worker: the vectorized kernel, on one thread."""
    import sys

    torch: Any = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    return kernel(model, "vectorized")(texts)


@embed.variant(
    "parallel",
    materializes_input="list() of texts, cut into one partition per Dask worker",
    materializes_output="to_numpy(): an (n, 384) matrix",
)
def embed_parallel(chunks: Iterable[Chunk], *, model: str = "hashing") -> EmbeddingBatch:
    """The vectorized kernel mapped over partitions of the texts on Dask workers."""
    from functools import partial

    from workbench.parallel import parallel_map

    rows = list(chunks)
    parts = parallel_map(partial(_embed_part, model=model), [c.text for c in rows])
    matrix = np.vstack(parts) if parts else np.zeros((0, DIM), np.float32)
    return EmbeddingBatch.from_rows([c.chunk_id for c in rows], matrix, DIM)
