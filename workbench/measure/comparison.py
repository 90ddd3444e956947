"""A :class:`Comparison`: every variant of a stage on one workload, against ``pure``.

Per variant: its :class:`Measurement`, the speed-up over pure (median ratio) with a
hierarchical bootstrap interval (workers, then samples), a Mann-Whitney U p-value, a
verdict (faster / slower / inconclusive), and the stage's equivalence predicate applied
to the variant's output on the same workload, so timings and correctness sit side by side.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import InvalidInputError
from workbench.measure import compare_stats, stats
from workbench.measure.measurement import SCHEMA_VERSION, Measurement
from workbench.measure.targets import TargetSpec, prepare, resolve_target
from workbench.stages import EquivalenceResult

__all__ = ["Comparison", "PairStats", "VariantResult", "build_comparison"]


@dataclass(frozen=True, slots=True)
class PairStats:
    """How a variant relates to the baseline variant."""

    speedup: stats.Estimate  # median(baseline) / median(variant): > 1 means faster
    p_value: float | None
    verdict: str  # faster | slower | inconclusive

    def to_json(self) -> dict[str, Any]:
        iv = self.speedup.interval
        return {
            "speedup": self.speedup.value,
            "interval": None if iv is None else [iv.low, iv.high, iv.confidence],
            "note": self.speedup.note,
            "p_value": self.p_value,
            "verdict": self.verdict,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PairStats:
        iv = data.get("interval")
        interval = None if iv is None else stats.Interval(iv[0], iv[1], iv[2])
        est = stats.Estimate(data.get("speedup"), interval, 0, str(data.get("note", "")))
        return cls(est, data.get("p_value"), str(data["verdict"]))


@dataclass(frozen=True, slots=True)
class VariantResult:
    variant: str
    measurement: Measurement
    versus_baseline: PairStats | None = None
    equivalence: EquivalenceResult | None = None


def pair_stats(baseline: Measurement, candidate: Measurement) -> PairStats:
    if not baseline.groups or not candidate.groups:
        return PairStats(stats.Estimate(None, None, 0, "a side has no samples"), None,
                         "inconclusive")
    est = compare_stats.speedup(baseline.groups, candidate.groups)
    _, p = compare_stats.mann_whitney(baseline.samples, candidate.samples)
    return PairStats(est, p, compare_stats.verdict(est, p))


def _run_once(spec: TargetSpec) -> tuple[Any, BaseException | None]:
    """Run the target once here (its output), or the exception it raised."""
    try:
        return prepare(spec).call(), None
    except Exception as exc:
        return None, exc


def _equivalence(spec: TargetSpec, reference: Any) -> EquivalenceResult:
    """Run ``spec``'s variant once here and apply the stage's predicate against
    ``reference`` (pure's output on the same input)."""
    output, error = _run_once(spec)
    if error is not None:
        return EquivalenceResult(False, f"{spec.variant} raised {type(error).__name__}: {error}")
    pipeline, _, _ = resolve_target(spec)
    assert pipeline is not None
    st = pipeline.configure(**spec.params).stage(spec.name)
    merged = {**st.defaults, **spec.params.get(spec.name, {})}
    return st.equivalence(reference, output, variant=spec.variant or "pure", params=merged)


def build_comparison(
    stage: str,
    workload: str,
    results: tuple[VariantResult, ...],
    *,
    check_equivalence: bool = True,
    baseline: str = "pure",
) -> Comparison:
    """Pair every result with the baseline variant's and, for stage targets, apply the
    stage's equivalence predicate to each variant's output on the same workload."""
    by_name = {r.variant: r for r in results}
    base = by_name.get(baseline)
    reference: Any = None
    base_error: BaseException | None = None
    if check_equivalence and base is not None:
        reference, base_error = _run_once(base.measurement.target)
    out = []
    for r in results:
        pair = pair_stats(base.measurement, r.measurement) \
            if base is not None and r.variant != baseline else None
        eq = None
        if check_equivalence and base is not None:
            if r.variant == baseline:
                eq = EquivalenceResult(True, "the reference")
            elif base_error is not None:
                eq = EquivalenceResult(False, f"no reference: {baseline} raised "
                                              f"{type(base_error).__name__}: {base_error}")
            else:
                eq = _equivalence(r.measurement.target, reference)
        out.append(VariantResult(r.variant, r.measurement, pair, eq))
    return Comparison(stage, workload, baseline, tuple(out))


@dataclass(frozen=True)
class Comparison:
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
    def ok(self) -> bool:
        return all(r.measurement.ok for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "comparison",
            "stage": self.stage,
            "workload": self.workload,
            "baseline": self.baseline,
            "results": [
                {
                    "variant": r.variant,
                    "measurement": r.measurement.to_json(),
                    "versus_baseline": None if r.versus_baseline is None
                    else r.versus_baseline.to_json(),
                    "equivalence": None if r.equivalence is None else {
                        "equivalent": r.equivalence.equivalent, "detail": r.equivalence.detail,
                        "worst": r.equivalence.worst},
                }
                for r in self.results
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Comparison:
        if data.get("kind") != "comparison":
            raise InvalidInputError(f"not a comparison record (kind {data.get('kind')!r})")
        version = data.get("schema_version")
        if not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
            raise InvalidInputError(f"comparison schema_version {version!r} is not supported; "
                                    f"this workbench reads versions 1..{SCHEMA_VERSION}")
        results = []
        for r in data["results"]:
            eq = r.get("equivalence")
            results.append(VariantResult(
                r["variant"], Measurement.from_json(r["measurement"]),
                None if r.get("versus_baseline") is None
                else PairStats.from_json(r["versus_baseline"]),
                None if eq is None else EquivalenceResult(eq["equivalent"], eq["detail"],
                                                          eq.get("worst")),
            ))
        return cls(str(data["stage"]), str(data["workload"]), str(data["baseline"]),
                   tuple(results))

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)

    def to_text(self) -> str:
        from workbench.measure.render import comparison_text

        return comparison_text(self)

    def to_html(self) -> str:
        from workbench.measure.render import comparison_html

        return comparison_html(self)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()
