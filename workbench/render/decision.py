"""Renderings of a budget decision: the choice and the suggestion, the hotspot hint, the
alternatives with their figures and verdicts (a cached-tier variant with its four cache
conditions, each with its figure: :mod:`.cache`), the limits, the rationale, and the
evidence itself, each piece drawn in a collapsed section with what was cut from it
(:mod:`.evidence`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.render import Renderer
from workbench.render.budget import verdict_cells
from workbench.render.cache import condition_lines, conditions_cell
from workbench.render.evidence import evidence_items, evidence_lines
from workbench.render.fragments import render
from workbench.render.tables import table

if TYPE_CHECKING:
    from workbench.decisions.cache_conditions import CacheCheck
    from workbench.decisions.record import Alternative, DecisionRecord

__all__ = ["ALTERNATIVE_COLUMNS", "RENDERERS", "alternative_cells", "decision_body"]

ALTERNATIVE_COLUMNS = ("variant", "equivalent", "eligible", "p50", "p95", "throughput",
                       "peak RSS", "speed-up vs pure")
VERDICT_COLUMNS = ("variant", "status", "level", "metric", "observed [interval]", "limit")


def _eligible_cell(a: Alternative, check: CacheCheck | None) -> str:
    if check is None:
        return "yes" if a.eligible else f"no: {a.why}"
    if a.eligible:
        return f"yes: {conditions_cell(check)}"
    other = "" if a.why.startswith("cache conditions") else f"{a.why}; "
    return f"no: {other}{conditions_cell(check)}"


def alternative_cells(a: Alternative, check: CacheCheck | None = None) -> tuple[str, ...]:
    """An alternative's row; with ``check`` (a cached-tier variant's conditions), its
    "eligible" cell names the four conditions with their figures."""
    same = {True: "yes", False: "no", None: "not checked"}[a.equivalent]
    if a.equivalence and a.equivalence not in a.why:  # else "eligible" says it
        same += f" ({a.equivalence})"
    speedup = a.figure("speedup")
    return (a.variant, same, _eligible_cell(a, check),
            fmt.duration(a.figure("p50_ns")), fmt.duration(a.figure("p95_ns")),
            fmt.throughput(a.figure("throughput_items_per_s")),
            fmt.size(a.figure("peak_rss_bytes")),
            "reference" if a.variant == "pure" else fmt.ratio(speedup))


def verdict_rows(d: DecisionRecord) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for a in d.alternatives:
        for v in a.verdicts:
            status, level, _, metric, observed, limit, _ = verdict_cells(v)
            rows.append((a.variant, status, level, metric, observed, limit))
    return rows


def _suggested(d: DecisionRecord) -> str:
    return d.suggestion.variant or "none"


def decision_headline(d: DecisionRecord) -> str:
    followed = "following" if d.followed_suggestion else "NOT following"
    return (f"decision {d.id}: {d.stage} uses {d.variant} ({followed} the suggestion "
            f"{_suggested(d)}); {d.author}, {d.created_at}")


def decision_text(d: DecisionRecord, **_: Any) -> str:
    lines = [decision_headline(d),
             f"pipeline {d.pipeline}, workload {d.workload}, code {d.git_sha or 'unknown'}"]
    if d.supersedes:
        lines.append(f"supersedes {d.supersedes}")
    lines += ["rationale:", *(f"  {line}" for line in d.rationale.splitlines()),
              f"suggestion: {_suggested(d)} -- {d.suggestion.reason}"]
    for check in d.suggestion.cache:
        lines += condition_lines(check)
    if d.hint is not None:
        kind = d.hint.type or "not read"
        lines.append(f"hotspot (a hint): {kind} -- {d.hint.recommendation}")
        lines += [f"  {fact}" for fact in d.hint.facts]
    if d.alternatives:
        lines += table(ALTERNATIVE_COLUMNS, [alternative_cells(a) for a in d.alternatives])
    rows = verdict_rows(d)
    if rows:
        lines += table(VERDICT_COLUMNS, rows)
    held = ", ".join(f"{r.metric} {r.limit_text()} ({r.level})" for r in d.limits)
    lines.append(f"limits for {d.stage}/{d.variant}: {held or 'none recorded'}"
                 + (f" (written to {d.budgets_file})" if d.budgets_file else ""))
    lines += evidence_lines(d)
    return "\n".join(lines)


def decision_body(d: DecisionRecord, *, superseded_by: str | None = None, **_: Any) -> str:
    return render("decision.html.j2", d=d, headline=decision_headline(d),
                  suggested=_suggested(d), columns=ALTERNATIVE_COLUMNS,
                  alternatives=[(a, alternative_cells(a, d.suggestion.cache_of(a.variant)))
                                for a in d.alternatives],
                  verdict_columns=VERDICT_COLUMNS, verdicts=verdict_rows(d),
                  limits=[f"{r.metric} {r.limit_text()} ({r.level})" for r in d.limits],
                  evidence=evidence_items(d), superseded_by=superseded_by,
                  cpu=str(d.environment.get("cpu_model", "unknown")),
                  python=str(d.environment.get("python", "unknown")))


RENDERERS = {"decision": Renderer(decision_headline, decision_text, decision_body)}
