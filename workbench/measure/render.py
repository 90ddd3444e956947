"""Text and HTML renderings of comparisons (renderers return ``str``; no I/O here)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from workbench.measure import stats
from workbench.measure.measurement import format_ns

if TYPE_CHECKING:
    from workbench.measure.comparison import Comparison, VariantResult

__all__ = ["comparison_html", "comparison_rows", "comparison_text"]

COLUMNS = ("variant", "p50", "p95", "p99", "items/s", "peak RSS", "speed-up", "verdict", "equiv")


def _pct(est: stats.Estimate) -> str:
    if est.value is None:
        return "insufficient"
    if est.interval is None:
        return format_ns(est.value)
    return (f"{format_ns(est.value)} "
            f"[{format_ns(est.interval.low)}-{format_ns(est.interval.high)}]")


def _row(r: VariantResult) -> tuple[str, ...]:
    m = r.measurement
    if not m.ok:
        return (r.variant, "FAILED", m.error_text()[:60], "", "", "", "", "", "")
    s = m.summary()
    tp = m.throughput()
    rss = "-" if m.peak_rss_kb is None else f"{m.peak_rss_kb / 1024:.0f} MiB" + (
        "" if m.rss_exact else "~")
    if r.versus_baseline is None:
        vs, verdict = "1.00x (base)", ""
    else:
        sp = r.versus_baseline.speedup
        vs = "-" if sp.value is None else f"{sp.value:.2f}x" + (
            "" if sp.interval is None else f" [{sp.interval.low:.2f}-{sp.interval.high:.2f}]")
        verdict = r.versus_baseline.verdict
    eq = "" if r.equivalence is None else ("\u2713" if r.equivalence.equivalent else "\u2717")
    label = r.variant + (" (per batch)" if m.per_batch else "")
    return (label, _pct(s.median), _pct(s.p95), _pct(s.p99),
            "-" if tp is None else f"{tp:,.0f}", rss, vs, verdict, eq)


def comparison_rows(comp: Comparison) -> list[tuple[str, ...]]:
    return [_row(r) for r in comp.results]


def isolation_note(comp: Comparison) -> str:
    """How the variants were isolated: said plainly when they were not."""
    if any(r.measurement.config.mode == "inprocess" for r in comp.results):
        return "measured in this process (mode inprocess): no process isolation"
    return ""


def comparison_text(comp: Comparison) -> str:
    rows = [COLUMNS, *comparison_rows(comp)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [f"{comp.stage} on {comp.workload}: latency per call with 95% CIs, "
             f"speed-up = median({comp.baseline}) / median(variant)"]
    if isolation_note(comp):
        lines.append(isolation_note(comp))
    for row in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    for r in comp.results:
        if r.equivalence is not None and not r.equivalence.equivalent:
            lines.append(f"NOT EQUIVALENT {r.variant}: {r.equivalence.detail}")
        if r.measurement.failures:
            lines.append(f"{r.variant}: {r.measurement.error_text()}")
    return "\n".join(lines)


def comparison_html(comp: Comparison) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in comparison_rows(comp)
    )
    notes = "".join(
        f"<p class='wb-warn'>{html.escape(r.variant)}: {html.escape(r.equivalence.detail)}</p>"
        for r in comp.results if r.equivalence is not None and not r.equivalence.equivalent
    )
    note = f" ({html.escape(isolation_note(comp))})" if isolation_note(comp) else ""
    return (f"<div class='wb-comparison'><p><b>{html.escape(comp.stage)}</b> on "
            f"<b>{html.escape(comp.workload)}</b>{note}</p><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>{notes}</div>")
