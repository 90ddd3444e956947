"""Renderings of measurements, comparisons and sweeps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.measure.cache_figures import cache_figures
from workbench.render import Renderer
from workbench.render.bars import speedup_svg
from workbench.render.cache import cache_line, cache_lines
from workbench.render.fragments import render
from workbench.render.tables import table

if TYPE_CHECKING:
    from workbench.measure.comparison import Comparison, VariantResult
    from workbench.measure.instructions import InstructionCount
    from workbench.measure.measurement import Measurement
    from workbench.measure.sweep import Sweep

__all__ = ["RENDERERS", "instruction_line"]

NO_ISOLATION = "measured in this process (mode inprocess): no process isolation"
COLUMNS = ("variant", "p50", "p95", "p99", "items/s", "peak RSS", "speed-up", "verdict",
           "equivalent")
NUMERIC = (False, True, True, True, True, True, True, False, False)
#: Columns a comparison gains when instructions were counted (``--metric instructions``).
COUNT_COLUMNS = ("instructions/call", "instr. ratio")
CACHE_COLUMNS = ("L1 misses/call", "LL misses/call")
SIMULATED = ("instructions and cache misses are counted on Cachegrind's simulated CPU "
             "(deterministic; no AVX-512): a proxy for the work done, not time; "
             "instr. ratio = variant / {base}, equal within {tol} or the counts' spread "
             "over memory layouts")


def _where(m: Measurement) -> str:
    return f"{m.target.label} on {m.target.workload or '(no workload)'}"


def _rss(m: Measurement) -> str:
    if m.peak_rss_kb is None:
        return fmt.DASH
    return fmt.size(m.peak_rss_kb * 1024.0) + ("" if m.rss_exact else " (approximate)")


def measurement_lines(m: Measurement) -> list[tuple[str, str]]:
    """(label, value) pairs describing a successful measurement."""
    s = m.summary()
    return [
        ("p50", fmt.estimate(s.median, why=True)), ("p95", fmt.estimate(s.p95, why=True)),
        ("p99", fmt.estimate(s.p99, why=True)),
        ("spread", f"MAD {fmt.duration(s.mad)}, IQR {fmt.duration(s.iqr)}, "
                   f"{s.outliers} outliers"),
        ("throughput", fmt.throughput(m.throughput())),
        ("peak RSS", _rss(m)),
        ("Python heap peak", fmt.DASH if m.heap_peak_bytes is None
         else f"{fmt.size(m.heap_peak_bytes)} (tracemalloc)"),
        ("warm-up", f"{fmt.duration(m.warmup_ns)} (first call {fmt.duration(m.first_call_ns)})"),
        *_cache_row(m),
    ]


def _cache_row(m: Measurement) -> list[tuple[str, str]]:
    """The memo tables' line, when the timed calls looked anything up in one."""
    figures = cache_figures(m)
    return [] if figures is None else [("memo tables", cache_line(figures))]


def how(m: Measurement) -> str:
    """How many samples from how many workers, isolated or not, per call or batch."""
    unit = "per batch" if m.per_batch else "per call"
    where = "in-process runs, no process isolation" if not m.isolated else "worker processes"
    return f"{len(m.samples)} samples from {len(m.groups)} {where} ({unit})"


def measurement_headline(m: Measurement) -> str:
    if not m.ok:
        return f"{_where(m)}: FAILED: {m.error_text()}"
    return f"{_where(m)}: p50 {fmt.estimate(m.summary().median)}, {how(m)}"


def measurement_text(m: Measurement) -> str:
    if not m.ok:
        return measurement_headline(m)
    lines = [f"{_where(m)}: {how(m)}"]
    lines += [f"  {label} {value}" for label, value in measurement_lines(m)]
    if m.failures:
        lines.append(f"  {m.error_text()}")
    return "\n".join(lines)


def measurement_body(m: Measurement) -> str:
    return render("measurement.html.j2", m=m, where=_where(m), how=how(m) if m.ok else "",
                  rows=measurement_lines(m) if m.ok else [])


# -- comparison ---------------------------------------------------------------------------

def _speedup(r: VariantResult) -> str:
    if r.versus_baseline is None:
        return "1.00x (baseline)"
    sp = r.versus_baseline.speedup
    iv = sp.interval
    return fmt.with_interval(sp.value, iv.low if iv else None, iv.high if iv else None,
                             "ratio")


def instruction_line(n: InstructionCount) -> str:
    """One count in a line: ``chunk/pure on tiny: 1.975 M instructions per call
    (simulated, valgrind-3.19.0; median of 3 memory layouts, spread 0.02 %)``."""
    head = f"{n.target.label} on {n.target.workload}"
    if not n.ok:
        return f"{head}: counting instructions FAILED: {n.error}"
    layouts = n.settings.get("layouts") or ()
    spread = n.settings.get("layout_spread")
    where = (f"; median of {len(layouts)} memory layouts, spread {100 * spread:.2g} %"
             if layouts and isinstance(spread, float) else "")
    misses = (f", {fmt.count(n.metric('l1_misses'))} L1 and {fmt.count(n.metric('ll_misses'))}"
              " LL misses" if n.cache_sim else "")
    return (f"{head}: {fmt.count(n.instructions)} instructions per call{misses} "
            f"(simulated CPU, {n.tool}{where})")


def _cache_sim(c: Comparison) -> bool:
    return any(r.instructions is not None and r.instructions.cache_sim for r in c.results)


def _columns(c: Comparison) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    extra = (COUNT_COLUMNS if c.counted else ()) + (CACHE_COLUMNS if _cache_sim(c) else ())
    return COLUMNS + extra, NUMERIC + (True,) * len(extra)


def _counts(c: Comparison, r: VariantResult) -> tuple[str, ...]:
    if not c.counted:
        return ()
    n = r.instructions
    if n is None or not n.ok:
        cells: tuple[str, ...] = ("FAILED" if n is not None else fmt.DASH, "")
    else:
        from workbench.measure.instructions import differs_beyond, equal_band

        ratio = c.instruction_ratio(r.variant)
        base = c.result(c.baseline).instructions
        same = ratio is not None and base is not None and base.instructions is not None \
            and not differs_beyond(n.per_call["Ir"], base.instructions, equal_band(n, base))
        shown = "baseline" if r.variant == c.baseline else (
            fmt.DASH if ratio is None else f"{ratio:.4f}x" + (" (equal)" if same else ""))
        cells = (fmt.count(n.instructions), shown)
    if _cache_sim(c):
        cells += ((fmt.count(n.metric("l1_misses")), fmt.count(n.metric("ll_misses")))
                  if n is not None and n.ok and n.cache_sim else (fmt.DASH, fmt.DASH))
    return cells


def _row(r: VariantResult, c: Comparison) -> tuple[str, ...]:
    m = r.measurement
    label = r.variant + (" (per batch)" if m.per_batch else "")
    if not m.ok:
        return (label, "FAILED", "", "", "", "", "", "", "", *_counts(c, r))
    s = m.summary()
    verdict = "" if r.versus_baseline is None else r.versus_baseline.verdict
    eq = "" if r.equivalence is None else ("yes" if r.equivalence.equivalent else "NO")
    return (label, fmt.estimate(s.median), fmt.estimate(s.p95), fmt.estimate(s.p99),
            fmt.throughput(m.throughput()), _rss(m), _speedup(r), verdict, eq, *_counts(c, r))


def _notes(c: Comparison) -> list[tuple[str, str]]:
    """(css class, text) notes under the table: a cached variant's cache figures
    (:mod:`.cache`), failures, non-equivalent outputs, and how each speed-up was formed
    (worker medians at which look) and, when the workers per side were too few for the
    rank interval, a warning saying what the figures rest on."""
    notes = [("wb-note", f"{variant}: {line}") for variant, line in cache_lines(c)]
    for r in c.results:
        if r.equivalence is not None and not r.equivalence.equivalent:
            notes.append(("wb-error", f"NOT EQUIVALENT {r.variant}: {r.equivalence.detail}"))
        if r.measurement.failures:
            notes.append(("wb-error", f"{r.variant}: {r.measurement.error_text()}"))
        if r.instructions is not None and not r.instructions.ok:
            notes.append(("wb-error", f"{r.variant}: counting instructions failed: "
                          f"{r.instructions.error}"))
    warned: dict[str, list[str]] = {}
    for r in c.results:
        pair = r.versus_baseline
        note = pair.speedup.note if pair is not None else ""
        if pair is not None and pair.warning:
            warned.setdefault(pair.warning, []).append(r.variant)
        elif note.startswith("median(a)/median(b) from") and "look " in note:
            notes.append(("wb-note", f"{r.variant}: speed-up, interval and rank test from "
                          f"worker medians ({note.split(' from ')[1].split(' worker')[0]} "
                          f"workers), {note.rsplit('; ', 1)[1]}"))
        elif "overstates" in note:  # a comparison stored before samples stopped being pooled
            notes.append(("wb-warn", f"WARNING {r.variant}: {note.rsplit('; ', 1)[1]}"))
    notes += [("wb-warn", f"WARNING ({', '.join(variants)}): {warning}")
              for warning, variants in warned.items()]
    if c.counted:
        from workbench.measure.instructions import TOLERANCE

        notes.append(("wb-note", SIMULATED.format(base=c.baseline,
                                                  tol=f"{100 * TOLERANCE:.3g}%")))
    return notes


def comparison_headline(c: Comparison) -> str:
    parts = []
    for r in c.results:
        if r.versus_baseline is None:
            continue
        sp = r.versus_baseline.speedup.value
        parts.append(f"{r.variant} {fmt.ratio(sp)} ({r.versus_baseline.verdict})"
                     if r.measurement.ok else f"{r.variant} FAILED")
    said = ", ".join(parts) or "no variant besides the baseline"
    tail = "" if c.isolated else " [no process isolation]"
    return f"{c.stage} on {c.workload}: speed-up over {c.baseline}: {said}{tail}"


def comparison_text(c: Comparison) -> str:
    lines = [f"{c.stage} on {c.workload}: latency per call with 95% intervals; "
             f"speed-up = median({c.baseline}) / median(variant), 95% interval"]
    if not c.isolated:
        lines.append(NO_ISOLATION)
    columns, numeric = _columns(c)
    lines += table(columns, [_row(r, c) for r in c.results], right=numeric)
    lines += [text for _, text in _notes(c)]
    return "\n".join(lines)


def comparison_body(c: Comparison) -> str:
    bars = [(r.variant, r.versus_baseline.speedup) for r in c.results
            if r.versus_baseline is not None and r.versus_baseline.speedup.value is not None]
    columns, numeric = _columns(c)
    return render("comparison.html.j2", c=c, columns=columns, numeric=numeric,
                  rows=[(r, _row(r, c)) for r in c.results], notes=_notes(c),
                  isolation=None if c.isolated else NO_ISOLATION,
                  chart=speedup_svg(bars, c.baseline) if bars else "")


# -- sweep --------------------------------------------------------------------------------

def _slope(sw: Sweep, v: str) -> str:
    fit = sw.slopes.get(v)
    if fit is None:
        return fmt.DASH
    return fmt.with_interval(fit.slope, fit.interval.low, fit.interval.high, "exponent")


def sweep_headline(sw: Sweep) -> str:
    slopes = ", ".join(f"{v} {_slope(sw, v)}" for v in sw.variants)
    return (f"sweep of {sw.stage} on {sw.workload} at sizes {list(sw.sizes)}: "
            f"scaling exponents {slopes}")


def _sweep_rows(sw: Sweep) -> list[tuple[str, ...]]:
    return [(v, *(fmt.duration(x) for x in sw.medians(v)), _slope(sw, v)) for v in sw.variants]


def sweep_text(sw: Sweep) -> str:
    headers = ("variant", *(f"n={n}" for n in sw.sizes), "exponent [95% interval]")
    lines = [f"sweep of {sw.stage} on {sw.workload}: median per call at each size and the "
             "log-log scaling exponent"]
    lines += table(headers, _sweep_rows(sw), right=(False, *([True] * len(sw.sizes)), True))
    return "\n".join(lines)


def sweep_body(sw: Sweep) -> str:
    headers = ("variant", *(f"n={n}" for n in sw.sizes), "exponent [95% interval]")
    return render("sweep.html.j2", sw=sw, headers=headers, rows=_sweep_rows(sw),
                  headline=sweep_headline(sw))


def _keep(fn: Any) -> Any:
    return lambda result, **_: fn(result)


RENDERERS = {
    "measurement": Renderer(measurement_headline, _keep(measurement_text),
                            _keep(measurement_body)),
    "comparison": Renderer(comparison_headline, _keep(comparison_text), _keep(comparison_body)),
    "sweep": Renderer(sweep_headline, _keep(sweep_text), _keep(sweep_body)),
}
