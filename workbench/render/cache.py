"""A cached variant's figures in words: the comparison's cache line and the four cache
conditions of a decision.

The comparison shows, for a variant whose measurement recorded memo-table figures
(:func:`workbench.measure.cache_figures.cache_figures`), one line: the cache state it was
measured in, the hit rate with its interval, misses and evictions, the cache's size and
its share of peak RSS, and the throughput at N threads sharing the tables against 1::

    cache (warm): hit rate 89.8 % [89.5 %, 90.1 %], 1,204 misses, 0 evictions, 3.2 MiB
    (2 % of peak RSS); 2 threads: 0.97x [0.93x, 1.01x] of 1 thread

Variants without cache figures get nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from workbench import formatting as fmt
from workbench.measure.cache_figures import CacheFigures, Spread, cache_figures

if TYPE_CHECKING:
    from workbench.measure.comparison import Comparison

__all__ = ["cache_line", "cache_lines", "condition_lines", "conditions_cell",
           "contention_text", "held_bytes", "hit_rate_text", "share_text"]


def hit_rate_text(spread: Spread) -> str:
    """A hit rate with its interval: ``89.8 % [89.5 %, 90.1 %]``."""
    return spread.text(lambda x: fmt.percent(100 * x))


def share_text(share: float) -> str:
    """A share as a percentage: ``2 %``, ``0.31 %``, ``45 %`` (two significant figures
    below 10 %)."""
    pct = 100 * share
    return f"{round(pct)} %" if pct >= 10 else f"{pct:.2g} %"


def held_bytes(figures: CacheFigures) -> str:
    """``3.2 MiB (2 % of peak RSS)``: the workers' median cache size, and the largest
    cache's share of the largest peak RSS."""
    share = "peak RSS not recorded" if figures.rss_share is None else \
        f"{share_text(figures.rss_share)} of peak RSS"
    return f"{fmt.size(figures.bytes.value)} ({share})"


def contention_text(figures: CacheFigures) -> str:
    """``2 threads: 0.97x [0.93x, 1.01x] of 1 thread`` (empty: not measured)."""
    if figures.contention is None or not figures.threads:
        return ""
    on = f" on {figures.cpus} CPU{'s' * (figures.cpus != 1)}" if figures.cpus else ""
    return f"{figures.threads} threads{on}: {figures.contention.text(fmt.ratio)} of 1 thread"


def cache_line(figures: CacheFigures) -> str:
    """The cache figures of one variant in one line (see the module)."""
    rate = "no lookups" if figures.hit_rate is None else \
        f"hit rate {hit_rate_text(figures.hit_rate)}"
    contention = contention_text(figures) or "contention not measured"
    line = (f"cache ({figures.state or 'state not recorded'}): {rate}, "
            f"{figures.misses:,} misses, {figures.evictions:,} evictions, "
            f"{held_bytes(figures)}; {contention}")
    return line + (f"; {figures.note}" if figures.note else "")


def cache_lines(c: Comparison) -> list[tuple[str, str]]:
    """(variant, its cache line) for each variant of ``c`` with cache figures."""
    out = []
    for r in c.results:
        figures = cache_figures(r.measurement) if r.measurement.ok else None
        if figures is not None:
            out.append((r.variant, cache_line(figures)))
    return out


class _Condition(Protocol):
    @property
    def letter(self) -> str: ...

    @property
    def held(self) -> bool: ...

    @property
    def figure(self) -> str: ...

    def text(self) -> str: ...


class _Check(Protocol):
    @property
    def variant(self) -> str: ...

    @property
    def held(self) -> bool: ...

    @property
    def conditions(self) -> Sequence[_Condition]: ...


def condition_lines(check: _Check) -> list[str]:
    """A cached-tier variant's four conditions, a headline and one line each (the
    decision's text)."""
    said = "all held" if check.held else "NOT all held: skipped by the rule"
    return [f"cache conditions of {check.variant} ({said}):",
            *(f"  {c.text()}" for c in check.conditions)]


def conditions_cell(check: _Check) -> str:
    """The four conditions in one cell (the decision's alternatives table in HTML)."""
    return "; ".join(c.text() for c in check.conditions)
