"""The hotspot hint: what a comparison (with its budget verdicts), the stage's profiles
and the workload say about where the time goes, as the decision table reads it. A hint
the user may disagree with, shown beside the suggestion (:mod:`workbench.app.suggesting`).

The workload tells one thing the profiles do not: how often its items repeat
(:func:`workload_repeats`). With most samples in Python and 30 % or more of the items
repeating an earlier one, the hint reads "composable logic (caching)": a memo table would
skip the repeated work.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence, Sized
from typing import TYPE_CHECKING

from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.app.workloads import WorkloadArg
    from workbench.budget.check_result import Verdict
    from workbench.decisions.hotspots import Hint
    from workbench.measure.comparison import Comparison
    from workbench.refs import PipelineArg
    from workbench.results import Result

__all__ = ["MAX_ITEMS", "hotspot_hint", "item_repeats", "stage_profiles", "workload_repeats"]

#: The most items :func:`workload_repeats` looks at (the first ones, in order).
MAX_ITEMS = 200_000
_KEPT = 16  # workloads whose figure is kept
_FIGURES: dict[tuple[object, int, int], tuple[object, float | None]] = {}


def _hashable_items(batch: object, limit: int) -> list[Hashable] | None:
    """A batch's first ``limit`` items, when it is a list or tuple of hashable items
    (else None)."""
    if not isinstance(batch, list | tuple):
        return None
    items = list(batch[:limit])
    try:
        for item in items:
            hash(item)
    except TypeError:
        return None
    return items


def item_repeats(value: object, limit: int = MAX_ITEMS) -> float | None:
    """The share of ``value``'s items (at most the first ``limit``) that repeat an
    earlier one: for a :class:`~workbench.batches.BatchSequence`, the share of the items
    after the first batch that equal an item of an earlier batch
    (:func:`~workbench.batches.observed_repeat_rate`); for a list or tuple, the share of
    its items equal to an earlier item. None when the items are not hashable (or the
    value is neither)."""
    from workbench.batches import BatchSequence, observed_repeat_rate

    if isinstance(value, BatchSequence):
        batches, taken = [], 0
        for batch in value.batches:
            items = _hashable_items(batch, limit - taken)
            if items is None:
                return None
            batches.append(items)
            taken += len(items)
            if taken >= limit:
                break
        return observed_repeat_rate(batches) if len(batches) > 1 else None
    items = _hashable_items(value, limit)
    if not items:
        return None
    return 1.0 - len(set(items)) / len(items)


def workload_repeats(workload: WorkloadArg, pipeline: PipelineArg = None) -> float | None:
    """:func:`item_repeats` of ``workload``'s value (None: its items are not hashable, or
    it cannot be loaded; a failing workload is said where it is measured, not here)."""
    from workbench.app.workloads import resolved

    try:
        w = resolved(workload, pipeline)
        value = w.load()  # measuring loads it in this process too: usually kept already
    except WorkbenchError:
        return None
    # a value given as it is (a notebook's list) may grow between two reads
    key = (w, id(value), len(value) if isinstance(value, Sized) else -1)
    if key not in _FIGURES:
        while len(_FIGURES) >= _KEPT:
            del _FIGURES[next(iter(_FIGURES))]
        _FIGURES[key] = (value, item_repeats(value))  # held, so that its id stays its own
    return _FIGURES[key][1]


def _flamed(profiles: Iterable[Result]) -> bool:
    return any(p.kind == "flamegraph" for p in profiles)


def hotspot_hint(comparison: Comparison | None, verdicts: Mapping[str, Sequence[Verdict]],
                 profiles: Sequence[Result] = (), *, workload: WorkloadArg | None = None,
                 pipeline: PipelineArg = None, repeats: float | None = None) -> Hint:
    """The hint for a stage, read from pure's verdicts and figures in ``comparison``
    (None before the stage is measured: the profiles alone) and the stage's profiles
    (oldest first; per kind pure's newest, else the newest of any variant). With
    ``workload`` (the session's; of ``pipeline``), or ``repeats`` given, the hint also
    reads how often the workload's items repeat; the workload is read only when there is
    a flame graph to weigh the repeats against."""
    from workbench.decisions.evidence import hotspot_hint as hint

    if repeats is None and workload is not None and _flamed(profiles):
        repeats = workload_repeats(workload, pipeline)
    return hint(comparison, verdicts, profiles, repeats=repeats)


def stage_profiles(results: Iterable[Result], stage: str) -> tuple[Result, ...]:
    """Of ``results`` (a session's, oldest first: the panel's and the magics' alike), the
    profiles of ``stage`` a hint reads and a decision keeps: per kind, pure's newest, else
    the newest of any variant."""
    from workbench.app.profiling import profilers
    from workbench.decisions.evidence import pick_profiles

    return pick_profiles(tuple(results), stage, {p.kind for p in profilers()})
