"""Renderings of a scale-out: the parallel tier's throughput, speed-up and efficiency."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.measure import stats
from workbench.render import Renderer
from workbench.render.bars import speedup_svg
from workbench.render.fragments import render
from workbench.render.tables import table

if TYPE_CHECKING:
    from workbench.measure.scale_out import ScaleOut

__all__ = ["RENDERERS"]

HEADERS = ("variant", "Dask workers", "p50 per call", "items/s", "speed-up [95%]",
           "efficiency [95%]")
NUMERIC = (False, True, True, True, True, True)


def _p50(m: Any) -> str:
    return fmt.duration(stats.percentile(m.samples, 50)) if m.samples else fmt.DASH


def _efficiency(eff: float | None, low: float | None, high: float | None) -> str:
    if eff is None:
        return fmt.DASH
    return f"{eff:.2f}" + (f" [{low:.2f}, {high:.2f}]" if low is not None and high is not None
                           else "")


def _rows(so: ScaleOut) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for n, m in so.points:
        pair = so.speedup(n)
        eff, low, high = so.efficiency(n)
        rows.append((so.variant, str(n), _p50(m) if m.ok else f"failed: {m.error_text()}",
                     fmt.throughput(m.throughput()),
                     "1.00x (reference)" if n == so.workers[0] else
                     fmt.DASH if pair is None else fmt.estimate(pair.speedup, "ratio"),
                     _efficiency(eff, low, high)))
    for v, m in so.references:
        rows.append((v, "- (1 CPU)", _p50(m) if m.ok else f"failed: {m.error_text()}",
                     fmt.throughput(m.throughput()), "", ""))
    return rows


def headline(so: ScaleOut) -> str:
    last = so.workers[-1]
    eff, _, _ = so.efficiency(last)
    shown = fmt.DASH if eff is None else f"{eff:.2f}"
    return (f"scale-out of {so.stage}/{so.variant} on {so.workload} at "
            f"{', '.join(map(str, so.workers))} Dask workers: efficiency {shown} at {last}")


def _note(so: ScaleOut) -> str:
    return (f"speed-up over {so.variant} on {so.workers[0]} Dask worker(s); efficiency = "
            f"speed-up / (N / {so.workers[0]}), 1 = perfect scaling; references: the "
            "stage's other variants on one CPU each")


def text(so: ScaleOut) -> str:
    lines = [headline(so), _note(so)]
    lines += table(HEADERS, _rows(so), right=NUMERIC)
    return "\n".join(lines)


def body(so: ScaleOut) -> str:
    bars = [(f"{n} workers", pair.speedup) for n, _ in so.points[1:]
            if (pair := so.speedup(n)) is not None]
    chart = speedup_svg(bars, f"{so.workers[0]} worker(s)") if bars else ""
    return render("scale_out.html.j2", headline=headline(so), note=_note(so),
                  headers=HEADERS, rows=_rows(so), chart=chart)


def _keep(fn: Any) -> Any:
    return lambda result, **_: fn(result)


RENDERERS = {"scale-out": Renderer(headline, _keep(text), _keep(body))}
