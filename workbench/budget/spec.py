"""Performance budgets: the ``budgets.toml`` grammar and its parser.

Example::

    [defaults]                          # every measured stage; [stage."*"] means the same
    latency_p95 = "1.1x"                # short form: level "error"

    [stage.embed]                       # budgets of embed/pure ("pure" is the default)
    latency_p50 = { limit = "1.1x", level = "warn" }
    latency_p99 = ["1.2x", "250ms"]     # several limits on one metric: an array
    throughput = "0.9x"                 # at least 90 % of the baseline's throughput
    peak_rss = "800MB"
    heap_peak = "64MiB"
    scaling = 1.2                       # log-log exponent at most 1.2 (or "1.1x" of baseline)

    [stage."embed/native"]              # a stage/variant label, or use the variant key:
    # variant = "native"                # a name, a list of names, or "*" (every variant)
    latency_p50 = "500us"

    [stage."chunk/pure"]
    instructions = "1.01x"              # instructions per call, counted under Cachegrind
    ll_misses = { limit = "20k", level = "warn" }   # simulated cache misses per call

    [stage."retrieve/cached"]           # a variant with memo tables
    hit_rate = "80%"                    # at least 80 % of lookups hit (or 0.8)
    cache_bytes = "25% rss"             # at most a quarter of its peak_rss limit
    contention = 0.8                    # 4 threads sharing the tables keep >= 0.8x the
    peak_rss = "400MB"                  #   throughput of 1 (N: the measurement's threads)

    [target.embed]                      # the stage's target, whichever variant runs
    latency_p50 = "6 ms"

Top-level tables are ``defaults``, ``stage`` and ``target``; a stage table holds an
optional ``variant`` and metric keys. A target table (``[target.STAGE]``, no ``variant``
key) holds limits the stage must meet with whichever variant it runs: the selection rule
and the panel judge every variant against them (pure misses: escalate), while a budget
check binds them to the variant the stage runs, the one the decision log records (pure
where none; :meth:`BudgetSpec.selecting`). A limit is a string, a number (``scaling`` only), a table
``{ limit = ..., level = "error" | "warn" }`` or an array of those. Its form decides
its kind:

- **relative** ``"1.1x"`` compares with the baseline measurement of the same
  stage/variant/workload: for a lower-is-better metric the allowed maximum is 1.1 x the
  baseline; for ``throughput`` (higher is better) ``"0.9x"`` is the allowed minimum;
- **absolute** with units: times ``ns us ms s`` for ``latency_p50/p95/p99``; sizes ``B KB
  MB GB`` (decimal) or ``KiB MiB GiB`` (binary) for ``peak_rss``/``heap_peak``;
  ``"N items/s"`` for ``throughput``; a plain number (the exponent) for ``scaling``; a
  plain number or one with ``k``, ``M`` or ``G`` (``"2.5M"``) for the counts
  ``instructions``, ``l1_misses`` and ``ll_misses``; a fraction from 0 to 1 (``0.8``) or a
  percentage (``"80%"``) for ``hit_rate``; a plain positive number for ``contention``;
  a size for ``cache_bytes``, or a share of the same stage/variant's absolute
  ``peak_rss`` limit in the same file, ``"25% rss"`` or ``"0.25 rss"`` (its variant's own,
  else a ``"*"`` variant's, else the defaults'; anywhere in the file; refused when there
  is none).

The memo-table metrics (:mod:`workbench.budget.cache_limits`) are read from the timed
calls of a cached variant: ``hit_rate`` (hits / lookups), ``cache_bytes`` (the tables'
largest size) and ``contention`` (throughput with N threads sharing the tables / with
1 thread), each the median worker's. ``hit_rate`` and ``contention`` are absolute only: a
ratio to the baseline (``"1.1x"``) is refused, since a baseline hit rate of 0 has no ratio
and contention is a ratio within one run already.

The counts are per call of the stage, from Cachegrind's simulated CPU
(:mod:`workbench.measure.instructions`): deterministic up to a measured band, so a count
rule is judged without an interval, against the limit widened and narrowed by the band
(:mod:`workbench.budget.instructions`). A rule on
``l1_misses`` or ``ll_misses`` turns the (slower) cache simulation on for its targets.

Limits must be positive (and a fraction at most 1). A number without ``x`` or a unit is
rejected for every metric but ``scaling``, the counts, ``hit_rate`` and ``contention``
(write ``"1.1x"`` for a ratio), as are unknown units, units of the wrong kind, unknown
metrics, levels, stages (checked against the caller's list) and keys.

Which rules apply to a measured stage/variant (:meth:`BudgetSpec.rules_for`): those of its
stage table(s) naming that variant (or ``"*"``), plus the defaults for every metric those
tables do not mention. Values are stored in canonical units: ns, bytes, items/s,
exponent, events, fractions, ratios (relative limits: the ratio; a share of the RSS limit:
the bytes it stands for).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from workbench.budget.grammar import Parser, known_names
from workbench.budget.rules import ALL, DEFAULT_VARIANT, LEVELS, METRICS, MetricInfo, Rule
from workbench.errors import InvalidInputError
from workbench.files import read_text

__all__ = [
    "DEFAULT_VARIANT",
    "LEVELS",
    "METRICS",
    "BudgetSpec",
    "MetricInfo",
    "Rule",
    "load_budgets",
    "parse_budgets",
]


@dataclass(frozen=True, slots=True)
class BudgetSpec:
    rules: tuple[Rule, ...]
    source: str = "<budgets>"

    def digest(self) -> str:
        """sha256 of the rules' canonical JSON (order, comments and lines do not count)."""
        canon = sorted((r.canonical() for r in self.rules),
                       key=lambda d: json.dumps(d, sort_keys=True))
        text = json.dumps(canon, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def stages(self) -> tuple[str, ...]:
        """The named stages (not ``"*"``), in file order."""
        return tuple(dict.fromkeys(r.stage for r in self.rules if r.stage != ALL))

    def rules_for(self, stage: str, variant: str) -> tuple[Rule, ...]:
        """The rules that apply to a measured ``stage``/``variant`` (see the module doc)."""
        own = tuple(r for r in self.rules
                    if r.stage == stage and r.variant in (variant, ALL))
        named = {r.metric for r in own if not r.target}  # a target leaves the defaults on
        inherited = tuple(r for r in self.rules if r.stage == ALL
                          and r.variant in (variant, ALL) and r.metric not in named)
        return own + inherited

    def selecting(self, selected: Mapping[str, str]) -> BudgetSpec:
        """This spec with each stage's targets bound to the variant the stage runs:
        ``selected[stage]``, else pure (what a budget check measures and judges)."""
        return BudgetSpec(tuple(
            replace(r, variant=selected.get(r.stage, DEFAULT_VARIANT)) if r.target
            and r.variant == ALL else r for r in self.rules), self.source)

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "digest": self.digest(),
                "rules": [r.to_json() for r in self.rules]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BudgetSpec:
        return cls(tuple(Rule.from_json(r) for r in data.get("rules", ())),
                   str(data.get("source", "<budgets>")))


def parse_budgets(text: str, *, source: str = "budgets.toml",
                  stages: Iterable[str] | Mapping[str, Sequence[str]] | None = None,
                  ) -> BudgetSpec:
    """Parse budgets from TOML ``text``; ``source`` names it in error messages.

    ``stages`` lists the stage names rules may name (a mapping of stage to variant names
    also checks variants); None accepts any name.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = re.search(r"\(at line (\d+), column (\d+)\)", message)
        where = f"{source}:{at[1]}:{at[2]}" if at else source
        raise InvalidInputError(f"{where}: malformed TOML: {message}") from None
    parser = Parser(text, source, known_names(stages))
    unknown = sorted(set(data) - {"defaults", "stage", "target"})
    if unknown:
        raise parser.fail((unknown[0],), f"unknown top-level key(s) {unknown}; a budgets file "
                          "has a [defaults] table, [stage.<name>] and [target.<name>] "
                          "tables")
    stage_tables = data.get("stage", {})
    if not isinstance(stage_tables, dict):
        raise parser.fail(("stage",), "stage must be tables such as [stage.embed]")
    defaults = data.get("defaults")
    if defaults is not None:
        if not isinstance(defaults, dict):
            raise parser.fail(("defaults",), f"defaults must be a table; got {defaults!r}")
        if ALL in stage_tables:
            raise parser.fail(("defaults",), '[defaults] and [stage."*"] mean the same; '
                              "keep one of them")
        parser.table(("defaults",), ALL, parser.variants(("defaults",), ALL, defaults, None),
                     defaults)
    for name, body in stage_tables.items():
        parser.stage_table(name, body)
    target_tables = data.get("target", {})
    if not isinstance(target_tables, dict):
        raise parser.fail(("target",), "target must be tables such as [target.embed]")
    for name, body in target_tables.items():
        parser.target_table(name, body)
    return BudgetSpec(parser.finish(), source)


def load_budgets(path: str | Path, *,
                 stages: Iterable[str] | Mapping[str, Sequence[str]] | None = None,
                 ) -> BudgetSpec:
    """Read and parse a budgets file (see :func:`parse_budgets`)."""
    text = read_text(path, "budgets")
    return parse_budgets(text, source=str(Path(path)), stages=stages)
