"""The FuncPipe RAG reference pipeline (clean -> chunk -> embed -> retrieve) and one run of it.

:func:`run_rag` is :func:`workbench.runs.run_pipeline` (one unwarmed run, timed segment by
segment) plus what a reader of a RAG run wants to see: the chunk count, the model, the
queries and their best hits. Importing this module registers the reference workloads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import workbench.rag.cached  # registers the cached variants of chunk and embed
import workbench.rag.workloads  # noqa: F401  (registers tiny, small, medium, docs, queries)
from workbench.pipeline import FusionReport, Pipeline
from workbench.progress import Status
from workbench.rag.chunk import chunk
from workbench.rag.clean import clean
from workbench.rag.embed import embed
from workbench.rag.retrieve_stage import query_texts, retrieve
from workbench.rag.types import Hit
from workbench.results import Result
from workbench.runs import SegmentTiming, run_pipeline

__all__ = ["RagRun", "SegmentTiming", "reference_pipeline", "run_rag"]



def reference_pipeline() -> Pipeline:
    """The reference pipeline with every stage on ``pure`` and default parameters."""
    return Pipeline.of(clean, chunk, embed, retrieve, name="funcpipe-rag")


@dataclass(frozen=True, slots=True)
class RagRun(Result):
    """The outcome of one end-to-end run: sizes, per-segment times, top hits."""

    kind: ClassVar[str] = "rag-run"
    schema_version: ClassVar[int] = 2  # 2: the common record check and kind

    workload: str
    selection: tuple[tuple[str, str], ...]
    model: str
    n_docs: int
    n_chunks: int
    n_queries: int
    timings: tuple[SegmentTiming, ...]
    hits: tuple[tuple[Hit, ...], ...]
    queries: tuple[str, ...]
    fusion: FusionReport

    @property
    def total_seconds(self) -> float:
        return sum(t.seconds for t in self.timings)

    def _payload(self) -> dict[str, Any]:
        return {
            "workload": self.workload, "selection": dict(self.selection), "model": self.model,
            "n_docs": self.n_docs, "n_chunks": self.n_chunks, "n_queries": self.n_queries,
            "timings": [t.to_json() for t in self.timings],
            "hits": [[{"chunk_id": h.chunk_id, "score": h.score} for h in q] for q in self.hits],
            "queries": list(self.queries), "fusion": self.fusion.to_json(),
        }

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> RagRun:
        return cls(
            str(data["workload"]), tuple((str(k), str(v)) for k, v in data["selection"].items()),
            str(data["model"]), int(data["n_docs"]), int(data["n_chunks"]),
            int(data["n_queries"]), tuple(SegmentTiming.from_json(t) for t in data["timings"]),
            tuple(tuple(Hit(str(h["chunk_id"]), float(h["score"])) for h in q)
                  for q in data["hits"]),
            tuple(map(str, data["queries"])), FusionReport.from_json(data["fusion"]))


def run_rag(pipeline: Pipeline, workload: str, *, progress: Status | None = None) -> RagRun:
    """Run the reference ``pipeline`` end to end on the named workload once."""
    run = run_pipeline(pipeline, workload, progress=progress)
    chunk_at = next(t for t in run.timings if "chunk" in t.stages)
    queries = query_texts(str(pipeline.params["retrieve"]["query_workload"]))
    return RagRun(
        workload=run.workload,
        selection=run.selection,
        model=str(pipeline.params["embed"]["model"]),
        n_docs=run.n_input,
        n_chunks=chunk_at.items_out,
        n_queries=len(queries),
        timings=run.timings,
        hits=run.output,
        queries=queries,
        fusion=run.fusion,
    )
