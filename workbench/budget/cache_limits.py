"""Limits on a cached variant's memo tables: ``hit_rate``, ``cache_bytes``, ``contention``.

Their forms in a budget (the rest of the grammar is :mod:`workbench.budget.spec`):

- ``hit_rate`` (higher is better) is a fraction: ``0.8`` or ``"80%"``, at most 1;
- ``contention`` (higher is better) is a plain positive number: the throughput with N
  threads sharing the tables over the throughput with 1 thread, both measured in the same
  run, so ``0.8`` allows a loss of a fifth;
- ``cache_bytes`` (lower is better) is a size (``"64MiB"``), a ratio to the baseline
  (``"1.2x"``), or a share of the same stage's RSS budget, ``"25% rss"`` (or
  ``"0.25 rss"``): that share of the absolute ``peak_rss`` limit of the same stage and
  variant (a ``"*"`` variant counts; else the defaults') in the same file, whichever line
  comes first. Without such a limit the share is refused.

``hit_rate`` and ``contention`` take no ratio to a baseline: a baseline hit rate of 0 has
no ratio, and contention is already a ratio within one run.

What a verdict reads: one value per worker, from :mod:`workbench.measure.cache_figures`
(hit rates, largest table sizes, contention ratios), judged like memory (the sign-test
bounds of the median worker, or the rank bounds of a ratio). A measurement whose variant
looked nothing up in a memo table has no such values, and the verdict says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.budget.rules import ALL, Rule
from workbench.errors import InvalidInputError
from workbench.measure.cache_figures import cache_bytes, contention_ratios, hit_rates
from workbench.measure.metrics import Members

if TYPE_CHECKING:
    from workbench.measure.measurement import Measurement

__all__ = ["ABSOLUTE_ONLY", "CACHE_METRICS", "FILE_HINT", "FLAG_HINT", "SHARE_FORM",
           "RssShare", "cache_units", "no_ratio", "resolve_share", "rss_share", "unrecorded",
           "zero_ratio"]

#: The metrics read from memo-table figures (a live view of the registry).
CACHE_METRICS = Members("cache")
#: Unit kinds whose limits are absolute only (no ratio to a baseline).
ABSOLUTE_ONLY = ("fraction", "ratio")
SHARE_FORM = "a share of the stage's peak_rss limit ('25% rss' or '0.25 rss')"
FILE_HINT = ('add an absolute peak_rss limit (peak_rss = "800MB") for it, or write an '
             'absolute size such as "64MiB"')
FLAG_HINT = "give --rss with an absolute size (--rss 800MB), or an absolute size (64MiB)"
_SHARE = re.compile(r"^\s*(?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<pct>%)?"
                    r"\s*rss\s*$", re.IGNORECASE)


def no_ratio(metric: str, kind: str) -> str:
    """Why ``metric`` (a fraction or a ratio) takes no limit relative to a baseline, and
    what to write instead."""
    if kind == "fraction":
        return (f"{metric} takes no ratio to the baseline (a baseline at 0, such as a hit "
                "rate of 0, has no ratio): write the limit itself, e.g. '0.8' or '80%'")
    return (f"{metric} is itself a ratio measured within one run, not against a baseline: "
            "write the limit itself, e.g. '0.8'")


@dataclass(frozen=True, slots=True)
class RssShare:
    """A ``cache_bytes`` limit written as a share of a ``peak_rss`` limit, waiting for the
    whole file to be read (``key`` and ``what`` place it for errors)."""

    key: tuple[str, ...]
    what: str
    stage: str
    variant: str
    share: float
    written: str
    level: str
    line: int | None
    target: bool


def rss_share(item: object) -> float | None:
    """The share ``"25% rss"`` or ``"0.25 rss"`` names (0.25); None when ``item`` is not
    written as a share. A share outside (0, 1] is an InvalidInputError."""
    if not isinstance(item, str):
        return None
    match = _SHARE.match(item)
    if match is None:
        return None
    share = float(match["num"]) * (0.01 if match["pct"] else 1.0)
    if not 0 < share <= 1:
        raise InvalidInputError(f"{item!r} is a share of {share:g} of the RSS limit; memo "
                                "tables live inside the RSS, so a share is above 0 and at "
                                "most 1 ('100% rss'): e.g. '25% rss' or '0.25 rss'")
    return share


def _rss_rules(rules: Sequence[Rule], stage: str, variant: str, target: bool) -> list[Rule]:
    return [r for r in rules if r.metric == "peak_rss" and r.stage == stage
            and r.variant in (variant, ALL) and r.target == target]


def resolve_share(share: RssShare, rules: Sequence[Rule], hint: str = FILE_HINT) -> float:
    """The size ``share`` stands for among ``rules``: its share of the absolute peak_rss
    limit of the same stage and variant (the variant's own before ``"*"``), or of the
    defaults' when the stage has no peak_rss rule; else an InvalidInputError ending in
    ``hint``."""
    own = _rss_rules(rules, share.stage, share.variant, share.target)
    if not own and share.stage != ALL:
        own = _rss_rules(rules, ALL, share.variant, False)
    absolute = sorted((r for r in own if r.kind == "absolute"), key=lambda r: r.variant == ALL)
    if absolute:
        return share.share * absolute[0].value
    where = f"{'target ' if share.target else ''}{share.stage}/{share.variant}"
    only = " (only a ratio to the baseline, which is no size)" if own else ""
    raise InvalidInputError(f"{share.what} = {share.written!r} is a share of the peak_rss "
                            f"limit of {where}, which has no absolute peak_rss limit{only}: "
                            f"{hint}")


_VALUES: dict[str, Callable[[Measurement], list[float]]] = {
    "hit_rate": hit_rates, "cache_bytes": cache_bytes, "contention": contention_ratios}


def cache_units(rule: Rule, m: Measurement) -> list[float]:
    """One value per worker of ``rule``'s cache metric (none: not recorded)."""
    values = _VALUES.get(rule.metric)
    return values(m) if values is not None else []


def _why(rule: Rule, m: Measurement, who: str) -> str:
    if not any(r.cache for r in m.runs if r.ok):
        return f"{who} looked nothing up in a memo table"
    if rule.metric == "hit_rate":
        return f"the memo tables of {who} took no lookups over the timed calls"
    if rule.metric == "contention":
        return (f"the contention of {who} was not measured (no run had threads sharing "
                "its memo tables)")
    return f"{who} recorded no {rule.info.name_in_text}"


def unrecorded(rule: Rule, m: Measurement, baseline: Measurement | None = None) -> str:
    """Why a verdict on ``rule`` has no worker values of ``m`` (or of ``baseline``)."""
    name = rule.info.name_in_text
    if rule.metric not in CACHE_METRICS:
        return f"{name} was not recorded"
    if baseline is None or not cache_units(rule, m):
        return f"{name} was not recorded: {_why(rule, m, 'this variant')}"
    return f"{name} was not recorded for the baseline: {_why(rule, baseline, 'the baseline')}"


def zero_ratio(rule: Rule, current: Sequence[float], baseline: Sequence[float]) -> str | None:
    """Why the ratio of ``rule``'s worker values is undefined (a worker at 0), or None."""
    if rule.metric not in CACHE_METRICS:
        return None
    sides = [f"{sum(x <= 0 for x in xs)} {who} worker(s)" for who, xs in
             (("current", current), ("baseline", baseline)) if any(x <= 0 for x in xs)]
    if not sides:
        return None
    return (f"{rule.info.name_in_text} current/baseline is undefined: {' and '.join(sides)} "
            "recorded 0, and a ratio to or of 0 has no value; write an absolute limit")
