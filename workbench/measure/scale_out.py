"""A :class:`ScaleOut`: a stage's parallel variant measured at several numbers of Dask
workers, with its speed-up and parallel efficiency, beside other variants on one CPU.

The speed-up at N workers is over the smallest N measured (N0): the Hodges-Lehmann ratio
of worker medians with its rank interval (:func:`~.comparison.pair_stats`: the worker
process is the unit). The parallel efficiency is that speed-up divided by N / N0, with
the same interval scaled: 1 means perfect scaling, and the gap below 1 is what
partitioning, shipping and gathering cost. References are the stage's other variants on
one CPU each, so a reader can weigh "parallel on N CPUs" against "native on one".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from workbench.measure.comparison import PairStats, pair_stats
from workbench.measure.measurement import Measurement
from workbench.results import Result

__all__ = ["ScaleOut"]


@dataclass(frozen=True)
class ScaleOut(Result):
    kind: ClassVar[str] = "scale-out"
    schema_version: ClassVar[int] = 1

    stage: str
    workload: str
    variant: str
    points: tuple[tuple[int, Measurement], ...]  # (Dask workers, measurement), ascending
    references: tuple[tuple[str, Measurement], ...] = ()  # (variant, on one CPU)

    @property
    def workers(self) -> tuple[int, ...]:
        return tuple(n for n, _ in self.points)

    @property
    def ok(self) -> bool:
        return all(m.ok for _, m in self.points) and all(m.ok for _, m in self.references)

    def speedup(self, workers: int) -> PairStats | None:
        """The speed-up at ``workers`` over the smallest count measured (None for that
        one, or when either side failed)."""
        base, at = self.points[0][1], dict(self.points)[workers]
        if workers == self.points[0][0] or not (base.ok and at.ok):
            return None
        return pair_stats(base, at)

    def efficiency(self, workers: int) -> tuple[float | None, float | None, float | None]:
        """(value, low, high) of the parallel efficiency at ``workers`` (1.0 at the
        smallest count; Nones when it cannot be computed)."""
        first = self.points[0][0]
        if workers == first:
            return (1.0, None, None) if self.points[0][1].ok else (None, None, None)
        pair = self.speedup(workers)
        if pair is None or pair.speedup.value is None:
            return None, None, None
        scale = first / workers
        iv = pair.speedup.interval
        return (pair.speedup.value * scale, iv.low * scale if iv else None,
                iv.high * scale if iv else None)

    def _payload(self) -> dict[str, Any]:
        return {"stage": self.stage, "workload": self.workload, "variant": self.variant,
                "points": [{"workers": n, "measurement": m.to_json()} for n, m in self.points],
                "references": [{"variant": v, "measurement": m.to_json()}
                               for v, m in self.references]}

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> ScaleOut:
        return cls(str(data["stage"]), str(data["workload"]), str(data["variant"]),
                   tuple((int(p["workers"]), Measurement.from_json(p["measurement"]))
                         for p in data["points"]),
                   tuple((str(r["variant"]), Measurement.from_json(r["measurement"]))
                         for r in data.get("references", ())))

    def summary_json(self) -> dict[str, Any]:
        """Per worker count: items per second, speed-up and efficiency with intervals;
        per reference: items per second on one CPU."""
        rows = []
        for n, m in self.points:
            pair = self.speedup(n)
            eff, low, high = self.efficiency(n)
            rows.append({
                "workers": n, "items_per_second": m.throughput(),
                "speedup": None if pair is None else pair.speedup.value,
                "speedup_interval": None if pair is None or pair.speedup.interval is None
                else [pair.speedup.interval.low, pair.speedup.interval.high],
                "efficiency": eff,
                "efficiency_interval": None if low is None else [low, high]})
        return {"points": rows, "references": {v: {"items_per_second": m.throughput()}
                                               for v, m in self.references}}
