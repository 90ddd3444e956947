"""Applying budget rules to measurements: :func:`check` and the verdict semantics.

Each rule that applies to a measured stage/variant (``BudgetSpec.rules_for``) gives one
:class:`~workbench.budget.check_result.Verdict`, whose status is one of:

- ``breach``: the value is over the limit (under it, for throughput) with the error level
  of the verdict: the interval's end nearest the limit lies beyond it;
- ``pass``: the value is within the limit at that level: the interval's far end is within;
- ``inconclusive``: the interval contains the limit (more workers would decide), there are
  too few workers for the interval at this level, the measurement failed, or the target was
  not measured;
- ``not-comparable``: a relative rule whose baseline fingerprint differs in CPU model,
  Python or key package versions (``fingerprint.comparable``); absolute rules are still
  evaluated;
- ``no-baseline``: a relative rule without a (successful) baseline measurement of the same
  stage, variant and workload.

So a breach means "over the limit", not "slower than the baseline": a real +3 % change
under a 1.05x limit is within budget and passes once the data can tell.

Every bound has the worker process as its unit (:mod:`workbench.budget.bounds`); nothing
here pools samples across workers.

Latency ``latency_pNN`` (lower is better). *Relative* limit t: the ratio current/baseline
of the workers' own pNN (each worker's median for p50), as the Hodges-Lehmann shift of the
log worker values with Moses' rank bounds. *Absolute* limit L: with one worker, the order
statistics of its samples bound its pNN (a limit under every one of 5 samples is a breach
of p50 at 96.9 %); with more, p50 is the median of the worker medians with sign-test
bounds, and p95/p99 the hull of two worker-level intervals (the workers' shares of calls
over each value, and the log-normal model of ``grouped_ci.grouped_percentile_ci``), each end at
the verdict's tail; its pass end needs enough calls for the exact binomial bound.

Throughput (higher is better) is the median's mirror: relative t is the allowed minimum
ratio of items/s, absolute L a minimum items/s (judged as the median time per call against
items/L).

Memory (``peak_rss``, ``heap_peak``) and memo tables (``hit_rate``, ``cache_bytes``,
``contention``): one value per worker, so the worker values are the units: relative rules
use the rank bounds of the ratio, absolute ones the sign-test bounds of the median worker's.

Instruction counts (``instructions``, ``l1_misses``, ``ll_misses``) are deterministic up to
a measured band and are judged without an interval: see
:mod:`workbench.budget.instructions`.

Scaling (log-log exponent from a size sweep, lower is better) uses the sweep's own interval
and level. Absolute: as latency. Relative t: the allowed maximum is t x the baseline
exponent.

The promise (one family): with ``correction="bonferroni"`` (the default), every
error-level verdict of the check (latency, throughput, memory, instructions, scaling) shares
``family_alpha``: each of the m verdicts may err at each end with probability at most
``family_alpha/m`` over all looks, so a check of code that is at its limit or better
breaches anything with probability at most ``family_alpha``, and a check of code over its
limits passes everything with probability at most ``family_alpha``. Sequential checks
(``plan`` with more than one look, :mod:`workbench.budget.sequential`) give every look the
same one-sided tail, calibrated for the plan's worker schedule
(:func:`workbench.budget.boundary.look_level`). Instruction verdicts and scaling verdicts
hold their own levels (the band; the sweep's interval); they count in m all the same.
Warn-level rules use ``family_alpha`` at each end, uncorrected. ``correction="none"`` uses
``family_alpha`` per error-level verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from workbench import formatting as fmt
from workbench.budget.applies import Target as _Target
from workbench.budget.applies import family_size, target_key, tasks
from workbench.budget.boundary import Plan, look_level
from workbench.budget.bounds import (
    Bounds,
    level_bounds,
    ratio_bounds,
    tail_percentile_bounds,
    worker_values,
)
from workbench.budget.cache_limits import CACHE_METRICS, cache_units, unrecorded, zero_ratio
from workbench.budget.check_result import CheckResult, ScalingObservation, Status, Verdict
from workbench.budget.instructions import baselines_by_key, judge_count, judge_uncounted
from workbench.budget.spec import BudgetSpec, Rule
from workbench.errors import InvalidInputError
from workbench.measure import stats
from workbench.measure.fingerprint import comparable
from workbench.measure.instructions import INSTRUCTION_METRICS, InstructionCount
from workbench.measure.measurement import Measurement
from workbench.measure.metrics import METRICS, Members

__all__ = ["FAMILY_ALPHA", "MAX_CONFIDENCE", "SEQUENTIAL", "STATISTICAL", "CheckResult",
           "Plan", "Verdict", "check", "family_size"]

MAX_CONFIDENCE = 0.999
#: The default chance that a check errs at either end (a false breach, or a false pass).
FAMILY_ALPHA = 0.05
Correction = Literal["bonferroni", "none"]
STATISTICAL = Members("timing")
_MEMORY = Members("memory", "cache")  # one value per worker
#: The metrics whose verdicts more worker rounds can decide.
SEQUENTIAL = Members("timing", "memory")


def _judge(name: str, point: float, low: float | None, high: float | None, limit: float,
           rule: Rule, show: Callable[[float], str], span: str) -> tuple[Status, str]:
    """Breach when the whole interval is on the bad side of the limit, pass when it is
    wholly on the good side (the limit itself is good), else inconclusive."""
    lower = rule.direction == "lower"
    near, far = (low, high) if lower else (high, low)
    side = "over" if lower else "under"
    ends = ["-" if x is None else show(x) for x in (low, high)]
    shown = f"{name} {show(point)} [{ends[0]}, {ends[1]}]"
    whole = f"over its whole interval ({span})"
    if near is not None and (near > limit if lower else near < limit):
        return "breach", f"{shown} is {side} the limit {show(limit)} {whole}"
    if far is not None and (far <= limit if lower else far >= limit):
        return "pass", f"{shown} is within the limit {show(limit)} {whole}"
    return "inconclusive", f"{shown}: the interval contains the limit {show(limit)} ({span})"


@dataclass(frozen=True)
class _Level:
    """The error a verdict may spend at each end: ``alpha`` over all looks of ``plan``,
    ``look`` being the current one."""

    alpha: float
    plan: Plan
    look: int

    def tail(self, now: tuple[int, int]) -> float:
        """For the rank bounds of a ratio of ``now`` (current, baseline) workers."""
        return look_level(self.alpha, self.plan.schedule(self.look, now))

    def sign_tail(self, units: int) -> float:
        """For the sign-test bounds of ``units`` current workers."""
        return look_level(self.alpha, self.plan.schedule(self.look, (units, units)), "sign")

    @property
    def split(self) -> float:
        """The union-bound share of one look, for bounds that are not rank-calibrated."""
        return self.alpha / self.plan.looks


def _span(tail: float, units: str) -> str:
    return f"{100 * (1 - tail):.4g}% one-sided bounds from {units}"


def _short(bounds: Bounds, unit: str) -> str:
    """What the unit count could not do without a model, or nothing if it could."""
    if bounds.needed is None:
        return ""
    have = " and ".join(str(n) for n in bounds.units)
    if bounds.model:
        return (f"; {have} {unit}s are too few for a distribution-free bound at this level "
                f"({bounds.needed} per side would): a t-interval on the log {unit} values, "
                "which assumes they are log-normal, was used")
    return f"; {have} {unit} cannot bound it at this level: {bounds.needed} per side would"


class _Evaluator:
    def __init__(self, baseline: Sequence[Measurement],
                 baseline_scaling: Sequence[ScalingObservation], resamples: int, seed: int,
                 baseline_instructions: Sequence[InstructionCount] = ()):
        self.base = {target_key(m): m for m in reversed(baseline)}
        self.base_instructions = baselines_by_key(baseline_instructions)
        self.base_scaling = {(o.stage, o.variant, o.workload): o for o in baseline_scaling}
        self.resamples = resamples
        self.seed = seed

    def evaluate(self, rule: Rule, target: _Target, workload: str | None,
                 level: _Level) -> Verdict:
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
        if not target.ok or not target.groups:
            return Verdict(rule, "inconclusive", workload,
                           f"the current measurement failed: {target.error_text()}")
        if rule.kind == "relative":
            return self.relative(rule, target, workload, level)
        return self.absolute(rule, target, workload, level)

    def baseline_problem(self, rule: Rule, m: Measurement) -> Verdict | None:
        base = self.base.get(target_key(m))
        workload = m.target.workload
        if base is None or not base.ok or not base.groups:
            what = "has no" if base is None else "failed for its"
            return Verdict(rule, "no-baseline", workload, f"the baseline {what} measurement "
                           f"of {rule.label} on {workload or '-'}; relative limits need one")
        differ = comparable(m.environment, base.environment)
        if differ:
            return Verdict(rule, "not-comparable", workload, "the baseline was measured with a "
                           f"different {', '.join(differ)}; relative limits are not evaluated "
                           "(re-record the baseline on this machine)")
        return None

    def relative(self, rule: Rule, m: Measurement, workload: str | None,
                 level: _Level) -> Verdict:
        problem = self.baseline_problem(rule, m)
        if problem is not None:
            return replace(problem, observed=_observed(rule, m))
        base = self.base[target_key(m)]
        name = METRICS[rule.metric].name_in_text
        cur, ref, what = _units(rule, m), _units(rule, base), ""
        why = unrecorded(rule, m, base) if not cur or not ref else zero_ratio(rule, cur, ref)
        if why:
            return Verdict(rule, "inconclusive", workload, why)
        scale = 1.0
        tail = level.tail((len(cur), len(ref)))
        if rule.metric == "throughput":
            if not m.items_per_call or not base.items_per_call:
                return Verdict(rule, "no-baseline", workload, "the baseline or current "
                               "run recorded no items per call, so there is no throughput")
            cur, ref = ref, cur  # items/s ratio = baseline time / current time
            scale = m.items_per_call / base.items_per_call
            what = "; from worker median times"
        b = ratio_bounds(cur, ref, tail)
        if rule.metric == "throughput":
            b = replace(b, value=b.value * scale, units=b.units[::-1],
                        low=None if b.low is None else b.low * scale,
                        high=None if b.high is None else b.high * scale)
        how = "t on their logs" if b.model else "rank"
        span = _span(tail, f"{b.units[0]}+{b.units[1]} worker values ({how})")
        status, msg = _judge(f"{name} current/baseline", b.value, b.low, b.high, rule.value,
                             rule, lambda x: f"{x:.3g}x", span)
        msg += _short(b, "worker")
        point, base_point = _observed(rule, m), _observed(rule, base)
        msg += f" ({_show(rule, point)} vs {_show(rule, base_point)}{what}){_note(rule, m)}"
        return Verdict(rule, status, workload, msg, observed=point, baseline=base_point,
                       ratio=b.value, ratio_low=b.low, ratio_high=b.high,
                       confidence=1 - tail, workers=len(m.groups), look=level.look)

    def absolute(self, rule: Rule, m: Measurement, workload: str | None,
                 level: _Level) -> Verdict:
        if rule.metric in _MEMORY:
            units = _units(rule, m)
            if not units:
                return Verdict(rule, "inconclusive", workload, unrecorded(rule, m))
            tail = level.sign_tail(len(units))
            b = level_bounds(units, tail)
            return self._absolute(rule, workload, b, rule.value, tail, "worker values, the "
                                  "median worker's", lambda x: _show(rule, x), m)
        q = 50.0 if rule.metric == "throughput" else float(rule.info.percentile or 50)
        limit = rule.value
        if rule.metric == "throughput":
            if not m.items_per_call:
                return Verdict(rule, "inconclusive", workload, "throughput needs the items "
                               "per call, which were not recorded")
            limit = m.items_per_call * 1e9 / rule.value  # the longest median time allowed
        if len(m.groups) == 1:
            tail = level.split
            b = level_bounds(m.groups[0], tail, q / 100)
            how = "the samples of one worker (bounds for that process)"
        elif q == 50:
            tail = level.sign_tail(len(m.groups))
            b = level_bounds(worker_values(m.groups), tail)
            how = "worker medians (sign test)"
        else:
            tail = level.split
            b, how = tail_percentile_bounds(m.groups, q, tail, resamples=self.resamples,
                                            seed=self.seed)
        if rule.metric == "throughput":
            return self._throughput(rule, workload, b, limit, tail, how, m)
        return self._absolute(rule, workload, b, limit, tail, how,
                              lambda x: fmt.value(x, "time"), m)

    def _absolute(self, rule: Rule, workload: str | None, b: Bounds, limit: float,
                  tail: float, how: str, show: Callable[[float], str],
                  m: Measurement) -> Verdict:
        status, msg = _judge(METRICS[rule.metric].name_in_text, b.value, b.low, b.high,
                             limit, rule, show, _span(tail, how))
        msg += _short(b, "worker" if len(m.groups) > 1 or rule.metric in _MEMORY
                      else "sample")
        msg += _note(rule, m)
        return Verdict(rule, status, workload, msg, observed=b.value, observed_low=b.low,
                       observed_high=b.high, confidence=1 - tail, workers=len(m.groups))

    def _throughput(self, rule: Rule, workload: str | None, b: Bounds, limit: float,
                    tail: float, how: str, m: Measurement) -> Verdict:
        items = m.items_per_call * 1e9

        def tp(x: float | None) -> float | None:
            return None if x is None or x <= 0 else items / x

        inv = Bounds(items / b.value, tp(b.high), tp(b.low), b.units, b.needed)
        return self._absolute(rule, workload, inv, rule.value, tail, how + ", of time per call",
                              lambda x: fmt.value(x, "throughput"), m)

    def scaling(self, rule: Rule, obs: ScalingObservation) -> Verdict:
        observed: dict[str, Any] = {"observed": obs.slope, "observed_low": obs.low,
                                    "observed_high": obs.high, "confidence": obs.confidence}
        span = f"{100 * obs.confidence:.3g}% interval of the sweep (its own level)"
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
        status, msg = _judge("scaling exponent", obs.slope, obs.low, obs.high, allowed, rule,
                             lambda x: f"{x:.3g}", span)
        msg += f" (allowed: {rule.value:g}x the baseline exponent {base.slope:.3g})"
        s = base.slope
        return Verdict(rule, status, obs.workload, msg, baseline=s, ratio=obs.slope / s,
                       ratio_low=obs.low / s, ratio_high=obs.high / s, **observed)


def _units(rule: Rule, m: Measurement) -> list[float]:
    """One value per worker: its pNN (median for throughput), peak memory or cache figure."""
    if rule.metric in CACHE_METRICS:
        return cache_units(rule, m)
    runs = [r for r in m.runs if r.ok]
    if rule.metric == "peak_rss":
        return [r.rss_peak_kb * 1024.0 for r in runs if r.rss_peak_kb]
    if rule.metric == "heap_peak":
        return [float(r.heap_peak_bytes) for r in runs if r.heap_peak_bytes]
    q = 50.0 if rule.metric == "throughput" else float(rule.info.percentile or 50)
    return worker_values(m.groups, q)


def _note(rule: Rule, m: Measurement) -> str:
    return " (approximate: ru_maxrss)" if rule.metric == "peak_rss" and not m.rss_exact else ""


def _observed(rule: Rule, m: Measurement) -> float | None:
    if rule.metric == "throughput":
        return m.throughput()
    units = _units(rule, m)
    if not units:
        return None
    if rule.metric in _MEMORY:
        return stats.percentile(units, 50) if rule.metric in CACHE_METRICS else max(units)
    return stats.percentile(m.samples, float(rule.info.percentile or 50))


def _show(rule: Rule, x: float | None) -> str:
    if x is None:
        return "-"
    return fmt.value(x, rule.info.kind)


def check(spec: BudgetSpec, current: Sequence[Measurement],
          baseline: Sequence[Measurement] | None = None, *,
          scaling: Sequence[ScalingObservation] = (),
          baseline_scaling: Sequence[ScalingObservation] = (),
          family_alpha: float = FAMILY_ALPHA, correction: Correction = "bonferroni",
          resamples: int = 2000, seed: int = 0, look: int = 1, plan: Plan | None = None,
          instructions: Sequence[InstructionCount] = (),
          baseline_instructions: Sequence[InstructionCount] = ()) -> CheckResult:
    """Apply ``spec`` to the ``current`` measurements (see the module docstring).

    ``baseline`` measurements are matched by stage, variant and workload; ``scaling`` and
    ``baseline_scaling`` carry sweep exponents for ``scaling`` rules; ``instructions`` and
    ``baseline_instructions`` the counts for instruction rules
    (:mod:`workbench.budget.instructions`). ``look`` is the look of a sequential check
    whose worker schedule is ``plan`` (default: one look, the fixed-sample check).
    Deterministic for a given ``seed``.
    """
    if not (isinstance(family_alpha, float | int) and 0 < family_alpha < 0.5):
        raise InvalidInputError(f"family_alpha must be strictly between 0 and 0.5 (e.g. "
                                f"0.05); got {family_alpha!r}")
    if correction not in ("bonferroni", "none"):
        raise InvalidInputError(f"correction must be 'bonferroni' or 'none'; got {correction!r}")
    if not isinstance(resamples, int) or isinstance(resamples, bool) or resamples < 100:
        raise InvalidInputError(f"resamples must be an integer >= 100; got {resamples!r}")
    plan = plan or Plan(max(1, look))
    if not isinstance(look, int) or isinstance(look, bool) or not 1 <= look <= plan.looks:
        raise InvalidInputError(f"look must be an integer from 1 to the plan's {plan.looks} "
                                f"looks; got {look!r}")
    todo = tasks(spec, current, scaling, instructions)
    m = sum(1 for rule, target, _ in todo if target is not None and rule.level == "error")
    per_rule = family_alpha / max(1, m) if correction == "bonferroni" else family_alpha
    error = _Level(float(per_rule), plan, look)
    warn = _Level(float(family_alpha), Plan(1), 1)
    evaluator = _Evaluator(baseline or (), baseline_scaling, resamples, seed,
                           baseline_instructions)
    verdicts = tuple(
        evaluator.evaluate(rule, target, workload, error if rule.level == "error" else warn)
        for rule, target, workload in todo)
    return CheckResult(verdicts, spec.digest(), float(family_alpha), correction,
                       1 - float(per_rule))
