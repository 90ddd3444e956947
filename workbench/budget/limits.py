"""Limits given as flags (``%%budget``, ``workbench decide``): flags as budget rules.

Each flag names a metric of the budgets file (:mod:`workbench.budget.rules`) and takes a
limit in the same grammar: an absolute value with a unit (``120ms``, ``800MB``,
``500/s``), a ratio to the ``--against`` baseline (``1.1x``), a fraction or a ratio within
the run (``--hit-rate 0.8``, ``--hit-rate 80%``, ``--contention 0.8``), or for
``--cache-bytes`` a share of the ``--rss`` limit given beside it (``--cache-bytes
"25% rss"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from workbench.budget.cache_limits import FLAG_HINT
from workbench.budget.grammar import Parser
from workbench.budget.rules import Rule
from workbench.measure.metrics import FLAGS

__all__ = ["FLAG_METRICS", "flag_rules", "merge", "needs_baseline"]

#: ``%%budget`` flag -> budget metric (the registered metrics' flags, a live view).
FLAG_METRICS = FLAGS


def flag_rules(values: Mapping[str, str | None], stage: str, variant: str, *,
               source: str = "%%budget", level: str = "error") -> tuple[Rule, ...]:
    """One rule at ``level`` per given flag (``{"latency": "120ms", ...}``; a flag with a
    dash may be keyed as its argparse name, ``hit_rate``); a bad value is an
    InvalidInputError naming ``source``, the flag, the value and what it accepts."""
    parser = Parser("", source, None)
    for flag, metric in FLAG_METRICS.items():
        value = values.get(flag, values.get(flag.replace("-", "_")))
        if value is not None:
            parser.add((), f"--{flag}", stage, variant, metric, value, level=level)
    return parser.finish(FLAG_HINT)


def merge(file_rules: Sequence[Rule], flags: Sequence[Rule]) -> tuple[Rule, ...]:
    """The budgets file's rules with the flags on top: a flag replaces the file's rules
    on the same metric."""
    named = {r.metric for r in flags}
    return tuple(r for r in file_rules if r.metric not in named) + tuple(flags)


def needs_baseline(rules: Sequence[Rule]) -> Rule | None:
    """The first relative rule (it needs ``--against``), if any."""
    return next((r for r in rules if r.kind == "relative"), None)
