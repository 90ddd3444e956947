"""A :class:`Comparison`: every variant of a stage on one workload, against a baseline variant.

Per variant: its :class:`Measurement`, the speed-up over the baseline (a ratio of worker
medians) with its interval and a p-value, both with the worker process as the unit, never
with samples pooled across workers (:func:`pair_stats`; with too few workers for the
distribution-free rank method, a model-based t-interval or no interval, and a warning that
says so), a verdict (faster / slower / inconclusive),
and whether the variant's output was equivalent to the baseline's on the same workload
(the engine runs that check: :mod:`workbench.measure.equivalence`), so timings and
correctness sit side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from workbench.errors import InvalidInputError
from workbench.measure import compare_stats, stats, worker_stats
from workbench.measure.instructions import InstructionCount
from workbench.measure.measurement import Measurement
from workbench.results import Result
from workbench.stages import EquivalenceResult

__all__ = ["ALPHA", "INTERVAL_ALPHA", "Comparison", "PairStats", "VariantResult",
           "build_comparison", "minimum_workers", "pair_stats", "workers_warning"]


@dataclass(frozen=True, slots=True)
class PairStats:
    """How a variant relates to the baseline variant."""

    speedup: stats.Estimate  # median(baseline) / median(variant): > 1 means faster
    p_value: float | None
    verdict: str  # faster | slower | inconclusive | not-comparable
    #: Set when the workers per side are too few for the distribution-free rank interval:
    #: what the shown result rests on (a model, or nothing) and what would decide.
    warning: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"speedup": self.speedup.to_json(), "p_value": self.p_value,
               "verdict": self.verdict}
        if self.warning is not None:
            out["warning"] = self.warning
        return out

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
        warning = data.get("warning")
        return cls(est, None if p is None else float(p), str(data["verdict"]),
                   None if warning is None else str(warning))


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
#: sequential compare spend less: :func:`workbench.measure.looks.look_tail`).
ALPHA = 0.01
INTERVAL_ALPHA = 0.05


def minimum_workers(look: int = 1) -> int:
    """The fewest workers per side for which ``compare``'s rank test on worker medians
    can reach its level at look ``look`` (5 at the first look), so that a verdict needs
    no model of the spread between workers."""
    from workbench.measure.looks import look_tail

    return worker_stats.workers_needed(look_tail(look, ALPHA))


def workers_warning(workers: int, setting: str | None = None) -> str | None:
    """What a comparison with ``workers`` workers per side cannot do when they are too few
    for a distribution-free verdict at the first look (None when they are enough): the
    configuration (``setting``, default ``compare --workers N``), what would decide, and
    what is shown instead."""
    need = minimum_workers()
    if workers >= need:
        return None
    setting = setting or f"compare --workers {workers}"
    if workers == 1:
        return (f"{setting}: one worker per side cannot give an interval (the worker "
                f"process is the unit and its samples are not independent), so no speed-up "
                f"is decided; the rank interval and rank test on worker medians need "
                f"{need} workers per side")
    return (f"{setting}: {workers} workers per side cannot decide without a model; {need} "
            f"per side would (--workers {need}: the rank interval and rank test on worker "
            f"medians); with {workers}, speed-ups are Welch t-intervals on log worker medians, "
            f"which assume them log-normal")


def pair_stats(baseline: Measurement, candidate: Measurement, *, look: int = 1) -> PairStats:
    """The speed-up of ``candidate`` over ``baseline`` with the worker as the unit.

    The worker process is the unit of every interval and test here: samples of one
    worker are never pooled across workers or treated as independent.

    - With enough workers per side for the rank test to reach its level (5 and 5 at the
      first look; :func:`minimum_workers`), the speed-up is the Hodges-Lehmann ratio of
      worker medians with its distribution-free rank interval, and the p-value the rank
      test's on worker medians (:mod:`workbench.measure.worker_stats`).
    - With 2 or more workers per side but fewer than that, the speed-up is the ratio of
      the geometric means of the worker medians with Welch's t-interval and t-test on the
      log worker medians (:func:`~workbench.measure.worker_stats.t_ratio_interval`): a
      model-based result from few workers (log-normal worker medians), which the note and
      ``warning`` say plainly.
    - With one worker on a side there is no interval and no test: the point is the ratio
      of the worker medians' medians, the verdict inconclusive, and the warning says that
      one worker cannot give an interval and how many workers the rank interval needs.
    """
    from workbench.measure.looks import look_tail

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
    levels = f"the rank interval ({100 * (1 - 2 * tail):.3g} %) and rank test " \
             f"({100 * alpha:.3g} %) on worker medians"
    if 2 * worker_stats.u_cdf(0, *k) < alpha:
        r = worker_stats.ratio_interval(baseline.groups, candidate.groups, tail)
        _, p = worker_stats.rank_test(baseline.groups, candidate.groups)
        assert r.low is not None and r.high is not None
        note = (f"median(a)/median(b) from {k[0]}+{k[1]} worker medians (Hodges-Lehmann), "
                f"rank interval; rank test on worker medians; look {look}")
        est = stats.Estimate(r.value, stats.Interval(r.low, r.high, 1 - 2 * tail), n, note)
        return PairStats(est, p, compare_stats.verdict(est, p, alpha=alpha))
    need = worker_stats.workers_needed(alpha / 2)
    if min(k) < 2:
        a = worker_stats.worker_medians(baseline.groups, "baseline")
        b = worker_stats.worker_medians(candidate.groups, "candidate")
        warning = (f"{k[0]}+{k[1]} workers: one worker on a side cannot give an interval "
                   f"(the worker process is the unit, and the samples of one worker are not "
                   f"independent); no verdict. {levels[0].upper()}{levels[1:]} need {need} "
                   f"workers per side")
        note = (f"median(a)/median(b) of the worker medians, no interval; look {look}; "
                f"{warning}")
        est = stats.Estimate(float(np.median(a) / np.median(b)), None, n, note)
        return PairStats(est, None, "inconclusive", warning)
    t = worker_stats.t_ratio_interval(baseline.groups, candidate.groups, tail)
    warning = (f"{k[0]}+{k[1]} workers cannot decide without a model: {levels} need "
               f"{need} workers per side (--workers {need}); shown: a Welch t-interval and "
               f"t-test on the log worker medians, which assume them log-normal")
    df = "no spread between worker medians" if t.df is None else f"{t.df:.3g} df"
    note = (f"geometric mean of worker medians a/b from {k[0]}+{k[1]} workers, Welch "
            f"t-interval and t-test on log worker medians ({df}); look {look}; {warning}")
    est = stats.Estimate(t.value, stats.Interval(t.low, t.high, 1 - 2 * tail), n, note)
    return PairStats(est, t.p_value, compare_stats.verdict(est, t.p_value, alpha=alpha),
                     warning)


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
    def warnings(self) -> tuple[str, ...]:
        """What the speed-ups cannot claim (too few workers per side), each said once."""
        found = (r.versus_baseline.warning for r in self.results
                 if r.versus_baseline is not None and r.versus_baseline.warning)
        return tuple(dict.fromkeys(w for w in found if w))

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
