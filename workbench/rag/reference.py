"""The FuncPipe RAG reference pipeline (clean -> chunk -> embed -> retrieve) and one run of it.

:func:`run_rag` runs the pipeline on a named workload segment by segment (a fused
segment counts as one), materializing between segments so that each gets its own wall
time, embeds the workload's queries with the selected embed variant, and retrieves.
It is a single, unwarmed run for looking at the pipeline; measurements with warm-up,
repeats and statistics are the measurement engine's job.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.pipeline import FusionReport, Pipeline
from workbench.rag.chunk import chunk
from workbench.rag.clean import clean, clean_text
from workbench.rag.embed import embed, embed_texts
from workbench.rag.retrieve_stage import retrieve
from workbench.rag.types import EmbeddingBatch, Hit
from workbench.rag.workloads import get_workload
from workbench.stages import materialize

__all__ = ["RagRun", "SegmentTiming", "reference_pipeline", "run_rag"]

Progress = Callable[[str], None]


def reference_pipeline() -> Pipeline:
    """The reference pipeline with every stage on ``pure`` and default parameters."""
    return Pipeline.of(clean, chunk, embed, retrieve, name="funcpipe-rag")


@dataclass(frozen=True, slots=True)
class SegmentTiming:
    stages: tuple[str, ...]
    variants: tuple[str, ...]
    fused: bool
    seconds: float
    items_out: int


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


def _count(value: Any) -> int:
    return len(value) if hasattr(value, "__len__") else 0


def run_rag(pipeline: Pipeline, workload: str, *, progress: Progress | None = None) -> RagRun:
    """Run ``pipeline`` end to end on the named workload once, timing each segment."""
    data = get_workload(workload).load()
    segments = pipeline.plan()
    timings: list[SegmentTiming] = []
    value: Any = data.docs
    index: EmbeddingBatch | None = None
    n_chunks = 0
    embed_variant = pipeline.selection["embed"]
    model = str(pipeline.params["embed"]["model"])
    query_vectors = None
    for seg in segments:
        if progress is not None:
            progress("+".join(seg.stages))
        if "retrieve" in seg.stages:
            cleaned = [clean_text(q) for q in data.queries]
            query_vectors = embed_texts(cleaned, model=model, variant=embed_variant)
            pipeline = pipeline.configure(retrieve={"queries": query_vectors})
        sub = Pipeline(pipeline.name, tuple(pipeline.stage(s) for s in seg.stages),
                       {s: pipeline.selection[s] for s in seg.stages},
                       {s: pipeline.params[s] for s in seg.stages}, pipeline.fuse)
        started = time.perf_counter()
        value = materialize(sub.run(value))
        seconds = time.perf_counter() - started
        if "chunk" in seg.stages:
            n_chunks = _count(value)
        if isinstance(value, EmbeddingBatch):
            index = value
        timings.append(SegmentTiming(seg.stages, seg.variants, seg.fused, seconds, _count(value)))
    hits: tuple[tuple[Hit, ...], ...] = value if index is not None else ()
    return RagRun(
        workload=workload,
        selection=tuple(pipeline.selection.items()),
        model=model,
        n_docs=len(data.docs),
        n_chunks=n_chunks,
        n_queries=len(data.queries),
        timings=tuple(timings),
        hits=hits,
        queries=data.queries,
        fusion=pipeline.fusion_report(),
    )
