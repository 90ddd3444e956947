"""Budgets that follow a decision: the budgets file updated so that ``workbench check``
holds the chosen variant at the limits it was chosen under.

What changes (tomlkit edits the document, so every comment, blank line and table that is
not touched stays as it was):

- the chosen variant gets a table of its own, ``[stage."STAGE/VARIANT"]`` (an existing
  table that already means exactly that variant is reused: ``[stage."S/V"]``,
  ``[stage.S]`` with ``variant = "V"``, or ``[stage.S]`` without a ``variant`` key when V
  is ``pure``), whose metric keys become exactly the decision's limits, with a comment
  line above it naming the decision (``# decided d-... (date, author): S uses V``);
- a table of the same stage that also covered the variant stops covering it (else its
  rules would collide with the new ones): the variant is taken out of its ``variant``
  list (a table whose list becomes empty is removed: it held only this variant's rules,
  which the decision replaces), and ``variant = "*"`` becomes the list of the stage's
  other variants (which needs the pipeline's stage names; without them this is refused);
- ``[defaults]`` and ``[stage."*"]`` are left alone: a stage's own table shadows them
  metric by metric.

Before anything is written the new text is parsed again and must give the chosen variant
exactly the decision's limits (plus the defaults for the metrics they do not name);
otherwise an ``ExecutionError`` names the file and nothing is written. Writes are atomic.
A decision without limits changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.budget.rules import ALL, METRICS, Rule
from workbench.budget.units import RATE_UNITS, SIZE_UNITS, TIME_UNITS
from workbench.errors import ExecutionError, InvalidInputError

if TYPE_CHECKING:
    from workbench.decisions.record import DecisionRecord

__all__ = ["Followed", "follow_decision", "limit_text", "plan_follow"]

_UNITS = {"time": ("s", "ms", "us", "ns"), "size": ("GiB", "GB", "MiB", "MB", "KiB", "KB", "B"),
          "throughput": ("items/s",)}
_FACTORS = {**TIME_UNITS, **SIZE_UNITS, **RATE_UNITS}
_HEADER = "# Budgets (see the workbench's budgets grammar); written by `workbench decide`.\n"


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


def _exact(number: float, text: str, value: float, unit: str | None) -> bool:
    back = float(text)
    return (back * _FACTORS[unit] if unit else back) == value


def limit_text(rule: Rule) -> str:
    """The budgets-file spelling of ``rule``'s limit that parses back to exactly its value
    (the most readable unit that does)."""
    if rule.kind == "relative":
        short = f"{rule.value:g}"
        return (short if float(short) == rule.value else repr(rule.value)) + "x"
    kind = METRICS[rule.metric].kind
    if kind == "exponent":
        short = f"{rule.value:g}"
        return short if float(short) == rule.value else repr(rule.value)
    for unit in _UNITS[kind]:
        number = rule.value / _FACTORS[unit]
        short = f"{number:.12g}"
        if number >= 1 and _exact(number, short, rule.value, unit):
            return f"{short} {unit}" if unit == "items/s" else f"{short}{unit}"
    base = _UNITS[kind][-1]
    return f"{rule.value!r} {base}" if base == "items/s" else f"{rule.value!r}{base}"


def _entry(rules: Sequence[Rule]) -> Any:
    import tomlkit

    def one(rule: Rule) -> Any:
        item = tomlkit.inline_table()
        item.update({"limit": limit_text(rule), "level": rule.level})
        return item

    if len(rules) == 1:
        return one(rules[0])
    array = tomlkit.array()
    array.extend(one(r) for r in rules)
    return array


def _covers(key: str, body: Any, stage: str, variant: str) -> str:
    """How the stage table ``key`` covers ``variant``: 'own' (only it), 'list', 'all',
    or '' (not at all)."""
    name, _, label = key.partition("/")
    if name != stage:
        return ""
    if label:
        return "own" if label == variant else ""
    raw = body.get("variant")
    if raw is None:
        return "own" if variant == "pure" else ""
    if isinstance(raw, str):
        return "all" if raw == ALL else ("own" if raw == variant else "")
    names = [str(n) for n in raw]
    if ALL in names:
        return "all"
    if variant in names:
        return "own" if names == [variant] else "list"
    return ""


def _rewire(tables: Any, stage: str, variant: str,
            stages: Mapping[str, Sequence[str]] | None) -> str | None:
    """Make other tables of ``stage`` stop covering ``variant``; the key of the table
    dedicated to it, if one exists."""
    own = None
    for key in list(tables.keys()):
        body = tables[key]
        how = _covers(str(key), body, stage, variant)
        if how == "own" and own is None:
            own = str(key)
        elif how == "own":  # a second dedicated table: its rules move into the first
            del tables[key]
        elif how == "list":
            body["variant"] = [n for n in body["variant"] if str(n) != variant]
        elif how == "all":
            if stages is None or stage not in stages:
                raise InvalidInputError(
                    f'[stage.{key}] applies to every variant ("*"); to budget {variant} '
                    "on its own the stage's variant names are needed")
            others = [v for v in stages[stage] if v != variant]
            if others:
                body["variant"] = others
            else:
                del tables[key]
    return own


def _with_comment(text: str, key: str, comment: str) -> str:
    from workbench.budget.grammar import table_key

    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if table_key(line) == ("stage", key))
    while at > 0 and lines[at - 1].startswith("# decided "):
        del lines[at - 1]
        at -= 1
    lines.insert(at, comment + "\n")
    return "".join(lines)


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

    from workbench.budget.spec import parse_budgets
    from workbench.files import read_text

    stage, variant = record.stage, record.variant
    if not record.limits:
        return Followed(budgets, False, f"{budgets}: unchanged (the decision records no "
                                        "limits)")
    exists = budgets.exists()
    text = read_text(budgets, "budgets") if exists else _HEADER
    parse_budgets(text, source=str(budgets), stages=stages)  # a broken file stops here
    doc = tomlkit.parse(text)
    if "stage" not in doc:
        doc.add("stage", tomlkit.table(is_super_table=True))
    tables = doc["stage"]
    own = _rewire(tables, stage, variant, stages)
    if own is None:
        own = f"{stage}/{variant}"
        tables[own] = tomlkit.table()
    body = tables[own]
    for key in [k for k in body if k != "variant"]:
        del body[key]
    by_metric: dict[str, list[Rule]] = {}
    for rule in record.limits:
        by_metric.setdefault(rule.metric, []).append(rule)
    for metric, rules in by_metric.items():
        body[metric] = _entry(rules)
    who = re.sub(r"[\x00-\x1f\x7f]+", " ", record.author).strip()
    comment = (f"# decided {record.id} ({record.created_at[:10]}, {who}): {stage} uses "
               f"{variant}")
    quoted = own if re.fullmatch(r"[A-Za-z0-9_-]+", own) else f'"{own}"'
    new = _with_comment(tomlkit.dumps(doc), own, comment)
    spec = parse_budgets(new, source=str(budgets), stages=stages)
    got = sorted((r.metric, r.kind, r.value, r.level) for r in spec.rules_for(stage, variant)
                 if r.stage == stage)
    want = sorted((r.metric, r.kind, r.value, r.level) for r in record.limits)
    if got != want:
        raise ExecutionError(f"{budgets}: the update would hold {stage}/{variant} to {got}, "
                             f"not the decision's {want}; nothing was written")
    said = ", ".join(f"{r.metric} {r.limit_text()} ({r.level})" for r in record.limits)
    if exists and new == text:
        return Followed(budgets, False, f"{budgets}: unchanged ([stage.{quoted}] already "
                                        f"holds {said})")
    return Followed(budgets, True, f"{budgets}: [stage.{quoted}] {said}", new)
