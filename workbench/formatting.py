"""Every number the workbench shows, formatted one way: durations, sizes, rates, ratios,
shares and intervals.

Canonical units in, readable text out: nanoseconds for durations, bytes for sizes, items
per second for throughput, a number from 0 to 1 for a fraction (shown as a percentage).
Three significant figures; an interval is always written ``[low, high]``; a missing value
is ``-``; an estimate the samples cannot support says ``insufficient samples`` and why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from workbench.measure.stats import Estimate

__all__ = [
    "DASH",
    "Kind",
    "count",
    "duration",
    "estimate",
    "exponent",
    "fraction",
    "interval",
    "percent",
    "ratio",
    "seconds",
    "signed_percent",
    "signed_size",
    "size",
    "throughput",
    "value",
    "with_interval",
]

Kind = Literal["time", "size", "throughput", "exponent", "count", "fraction", "ratio"]
DASH = "-"
_TIME = (("s", 1e9), ("ms", 1e6), ("us", 1e3))
_SIZE = (("GiB", 2.0**30), ("MiB", 2.0**20), ("KiB", 2.0**10))


def _scaled(x: float, units: tuple[tuple[str, float], ...], smallest: str) -> str:
    """``x`` in the largest unit it reaches, three significant figures."""
    for unit, scale in units:
        if abs(x) >= scale:
            return f"{x / scale:.3g} {unit}"
    return smallest


def duration(ns: float | None) -> str:
    """``1234567`` ns -> ``"1.23 ms"``."""
    return DASH if ns is None else _scaled(ns, _TIME, f"{ns:.3g} ns")


def seconds(s: float | None) -> str:
    return DASH if s is None else duration(s * 1e9)


def size(n: float | None) -> str:
    """``1536`` bytes -> ``"1.5 KiB"`` (binary units)."""
    return DASH if n is None else _scaled(n, _SIZE, f"{n:.0f} B")


def throughput(rate: float | None) -> str:
    if rate is None:
        return DASH
    return f"{rate:,.3g} items/s" if rate < 1000 else f"{rate:,.0f} items/s"


def ratio(x: float | None) -> str:
    """A ratio such as a speed-up: ``"1.75x"``."""
    return DASH if x is None else f"{x:.3g}x"


def percent(p: float | None, digits: int = 1) -> str:
    return DASH if p is None else f"{p:.{digits}f} %"


def fraction(x: float | None) -> str:
    """A share from 0 to 1 as a percentage: ``0.9`` -> ``"90.0 %"``."""
    return DASH if x is None else percent(100 * x)


def exponent(x: float | None) -> str:
    return DASH if x is None else f"{x:.3g}"


_COUNT = (("G", 1e9), ("M", 1e6), ("k", 1e3))


def count(x: float | None) -> str:
    """An event count (instructions, cache misses): ``1975380`` -> ``"1.975 M"`` (four
    significant figures: counts are exact, and budgets on them are fine-grained)."""
    if x is None:
        return DASH
    for unit, scale in _COUNT:
        if abs(x) >= scale:
            return f"{x / scale:.4g} {unit}"
    return f"{x:.4g}"


_BY_KIND: dict[str, Callable[[float | None], str]] = {
    "time": duration, "size": size, "throughput": throughput, "exponent": exponent,
    "ratio": ratio, "count": count, "fraction": fraction,
}


def value(x: float | None, kind: str) -> str:
    """``x`` (canonical units) formatted for its kind: time, size, throughput, exponent,
    ratio (``"0.93x"``), count or fraction (``"90.0 %"``)."""
    return _BY_KIND[kind](x)


def interval(low: float | None, high: float | None, kind: str = "time") -> str:
    """``"[1.2 ms, 1.4 ms]"``, or ``""`` when either end is missing."""
    if low is None or high is None:
        return ""
    fmt = _BY_KIND[kind]
    return f"[{fmt(low)}, {fmt(high)}]"


def with_interval(x: float | None, low: float | None, high: float | None,
                  kind: str = "time") -> str:
    """``"1.3 ms [1.2 ms, 1.4 ms]"``; the bare value when there is no interval."""
    shown = value(x, kind)
    span = interval(low, high, kind)
    return f"{shown} {span}" if span and x is not None else shown


def estimate(est: Estimate, kind: str = "time", *, why: bool = False) -> str:
    """An estimate with its interval, or ``"insufficient samples"`` (with ``why``, the
    reason: how many samples it needs)."""
    if est.value is None:
        reason = est.note.removeprefix("insufficient samples").lstrip(": ")
        return f"insufficient samples ({reason})" if why and reason else "insufficient samples"
    iv = est.interval
    return with_interval(est.value, iv.low if iv else None, iv.high if iv else None, kind)


def signed_size(n: float | None) -> str:
    """A change in size: ``"+1.5 KiB"``, ``"-512 B"``, ``"+0 B"``."""
    if n is None:
        return DASH
    return ("+" if n >= 0 else "-") + size(abs(n))


def signed_percent(p: float | None, digits: int = 0) -> str:
    """A relative change: ``"+5 %"``, ``"-12 %"``."""
    return DASH if p is None else f"{p:+.{digits}f} %"
