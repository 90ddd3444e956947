"""The retrieve stage: cosine top-k of query vectors over the embedded chunks.

The kernels and their exact ranking rule (scores compared at 1e-9, ties by chunk id)
live in :mod:`workbench.rag.retrieve`; this module declares the stage around them.
Equivalence: identical top-k chunk ids, query by query.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from workbench.errors import InvalidInputError
from workbench.rag import retrieve as kernels
from workbench.rag import retrieve_numba
from workbench.rag.types import EmbeddingBatch, Hit
from workbench.stages import EquivalenceResult, stage

__all__ = ["DEFAULT_K", "DEFAULT_QUERIES", "query_texts", "retrieve"]

DEFAULT_K = 5
#: The workload whose strings are the queries, unless ``queries`` are given as vectors.
DEFAULT_QUERIES = "queries"
Results = tuple[tuple[Hit, ...], ...]


def check_retrieve_params(params: Mapping[str, Any]) -> None:
    k, queries, source = params["k"], params["queries"], params["query_workload"]
    if not isinstance(source, str) or not source:
        raise InvalidInputError(
            f"retrieve query_workload must name a workload of query strings; got {source!r}")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise InvalidInputError(f"retrieve k must be an integer >= 1; got {k!r}")
    if queries is not None and (not isinstance(queries, np.ndarray) or queries.ndim != 2):
        raise InvalidInputError(
            f"retrieve queries must be a 2-d (q, dim) array; got {type(queries).__name__}"
            + (f" of shape {queries.shape}" if isinstance(queries, np.ndarray) else "")
        )


def _need(queries: npt.NDArray[np.float32] | None) -> npt.NDArray[np.float32]:
    if queries is None:
        raise InvalidInputError(
            "retrieve needs query vectors: configure it with queries=<(q, dim) float32 array>"
        )
    return queries


def same_ids(
    reference: Results, candidate: Results, *, variant: str, params: Mapping[str, Any]
) -> EquivalenceResult:
    ref = [[h.chunk_id for h in hits] for hits in reference]
    cand = [[h.chunk_id for h in hits] for hits in candidate]
    if ref == cand:
        return EquivalenceResult(True, f"identical top-{params['k']} ids for {len(ref)} queries")
    if len(ref) != len(cand):
        return EquivalenceResult(False, f"{len(cand)} result lists, pure gave {len(ref)}")
    q = next(i for i, (a, b) in enumerate(zip(ref, cand, strict=True)) if a != b)
    return EquivalenceResult(False, f"query {q}: pure {ref[q]} vs {variant} {cand[q]}")


def query_texts(name: str) -> tuple[str, ...]:
    """The query strings of the workload ``name`` (``queries``, ``docs-queries``, ...)."""
    import workbench.rag.workloads  # noqa: F401  (registers the query sets)
    from workbench.workloads import get_workload

    texts = get_workload(name).load()
    if not isinstance(texts, tuple | list) or not all(isinstance(t, str) for t in texts):
        raise InvalidInputError(f"query workload {name!r} must give a sequence of strings; "
                                f"got {type(texts).__name__}")
    return tuple(texts)


def queries_of(pipeline: Any, data: Any) -> dict[str, Any]:
    """The queries of the stage's ``query_workload``, cleaned and embedded with the
    pipeline's model (pure); the corpus itself (``data``) plays no part."""
    from workbench.rag.clean import clean_text
    from workbench.rag.embed import embed_texts

    params = pipeline.params["retrieve"]
    if params["queries"] is not None:  # given explicitly
        return {}
    texts = [clean_text(q) for q in query_texts(params["query_workload"])]
    return {"queries": embed_texts(texts, model=pipeline.params["embed"]["model"])}


def count_queries(_: Any, params: Mapping[str, Any]) -> int:
    queries = params["queries"]
    return 0 if queries is None else int(queries.shape[0])


@stage(
    input="EmbeddingBatch",
    output="tuple[tuple[Hit, ...], ...]",
    equivalence=same_ids,
    check_params=check_retrieve_params,
    derive_params=queries_of,
    count_items=count_queries,
)
def retrieve(
    index: EmbeddingBatch, *, queries: npt.NDArray[np.float32] | None = None, k: int = DEFAULT_K,
    query_workload: str = DEFAULT_QUERIES,
) -> Results:
    """Python lists and heapq."""
    return kernels.retrieve_pure(index, _need(queries), k)


@retrieve.variant("vectorized")
def retrieve_vectorized(
    index: EmbeddingBatch, *, queries: npt.NDArray[np.float32] | None = None, k: int = DEFAULT_K,
    query_workload: str = DEFAULT_QUERIES,
) -> Results:
    """NumPy matmul + argpartition."""
    return kernels.retrieve_vectorized(index, _need(queries), k)


@retrieve.variant("native")
def retrieve_native(
    index: EmbeddingBatch, *, queries: npt.NDArray[np.float32] | None = None, k: int = DEFAULT_K,
    query_workload: str = DEFAULT_QUERIES,
) -> Results:
    """Numba, parallel: fused dot + top-k, GIL released."""
    return retrieve_numba.retrieve_native(index, _need(queries), k)
