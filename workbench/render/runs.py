"""Renderings of pipeline runs (any pipeline, and the reference RAG run) and fusion reports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.render import Renderer
from workbench.render.fragments import render
from workbench.render.tables import table

if TYPE_CHECKING:
    from workbench.pipeline import Boundary, FusionReport
    from workbench.rag.reference import RagRun
    from workbench.runs import PipelineRun, SegmentTiming

__all__ = ["RENDERERS"]

UNWARMED = "one unwarmed run: a look at the pipeline, not a measurement"


def _mark(b: Boundary) -> str:
    return "fused" if b.fused else ("BREAK" if b.materializes else "lazy")


def fusion_headline(f: FusionReport) -> str:
    chain = " -> ".join(f"{s}[{v}]" for s, v in f.selection)
    return f"{chain}: {len(f.breaks)} fusion break(s)"


def fusion_text(f: FusionReport, **_: Any) -> str:
    lines = [fusion_headline(f)]
    lines += table(("boundary", "kind", "why"),
                   [(f"{b.upstream} -> {b.downstream}", _mark(b), b.reason)
                    for b in f.boundaries], indent="  ")
    return "\n".join(lines)


def _fusion_rows(f: FusionReport) -> list[tuple[str, str, str]]:
    return [(f"{b.upstream} \u2192 {b.downstream}", _mark(b), b.reason) for b in f.boundaries]


def fusion_body(f: FusionReport, **_: Any) -> str:
    return render("fusion.html.j2", headline=fusion_headline(f), rows=_fusion_rows(f))


def _timing_rows(timings: tuple[SegmentTiming, ...]) -> list[tuple[str, str, str]]:
    return [(t.label, fmt.seconds(t.seconds), f"{t.items_out:,}") for t in timings]


def _timing_lines(timings: tuple[SegmentTiming, ...], total: float) -> list[str]:
    rows = [*_timing_rows(timings), ("total", fmt.seconds(total), "")]
    return [*table(("segment", "time", "items out"), rows, right=(False, True, True)),
            f"({UNWARMED})"]


def run_headline(r: PipelineRun) -> str:
    chosen = ", ".join(f"{s}={v}" for s, v in r.selection)
    return (f"pipeline {r.pipeline} on {r.workload}: {r.n_input:,} items in, "
            f"{fmt.seconds(r.total_seconds)} ({chosen})")


def run_text(r: PipelineRun, **_: Any) -> str:
    lines = [run_headline(r), *_timing_lines(r.timings, r.total_seconds),
             f"output: {r.output_summary}", fusion_text(r.fusion)]
    return "\n".join(lines)


def run_body(r: PipelineRun, **_: Any) -> str:
    return render("run.html.j2", headline=run_headline(r), note=UNWARMED,
                  rows=_timing_rows(r.timings), total=fmt.seconds(r.total_seconds),
                  extra=[("output", r.output_summary)], fusion=fusion_body(r.fusion))


def rag_headline(r: RagRun) -> str:
    return (f"workload {r.workload}: {r.n_docs} docs -> {r.n_chunks} chunks -> "
            f"{r.n_queries} queries in {fmt.seconds(r.total_seconds)} (model {r.model})")


def _top_hit(r: RagRun) -> list[tuple[str, str]]:
    if not (r.hits and r.hits[0]):
        return []
    top = r.hits[0][0]
    return [(f"query 0 {r.queries[0]!r}", f"top hit {top.chunk_id} (cosine {top.score:.3f})")]


def rag_text(r: RagRun, **_: Any) -> str:
    chosen = ", ".join(f"{s}={v}" for s, v in r.selection)
    lines = [f"{rag_headline(r)}; {chosen}", *_timing_lines(r.timings, r.total_seconds)]
    lines += [f"{k}: {v}" for k, v in _top_hit(r)]
    lines.append(fusion_text(r.fusion))
    return "\n".join(lines)


def rag_body(r: RagRun, **_: Any) -> str:
    return render("run.html.j2", headline=rag_headline(r), note=UNWARMED,
                  rows=_timing_rows(r.timings), total=fmt.seconds(r.total_seconds),
                  extra=_top_hit(r), fusion=fusion_body(r.fusion))


RENDERERS = {
    "fusion-report": Renderer(fusion_headline, fusion_text, fusion_body),
    "pipeline-run": Renderer(run_headline, run_text, run_body),
    "rag-run": Renderer(rag_headline, rag_text, rag_body),
}
