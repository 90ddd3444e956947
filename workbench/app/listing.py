"""Listing services: a pipeline's stages, the registered workloads and the decision log,
as text and as the JSON documents of ``--json`` (:mod:`workbench.listings`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.app.args import log_filters
from workbench.pipeline import Pipeline
from workbench.workloads import Workload

if TYPE_CHECKING:
    from workbench.decisions.record import DecisionRecord
    from workbench.decisions.store import LogRead
    from workbench.refs import PipelineArg

__all__ = ["StageListing", "WorkloadListing", "decisions_text", "stages", "workloads"]


@dataclass(frozen=True)
class StageListing:
    """A pipeline's stages, their types, parameters and variants; ``label`` names the
    pipeline (its reference, or ``<object>:NAME``)."""

    pipeline: Pipeline
    label: str

    def to_text(self) -> str:
        lines = [f"pipeline {self.pipeline.name} ({self.label})"]
        for s in self.pipeline.stages:
            params = ", ".join(f"{k}={v!r}" for k, v in s.defaults.items()) or "-"
            lines.append(f"{s.name}: {s.input} -> {s.output}  (params: {params})")
            lines += [f"  {name:11} {s.get(name).description}" for name in s.variant_names]
        return "\n".join(lines)

    def to_json(self) -> str:
        from workbench.listings import stages_json

        return stages_json(self.pipeline, self.label)


def stages(pipeline: PipelineArg) -> StageListing:
    """The stages of ``pipeline`` (a reference is imported and called)."""
    from workbench.refs import pipeline_label, resolve_pipeline

    pipe, ref = resolve_pipeline(pipeline)
    return StageListing(pipe, pipeline_label(pipe, ref))


@dataclass(frozen=True)
class WorkloadListing:
    """The registered workloads once ``pipeline`` (``label``: its reference or name) was
    loaded, which registers its own."""

    rows: tuple[Workload, ...]
    label: str

    def to_json(self, default: str | None) -> str:
        """The listing's JSON document, ``default`` marked as the default workload."""
        from workbench.listings import workloads_json

        return workloads_json(self.rows, default, self.label)


def workloads(pipeline: PipelineArg) -> WorkloadListing:
    """The registered workloads, after loading ``pipeline`` (its module registers the
    pipeline's workloads)."""
    from workbench.refs import resolve_pipeline
    from workbench.workloads import registered_workloads

    pipe, ref = resolve_pipeline(pipeline)
    return WorkloadListing(registered_workloads(), ref or pipe.name)


def _table(records: Sequence[DecisionRecord], superseded: dict[str, str]) -> str:
    """The log as a table, one decision per line."""
    if not records:
        return "no decisions match"
    rows = [("id", "made (UTC)", "stage", "variant", "suggested", "author", "status",
             "rationale")]
    for r in records:
        first = r.rationale.splitlines()[0] if r.rationale else ""
        status = f"superseded by {superseded[r.id]}" if r.id in superseded else "current"
        rows.append((r.id, r.created_at[:16].replace("T", " "), r.stage, r.variant,
                     (r.suggestion.variant or "none") + ("" if r.followed_suggestion
                                                         else " (not followed)"),
                     r.author, status, first[:60] + ("..." if len(first) > 60 else "")))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False))
                     + "  " + row[-1] for row in rows)


def decisions_text(read: LogRead, args: argparse.Namespace) -> str:
    """``decisions list`` (the log ``read`` as a table, ``--stage``/``--since`` applied)
    or ``decisions export --html OUT`` (the page written; what was written); ``show`` is
    ``read.find(ID)``."""
    from workbench.app.deciding import export_decisions

    stage, since = log_filters(args)
    if args.action == "export":
        out, count = export_decisions(args.log, args.html, stage=stage, since=since)
        return f"wrote {out} ({count} decision{'s' if count != 1 else ''})"
    text = _table(read.select(stage=stage, since=since), read.superseded_by())
    if not read.records:
        text += (f"\n(the log {args.log} is empty or does not exist yet; `workbench "
                 "decide` records a decision)")
    return text
