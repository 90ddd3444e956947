"""Applying budget rules to measurements: :func:`check` and the verdict semantics.

Each rule that applies to a measured stage/variant (``BudgetSpec.rules_for``) gives one
:class:`~workbench.budget.result.Verdict`, whose status is one of:

- ``pass``: the whole interval is on the good side of the limit;
- ``breach``: the point estimate is on the bad side of the limit AND the interval shows
  the difference is real (below);
- ``inconclusive``: the interval straddles the limit, the percentile needs more samples
  than were taken, the measurement failed, or the target was not measured;
- ``not-comparable``: a relative rule whose baseline fingerprint differs in CPU model,
  Python or key package versions (``fingerprint.comparable``); absolute rules are still
  evaluated;
- ``no-baseline``: a relative rule without a (successful) baseline measurement of the same
  stage, variant and workload.

Latency (``latency_pNN``, lower is better). *Relative* limit t: the ratio
current/baseline with an interval. For p50 it is formed with the worker process as the
unit (:mod:`workbench.measure.worker_stats`): the Hodges-Lehmann ratio of the two sides'
worker medians with the distribution-free rank interval, which holds its level whatever
the spread between processes and is not widened much by one slow worker. When there are
too few workers per side for that interval at the level in use (4 and 4 at 95 %), and for
p95/p99, the ratio of the pooled percentiles with a two-level bootstrap interval (workers,
then samples within workers; :func:`percentile_ratio_ci`) is used instead, and the message
says so. Breach needs both ratio > t AND interval low > min(1, t): the current run is
demonstrably slower than the baseline, so noise alone cannot fail a build. Pass needs
interval high <= t. *Absolute* limit L: the worker-level interval of pNN
(``stats.grouped_percentile_ci``, which allows for the spread between processes); breach
when its low end > L, pass when its high end <= L. A percentile the sample count cannot
support at the confidence in use is inconclusive, naming the samples needed.

Throughput (higher is better) mirrors latency on items/s at the median: relative t is the
allowed minimum ratio (breach: ratio < t AND interval high < max(1, t); pass: interval low
>= t); absolute: breach when the interval's high end < L, pass when its low end >= L.

Memory (``peak_rss``, ``heap_peak``) has one value per worker and no sampling statistics:
the observed value is the maximum over workers and the workers' range [min, max] plays the
part of the interval (relative: [min_cur/max_base, max_cur/min_base]), with the same
breach/pass rules. So a relative breach needs every current worker above every baseline
worker, an absolute breach every worker over the limit.

Instruction counts (``instructions``, ``l1_misses``, ``ll_misses``) are deterministic and
judged without an interval: see :mod:`workbench.budget.instr_verdict`.

Scaling (log-log exponent from a size sweep, lower is better) uses the sweep's own interval
(no correction). Absolute: as latency. Relative t: the allowed maximum is t x the baseline
exponent; breach when the exponent is above it AND its interval low is above the baseline's
interval high; pass when the interval high is within it.

Multiple comparisons: every error-level latency or throughput rule is a chance of a false
alarm. With ``correction="bonferroni"`` (the default) each of their intervals is formed at
confidence 1 - family_alpha/m (m: the number of such verdicts), so the probability that
any of them breaches by chance stays <= family_alpha (0.05: 1 in 20; a breach needs one
tail of a two-sided interval, so the bound is conservative). Warn-level rules use
1 - family_alpha. ``correction="none"`` uses 1 - family_alpha for all.

Sequential checks (``look`` > 1, :mod:`workbench.budget.sequential`): look k spends only
its share of family_alpha on the breach end of the error-level intervals (the first look
spends half, so it is the fixed-sample check above); the pass end keeps the first look's
level at every look, because stopping to pass cannot raise the false-alarm rate (it is a
non-binding futility stop in group-sequential terms). The message names both levels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Literal

from workbench.budget.instr_verdict import baselines_by_key, judge_count, judge_uncounted
from workbench.budget.resample import percentile_ratio_ci
from workbench.budget.result import CheckResult, ScalingObservation, Status, Verdict
from workbench.budget.sequential import look_tail
from workbench.budget.spec import DEFAULT_VARIANT, BudgetSpec, Rule
from workbench.errors import InvalidInputError
from workbench.measure import stats, worker_stats
from workbench.measure.fingerprint import comparable
from workbench.measure.instructions import INSTRUCTION_METRICS, InstructionCount
from workbench.measure.measurement import Measurement
from workbench.render import format as fmt

__all__ = ["FAMILY_ALPHA", "MAX_CONFIDENCE", "STATISTICAL", "CheckResult", "Verdict", "check",
           "percentile_ratio_ci"]

MAX_CONFIDENCE = 0.999
#: The default chance that a check of unchanged code breaches any error-level rule.
FAMILY_ALPHA = 0.05
Correction = Literal["bonferroni", "none"]
STATISTICAL = ("latency_p50", "latency_p95", "latency_p99", "throughput")
_NAMES = {"latency_p50": "p50 latency", "latency_p95": "p95 latency",
          "latency_p99": "p99 latency", "throughput": "throughput", "peak_rss": "peak RSS",
          "heap_peak": "heap peak", "scaling": "scaling exponent"}
_Target = Measurement | ScalingObservation | InstructionCount | None


def _judge(name: str, point: float, low: float, high: float, limit: float, rule: Rule,
           fmt: Callable[[float], str], span: str) -> tuple[Status, str]:
    """The breach/pass/inconclusive rule of the module docstring, with its message."""
    relative = rule.kind == "relative"
    lower = rule.direction == "lower"
    floor = (min(1.0, limit) if lower else max(1.0, limit)) if relative else limit
    worse = point > limit if lower else point < limit
    real = low > floor if lower else high < floor
    side = "over" if lower else "under"
    shown = f"{name} {fmt(point)} [{fmt(low)}, {fmt(high)}]"
    if worse and real:
        why = (f"the whole {span} is {'above' if lower else 'below'} {floor:g}x the baseline, "
               "so noise alone cannot explain it") if relative else f"the whole {span} is {side} it"
        return "breach", f"{shown} is {side} the limit {fmt(limit)}; {why}"
    if (high <= limit) if lower else (low >= limit):
        return "pass", f"{shown} is within the limit {fmt(limit)} over its whole {span}"
    if worse:
        return "inconclusive", (f"{shown} is {side} the limit {fmt(limit)}, but its {span} "
                                f"reaches {fmt(floor)}: noise alone could explain it, so this "
                                "is not a breach; more samples would decide")
    return "inconclusive", (f"{shown} is within the limit {fmt(limit)}, but its {span} "
                            "straddles it; more samples would decide")


def _span(breach: float, passing: float) -> str:
    if abs(breach - passing) < 1e-12:
        return f"{100 * breach:.3g}% interval"
    return (f"interval (breach end at {100 * breach:.4g}%, pass end at {100 * passing:.3g}%, "
            "two-sided equivalents)")


def _ratio(x: float) -> str:
    return f"{x:.3g}x"


class _Evaluator:
    def __init__(self, baseline: Sequence[Measurement],
                 baseline_scaling: Sequence[ScalingObservation], resamples: int, seed: int,
                 baseline_instructions: Sequence[InstructionCount] = ()):
        self.base = {_key(m): m for m in reversed(baseline)}
        self.base_instructions = baselines_by_key(baseline_instructions)
        self.base_scaling = {(o.stage, o.variant, o.workload): o for o in baseline_scaling}
        self.resamples = resamples
        self.seed = seed

    def evaluate(self, rule: Rule, target: _Target, workload: str | None,
                 confidence: float, pass_confidence: float | None = None) -> Verdict:
        """``confidence``: of the interval's breach end (two-sided equivalent);
        ``pass_confidence``: of its pass end for relative ratios (default the same)."""
        passing = confidence if pass_confidence is None else pass_confidence
        if target is None and rule.metric in INSTRUCTION_METRICS:
            return judge_uncounted(rule, workload)
        if target is None:
            why = ("needs a size sweep of this stage (none was given)" if rule.metric ==
                   "scaling" else "this stage/variant was not measured in this run")
            return Verdict(rule, "inconclusive", workload, f"not evaluated: {why}")
        if isinstance(target, ScalingObservation):
            return self.scaling(rule, target)
        if isinstance(target, InstructionCount):
            return judge_count(rule, target, workload, self.base_instructions)
        if not target.ok or not target.samples:
            return Verdict(rule, "inconclusive", workload,
                           f"the current measurement failed: {target.error_text()}")
        if rule.metric in ("peak_rss", "heap_peak"):
            return self.memory(rule, target, workload)
        if rule.metric == "throughput":
            return self.throughput(rule, target, workload, confidence, passing)
        return self.latency(rule, target, workload, confidence, passing)

    def baseline_problem(self, rule: Rule, m: Measurement,
                         observed: dict[str, Any]) -> Verdict | None:
        base = self.base.get(_key(m))
        workload = m.target.workload
        if base is None or not base.ok or not base.samples:
            what = "has no" if base is None else "failed for its"
            return Verdict(rule, "no-baseline", workload, f"the baseline {what} measurement "
                           f"of {rule.label} on {workload or '-'}; relative limits need one",
                           **observed)
        differ = comparable(m.environment, base.environment)
        if differ:
            return Verdict(rule, "not-comparable", workload, "the baseline was measured with a "
                           f"different {', '.join(differ)}; relative limits are not evaluated "
                           "(re-record the baseline on this machine)", **observed)
        return None

    def latency(self, rule: Rule, m: Measurement, workload: str | None,
                confidence: float, passing: float) -> Verdict:
        q = float(rule.info.percentile or 50)
        name = _NAMES[rule.metric]
        est = stats.grouped_percentile_ci(m.groups, q, confidence, seed=self.seed,
                                          resamples=_resamples(self.resamples, confidence))
        iv = est.interval
        observed: dict[str, Any] = {"observed": est.value, "observed_low": iv.low if iv else None,
                    "observed_high": iv.high if iv else None, "confidence": confidence}
        if rule.kind == "relative":
            problem = self.baseline_problem(rule, m, observed)
            if problem is not None:
                return problem
        if est.value is None or iv is None:
            return Verdict(rule, "inconclusive", workload, f"current {est.note}", **observed)
        span = f"{100 * confidence:.3g}% interval"
        if rule.kind == "absolute":
            status, msg = _judge(name, est.value, iv.low, iv.high, rule.value, rule,
                                 lambda x: fmt.value(x, "time"), span)
            return Verdict(rule, status, workload, msg, **observed)
        base = self.base[_key(m)]
        best = stats.percentile_ci(base.samples, q, confidence)
        if best.value is None:
            return Verdict(rule, "inconclusive", workload, f"baseline {best.note}", **observed)
        ratio, rlow, rhigh, how = self.ratio(m.groups, base.groups, q, confidence, passing)
        status, msg = _judge(f"{name} current/baseline", ratio, rlow, rhigh, rule.value, rule,
                             _ratio, _span(confidence, passing))
        msg += (f" ({fmt.value(est.value, 'time')} vs "
                f"{fmt.value(best.value, 'time')}; {how})")
        return Verdict(rule, status, workload, msg, baseline=best.value, ratio=ratio,
                       ratio_low=rlow, ratio_high=rhigh, workers=len(m.groups), **observed)

    def ratio(self, a: Sequence[Sequence[float]], b: Sequence[Sequence[float]], q: float,
              low_confidence: float, high_confidence: float) -> tuple[float, float, float, str]:
        """pQ(a)/pQ(b), the low end of its interval at ``low_confidence`` and the high end
        at ``high_confidence`` (two-sided equivalents), and how they were formed."""
        tails = ((1 - low_confidence) / 2, (1 - high_confidence) / 2)
        if q == 50:
            low = worker_stats.ratio_interval(a, b, tails[0])
            high = worker_stats.ratio_interval(a, b, tails[1])
            if low.low is not None and high.high is not None:
                return (low.value, low.low, high.high,
                        f"median ratio from {len(a)}+{len(b)} worker medians, rank interval")
        confs = [min(MAX_CONFIDENCE, c) for c in (low_confidence, high_confidence)]
        ends = [percentile_ratio_ci(a, b, q, confidence=c, seed=self.seed,
                                    resamples=_resamples(self.resamples, max(confs)))
                for c in confs]
        assert ends[0].interval is not None and ends[1].interval is not None
        how = f"two-level bootstrap over {len(a)}+{len(b)} workers"
        if q == 50:
            how += (f"; a worker-level interval needs "
                    f"{worker_stats.workers_needed(min(tails))} workers per side at this "
                    "level, and the bootstrap can be optimistic with few workers")
        assert ends[0].value is not None
        return ends[0].value, ends[0].interval.low, ends[1].interval.high, how

    def throughput(self, rule: Rule, m: Measurement, workload: str | None,
                   confidence: float, passing: float) -> Verdict:
        items = m.items_per_call
        med = stats.grouped_percentile_ci(m.groups, 50, confidence, seed=self.seed,
                                          resamples=_resamples(self.resamples, confidence))
        iv = med.interval
        tp = m.throughput()
        observed: dict[str, Any] = {"observed": tp, "confidence": confidence,
                    "observed_low": items * 1e9 / iv.high if iv and iv.high > 0 else None,
                    "observed_high": items * 1e9 / iv.low if iv and iv.low > 0 else None}
        if rule.kind == "relative":
            problem = self.baseline_problem(rule, m, observed)
            if problem is not None:
                return problem
        if not tp or not items:
            return Verdict(rule, "inconclusive", workload,
                           "throughput needs the items per call, which were not recorded",
                           **observed)
        low, high = observed["observed_low"], observed["observed_high"]
        if low is None or high is None:
            return Verdict(rule, "inconclusive", workload, f"current {med.note}", **observed)
        span = f"{100 * confidence:.3g}% interval"
        if rule.kind == "absolute":
            status, msg = _judge("throughput", tp, low, high, rule.value, rule,
                                 lambda x: fmt.value(x, "throughput"), span)
            return Verdict(rule, status, workload, msg, **observed)
        base = self.base[_key(m)]
        base_tp = base.throughput()
        if not base_tp or not base.items_per_call:
            return Verdict(rule, "no-baseline", workload, "the baseline recorded no items "
                           "per call, so it has no throughput", **observed)
        scale = items / base.items_per_call
        r, rl, rh, how = self.ratio(base.groups, m.groups, 50, passing, confidence)
        ratio, rlow, rhigh = r * scale, rl * scale, rh * scale
        status, msg = _judge("throughput current/baseline", ratio, rlow, rhigh, rule.value,
                             rule, _ratio, _span(confidence, passing))
        msg += (f" ({fmt.value(tp, 'throughput')} vs "
                f"{fmt.value(base_tp, 'throughput')}; {how})")
        return Verdict(rule, status, workload, msg, baseline=base_tp, ratio=ratio,
                       ratio_low=rlow, ratio_high=rhigh, workers=len(m.groups), **observed)

    def memory(self, rule: Rule, m: Measurement, workload: str | None) -> Verdict:
        name = _NAMES[rule.metric]
        values = _memory(m, rule.metric)
        note = "" if rule.metric == "heap_peak" or m.rss_exact else " (approximate: ru_maxrss)"
        observed: dict[str, Any] = {
            "observed": max(values) if values else None,
            "observed_low": min(values) if values else None,
            "observed_high": max(values) if values else None}
        if rule.kind == "relative":
            problem = self.baseline_problem(rule, m, observed)
            if problem is not None:
                return problem
        if not values:
            return Verdict(rule, "inconclusive", workload, f"{name} was not recorded",
                           **observed)
        span = f"range over {len(values)} workers"
        if rule.kind == "absolute":
            status, msg = _judge(name, max(values), min(values), max(values), rule.value,
                                 rule, lambda x: fmt.value(x, "size"), span)
            return Verdict(rule, status, workload, msg + note, **observed)
        base_values = _memory(self.base[_key(m)], rule.metric)
        if not base_values or min(base_values) <= 0:
            return Verdict(rule, "no-baseline", workload, f"the baseline has no {name}",
                           **observed)
        ratio = max(values) / max(base_values)
        rlow, rhigh = min(values) / max(base_values), max(values) / min(base_values)
        status, msg = _judge(f"{name} current/baseline", ratio, rlow, rhigh, rule.value, rule,
                             _ratio, span)
        msg += (f" ({fmt.value(max(values), 'size')} vs "
                f"{fmt.value(max(base_values), 'size')}){note}")
        return Verdict(rule, status, workload, msg, baseline=max(base_values), ratio=ratio,
                       ratio_low=rlow, ratio_high=rhigh, **observed)

    def scaling(self, rule: Rule, obs: ScalingObservation) -> Verdict:
        observed: dict[str, Any] = {"observed": obs.slope, "observed_low": obs.low,
                                    "observed_high": obs.high, "confidence": obs.confidence}
        span = f"{100 * obs.confidence:.3g}% interval"
        if rule.kind == "absolute":
            status, msg = _judge("scaling exponent", obs.slope, obs.low, obs.high, rule.value,
                                 rule, lambda x: f"{x:.3g}", span)
            return Verdict(rule, status, obs.workload, msg, **observed)
        base = self.base_scaling.get((obs.stage, obs.variant, obs.workload))
        if base is None:
            return Verdict(rule, "no-baseline", obs.workload, "the baseline has no scaling "
                           f"exponent of {rule.label} on {obs.workload or '-'}", **observed)
        differ = comparable(dict(obs.environment), dict(base.environment))
        if differ:
            return Verdict(rule, "not-comparable", obs.workload, "the baseline sweep ran with "
                           f"a different {', '.join(differ)}", **observed)
        if base.slope <= 0:
            return Verdict(rule, "inconclusive", obs.workload, f"the baseline exponent "
                           f"{base.slope:.3g} is not positive, so a ratio limit is undefined",
                           **observed)
        allowed = rule.value * base.slope
        shown = (f"scaling exponent {obs.slope:.3g} [{obs.low:.3g}, {obs.high:.3g}] vs allowed "
                 f"{allowed:.3g} ({rule.value:g}x baseline {base.slope:.3g})")
        outcome: Status
        if obs.slope > allowed and obs.low > base.high:
            outcome, msg = "breach", (f"{shown}: over it, with the whole {span} above the "
                                      "baseline's interval, so noise alone cannot explain it")
        elif obs.high <= allowed:
            outcome, msg = "pass", f"{shown}: within it over the whole {span}"
        else:
            outcome, msg = "inconclusive", f"{shown}: the {span} straddles the limit"
        s = base.slope
        return Verdict(rule, outcome, obs.workload, msg, baseline=s, ratio=obs.slope / s,
                       ratio_low=obs.low / s, ratio_high=obs.high / s, **observed)


def _key(m: Measurement) -> tuple[str, str, str | None]:
    return m.target.name, m.target.variant or DEFAULT_VARIANT, m.target.workload


def _memory(m: Measurement, metric: str) -> list[float]:
    runs = [r for r in m.runs if r.ok]
    if metric == "peak_rss":
        return [r.rss_peak_kb * 1024.0 for r in runs if r.rss_peak_kb is not None]
    return [float(r.heap_peak_bytes) for r in runs if r.heap_peak_bytes is not None]


def _resamples(resamples: int, confidence: float) -> int:
    """Enough replicates that each tail of the interval holds at least ~10 of them."""
    return max(resamples, math.ceil(20 / (1 - confidence)))


def _tasks(spec: BudgetSpec, current: Sequence[Measurement],
           scaling: Sequence[ScalingObservation],
           instructions: Sequence[InstructionCount] = (),
           ) -> list[tuple[Rule, _Target, str | None]]:
    """(rule made concrete for its target, target, workload) for every rule to evaluate."""
    tasks: list[tuple[Rule, _Target, str | None]] = []
    done: set[Rule] = set()
    swept = {(o.stage, o.variant) for o in scaling}
    counts = baselines_by_key(instructions)
    for m in current:
        stage, variant, workload = _key(m)
        for rule in spec.rules_for(stage, variant):
            done.add(rule)
            concrete = replace(rule, stage=stage, variant=variant)
            if rule.metric in INSTRUCTION_METRICS:
                tasks.append((concrete, counts.get(_key(m)), workload))
            elif rule.metric != "scaling":
                tasks.append((concrete, m, workload))
            elif (stage, variant) not in swept:
                tasks.append((concrete, None, workload))
    timed = {_key(m) for m in current}
    for key, count in counts.items():
        if key in timed:
            continue
        for rule in spec.rules_for(key[0], key[1]):
            if rule.metric in INSTRUCTION_METRICS:
                done.add(rule)
                tasks.append((replace(rule, stage=key[0], variant=key[1]), count, key[2]))
    for obs in scaling:
        for rule in spec.rules_for(obs.stage, obs.variant):
            if rule.metric == "scaling":
                done.add(rule)
                tasks.append((replace(rule, stage=obs.stage, variant=obs.variant), obs,
                              obs.workload))
    tasks.extend((rule, None, None) for rule in spec.rules
                 if rule not in done and rule.stage != "*")
    return tasks


def check(spec: BudgetSpec, current: Sequence[Measurement],
          baseline: Sequence[Measurement] | None = None, *,
          scaling: Sequence[ScalingObservation] = (),
          baseline_scaling: Sequence[ScalingObservation] = (),
          family_alpha: float = FAMILY_ALPHA, correction: Correction = "bonferroni",
          resamples: int = 2000, seed: int = 0, look: int = 1,
          instructions: Sequence[InstructionCount] = (),
          baseline_instructions: Sequence[InstructionCount] = ()) -> CheckResult:
    """Apply ``spec`` to the ``current`` measurements (see the module docstring).

    ``baseline`` measurements are matched by stage, variant and workload; ``scaling`` and
    ``baseline_scaling`` carry sweep exponents for ``scaling`` rules; ``instructions`` and
    ``baseline_instructions`` the counts for instruction rules
    (:mod:`workbench.budget.instr_verdict`). Deterministic for a given ``seed``.
    """
    if not (isinstance(family_alpha, float | int) and 0 < family_alpha < 1):
        raise InvalidInputError(f"family_alpha must be strictly between 0 and 1 (e.g. 0.05); "
                                f"got {family_alpha!r}")
    if correction not in ("bonferroni", "none"):
        raise InvalidInputError(f"correction must be 'bonferroni' or 'none'; got {correction!r}")
    if not isinstance(resamples, int) or isinstance(resamples, bool) or resamples < 100:
        raise InvalidInputError(f"resamples must be an integer >= 100; got {resamples!r}")
    tasks = _tasks(spec, current, scaling, instructions)
    m = sum(1 for rule, target, _ in tasks if target is not None and rule.level == "error"
            and rule.metric in STATISTICAL)
    nominal = 1 - family_alpha
    spent = 2 * look_tail(look, family_alpha)
    strict = 1 - spent / max(1, m) if correction == "bonferroni" else 1 - spent
    evaluator = _Evaluator(baseline or (), baseline_scaling, resamples, seed,
                           baseline_instructions)
    first = 1 - look_tail(1, family_alpha) * 2 / (max(1, m) if correction == "bonferroni"
                                                   else 1)
    verdicts = tuple(
        evaluator.evaluate(rule, target, workload, strict, first) if rule.level == "error"
        else evaluator.evaluate(rule, target, workload, nominal)
        for rule, target, workload in tasks)
    return CheckResult(verdicts, spec.digest(), float(family_alpha), correction, strict)
