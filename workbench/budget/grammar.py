"""The parser behind :func:`workbench.budget.spec.parse_budgets` (grammar: see ``spec``).

tomllib reports no positions for values, so the lines of keys are found by a light scan of
the source (table headers and ``key =`` lines) to put ``file:line`` in every error.
``cache_bytes`` limits written as a share of the RSS limit wait for the whole file
(:meth:`Parser.finish`), so the order of its lines does not matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from workbench.budget.cache_limits import (
    ABSOLUTE_ONLY,
    FILE_HINT,
    SHARE_FORM,
    RssShare,
    no_ratio,
    resolve_share,
    rss_share,
)
from workbench.budget.rules import ALL, DEFAULT_VARIANT, LEVELS, METRICS, LimitKind, Rule
from workbench.budget.units import (
    Kind,
    accepted_units,
    parse_quantity,
    to_canonical,
    unit_kind,
)
from workbench.errors import InvalidInputError

__all__ = ["Parser", "known_names", "table_key"]

_KEY_PART = re.compile(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_\-]+)")
_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_ASSIGN = re.compile(r"^\s*((?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+)"
                     r"(?:\s*\.\s*(?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*=")


def _split_key(text: str) -> tuple[str, ...]:
    return tuple(next(g for g in m.groups() if g is not None) for m in _KEY_PART.finditer(text))


def table_key(line: str) -> tuple[str, ...] | None:
    """The key of a table header line (``[stage."a/b"]`` -> ``("stage", "a/b")``), else None."""
    header = _HEADER.match(line)
    return _split_key(header.group(1)) if header else None


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            table = _split_key(header.group(1))
            lines.setdefault(table, number)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            lines.setdefault(table + _split_key(assign.group(1)), number)
    return lines


class Parser:
    def __init__(self, text: str, source: str, known: Mapping[str, Sequence[str] | None] | None):
        self.source = source
        self.lines = _key_lines(text)
        self.known = known
        self.rules: list[Rule] = []
        self.shares: list[RssShare] = []

    def line(self, *key: str) -> int | None:
        for end in range(len(key), 0, -1):
            if key[:end] in self.lines:
                return self.lines[key[:end]]
        return None

    def fail(self, key: tuple[str, ...], message: str) -> InvalidInputError:
        line = self.line(*key)
        where = self.source if line is None else f"{self.source}:{line}"
        return InvalidInputError(f"{where}: {message}")

    def table(self, key: tuple[str, ...], stage: str, variants: tuple[str, ...],
              body: Mapping[str, Any], target: bool = False) -> None:
        name = "[" + ".".join(f'"{k}"' if not k.isidentifier() else k for k in key) + "]"
        for metric, value in body.items():
            if metric == "variant":
                continue
            if metric not in METRICS:
                raise self.fail((*key, metric), f"unknown metric {metric!r} in {name}; "
                                f"choose one of: {', '.join(METRICS)}")
            items = value if isinstance(value, list) else [value]
            if not items:
                raise self.fail((*key, metric), f"{name} {metric} is an empty array; give "
                                "at least one limit")
            for item in items:
                for variant in variants:
                    self.add((*key, metric), f"{name} {metric}", stage, variant, metric, item,
                             target)

    def add(self, key: tuple[str, ...], what: str, stage: str, variant: str, metric: str,
            item: Any, target: bool = False, level: str = "error") -> None:
        if isinstance(item, dict):
            unknown = sorted(set(item) - {"limit", "level"})
            if unknown or "limit" not in item:
                raise self.fail(key, f"{what}: a limit table takes the keys limit (required) "
                                f"and level; got {sorted(item)}")
            level, item = item.get("level", "error"), item["limit"]
            if level not in LEVELS:
                raise self.fail(key, f"{what}: unknown level {level!r}; choose one of: "
                                + ", ".join(LEVELS))
        try:
            share = rss_share(item) if metric == "cache_bytes" else None
        except InvalidInputError as exc:
            raise self.fail(key, f"{what}: {exc}") from None
        if share is not None:
            self.shares.append(RssShare(key, what, stage, variant, share, str(item), level,
                                        self.line(*key), target))
            return
        kind, value = self.limit(key, what, metric, item)
        self.append(key, what, Rule(stage, variant, metric, kind, value, level,
                                    self.line(*key), target))

    def append(self, key: tuple[str, ...], what: str, rule: Rule) -> None:
        stage, variant, metric, kind, target = (rule.stage, rule.variant, rule.metric,
                                                rule.kind, rule.target)
        for other in self.rules:
            if (other.stage, other.variant, other.metric, other.kind, other.target) == (
                    stage, variant, metric, kind, target):
                lines = sorted({str(other.line), str(rule.line)})
                raise self.fail(key, f"{what}: two {kind} limits for {stage}/{variant} "
                                f"{metric} (line {' and '.join(lines)}); keep one")
        self.rules.append(rule)

    def finish(self, hint: str = FILE_HINT) -> tuple[Rule, ...]:
        """Every rule, once the shares of an RSS limit are resolved against the rules read
        (an error naming the share's stage/variant, then ``hint``, when it has none)."""
        for s in self.shares:
            try:
                value = resolve_share(s, self.rules, hint)
            except InvalidInputError as exc:
                raise self.fail(s.key, str(exc)) from None
            self.append(s.key, s.what, Rule(s.stage, s.variant, "cache_bytes", "absolute",
                                            value, s.level, s.line, s.target))
        self.shares.clear()
        return tuple(self.rules)

    def limit(self, key: tuple[str, ...], what: str, metric: str,
              item: Any) -> tuple[LimitKind, float]:
        info = METRICS[metric]
        expected = _expected(metric, info.kind)
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise self.fail(key, f"{what} = {item!r}: {expected}")
        try:
            number, unit = (float(item), None) if not isinstance(item, str) \
                else parse_quantity(item)
        except InvalidInputError as exc:
            raise self.fail(key, f"{what}: {exc}; {expected}") from None
        if not number > 0:
            raise self.fail(key, f"{what} = {item!r}: limits must be positive; {expected}")
        if unit == "x" and info.kind in ABSOLUTE_ONLY:
            raise self.fail(key, f"{what} = {item!r}: {no_ratio(metric, info.kind)}")
        if unit == "x":
            return "relative", number
        if unit is None and info.kind not in ("exponent", "count", *ABSOLUTE_ONLY):
            raise self.fail(key, f"{what} = {item!r} has no unit: write '{number:g}x' for a "
                            f"ratio to the baseline, or an absolute {info.kind} with a unit "
                            f"({accepted_units(info.kind)})")
        found = info.kind if unit is None else unit_kind(unit)
        if found is None:
            raise self.fail(key, f"{what} = {item!r}: unknown unit {unit!r}; {expected}")
        if found != info.kind:
            raise self.fail(key, f"{what} = {item!r} is a {found}, but {expected}")
        value = number if unit is None else to_canonical(number, unit)
        if info.kind == "fraction" and value > 1:
            raise self.fail(key, f"{what} = {item!r} is a fraction above 1 (100%), which "
                            f"{metric} cannot reach; {expected}")
        return "absolute", value

    def variants(self, key: tuple[str, ...], stage: str, body: Mapping[str, Any],
                 from_label: str | None) -> tuple[str, ...]:
        raw = body.get("variant")
        if raw is None:
            return (from_label or DEFAULT_VARIANT,)
        if from_label is not None:
            raise self.fail((*key, "variant"), f"[stage.\"{stage}/{from_label}\"] already "
                            "names its variant; drop the variant key")
        names = [raw] if isinstance(raw, str) else raw
        if not isinstance(names, list) or not names or \
                not all(isinstance(n, str) and n for n in names):
            raise self.fail((*key, "variant"), f"variant must be a name, a list of names "
                            f"or \"*\"; got {raw!r}")
        for n in names:
            self.check_variant((*key, "variant"), stage, n)
        return tuple(dict.fromkeys(names))

    def check_stage(self, key: tuple[str, ...], stage: str) -> None:
        if self.known is not None and stage != ALL and stage not in self.known:
            raise self.fail(key, f"unknown stage {stage!r}; choose one of: "
                            + (", ".join(self.known) or "(none)") + ' (or "*" for every stage)')

    def check_variant(self, key: tuple[str, ...], stage: str, variant: str) -> None:
        known = None if self.known is None or stage == ALL else self.known.get(stage)
        if known is not None and variant != ALL and variant not in known:
            raise self.fail(key, f"unknown variant {variant!r} of stage {stage!r}; choose "
                            "one of: " + ", ".join(known) + ' (or "*")')

    def stage_table(self, name: str, body: Any) -> None:
        key = ("stage", name)
        if not isinstance(body, dict):
            raise self.fail(key, f"stage.{name} must be a table of limits; got {body!r}")
        stage, _, label_variant = name.partition("/")
        self.check_stage(key, stage)
        if label_variant:
            self.check_variant(key, stage, label_variant)
        variants = self.variants(key, stage, body, label_variant or None)
        self.table(key, stage, variants, body)


    def target_table(self, name: str, body: Any) -> None:
        """``[target.STAGE]``: limits the stage must meet with whichever variant it runs."""
        key = ("target", name)
        if not isinstance(body, dict):
            raise self.fail(key, f"target.{name} must be a table of limits; got {body!r}")
        if "/" in name or name == ALL:
            raise self.fail(key, f"[target.{name}] names a stage, not a variant or \"*\": a "
                            "target holds whichever variant the stage runs")
        self.check_stage(key, name)
        if "variant" in body:
            raise self.fail((*key, "variant"), f"[target.{name}] takes no variant key: a "
                            "target holds whichever variant the stage runs (the decided "
                            "one); write variant limits in [stage.NAME] tables")
        self.table(key, name, (ALL,), body, target=True)


def _expected(metric: str, kind: Kind) -> str:
    """What a limit on ``metric`` may be written as."""
    if kind in ABSOLUTE_ONLY:
        return f"{metric} takes an absolute {kind}: {accepted_units(kind)}"
    share = f", or {SHARE_FORM}" if metric == "cache_bytes" else ""
    return (f"{metric} takes a ratio such as '1.1x' or an absolute {kind} "
            f"({accepted_units(kind)}){share}")


def known_names(stages: Iterable[str] | Mapping[str, Sequence[str]] | None,
           ) -> Mapping[str, Sequence[str] | None] | None:
    if stages is None:
        return None
    if isinstance(stages, Mapping):
        return {str(k): tuple(v) for k, v in stages.items()}
    return dict.fromkeys(stages)
