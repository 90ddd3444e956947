"""``same_items``: the same items with the same counts, in any order (a multiset)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from workbench.predicates.result import EquivalenceResult, materialize
from workbench.predicates.tally import show

__all__ = ["same_items"]


def _items(output: Any) -> list[Any]:
    value = materialize(output)
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _equal(a: Any, b: Any) -> bool:
    try:
        return a is b or bool(a == b)
    except Exception:
        return False


def _unmatched(ref: list[Any], cand: list[Any]) -> tuple[list[tuple[Any, int]],
                                                           list[tuple[Any, int]]]:
    """(items of ``ref`` not in ``cand``, items of ``cand`` not in ``ref``) with counts."""
    try:
        a, b = Counter(ref), Counter(cand)
        return list((a - b).items()), list((b - a).items())
    except TypeError:  # unhashable items: matched one by one (quadratic)
        left = list(ref)
        extra: list[Any] = []
        for item in cand:
            at = next((i for i, x in enumerate(left) if _equal(x, item)), None)
            if at is None:
                extra.append(item)
            else:
                del left[at]
        return _grouped(left), _grouped(extra)


def _grouped(items: list[Any]) -> list[tuple[Any, int]]:
    groups: list[tuple[Any, int]] = []
    for item in items:
        at = next((i for i, (x, _) in enumerate(groups) if _equal(x, item)), None)
        if at is None:
            groups.append((item, 1))
        else:
            groups[at] = (groups[at][0], groups[at][1] + 1)
    return groups


def _listed(groups: list[tuple[Any, int]], most: int = 3) -> str:
    shown = ", ".join(show(x) + (f" (x{n})" if n > 1 else "") for x, n in groups[:most])
    return shown + (f" and {len(groups) - most} more" if len(groups) > most else "")


def same_items(
    reference: Any, candidate: Any, *, variant: str, params: Mapping[str, Any]
) -> EquivalenceResult:
    """Equivalence of unordered results: the same items, each as many times, in any order
    (a mapping compares its ``(key, value)`` items). Items are compared with ``==``
    (hashable ones by counting, others pair by pair). Symmetric. The detail names the
    items pure has and the variant lacks, and the reverse, with their counts."""
    ref, cand = _items(reference), _items(candidate)
    missing, extra = _unmatched(ref, cand)
    if not missing and not extra:
        return EquivalenceResult(True, f"the same {len(ref):,} items (order ignored)")
    parts = [f"{variant} gave {len(cand):,} items, pure {len(ref):,}"]
    if missing:
        count = sum(n for _, n in missing)
        parts.append(f"missing {count:,} (pure has, {variant} lacks): {_listed(missing)}")
    if extra:
        count = sum(n for _, n in extra)
        parts.append(f"extra {count:,} ({variant} has, pure lacks): {_listed(extra)}")
    return EquivalenceResult(False, "; ".join(parts))
