"""The cached tier's four conditions: when a variant that uses memo tables may be suggested.

A variant is in the **cached tier** when its measurement recorded cache figures
(:func:`workbench.measure.cache_figures.cache_figures` is not None; such variants are
named ``cached`` by convention, but the figures decide, not the name). Besides being
eligible by the selection rule (equivalent to pure, no error-level breach), it must hold:

(a) **key stable and versioned**: every memo table records what its key is made of and a
    version (a table that hashes whole payloads for its key still passes, and the figure
    says so: each lookup then reads the whole item);
(b) **hit rate at or above the threshold**: with a ``hit_rate`` rule for the variant, its
    verdict is ``pass`` (inconclusive is not enough); without one, the lower end of the
    interval of the workers' median hit rate (95 %; with fewer than 6 workers, the range
    of the workers, whose confidence the figure states; the median itself with one
    worker) is at least :data:`HIT_RATE` (50 %);
(c) **the cache fits the RSS budget**: no ``cache_bytes`` or ``peak_rss`` rule of the
    variant is a breach; with no such rule the condition holds, and the figure says there
    is no RSS budget and how much the cache holds;
(d) **contention measured under load**: the tables were measured with 2 or more threads
    sharing them, and with a ``contention`` rule its verdict is ``pass``; without one, the
    workers' median throughput at N threads is at least :data:`CONTENTION` (0.8x) of the
    throughput at 1 thread.

:func:`cache_check` is a pure function of the comparison and the variant's verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.measure.cache_figures import CacheFigures, cache_figures
from workbench.render.cache import contention_text, held_bytes, hit_rate_text

if TYPE_CHECKING:
    from workbench.budget.check_result import Verdict
    from workbench.measure.comparison import Comparison

__all__ = ["CONDITIONS", "CONTENTION", "HIT_RATE", "CacheCheck", "Condition", "cache_check",
           "cache_checks"]

#: The default hit-rate threshold (no ``hit_rate`` rule): on the interval's lower end.
HIT_RATE = 0.5
#: The default contention threshold (no ``contention`` rule): throughput at N threads
#: over throughput at 1 thread, at the workers' median.
CONTENTION = 0.8
#: The conditions by letter, as the rule and the evidence name them.
CONDITIONS = {"a": "key stable and versioned", "b": "hit rate at or above the threshold",
              "c": "the cache fits the RSS budget", "d": "contention measured under load"}
_RSS_METRICS = ("cache_bytes", "peak_rss")


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition (its letter, ``a`` to ``d``), whether it held, and its figure."""

    letter: str
    held: bool
    figure: str

    @property
    def name(self) -> str:
        return CONDITIONS.get(self.letter, self.letter)

    def text(self) -> str:
        """``(b) hit rate at or above the threshold: held: hit rate 89.8 % [...] ...``."""
        return f"({self.letter}) {self.name}: {'held' if self.held else 'NOT held'}: " \
            f"{self.figure}"

    def to_json(self) -> dict[str, Any]:
        return {"letter": self.letter, "held": self.held, "figure": self.figure}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Condition:
        return cls(str(data["letter"]), bool(data["held"]), str(data["figure"]))


@dataclass(frozen=True, slots=True)
class CacheCheck:
    """The four conditions of one cached-tier variant."""

    variant: str
    conditions: tuple[Condition, ...]

    @property
    def held(self) -> bool:
        return all(c.held for c in self.conditions)

    @property
    def failed(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if not c.held)

    def reason(self) -> str:
        """Why the variant is skipped: ``cached: (b) hit rate 0.0 % [...] is below 50 %``
        (empty when every condition held)."""
        failed = self.failed
        if not failed:
            return ""
        return f"{self.variant}: " + "; ".join(f"({c.letter}) {c.figure}" for c in failed)

    def to_json(self) -> dict[str, Any]:
        return {"variant": self.variant, "conditions": [c.to_json() for c in self.conditions]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CacheCheck:
        return cls(str(data["variant"]),
                   tuple(Condition.from_json(c) for c in data.get("conditions", ())))


def _verdicts_text(found: Sequence[Verdict]) -> str:
    return "; ".join(f"{v.rule.metric} {v.rule.limit_text()}: {v.status}" for v in found)


def _key(figures: CacheFigures) -> Condition:
    if not figures.tables:
        return Condition("a", False, "no memo table described its key and version")
    missing = [f"{t.get('name') or '?'} records no "
               + " and no ".join(w for w in ("key", "version") if not t.get(w))
               for t in figures.tables if not (t.get("key") and t.get("version"))]
    if missing:
        return Condition("a", False, "; ".join(missing))
    said = "; ".join(f"{t.get('name') or '?'}: key {t['key']}, version {t['version']}"
                     for t in figures.tables)
    hashing = [str(t.get("name") or "?") for t in figures.tables if t.get("hashes_payload")]
    if hashing:
        said += (f" ({', '.join(hashing)} hashes whole payloads for its key: each lookup "
                 "reads the whole item)")
    return Condition("a", True, said)


def _hit_rate(figures: CacheFigures, verdicts: Sequence[Verdict]) -> Condition:
    spread = figures.hit_rate
    if spread is None:
        return Condition("b", False, "no lookups were recorded, so there is no hit rate")
    shown = f"hit rate {hit_rate_text(spread)}"
    ruled = [v for v in verdicts if v.rule.metric == "hit_rate"]
    if ruled:
        held = all(v.status == "pass" for v in ruled)
        return Condition("b", held, f"{shown}; {_verdicts_text(ruled)}"
                         + ("" if held else " (the budget's verdict must be pass)"))
    limit = f"{100 * HIT_RATE:g} %"
    if spread.value < HIT_RATE:
        return Condition("b", False, f"{shown} is below {limit}")
    if spread.low is not None and spread.low < HIT_RATE:
        return Condition("b", False, f"{shown}: its interval's lower end is below {limit}")
    end = "its interval's lower end" if spread.low is not None else \
        "the median (one worker: no interval)"
    return Condition("b", True, f"{shown}: {end} is at or above {limit} (the default "
                     "threshold; no hit_rate budget)")


def _fits(figures: CacheFigures, verdicts: Sequence[Verdict]) -> Condition:
    ruled = [v for v in verdicts if v.rule.metric in _RSS_METRICS]
    holds = f"the cache holds {held_bytes(figures)}"
    if not ruled:
        return Condition("c", True, f"no RSS budget: {holds}")
    held = not any(v.status == "breach" for v in ruled)
    return Condition("c", held, f"{holds}; {_verdicts_text(ruled)}")


def _contention(figures: CacheFigures, verdicts: Sequence[Verdict]) -> Condition:
    if figures.contention is None or (figures.threads or 0) < 2:
        return Condition("d", False, "contention was not measured (no run with 2 or more "
                         "threads sharing the tables)")
    shown = contention_text(figures)
    ruled = [v for v in verdicts if v.rule.metric == "contention"]
    if ruled:
        held = all(v.status == "pass" for v in ruled)
        return Condition("d", held, f"{shown}; {_verdicts_text(ruled)}")
    limit = fmt.ratio(CONTENTION)
    if figures.contention.value < CONTENTION:
        return Condition("d", False, f"{shown} is below {limit}")
    return Condition("d", True, f"{shown}, at or above {limit} (the default threshold; no "
                     "contention budget)")


def cache_check(comparison: Comparison, variant: str,
                verdicts: Sequence[Verdict] = ()) -> CacheCheck | None:
    """The four conditions of ``variant`` judged on its measurement in ``comparison`` and
    its own budget ``verdicts``; None when the variant is not in the cached tier (its
    measurement recorded no cache figures)."""
    figures = cache_figures(comparison.result(variant).measurement)
    if figures is None:
        return None
    return CacheCheck(variant, (_key(figures), _hit_rate(figures, verdicts),
                                _fits(figures, verdicts), _contention(figures, verdicts)))


def cache_checks(comparison: Comparison,
                 verdicts: Mapping[str, Sequence[Verdict]]) -> dict[str, CacheCheck]:
    """The checks of every cached-tier variant of ``comparison``, by variant."""
    out = {}
    for variant in comparison.variants:
        found = cache_check(comparison, variant, verdicts.get(variant, ()))
        if found is not None:
            out[variant] = found
    return out
