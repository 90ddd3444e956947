"""A decision's evidence made small enough to commit, saying what was cut and how.

A flame graph, a memory track and a comparison can hold a megabyte between them (deep
import-time stacks, thousands of memory snapshots, every worker's fingerprint). The
decision keeps each as a result of its own kind, so it loads and renders like any other,
but smaller (:func:`compact_evidence`), and records each cut as a :class:`Cut`:

- call stacks (a flame graph's samples; any field of a result holding allocation stacks)
  keep the frames carrying at least :data:`SHARE_PCT` % of the weight; the rest of each
  branch is folded into an ``other (folded)`` leaf (:func:`~.folding.fold_stacks`), so
  every kept frame's total and the whole stay exact. The icicle charts leave out boxes
  narrower than 0.4 % anyway;
- allocation sites keep those holding at least that share; the rest are summed into one;
- memory snapshots are down-sampled to :data:`MAX_SNAPSHOTS`, keeping the peaks, the
  phase boundaries and each interval's lowest and highest values;
- a comparison whose workers took more than :data:`MAX_SAMPLES` samples in all keeps, per
  worker, evenly spaced order statistics (each worker's median exact).

A field under :data:`KEEP_UNDER` bytes is kept whole. When the evidence is still larger
than its budget as stored (what a record of :data:`RECORD_BUDGET` bytes leaves it), the
share is raised (:data:`SHARES`), a step at a time, for the piece that gives up the least
for the bytes it saves, until it fits or nothing more can be folded. Fields this module
does not know (a result's newer fields) are kept as they are. The lossless part of
storing it is :mod:`.packing`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.decisions.folding import OTHER, cap_sites, downsample, fold_stacks
from workbench.decisions.packing import pack, packed_size
from workbench.errors import InvalidInputError

if TYPE_CHECKING:
    from workbench.measure.comparison import Comparison
    from workbench.profile.flame import Flamegraph
    from workbench.results import Result

__all__ = ["KEEP_UNDER", "MAX_SAMPLES", "MAX_SNAPSHOTS", "RECORD_BUDGET", "RECORD_MARGIN", "SHARES",
           "SHARE_PCT", "Cut", "compact", "compact_evidence"]

#: The least share (%) of a stack tree's weight a kept frame carries, at first.
SHARE_PCT = 0.5
#: The shares tried in turn while the evidence is larger than :data:`EVIDENCE_BUDGET`.
SHARES = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
#: The most memory snapshots kept.
MAX_SNAPSHOTS = 200
#: Bytes (as JSON) under which a field is kept whole: cutting it would save next to nothing.
KEEP_UNDER = 4096
#: The most raw samples a comparison keeps (over all its workers) before each worker's
#: are reduced to order statistics.
MAX_SAMPLES = 1500
#: Bytes a decision record aims at, evidence included (one line of the log).
RECORD_BUDGET = 64 * 1024
#: Bytes kept free of it for what is set when the record is written (the budgets file,
#: the decision it supersedes).
RECORD_MARGIN = 2048


@dataclasses.dataclass(frozen=True, slots=True)
class Cut:
    """One lossy step applied to one field of a piece of evidence: the field, how
    (``folded``, ``summed``, ``down-sampled``, ``reduced``), its entries before and after,
    the share (%) given up or folded (None when none is), the least share a kept entry
    carries (None when not a share) and the sentence that says it."""

    field: str
    how: str
    before: int
    after: int
    text: str
    share_pct: float | None = None
    threshold_pct: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "how": self.how, "before": self.before,
                "after": self.after, "share_pct": self.share_pct,
                "threshold_pct": self.threshold_pct, "text": self.text}

    @classmethod
    def from_json(cls, data: object) -> Cut:
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"a cut is an object; got {type(data).__name__}")
        try:
            field, how, text = (data[k] for k in ("field", "how", "text"))
            before, after = data["before"], data["after"]
        except KeyError as missing:
            raise InvalidInputError(f"a cut has no {missing}") from None
        if not all(isinstance(v, str) for v in (field, how, text)) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in (before, after)):
            raise InvalidInputError(f"a cut's field, how and text are text and its before "
                                    f"and after counts; got {dict(data)!r:.200}")
        shares = [data.get("share_pct"), data.get("threshold_pct")]
        if not all(v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                   for v in shares):
            raise InvalidInputError(f"a cut's shares are numbers; got {shares!r}")
        share, least = (None if v is None else float(v) for v in shares)
        return cls(field, how, before, after, text, share, least)


def _small(rows: tuple[Any, ...]) -> bool:
    """Is a field (a tuple of named tuples) under :data:`KEEP_UNDER` bytes as JSON?"""
    return len(json.dumps(rows, ensure_ascii=False)) < KEEP_UNDER


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0


def _folded_text(field: str, what: str, before: int, folded: Any, whole: int, share: float,
                 unit: Callable[[float], str], weight: str) -> str:
    return (f"{field}: {folded.folded:,} of {before:,} {what} fall under {share:g} % of the "
            f"{weight} (frame by frame) and were folded into '{OTHER}' leaves: "
            f"{unit(folded.weight)}, {fmt.percent(_pct(folded.weight, whole))} of the whole")


def _flame(fg: Flamegraph, share: float) -> tuple[Flamegraph, tuple[Cut, ...]]:
    from workbench.profile._protocol import LOOP_FRAME
    from workbench.profile.flame import split_frame

    if _small(fg.stacks):
        return fg, ()
    stacks = [(tuple(s.split(";")) if s else (), c, 0) for s, c in fg.stacks]
    folded = fold_stacks(stacks, share,
                         pinned=lambda frame: split_frame(frame)[0] == LOOP_FRAME)
    if not folded.folded:
        return fg, ()
    kept = tuple((";".join(frames), w) for frames, w, _ in folded.stacks)
    measured = sum(w for frames, w, _ in folded.stacks if frames[-1:] == (OTHER,)
                   and any(split_frame(f)[0] == LOOP_FRAME for f in frames))
    text = (_folded_text("stacks", "stacks", len(fg.stacks), folded, fg.samples, share,
                         lambda n: f"{int(n):,} samples", "samples")
            + f"; {measured:,} of them in the measured calls "
            f"({fmt.percent(_pct(measured, fg.loop_samples))} of theirs)")
    return (dataclasses.replace(fg, stacks=kept),
            (Cut("stacks", "folded", len(fg.stacks), len(kept), text,
                 _pct(folded.weight, fg.samples), share),))


def _stacks(name: str, rows: tuple[Any, ...], share: float) -> tuple[tuple[Any, ...], Cut | None]:
    kind = type(rows[0])
    folded = fold_stacks([(tuple(r.frames), r.bytes, r.allocations) for r in rows], share)
    if not folded.folded:
        return rows, None
    whole = sum(r.bytes for r in rows)
    text = _folded_text(name, "allocation stacks", len(rows), folded, whole, share,
                        fmt.size, "bytes held")
    return (tuple(kind(f, b, a) for f, b, a in folded.stacks),
            Cut(name, "folded", len(rows), len(folded.stacks), text,
                _pct(folded.weight, whole), share))


def _sites(name: str, rows: tuple[Any, ...], share: float) -> tuple[tuple[Any, ...], Cut | None]:
    kept, rest = cap_sites([r.bytes for r in rows], share)
    if len(rest) < 2:
        return rows, None
    kind = type(rows[0])
    held = sum(rows[i].bytes for i in rest)
    other = kind("other", f"{len(rest):,} sites under {share:g} %", held,
                 sum(rows[i].allocations for i in rest))
    whole = sum(r.bytes for r in rows)
    text = (f"{name}: {len(rest):,} of {len(rows):,} allocation sites under {share:g} % of "
            f"the bytes held were summed into one 'other' site: {fmt.size(held)}, "
            f"{fmt.percent(_pct(held, whole))} of the whole")
    return ((*(rows[i] for i in kept), other),
            Cut(name, "summed", len(rows), len(kept) + 1, text, _pct(held, whole), share))


def _snapshots(name: str, rows: tuple[Any, ...], spans: list[tuple[float, float]],
               ) -> tuple[tuple[Any, ...], Cut | None]:
    ordered = sorted(rows, key=lambda s: s.ms)
    keep = downsample([s.ms for s in ordered], [[s.rss for s in ordered],
                                                 [s.heap for s in ordered]],
                      spans, MAX_SNAPSHOTS)
    if len(keep) == len(rows):
        return rows, None
    text = (f"{name}: {len(rows):,} down-sampled to {len(keep):,} (the first and last, the "
            "peaks of RSS and heap overall and in each phase, both sides of every phase "
            "boundary, and the lowest and highest of each in evenly spaced intervals)")
    return tuple(ordered[i] for i in keep), Cut(name, "down-sampled", len(rows), len(keep),
                                                text)


def _memory_fields(result: Result, share: float) -> tuple[Result, tuple[Cut, ...]]:
    """Any result holding allocation stacks, sites or snapshots (a memory track), each
    such field compacted; found by the type of its entries, so new fields are too."""
    from workbench.profile.memory import AllocationSite, AllocationStack, Phase, Snapshot

    values = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}  # type: ignore[arg-type]
    rows = {k: v for k, v in values.items() if isinstance(v, tuple) and v}
    spans = [(p.start_ms, p.end_ms) for v in rows.values()
             if all(isinstance(p, Phase) for p in v) for p in v]
    changes: dict[str, Any] = {}
    cuts = []
    for name, value in rows.items():
        if _small(value):
            continue
        if all(isinstance(r, AllocationStack) for r in value):
            changes[name], cut = _stacks(name, value, share)
        elif all(isinstance(r, AllocationSite) for r in value):
            changes[name], cut = _sites(name, value, share)
        elif all(isinstance(r, Snapshot) for r in value):
            changes[name], cut = _snapshots(name, value, spans)
        else:
            continue
        cuts += [cut] if cut is not None else []
    return (dataclasses.replace(result, **changes), tuple(cuts)) if cuts else (result, ())  # type: ignore[type-var]


def _comparison(c: Comparison) -> tuple[Comparison, tuple[Cut, ...]]:
    from workbench.decisions.folding import order_statistics

    runs = [run for r in c.results for run in r.measurement.runs]
    samples = sum(len(run.batch_ns) for run in runs)
    workers = sum(1 for run in runs if run.batch_ns)
    if samples <= MAX_SAMPLES or not workers:
        return c, ()
    k = max(MAX_SAMPLES // workers - 1, 5)  # order_statistics keeps at most k + 1

    def reduced(m: Any) -> Any:
        return dataclasses.replace(m, runs=tuple(
            dataclasses.replace(run, batch_ns=tuple(order_statistics(run.batch_ns, k)))
            for run in m.runs))

    results = tuple(dataclasses.replace(r, measurement=reduced(r.measurement))
                    for r in c.results)
    after = sum(len(run.batch_ns) for r in results for run in r.measurement.runs)
    text = (f"samples: the {samples:,} timed samples of {workers} workers were reduced to "
            f"{after:,}: each worker's sorted samples at about {k} evenly spaced ranks "
            "(its minimum, median and maximum kept; their order in time is not)")
    return (dataclasses.replace(c, results=results),
            (Cut("samples", "reduced", samples, after, text),))


def compact(result: Result, share: float = SHARE_PCT) -> tuple[Result, tuple[Cut, ...]]:
    """``result`` made smaller for a decision (see the module docstring) and what was cut;
    a result of a kind with nothing to cut comes back as it is."""
    if result.kind == "flamegraph":
        return _flame(result, share)  # type: ignore[arg-type]
    if result.kind == "comparison":
        return _comparison(result)  # type: ignore[arg-type]
    if dataclasses.is_dataclass(result):
        return _memory_fields(result, share)
    return result, ()


def _stored(result: Result, cuts: tuple[Cut, ...]) -> int:
    return packed_size(pack(result.to_json(), [c.to_json() for c in cuts]))


def _lost(cuts: tuple[Cut, ...]) -> float:
    """The largest share (%) of a piece that its cuts folded or summed into 'other'."""
    return max((c.share_pct or 0.0 for c in cuts if c.threshold_pct is not None),
               default=0.0)


def compact_evidence(evidence: Sequence[Result], budget: int,
                     ) -> tuple[tuple[Result, ...], tuple[tuple[Cut, ...], ...]]:
    """Each piece of ``evidence`` compacted at :data:`SHARE_PCT`. While their stored size
    is over ``budget`` bytes, one piece is compacted again at its next share of
    :data:`SHARES`: the one whose next step gives up the least of it (the share folded
    into 'other') for each byte it saves. Returns the pieces and the cuts of each."""
    level = [0] * len(evidence)
    made = [compact(e, SHARES[0]) for e in evidence]
    sizes = [_stored(*m) for m in made]
    ahead: dict[int, tuple[tuple[Result, tuple[Cut, ...]], int]] = {}  # piece -> next step
    while sum(sizes) > budget:
        for i, (_, cuts) in enumerate(made):
            if i not in ahead and level[i] + 1 < len(SHARES) \
                    and any(c.threshold_pct is not None for c in cuts):
                step = compact(evidence[i], SHARES[level[i] + 1])
                ahead[i] = step, _stored(*step)
        if not ahead:
            break

        def cost(i: int) -> tuple[float, int]:
            (_, cuts), size = ahead[i]
            saved = sizes[i] - size
            lost = max(_lost(cuts) - _lost(made[i][1]), 0.0) + 0.01
            return (lost / saved if saved > 0 else float("inf")), -saved

        i = min(sorted(ahead), key=cost)
        step, size = ahead.pop(i)
        level[i] += 1
        if size < sizes[i]:  # else the next share may save: only the level moves on
            made[i], sizes[i] = step, size
    return tuple(m[0] for m in made), tuple(m[1] for m in made)
