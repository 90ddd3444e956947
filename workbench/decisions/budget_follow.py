"""Budgets that follow a decision: the budgets file updated so that ``workbench check``
holds the chosen variant at exactly the limits it was chosen under.

tomlkit edits the document in place: every comment, blank line, table and key the update
does not touch stays as it was. What changes:

- The chosen variant gets a table of its own, ``[stage."STAGE/VARIANT"]``, or reuses one
  that already means exactly that variant (``[stage."S/V"]``, ``[stage.S]`` with
  ``variant = "V"`` or ``["V"]``, or ``[stage.S]`` without ``variant`` when V is
  ``pure``). A new table goes after the last table of the ``[stage.*]`` block holding
  the stage; comment lines that led into whatever followed still do.
- Its metric keys become exactly the decision's limits, each ``{ limit = "2ms", level =
  "error" }`` (an array of those for several limits on one metric; a ``scaling``
  exponent as a number). A key that already says exactly that keeps its spelling; a
  replaced key keeps its place and its end-of-line comment; a metric the decision does
  not name goes, with its line. Values are spelled in the unit that reads back as
  exactly the same canonical number in the fewest digits (``2ms``, ``1.5us``, ``800MB``,
  ``64MiB``, ``2500 items/s``, ``1.1x``).
- A comment line just above that table names the decision, ``# decided ID (DATE,
  AUTHOR): STAGE uses VARIANT`` (control characters and line breaks become spaces); a
  later decision on the same variant replaces it.
- No other table of the stage may still cover the variant (its rules would collide): the
  variant leaves a ``variant`` list, and ``variant = "*"`` becomes the list of the
  stage's other variants, which needs ``stages`` (stage -> variant names); without it
  the update is refused, naming the table. A table left covering nothing (``"*"`` of a
  one-variant stage, a second table dedicated to the variant) is removed; its comment
  and blank lines stay (at the end of the table before it, else of the file).
- ``[defaults]`` and ``[stage."*"]`` are left alone: a stage's own table shadows them
  metric by metric, so metrics the decision does not name still inherit the defaults.

``InvalidInputError``, with nothing written: a malformed budgets file (the parser's own
error, first), a stage or variant that cannot name a table (or unknown to ``stages``),
stage tables written inline or with dotted keys that the update would have to edit. The
new text is parsed again before it is written: the variant must get exactly the
decision's limits (plus the defaults for the metrics they do not name) and every other
stage/variant exactly its old rules; else ``ExecutionError`` names the file and nothing
is written. A missing file is created with a header comment; writes are atomic. A
decision without limits changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.budget.rules import ALL, DEFAULT_VARIANT, LEVELS, METRICS, Rule
from workbench.budget.units import COUNT_UNITS, RATE_UNITS, SIZE_UNITS, TIME_UNITS
from workbench.errors import ExecutionError, InvalidInputError

if TYPE_CHECKING:
    from tomlkit.items import Item, Table
    from tomlkit.toml_document import TOMLDocument

    from workbench.budget.spec import BudgetSpec
    from workbench.decisions.record import DecisionRecord

__all__ = ["Followed", "follow_decision", "limit_text", "plan_follow"]

_UNITS = {"time": ("s", "ms", "us", "ns"), "size": ("GiB", "GB", "MiB", "MB", "KiB", "KB", "B"),
          "throughput": ("items/s",), "count": ("G", "M", "k", "")}
_FACTORS = {**TIME_UNITS, **SIZE_UNITS, **RATE_UNITS, **COUNT_UNITS, "": 1.0}
_HEADER = ("# Performance budgets, checked by `workbench check` (grammar: "
           "workbench.budget.spec).\n# Created by a recorded decision.\n")
_BARE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class Followed:
    """What an update does: the file, whether it changes, a one-line summary, and the new
    text (None: unchanged)."""

    path: Path
    changed: bool
    summary: str
    text: str | None = None

    def write(self) -> Followed:
        """Write the new text (atomically), if there is one; returns self."""
        from workbench.files import write_atomic

        if self.text is not None:
            write_atomic(self.path, self.text)
        return self


def _number(value: float) -> str:
    text = repr(float(value))  # the shortest text that reads back as exactly this float
    return text[:-2] if text.endswith(".0") else text


def limit_text(rule: Rule) -> str:
    """The spelling of ``rule``'s limit that reads back as exactly its value: ``1.1x``,
    the fewest digits in a unit of at least 1 (``2ms``, ``64MiB``, ``2500 items/s``,
    ``2.5M`` instructions), or a plain number (a ``scaling`` exponent)."""
    kind = METRICS[rule.metric].kind
    if rule.kind == "relative" or kind in ("exponent", "fraction", "ratio"):
        return _number(rule.value) + ("x" if rule.kind == "relative" else "")
    _, _, text, unit = min(
        (len(_number(n)), -factor, _number(n), unit) for unit in _UNITS[kind]
        for factor in [_FACTORS[unit]] for n in [rule.value / factor]
        if (n >= 1 or factor == 1) and n * factor == rule.value)  # factor 1 is always exact
    return f"{text} {unit}" if unit == "items/s" else f"{text}{unit}"


def _entry(rules: Sequence[Rule]) -> Any:
    import tomlkit

    def one(rule: Rule) -> str:
        text = limit_text(rule)
        limit = text if rule.kind == "absolute" and rule.info.kind == "exponent" \
            else f'"{text}"'
        return f'{{ limit = {limit}, level = "{rule.level}" }}'

    value = one(rules[0]) if len(rules) == 1 else "[" + ", ".join(map(one, rules)) + "]"
    return tomlkit.parse(f"v = {value}\n").item("v")  # the layout the repository's file uses


def _keys(rules: Iterable[Rule]) -> list[tuple[str, str, float, str]]:
    return sorted((r.metric, r.kind, r.value, r.level) for r in rules)


def _one_line(text: str) -> str:
    """``text`` with control characters and line breaks as spaces, runs of spaces as one."""
    return " ".join("".join(" " if unicodedata.category(c)[0] == "C" or unicodedata.category(c)
                            in ("Zl", "Zp") else c for c in text).split())


def _label(key: str) -> str:
    return f"[stage.{key}]" if _BARE.fullmatch(key) else f'[stage."{key}"]'


@dataclass(frozen=True, slots=True)
class _Entry:
    parent: Table  # the [stage] (super-)table holding it
    key: str
    body: Any  # a Table; inline tables and dotted keys are not `proper` (not editable here)
    proper: bool


def _entries(doc: TOMLDocument, source: str) -> list[_Entry]:
    from tomlkit.items import Table

    found = []
    for key, item in doc.body:
        if key is not None and key.key == "stage":
            if not isinstance(item, Table) or key.is_dotted():
                raise InvalidInputError(f"{source}: the stage tables are written inline or "
                                        "with dotted keys; write each as a [stage.NAME] table "
                                        "so that a decision can update the file")
            found += [_Entry(item, k.key, v, isinstance(v, Table) and not v.is_super_table()
                             and not k.is_dotted())
                      for k, v in item.value.body if k is not None and isinstance(v, dict)]
    return found


def _covers(entry: _Entry, stage: str, variant: str) -> str:
    """How ``entry`` covers ``stage``/``variant``: 'own' (only it), 'list', 'all' or ''."""
    name, _, label = entry.key.partition("/")
    raw = entry.body.get("variant", label or DEFAULT_VARIANT)
    names = {str(raw)} if isinstance(raw, str) else {str(n) for n in raw}
    if name != stage:
        return ""
    return "all" if ALL in names else "own" if names == {variant} else \
        "list" if variant in names else ""


def _tail(table: Table) -> list[Item]:
    """Take the comment and blank lines after ``table``'s last key out of it (in the file
    they lead into whatever follows)."""
    from tomlkit.items import Null

    body = table.value.body
    last = max((i for i, (k, _) in enumerate(body) if k is not None), default=-1)
    tail = [item for _, item in body[last + 1:] if not isinstance(item, Null)]
    del body[last + 1:]  # unkeyed items only: the container's key index stays valid
    return tail


def _last_table(items: Sequence[tuple[Any, Item]]) -> Table | None:
    from tomlkit.items import Table

    return next((v for k, v in reversed(items) if k is not None and isinstance(v, Table)), None)


def _drop(doc: TOMLDocument, entry: _Entry) -> None:
    """Remove ``entry``'s table; its comment and blank lines go to the end of the table
    before it (else of the file), so they still lead into what follows."""
    def before(items: list[tuple[Any, Item]], item: Any) -> Table | None:
        return _last_table(items[:next(i for i, (_, v) in enumerate(items) if v is item)])

    prev = before(entry.parent.value.body, entry.body) or before(doc.body, entry.parent)
    while prev is not None and prev.is_super_table():
        prev = _last_table(prev.value.body)
    tail = _tail(entry.body)
    del entry.parent[entry.key]
    for item in tail:
        (prev.value if prev is not None else doc).append(None, item)


def _narrow(doc: TOMLDocument, entries: list[_Entry], stage: str, variant: str,
            stages: Mapping[str, Sequence[str]] | None, source: str,
            ) -> tuple[_Entry | None, list[str]]:
    """Make the stage's other tables stop covering ``variant``: the table dedicated to it
    (if any) and what was done to the others."""
    own, notes = None, []
    for entry in entries:
        how, name = _covers(entry, stage, variant), _label(entry.key)
        if how and (not entry.proper or (how == "all" and "/" in entry.key)):
            raise InvalidInputError(f"{source}: {name} covers {stage}/{variant} but cannot be "
                                    "narrowed to leave it out; write it as a [stage.NAME] "
                                    "table with a variant key (a name, a list or \"*\")")
        if how == "all" and (stages is None or stage not in stages):
            raise InvalidInputError(f'{source}: {name} applies to every variant of {stage} '
                                    f'("*"); to budget {variant} on its own the stage\'s '
                                    "variant names are needed")
        others = [v for v in (stages or {}).get(stage, ()) if v != variant]
        if how == "all" and not others and own is None:  # "*" of a stage with only it
            entry.body["variant"], how = variant, "own"
            notes.append(f'{name} variant "*" -> "{variant}"')
        if how == "own" and own is None:
            own = entry
        elif how == "list":
            entry.body["variant"] = [str(n) for n in entry.body["variant"] if str(n) != variant]
            notes.append(f"{variant} taken out of {name}'s variants")
        elif how == "all" and others:
            entry.body["variant"] = others
            notes.append(f'{name} variant "*" -> {", ".join(others)}')
        elif how:  # a second table dedicated to the variant, or "*" of a stage with only it
            _drop(doc, entry)
            notes.append(f"{name} removed (it held only {variant})")
    return own, notes


def _new_table(doc: TOMLDocument, entries: list[_Entry], stage: str, key: str) -> Table:
    """A new [stage."KEY"] table after the last table of the block holding ``stage``."""
    import tomlkit
    from tomlkit.items import Table

    holders = [e.parent for e in entries if e.key.partition("/")[0] == stage] or \
        [v for k, v in doc.body if k is not None and k.key == "stage" and isinstance(v, Table)]
    parent = holders[-1] if holders else tomlkit.table(is_super_table=True)
    if not holders:
        doc.append("stage", parent)
    last = _last_table(parent.value.body)
    tail = _tail(last) if last is not None else []
    table = tomlkit.table()
    parent.append(key, table)
    for item in tail:
        table.value.append(None, item)
    return table


def _fill(table: Table, by_metric: Mapping[str, Sequence[Rule]]) -> None:
    from tomlkit.items import Item

    from workbench.budget.spec import parse_budgets

    def same(metric: str, rules: Sequence[Rule]) -> bool:
        old = table.value.item(metric)
        try:
            return isinstance(old, Item) and _keys(parse_budgets(
                f"[stage.s]\n{metric} = {old.as_string()}\n").rules) == _keys(rules)
        except InvalidInputError:
            return False

    for metric in [str(k) for k in table if k != "variant" and k not in by_metric]:
        del table[metric]
    tail = _tail(table)  # new keys go before the lines leading into the next table
    for metric, rules in by_metric.items():
        if metric not in table:
            table.append(metric, _entry(rules))
        elif not same(metric, rules):
            table[metric] = _entry(rules)  # in place: the line's comment stays
    for item in tail:
        table.value.append(None, item)


def _check(record: DecisionRecord, stages: Mapping[str, Sequence[str]] | None) -> None:
    for name in (record.stage, record.variant):
        if not name or name == ALL or _one_line(name) != name or set(name) & set("/\"'[]\\"):
            raise InvalidInputError(f"{name!r} cannot name a budgets table (empty, '*', or "
                                    "holding / \" ' [ ] \\ or control characters)")
    if stages is not None and record.variant not in stages.get(record.stage, ()):
        raise InvalidInputError(f"unknown stage/variant {record.stage}/{record.variant}; known: "
                                + ", ".join(f"{s}/{v}" for s, vs in stages.items() for v in vs))
    kinds = [(r.metric, r.kind) for r in record.limits]
    if len(set(kinds)) < len(kinds) or any(
            r.metric not in METRICS or r.level not in LEVELS or not 0 < r.value < float("inf")
            for r in record.limits):
        raise InvalidInputError(f"the decision's limits {_keys(record.limits)} are not budget "
                                "rules (known metrics, positive finite values, levels "
                                f"{' or '.join(LEVELS)}, one relative and one absolute limit "
                                "per metric at most)")


def _verify(source: str, old: BudgetSpec, text: str, record: DecisionRecord,
            stages: Mapping[str, Sequence[str]] | None) -> None:
    from workbench.budget.spec import parse_budgets

    stage, variant = record.stage, record.variant
    try:
        new = parse_budgets(text, source=source, stages=stages)
    except InvalidInputError as exc:
        raise ExecutionError(f"{source}: the updated budgets would not parse ({exc}); "
                             "nothing was written") from None
    named = {r.metric for r in record.limits}
    inherited = [r for r in new.rules if r.stage == ALL and r.variant in (variant, ALL)
                 and r.metric not in named]
    held = [r for r in new.rules_for(stage, variant) if not r.target]  # targets: any variant
    if _keys(held) != _keys([*record.limits, *inherited]):
        raise ExecutionError(f"{source}: the update would hold {stage}/{variant} to "
                             f"{_keys(held)}, not the decision's "
                             f"{_keys(record.limits)}; nothing was written")
    pairs = {(r.stage, r.variant) for r in (*old.rules, *new.rules)
             if ALL not in (r.stage, r.variant)}
    pairs |= {(s, v) for s, vs in (stages or {}).items() for v in vs}
    for s, v in sorted(pairs - {(stage, variant)}):
        if _keys(old.rules_for(s, v)) != _keys(new.rules_for(s, v)):
            raise ExecutionError(f"{source}: the update would change the rules of {s}/{v}; "
                                 "nothing was written")


def follow_decision(budgets: Path, record: DecisionRecord, *,
                    stages: Mapping[str, Sequence[str]] | None = None) -> Followed:
    """Hold ``record``'s chosen variant at its limits in the budgets file ``budgets``
    (see the module docstring): :func:`plan_follow`, then written."""
    return plan_follow(budgets, record, stages=stages).write()


def plan_follow(budgets: Path, record: DecisionRecord, *,
                stages: Mapping[str, Sequence[str]] | None = None) -> Followed:
    """The update :func:`follow_decision` makes, checked but not written: every error
    (a malformed file, a table that cannot be narrowed) is raised here."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    from workbench.budget.grammar import table_key
    from workbench.budget.spec import parse_budgets
    from workbench.files import read_text

    budgets, source = Path(budgets), str(budgets)
    if not record.limits:
        return Followed(budgets, False, f"{source}: unchanged (the decision records no "
                                        "limits)")
    exists = budgets.exists()
    text = read_text(budgets, "budgets") if exists else ""
    old = parse_budgets(text, source=source, stages=stages)  # a broken file stops here
    _check(record, stages)
    stage, variant = record.stage, record.variant
    by_metric: dict[str, list[Rule]] = {}
    for rule in record.limits:
        by_metric.setdefault(rule.metric, []).append(rule)
    try:
        doc = tomlkit.parse(text if text.strip() else _HEADER)
        entries = _entries(doc, source)
        own, notes = _narrow(doc, entries, stage, variant, stages, source)
        key = own.key if own is not None else f"{stage}/{variant}"
        _fill(own.body if own is not None else _new_table(doc, entries, stage, key), by_metric)
        dumped = tomlkit.dumps(doc)
    except TOMLKitError as exc:
        raise ExecutionError(f"{source}: tomlkit could not edit the file ({exc}); nothing "
                             "was written") from None
    # the decision's comment, just above the table's header (an earlier one goes)
    stale = re.compile(rf"\s*# decided .+ \(.*\): {re.escape(stage)} uses "
                       rf"{re.escape(variant)}\s*")
    lines = [ln for ln in dumped.split("\n") if not stale.fullmatch(ln)]
    at = next((i for i, ln in enumerate(lines) if table_key(ln) == ("stage", key)), None)
    if at is None:  # e.g. a header spelled with escapes, which the line scan does not read
        raise ExecutionError(f"{source}: cannot find the line of {_label(key)} to put the "
                             "decision's comment above it; nothing was written")
    lines.insert(at, _one_line(f"# decided {record.id} ({record.created_at[:10]}, "
                               f"{record.author}): {stage} uses {variant}"))
    new = "\n".join(lines)
    _verify(source, old, new, record, stages)
    said = ", ".join(f"{r.metric} {r.limit_text()} ({r.level})" for r in record.limits)
    if exists and new == text:
        return Followed(budgets, False, f"{source}: unchanged ({_label(key)} already holds "
                                        f"{said})")
    return Followed(budgets, True, "; ".join([f"{source}: {_label(key)} {said}", *notes]), new)
