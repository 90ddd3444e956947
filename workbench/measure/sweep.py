"""A :class:`Sweep`: one comparison per workload size and each variant's scaling exponent.

The exponent is the slope of log(time) against log(size), fitted over every sample of
every size (``compare_stats.loglog_slope``), with its confidence interval: the seed's
Scalability invariant ("scaling no worse than baseline across a size sweep").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import InvalidInputError
from workbench.measure import compare_stats, stats
from workbench.measure.comparison import Comparison
from workbench.measure.measurement import SCHEMA_VERSION, format_ns

__all__ = ["Sweep", "build_sweep"]


@dataclass(frozen=True)
class Sweep:
    stage: str
    workload: str
    points: tuple[tuple[int, Comparison], ...]
    slopes: Mapping[str, compare_stats.SlopeFit | None]

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(n for n, _ in self.points)

    @property
    def variants(self) -> tuple[str, ...]:
        return tuple(r.variant for r in self.points[0][1].results) if self.points else ()

    def medians(self, variant: str) -> tuple[float | None, ...]:
        out: list[float | None] = []
        for _, comp in self.points:
            m = comp.result(variant).measurement
            out.append(stats.percentile(m.samples, 50) if m.samples else None)
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "sweep",
            "stage": self.stage,
            "workload": self.workload,
            "points": [{"size": n, "comparison": c.to_json()} for n, c in self.points],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Sweep:
        if data.get("kind") != "sweep":
            raise InvalidInputError(f"not a sweep record (kind {data.get('kind')!r})")
        points = tuple((int(p["size"]), Comparison.from_json(p["comparison"]))
                       for p in data["points"])
        return build_sweep(str(data["stage"]), str(data["workload"]), points)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)

    def to_text(self) -> str:
        lines = [f"sweep of {self.stage} on {self.workload} at sizes {list(self.sizes)} (docs)"]
        header = f"  {'variant':12}" + "".join(f"{n:>12}" for n in self.sizes) + "   slope [CI]"
        lines.append(header)
        for v in self.variants:
            fit = self.slopes.get(v)
            slope = "-" if fit is None else (
                f"{fit.slope:.2f} [{fit.interval.low:.2f}, {fit.interval.high:.2f}]")
            cells = "".join(f"{format_ns(m):>12}" for m in self.medians(v))
            lines.append(f"  {v:12}{cells}   {slope}")
        lines.append("  (cells: median per call; slope: log-log scaling exponent, 95% CI)")
        return "\n".join(lines)

    def to_html(self) -> str:
        import html

        return f"<pre class='wb-sweep'>{html.escape(self.to_text())}</pre>"

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()


def build_sweep(stage: str, workload: str, points: tuple[tuple[int, Comparison], ...]) -> Sweep:
    slopes: dict[str, compare_stats.SlopeFit | None] = {}
    variants = [r.variant for r in points[0][1].results] if points else []
    for v in variants:
        sizes: list[float] = []
        times: list[float] = []
        for n, comp in points:
            samples = comp.result(v).measurement.samples
            sizes.extend([float(n)] * len(samples))
            times.extend(samples)
        try:
            slopes[v] = compare_stats.loglog_slope(sizes, times) if len(set(sizes)) >= 3 else None
        except InvalidInputError:
            slopes[v] = None
    return Sweep(stage, workload, points, slopes)
