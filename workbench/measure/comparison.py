"""A :class:`Comparison`: every variant of a stage on one workload, against a baseline variant.

Per variant: its :class:`Measurement`, the speed-up over the baseline (median ratio) with
a hierarchical bootstrap interval (workers, then samples), a Mann-Whitney U p-value, a
verdict (faster / slower / inconclusive), and whether the variant's output was equivalent
to the baseline's on the same workload (the engine runs that check:
:mod:`workbench.measure.equivalence`), so timings and correctness sit side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from workbench.errors import InvalidInputError
from workbench.measure import compare_stats, stats
from workbench.measure.measurement import Measurement
from workbench.results import Result
from workbench.stages import EquivalenceResult

__all__ = ["Comparison", "PairStats", "VariantResult", "build_comparison", "pair_stats"]


@dataclass(frozen=True, slots=True)
class PairStats:
    """How a variant relates to the baseline variant."""

    speedup: stats.Estimate  # median(baseline) / median(variant): > 1 means faster
    p_value: float | None
    verdict: str  # faster | slower | inconclusive

    def to_json(self) -> dict[str, Any]:
        return {"speedup": self.speedup.to_json(), "p_value": self.p_value,
                "verdict": self.verdict}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PairStats:
        raw = data["speedup"]
        if isinstance(raw, Mapping):
            est = stats.Estimate.from_json(raw)
        else:  # schema 1: value, [low, high, confidence], note; n was not kept
            iv = data.get("interval")
            interval = None if iv is None else stats.Interval(*(float(x) for x in iv))
            est = stats.Estimate(None if raw is None else float(raw), interval, 0,
                                 str(data.get("note", "")))
        p = data.get("p_value")
        return cls(est, None if p is None else float(p), str(data["verdict"]))


def _equivalence_json(eq: EquivalenceResult | None) -> dict[str, Any] | None:
    if eq is None:
        return None
    return {"equivalent": eq.equivalent, "detail": eq.detail, "worst": eq.worst}


@dataclass(frozen=True, slots=True)
class VariantResult:
    variant: str
    measurement: Measurement
    versus_baseline: PairStats | None = None
    equivalence: EquivalenceResult | None = None

    def to_json(self) -> dict[str, Any]:
        return {"variant": self.variant, "measurement": self.measurement.to_json(),
                "versus_baseline": None if self.versus_baseline is None
                else self.versus_baseline.to_json(),
                "equivalence": _equivalence_json(self.equivalence)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VariantResult:
        eq = data.get("equivalence")
        pair = data.get("versus_baseline")
        return cls(str(data["variant"]), Measurement.from_json(data["measurement"]),
                   None if pair is None else PairStats.from_json(pair),
                   None if eq is None else EquivalenceResult(
                       bool(eq["equivalent"]), str(eq["detail"]), eq.get("worst")))


def pair_stats(baseline: Measurement, candidate: Measurement) -> PairStats:
    if not baseline.groups or not candidate.groups:
        return PairStats(stats.Estimate(None, None, 0, "a side has no samples"), None,
                         "inconclusive")
    est = compare_stats.speedup(baseline.groups, candidate.groups)
    _, p = compare_stats.mann_whitney(baseline.samples, candidate.samples)
    return PairStats(est, p, compare_stats.verdict(est, p))


def build_comparison(stage: str, workload: str, results: tuple[VariantResult, ...], *,
                     baseline: str = "pure") -> Comparison:
    """Pair every result with the baseline variant's (equivalence, if any, is kept)."""
    by_name = {r.variant: r for r in results}
    base = by_name.get(baseline)
    out = tuple(
        replace(r, versus_baseline=pair_stats(base.measurement, r.measurement))
        if base is not None and r.variant != baseline else r
        for r in results)
    return Comparison(stage, workload, baseline, out)


@dataclass(frozen=True)
class Comparison(Result):
    kind: ClassVar[str] = "comparison"
    schema_version: ClassVar[int] = 2  # 2: speed-ups keep their sample count

    stage: str
    workload: str
    baseline: str
    results: tuple[VariantResult, ...]

    def result(self, variant: str) -> VariantResult:
        for r in self.results:
            if r.variant == variant:
                return r
        raise InvalidInputError(f"variant {variant!r} is not in this comparison; it has "
                                + ", ".join(r.variant for r in self.results))

    @property
    def variants(self) -> tuple[str, ...]:
        return tuple(r.variant for r in self.results)

    @property
    def ok(self) -> bool:
        return all(r.measurement.ok for r in self.results)

    @property
    def isolated(self) -> bool:
        return all(r.measurement.isolated for r in self.results)

    def _payload(self) -> dict[str, Any]:
        return {"stage": self.stage, "workload": self.workload, "baseline": self.baseline,
                "results": [r.to_json() for r in self.results]}

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> Comparison:
        return cls(str(data["stage"]), str(data["workload"]), str(data["baseline"]),
                   tuple(VariantResult.from_json(r) for r in data["results"]))

    def summary_json(self) -> dict[str, Any]:
        """Per variant: p50/p95/p99 (ns, with intervals), throughput, peak RSS, the
        speed-up over the baseline with its interval, the verdict and equivalence."""
        variants: dict[str, Any] = {}
        for r in self.results:
            m = r.measurement.summary_json()
            row = {k: m.get(k) for k in ("ok", "p50_ns", "p95_ns", "p99_ns",
                                         "throughput_items_per_s", "peak_rss_bytes")}
            pair = r.versus_baseline
            row["speedup"] = None if pair is None else pair.speedup.to_json()
            row["verdict"] = "baseline" if r.variant == self.baseline else (
                None if pair is None else pair.verdict)
            row["p_value"] = None if pair is None else pair.p_value
            row["equivalent"] = None if r.equivalence is None else r.equivalence.equivalent
            variants[r.variant] = row
        return {"baseline": self.baseline, "isolated": self.isolated, "variants": variants}
