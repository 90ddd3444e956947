"""The FuncPipe RAG reference pipeline (clean -> chunk -> embed -> retrieve) and one run of it.

:func:`run_rag` is :func:`workbench.runs.run_pipeline` (one unwarmed run, timed segment by
segment) plus what a reader of a RAG run wants to see: the chunk count, the model, the
queries and their best hits. Importing this module registers the reference workloads.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import workbench.rag.workloads  # noqa: F401  (registers tiny, small, medium, docs, queries)
from workbench.pipeline import FusionReport, Pipeline
from workbench.rag.chunk import chunk
from workbench.rag.clean import clean
from workbench.rag.embed import embed
from workbench.rag.retrieve_stage import query_texts, retrieve
from workbench.rag.types import Hit
from workbench.runs import SegmentTiming, run_pipeline

__all__ = ["RagRun", "SegmentTiming", "reference_pipeline", "run_rag"]

Progress = Callable[[str], None]


def reference_pipeline() -> Pipeline:
    """The reference pipeline with every stage on ``pure`` and default parameters."""
    return Pipeline.of(clean, chunk, embed, retrieve, name="funcpipe-rag")


@dataclass(frozen=True, slots=True)
class RagRun:
    """The outcome of one end-to-end run: sizes, per-segment times, top hits."""

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

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "workload": self.workload,
            "selection": dict(self.selection),
            "model": self.model,
            "n_docs": self.n_docs,
            "n_chunks": self.n_chunks,
            "n_queries": self.n_queries,
            "timings": [
                {"stages": list(t.stages), "variants": list(t.variants), "fused": t.fused,
                 "seconds": t.seconds, "items_out": t.items_out}
                for t in self.timings
            ],
            "hits": [[{"chunk_id": h.chunk_id, "score": h.score} for h in q] for q in self.hits],
            "queries": list(self.queries),
            "fusion": self.fusion.to_json(),
        }

    def to_text(self) -> str:
        chosen = ", ".join(f"{s}={v}" for s, v in self.selection)
        lines = [
            f"workload {self.workload}: {self.n_docs} docs -> {self.n_chunks} chunks "
            f"-> {self.n_queries} queries (model {self.model}; {chosen})",
            f"{'segment':44} {'seconds':>9} {'items out':>10}",
        ]
        for t in self.timings:
            label = "+".join(f"{s}/{v}" for s, v in zip(t.stages, t.variants, strict=True))
            label += " (fused)" if t.fused else ""
            lines.append(f"{label:44} {t.seconds:9.4f} {t.items_out:10d}")
        lines.append(f"{'total (one unwarmed run)':44} {self.total_seconds:9.4f}")
        if self.hits and self.hits[0]:
            top = self.hits[0][0]
            lines.append(f"query 0 {self.queries[0]!r}: top hit {top.chunk_id} "
                         f"(cosine {top.score:.3f})")
        lines.append(f"fusion breaks: {len(self.fusion.breaks)}")
        return "\n".join(lines)

    def to_html(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape('+'.join(f'{s}/{v}' for s, v in zip(t.stages, t.variants, strict=True)))}"  # noqa: E501
            f"{' (fused)' if t.fused else ''}</td><td>{t.seconds:.4f}</td>"
            f"<td>{t.items_out}</td></tr>"
            for t in self.timings
        )
        return (
            f"<p>workload <b>{html.escape(self.workload)}</b>: {self.n_docs} docs, "
            f"{self.n_chunks} chunks, {self.n_queries} queries, model {self.model}</p>"
            "<table class='wb-run'><thead><tr><th>segment</th><th>seconds</th>"
            f"<th>items out</th></tr></thead><tbody>{rows}</tbody></table>"
            + self.fusion.to_html()
        )

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()


def run_rag(pipeline: Pipeline, workload: str, *, progress: Progress | None = None) -> RagRun:
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
