"""A :class:`Sweep`: one comparison per workload size and each variant's scaling exponent.

The exponent is the slope of log(time) against log(size) (``compare_stats.loglog_slope``),
with its confidence interval: the seed's Scalability invariant ("scaling no worse than
baseline across a size sweep"). The fit's unit is the worker process: one point per worker
per size, that worker's median per-call time. A worker's samples share its process's state
(heap layout, CPU frequency, core) and are not independent; workers are fresh processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from workbench.errors import InvalidInputError
from workbench.measure import compare_stats, stats
from workbench.measure.comparison import Comparison
from workbench.results import Result

__all__ = ["Sweep", "build_sweep"]


@dataclass(frozen=True)
class Sweep(Result):
    kind: ClassVar[str] = "sweep"
    schema_version: ClassVar[int] = 1

    stage: str
    workload: str
    points: tuple[tuple[int, Comparison], ...]
    slopes: Mapping[str, compare_stats.SlopeFit | None]

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(n for n, _ in self.points)

    @property
    def variants(self) -> tuple[str, ...]:
        return self.points[0][1].variants if self.points else ()

    def medians(self, variant: str) -> tuple[float | None, ...]:
        out: list[float | None] = []
        for _, comp in self.points:
            m = comp.result(variant).measurement
            out.append(stats.percentile(m.samples, 50) if m.samples else None)
        return tuple(out)

    def _payload(self) -> dict[str, Any]:
        return {"stage": self.stage, "workload": self.workload,
                "points": [{"size": n, "comparison": c.to_json()} for n, c in self.points]}

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> Sweep:
        points = tuple((int(p["size"]), Comparison.from_json(p["comparison"]))
                       for p in data["points"])
        return build_sweep(str(data["stage"]), str(data["workload"]), points)

    def summary_json(self) -> dict[str, Any]:
        """Per variant: the median per call at each size (ns) and the scaling exponent."""
        variants: dict[str, Any] = {}
        for v in self.variants:
            fit = self.slopes.get(v)
            variants[v] = {"medians_ns": list(self.medians(v)), "slope": None if fit is None
                           else {"value": fit.slope, "low": fit.interval.low,
                                 "high": fit.interval.high,
                                 "confidence": fit.interval.confidence}}
        return {"sizes": list(self.sizes), "variants": variants}


def build_sweep(stage: str, workload: str, points: tuple[tuple[int, Comparison], ...]) -> Sweep:
    """The sweep of ``points`` (size, comparison), with each variant's scaling exponent.

    The exponent is fitted through one point per worker per size: the median of that
    worker's per-call times (``Measurement.groups``), so the interval counts independent
    processes, not samples. None when the variant has fewer than 3 distinct sizes with a
    successful worker, or its times cannot be fitted (e.g. a time of 0).
    """
    slopes: dict[str, compare_stats.SlopeFit | None] = {}
    variants = [r.variant for r in points[0][1].results] if points else []
    for v in variants:
        sizes: list[float] = []
        times: list[float] = []
        try:
            for n, comp in points:
                for group in comp.result(v).measurement.groups:
                    sizes.append(float(n))
                    times.append(stats.percentile(group, 50))
            slopes[v] = compare_stats.loglog_slope(sizes, times) if len(set(sizes)) >= 3 else None
        except InvalidInputError:
            slopes[v] = None
    return Sweep(stage, workload, points, slopes)
