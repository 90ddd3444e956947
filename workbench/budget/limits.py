"""Limits given as flags (``%%budget``, ``workbench decide``): flags as budget rules.

Each flag names a metric of the budgets file (:mod:`workbench.budget.rules`) and takes a
limit in the same grammar: an absolute value with a unit (``120ms``, ``800MB``,
``500/s``) or a ratio to the ``--against`` baseline (``1.1x``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from workbench.budget.grammar import Parser
from workbench.budget.rules import Rule
from workbench.measure.metrics import FLAGS

__all__ = ["FLAG_METRICS", "flag_rules", "merge", "needs_baseline"]

#: ``%%budget`` flag -> budget metric (the registered metrics' flags, a live view).
FLAG_METRICS = FLAGS


def flag_rules(values: Mapping[str, str | None], stage: str, variant: str, *,
               source: str = "%%budget", level: str = "error") -> tuple[Rule, ...]:
    """One rule at ``level`` per given flag (``{"latency": "120ms", ...}``); a bad value
    is an InvalidInputError naming ``source``, the flag, the value and what it accepts."""
    parser = Parser("", source, None)
    rules = []
    for flag, metric in FLAG_METRICS.items():
        value = values.get(flag)
        if value is None:
            continue
        kind, limit = parser.limit((), f"--{flag}", metric, value)
        rules.append(Rule(stage, variant, metric, kind, limit, level))
    return tuple(rules)


def merge(file_rules: Sequence[Rule], flags: Sequence[Rule]) -> tuple[Rule, ...]:
    """The budgets file's rules with the flags on top: a flag replaces the file's rules
    on the same metric."""
    named = {r.metric for r in flags}
    return tuple(r for r in file_rules if r.metric not in named) + tuple(flags)


def needs_baseline(rules: Sequence[Rule]) -> Rule | None:
    """The first relative rule (it needs ``--against``), if any."""
    return next((r for r in rules if r.kind == "relative"), None)
