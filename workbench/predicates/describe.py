"""Say how two outputs differ, in a line or two, and which predicate would accept them.

Every predicate's detail is built here from a :class:`~workbench.predicates.tally.Tally`:
the first difference of shape, how many items differ out of how many, the first
differing place with both values, the largest absolute and relative difference between
numbers and, when the outputs are floats that differ only by rounding, the predicate to
declare (``equivalence=workbench.floats``) with its tolerance.
"""

from __future__ import annotations

import re

from workbench.predicates.result import EquivalenceResult
from workbench.predicates.tally import Tally, show
from workbench.predicates.tolerance import Tolerance, pow10_at_least

__all__ = ["ROUNDING", "explain", "judged", "rounding_hint"]

#: The largest relative difference still called float rounding by the hint.
ROUNDING = 1e-6
#: Differences no larger than this share of the output's largest value are rounding too
#: (sums that cancel to nearly zero have huge relative differences).
ROUNDING_SCALE = 1e-9
MAX_DETAIL = 700


def judged(found: Tally, tol: Tolerance, family: str | None,
           own: str = "") -> EquivalenceResult:
    """The result of a predicate whose walk gave ``found`` under ``tol``."""
    worst = found.max_abs if found.numbers else None
    return EquivalenceResult(found.same, explain(found, tol, family, own), worst)


def _plural(count: int, unit: str) -> str:
    return f"{count:,} {unit}" + ("" if count == 1 else "s")


def _name(where: str, unit: str) -> str:
    """A place as a reader says it: ``item 3``, ``element [2, 5]``, ``row 4, column 'x'``."""
    if not where:
        return "the value"
    if where.startswith("row ") or " row " in where:
        return where
    if unit == "element":
        return f"element {where}"
    if re.fullmatch(r"\[\d+\]", where):
        return f"item {where[1:-1]}"
    return f"item {where}"


def _largest(found: Tally) -> str:
    if not found.numbers or found.max_abs == 0:
        return ""
    at_abs, at_rel = _name(found.max_abs_at, found.unit), _name(found.max_rel_at, found.unit)
    text = f"largest |diff| {found.max_abs:.3g}"
    if found.max_rel == 0:  # every difference is where pure's value is 0
        return text + (f" at {at_abs}" if found.max_abs_at else "")
    if at_rel == at_abs:
        place = f", at {at_abs}" if found.max_abs_at else ""
        return text + f" and relative {found.max_rel:.3g}{place}"
    return text + f" at {at_abs}, largest relative {found.max_rel:.3g} at {at_rel}"


def explain(found: Tally, tol: Tolerance, family: str | None, own: str = "") -> str:
    """The detail line of a comparison; ``family`` names the predicate family to hint at
    (``floats``, ``arrays`` or ``frames``; None: no hint) and ``own`` the predicate that
    judged, which the hint never suggests again. The hint's figures are symmetric
    (relative to the larger value), so only ``exact`` and ``close`` give one."""
    largest = _largest(found)
    if found.same:
        if tol.exact or not largest:
            return "identical output"
        return f"all {_plural(found.compared, found.unit)} {tol.text()} ({largest})"
    parts = []
    if found.shape is not None:
        where, text = found.shape
        parts.append(text + (f" (at {_name(where, found.unit)})" if where else ""))
    if found.first is not None:
        where, ref, cand = found.first
        parts.append(f"{_name(where, found.unit)} differs: pure {show(ref)} vs "
                     f"{found.variant} {show(cand)}")
    if found.first is not None and found.compared > 1:
        rule = "" if tol.exact else f" (allowed: {tol.text()})"
        parts.append(f"{found.differing:,} of {_plural(found.compared, found.unit)} "
                     f"differ{rule}")
    if largest:
        parts.append(largest)
    body = "; ".join(parts)
    if len(body) > MAX_DETAIL:
        body = body[: MAX_DETAIL - 3] + "..."
    hint = None if family is None else rounding_hint(found, family)
    if hint is not None and own not in hint:
        body += f". {hint}"
    return body


def rounding_hint(found: Tally, family: str) -> str | None:
    """``they differ only by float rounding ...: declare equivalence=...`` when every
    difference is between floats and small, else None."""
    if not found.only_rounding:
        return None
    if found.max_rel <= ROUNDING:
        rel = max(1e-9, pow10_at_least(found.max_rel))
        code = {"arrays": "workbench.arrays", "frames": "workbench.frames"}.get(
            family, "workbench.floats" if rel <= 1e-9 else f"workbench.close(rel={rel:g})")
        size = ""
    elif found.max_abs <= ROUNDING_SCALE * found.largest:
        atol = pow10_at_least(found.max_abs)
        code = {"arrays": f"workbench.allclose(atol={atol:g})",
                "frames": f"workbench.frame_equal(atol={atol:g})"}.get(
            family, f"workbench.close(rel=1e-09, abs={atol:g})")
        size = f" (largest |diff| {found.max_abs:.2g} among values up to {found.largest:.2g})"
    else:
        return None
    return f"They differ only by float rounding{size}: declare equivalence={code}"
