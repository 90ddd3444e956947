"""A :class:`Comparison`: every variant of a stage on one workload, against a baseline variant.

Per variant: its :class:`Measurement`, the speed-up over the baseline (median ratio) with
its interval and a Mann-Whitney U p-value, both with the worker process as the unit when
there are enough workers (:func:`pair_stats`), a verdict (faster / slower / inconclusive),
and whether the variant's output was equivalent to the baseline's on the same workload
(the engine runs that check: :mod:`workbench.measure.equivalence`), so timings and
correctness sit side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from workbench.errors import InvalidInputError
from workbench.measure import compare_stats, stats, worker_stats
from workbench.measure.instructions import InstructionCount
from workbench.measure.measurement import Measurement
from workbench.results import Result
from workbench.stages import EquivalenceResult

__all__ = ["ALPHA", "INTERVAL_ALPHA", "Comparison", "PairStats", "VariantResult",
           "build_comparison", "pair_stats"]


@dataclass(frozen=True, slots=True)
class PairStats:
    """How a variant relates to the baseline variant."""

    speedup: stats.Estimate  # median(baseline) / median(variant): > 1 means faster
    p_value: float | None
    verdict: str  # faster | slower | inconclusive | not-comparable

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
    instructions: InstructionCount | None = None  # counted under Cachegrind, if asked

    def to_json(self) -> dict[str, Any]:
        data = {"variant": self.variant, "measurement": self.measurement.to_json(),
                "versus_baseline": None if self.versus_baseline is None
                else self.versus_baseline.to_json(),
                "equivalence": _equivalence_json(self.equivalence)}
        if self.instructions is not None:
            data["instructions"] = self.instructions.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VariantResult:
        eq = data.get("equivalence")
        pair = data.get("versus_baseline")
        counted = data.get("instructions")
        return cls(str(data["variant"]), Measurement.from_json(data["measurement"]),
                   None if pair is None else PairStats.from_json(pair),
                   None if eq is None else EquivalenceResult(
                       bool(eq["equivalent"]), str(eq["detail"]), eq.get("worst")),
                   None if counted is None else InstructionCount.from_json(counted))


#: The verdict's rank-test level and interval level at the first look (later looks of a
#: sequential compare spend less: :func:`workbench.budget.sequential.look_tail`).
ALPHA = 0.01
INTERVAL_ALPHA = 0.05


def pair_stats(baseline: Measurement, candidate: Measurement, *, look: int = 1) -> PairStats:
    """The speed-up of ``candidate`` over ``baseline`` with the worker as the unit.

    With enough workers per side for the rank test to reach its level (5 and 5 at the
    first look), the speed-up is the Hodges-Lehmann ratio of worker medians with its rank
    interval, and the p-value the rank test's on worker medians
    (:mod:`workbench.measure.worker_stats`). With fewer, the pooled samples are used as
    before (two-level bootstrap, Mann-Whitney over samples) and the note says that this
    treats samples of one worker as independent, which overstates the evidence.
    """
    from workbench.budget.sequential import look_tail

    if not baseline.groups or not candidate.groups:
        return PairStats(stats.Estimate(None, None, 0, "a side has no samples"), None,
                         "inconclusive")
    machines = set(baseline.nodes) | set(candidate.nodes)
    if len(machines) > 1:  # placement keeps a comparison on one node; this guards it
        return PairStats(stats.Estimate(None, None, 0, "measured on different machines: "
                                        + ", ".join(sorted(machines))), None,
                         "not-comparable")
    alpha = 2 * look_tail(look, ALPHA)
    tail = look_tail(look, INTERVAL_ALPHA)
    k = (len(baseline.groups), len(candidate.groups))
    n = len(baseline.samples) + len(candidate.samples)
    if 2 * worker_stats.u_cdf(0, *k) < alpha:
        r = worker_stats.ratio_interval(baseline.groups, candidate.groups, tail)
        _, p = worker_stats.rank_test(baseline.groups, candidate.groups)
        assert r.low is not None and r.high is not None
        note = (f"median(a)/median(b) from {k[0]}+{k[1]} worker medians (Hodges-Lehmann), "
                f"rank interval; rank test on worker medians; look {look}")
        est = stats.Estimate(r.value, stats.Interval(r.low, r.high, 1 - 2 * tail), n, note)
    else:
        est = compare_stats.speedup(baseline.groups, candidate.groups,
                                    confidence=min(0.999, 1 - 2 * tail))
        _, p = compare_stats.mann_whitney(baseline.samples, candidate.samples)
        need = worker_stats.workers_needed(alpha / 2)
        est = replace(est, note=est.note + f"; fewer than {need} workers per side: samples "
                      "of one worker treated as independent, which overstates the evidence")
    return PairStats(est, p, compare_stats.verdict(est, p, alpha=alpha))


def build_comparison(stage: str, workload: str, results: tuple[VariantResult, ...], *,
                     baseline: str = "pure", look: int = 1) -> Comparison:
    """Pair every result with the baseline variant's (equivalence, if any, is kept)."""
    by_name = {r.variant: r for r in results}
    base = by_name.get(baseline)
    out = tuple(
        replace(r, versus_baseline=pair_stats(base.measurement, r.measurement, look=look))
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

    @property
    def counted(self) -> bool:
        """Whether instructions were counted (``compare --metric instructions``)."""
        return any(r.instructions is not None for r in self.results)

    def instruction_ratio(self, variant: str, event: str = "Ir") -> float | None:
        """``variant``'s count of ``event`` per call over the baseline variant's."""
        mine, base = self.result(variant).instructions, self.result(self.baseline).instructions
        if mine is None or base is None or not mine.ok or not base.ok:
            return None
        low = base.per_call.get(event)
        high = mine.per_call.get(event)
        return None if low is None or high is None or low <= 0 else high / low

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
            if r.instructions is not None:
                row["instructions_per_call"] = r.instructions.instructions
                row["instruction_ratio"] = self.instruction_ratio(r.variant)
                if r.instructions.cache_sim and r.instructions.ok:
                    row["l1_misses_per_call"] = r.instructions.metric("l1_misses")
                    row["ll_misses_per_call"] = r.instructions.metric("ll_misses")
            variants[r.variant] = row
        return {"baseline": self.baseline, "isolated": self.isolated, "variants": variants}
