"""Quantities with units as budgets write them: ``"120ms"``, ``"800MB"``, ``"2000 items/s"``.

Every quantity is converted to one canonical unit per kind: nanoseconds for times, bytes
for sizes, items per second for throughput, events (instructions, misses) for counts,
which may be written with ``k``, ``M`` or ``G`` (``"2.5M"``), and fractions from 0 to 1,
which may be written as percentages (``"80%"`` is 0.8); ratios (``"0.8"``) take no unit.
Sizes take decimal (``KB``/``kB``, ``MB``, ``GB``: powers of 1000) and binary (``KiB``,
``MiB``, ``GiB``: powers of 1024) units.
"""

from __future__ import annotations

import re
from typing import Literal

from workbench.errors import InvalidInputError

__all__ = [
    "COUNT_UNITS",
    "FRACTION_UNITS",
    "RATE_UNITS",
    "SIZE_UNITS",
    "TIME_UNITS",
    "Kind",
    "accepted_units",
    "parse_quantity",
    "to_canonical",
    "unit_kind",
]

Kind = Literal["time", "size", "throughput", "exponent", "count", "fraction", "ratio"]

TIME_UNITS: dict[str, float] = {"ns": 1.0, "us": 1e3, "\u00b5s": 1e3, "ms": 1e6, "s": 1e9}
SIZE_UNITS: dict[str, float] = {
    "B": 1.0, "KB": 1e3, "kB": 1e3, "MB": 1e6, "GB": 1e9,
    "KiB": 1024.0, "MiB": 1024.0**2, "GiB": 1024.0**3,
}
RATE_UNITS: dict[str, float] = {"items/s": 1.0, "/s": 1.0}
COUNT_UNITS: dict[str, float] = {"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}
FRACTION_UNITS: dict[str, float] = {"%": 0.01}
_TABLES: dict[str, dict[str, float]] = {
    "time": TIME_UNITS, "size": SIZE_UNITS, "throughput": RATE_UNITS, "count": COUNT_UNITS,
    "fraction": FRACTION_UNITS,
}
_ACCEPTED = {
    "time": "ns, us, ms, s",
    "size": "B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024)",
    "throughput": "items/s",
    "exponent": "a plain number",
    "count": "a plain number, or one with k, M or G (thousands, millions, billions)",
    "fraction": "a plain number from 0 to 1 ('0.8') or a percentage ('80%')",
    "ratio": "a plain positive number ('0.8')",
}
_QUANTITY = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>\S.*?)?\s*$"
)


def accepted_units(kind: Kind) -> str:
    return _ACCEPTED[kind]


def parse_quantity(text: str) -> tuple[float, str | None]:
    """``"12.5 ms"`` -> ``(12.5, "ms")``; ``"1.1"`` -> ``(1.1, None)``; else InvalidInputError."""
    match = _QUANTITY.match(text)
    if match is None:
        raise InvalidInputError(
            f"{text!r} is not a number followed by an optional unit (e.g. '1.1x', '120ms', "
            "'800MB', '2000 items/s')"
        )
    return float(match["num"]), match["unit"]


def unit_kind(unit: str) -> Kind | None:
    """Which kind of quantity ``unit`` measures, or None for an unknown unit."""
    for kind, table in _TABLES.items():
        if unit in table:
            return kind  # type: ignore[return-value]
    return None


def to_canonical(number: float, unit: str) -> float:
    """``number`` of ``unit`` in the kind's canonical unit (ns, bytes, items/s, a
    fraction)."""
    for table in _TABLES.values():
        if unit in table:
            return number * table[unit]
    raise InvalidInputError(
        f"unknown unit {unit!r}; accepted: times {_ACCEPTED['time']}; sizes {_ACCEPTED['size']}; "
        f"throughput {_ACCEPTED['throughput']}; counts {_ACCEPTED['count']}; fractions "
        f"{_ACCEPTED['fraction']}"
    )
