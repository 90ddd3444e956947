"""The hotspot type of a stage, read from its evidence, and what the decision table says.

The decision table (``docs/decision-table.md``) maps the kind of hotspot a stage has to the
kind of code that pays off: stay pure, vectorize, or extend with native code. Reading the
type from measurements is a heuristic, so the result is a :class:`Hint` shown beside the
suggestion, naming the row and the figures it was read from (``reading``): the user may
disagree, and the decision record keeps both.

What is read, and from what:

- **the flame graph** (py-spy) of the stage (pure's when the session has one, else the
  newest of any variant: :func:`workbench.decisions.evidence.pick_profiles`): each
  measured sample is charged to one kind of code (:mod:`.frames`): *array-library
  kernels* (NumPy, Polars, Torch, ... and the BLAS/OpenMP libraries they run on), *own
  Python* (Python outside the standard library and the array libraries), *C extensions*
  (other compiled code) or *stdlib*; C library and interpreter frames are charged to
  their caller. With ``--native`` (the panel asks for it; py-spy falls back without it
  where it cannot, and the hint says so) the split sees C; without it, time in C is
  charged to the Python frame that called it, so array-library Python frames stand in
  for their kernels and an extension's time for its caller's;
- **the memory track** (memray) and the measurements: peak RSS and the bytes allocated;
- **the budget verdicts** of the stage's reference variant: which metrics breach;
- **repeats** (when the caller has the workload): the share of the workload's items that
  equal an earlier item (:func:`workbench.app.hinting.workload_repeats`).

The rules, first match wins (shares are of the flame graph's measured samples):

1. an error-level ``peak_rss``/``heap_peak`` breach, or peak RSS at >= 90 %
   (:data:`RSS_NEAR`) of an absolute ``peak_rss`` limit: **memory-bound**;
2. the reference variant meets every error-level time budget: **composable logic**
   (nothing to escalate for);
3. with a flame graph: array-library kernels >= 50 % (:data:`ARRAY_SHARE`), or array
   kernels and C extensions together >= 50 % with the array kernels the larger part:
   **array ops**; repeats >= 30 % (:data:`REPEATS`) with own Python and the standard
   library together >= 50 % (:data:`OWN_SHARE`): **composable logic (caching)** (a memo
   table would skip the repeated work); own Python >= 50 % with one function holding >= 25 %
   (:data:`LOOP_SHARE`) of all samples as its own (self) time: **tight loops**; own
   Python >= 50 % otherwise: **CPU-bound UDF**; C extensions >= 50 % (code compiled
   already: no row), or no kind dominant: not read, with the figures;
4. without a flame graph (or one without measured samples): only tail metrics (p95/p99)
   breach: **latency-critical**; a throughput breach: **throughput-critical**;
5. otherwise no type is read (``type=None``), and the hint says which evidence would tell.

Not read (the evidence does not show them): I/O-bound, parallel-safe and GIL-blocked.
A thread waiting for the GIL is idle to py-spy: an ordinary recording drops its samples,
``--gil`` keeps only the samples of the thread holding it, and only an ``--idle``
recording (which also keeps every other waiting thread: a ``join``, a queue, a sleep)
would show the waiting, as a Python frame over ``pthread_cond_timedwait``. The flame
graph is not recorded with ``--idle``, so the hint says "not read" rather than guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from workbench.decisions.frames import ARRAY_LIBRARIES, KINDS, Split, split_samples

if TYPE_CHECKING:
    from workbench.budget.check_result import Verdict
    from workbench.profile.flame import Flamegraph
    from workbench.profile.memory import MemoryTrack

__all__ = ["ARRAY_LIBRARIES", "ARRAY_SHARE", "DECISION_TABLE", "GIL_FACT", "LOOP_SHARE",
           "OWN_SHARE", "REPEATS", "RSS_NEAR", "Hint", "TableRow", "frame_class",
           "read_hotspot"]

#: Array-library kernels (with C extensions, if the kernels are the larger part): array ops.
ARRAY_SHARE = 0.5
#: Own Python: tight loops or a CPU-bound UDF.
OWN_SHARE = 0.5
#: One own function's self time, of all samples: tight loops rather than a UDF.
LOOP_SHARE = 0.25
#: Peak RSS as a share of an absolute ``peak_rss`` limit: memory-bound.
RSS_NEAR = 0.9
#: The share of the workload's items that repeat an earlier one: worth a memo table, when
#: the time is in Python.
REPEATS = 0.3
GIL_FACT = ("GIL: not read (a thread waiting for the GIL is idle to py-spy; the flame graph "
            "is not recorded with --idle)")
_TIME_METRICS = ("latency_p50", "latency_p95", "latency_p99", "throughput")
_MEMORY_METRICS = ("peak_rss", "heap_peak")


class TableRow(NamedTuple):
    """One row of the decision table: does staying pure win, does vectorizing, does
    extending; the recommendation; and the variant it leans to (None: no single one)."""

    fp_wins: str
    vectorize: str
    extend: str
    recommended: str
    leans: str | None


#: The decision table, by hotspot type (wording: ``docs/decision-table.md``).
DECISION_TABLE: dict[str, TableRow] = {
    "composable logic": TableRow("yes (caching, safe reuse)", "no", "no",
                                 "stay pure", "pure"),
    "composable logic (caching)": TableRow(
        "yes (caching)", "no", "no",
        "stay pure and cache: a memo table keyed by a small stable key", "cached"),
    "array ops": TableRow("sometimes", "yes (columnar frames, batched tensors)", "if needed",
                          "vectorize first", "vectorized"),
    "tight loops": TableRow("rarely", "if the data are arrays", "yes, behind a pure facade",
                            "extend with native code behind a pure facade", "native"),
    "parallel-safe": TableRow("yes", "if SIMD", "if threaded", "pure plus extensions", None),
    "I/O-bound": TableRow("no", "no", "rarely", "asynchronous edges", None),
    "CPU-bound UDF": TableRow("no", "if columnar", "yes", "vectorize, else extend",
                              "vectorized"),
    "memory-bound": TableRow("sometimes", "yes", "yes",
                             "materialize less / stream; vectorize only if a lazy plan "
                             "measurably lowers RSS", None),
    "GIL-blocked": TableRow("no", "no", "yes (release the GIL)",
                            "an extension that releases the GIL", "native"),
    "latency-critical": TableRow("varies", "if fast", "if native",
                                 "profile the p99 before choosing", None),
    "throughput-critical": TableRow("varies", "yes", "if parallel", "vectorize + parallel",
                                    "vectorized"),
}


@dataclass(frozen=True, slots=True)
class Hint:
    """The hotspot type read from the evidence (None: not readable), the decision table's
    recommendation for it, the variant it leans to, and the facts it was read from."""

    type: str | None
    recommendation: str
    leans: str | None
    facts: tuple[str, ...]
    reading: str = ""  # the row's figures: "71 % of samples in NumPy kernels, ..."

    def to_json(self) -> dict[str, Any]:
        out = {"type": self.type, "recommendation": self.recommendation,
               "leans": self.leans, "facts": list(self.facts)}
        return out | ({"reading": self.reading} if self.reading else {})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Hint:
        kind, leans = data.get("type"), data.get("leans")
        return cls(None if kind is None else str(kind), str(data["recommendation"]),
                   None if leans is None else str(leans),
                   tuple(str(f) for f in data.get("facts", ())),
                   str(data.get("reading", "")))


def frame_class(frame: str) -> str:
    """``own``, ``stdlib`` or ``array`` for a Python frame ``"function (path:line)"``,
    ``native`` for any other (the finer kinds: :func:`.frames.frame_kind`)."""
    from workbench.decisions.frames import _is_python, _path, frame_kind

    if not _is_python(_path(frame)):
        return "native"
    return frame_kind(frame)


def _pct(share: float) -> str:
    return f"{round(100 * share)} %"


def _others(split: Split, *lead: str) -> str:
    names = {"own": "own Python", "extension": "C extensions", "stdlib": "stdlib",
             "array": "array-library kernels"}
    return ", ".join(f"{_pct(split.share(k))} {names[k]}" for k in KINDS
                     if k not in lead and split.counts.get(k))


def _figures(*parts: str) -> str:
    return ", ".join(p for p in parts if p)


def _flame_facts(flame: Flamegraph) -> tuple[Split, list[str], str]:
    """The split of the flame graph's measured samples, its facts, and how it was
    sampled (for the hint's reading)."""
    from workbench.profile.pyspy import native_fallback

    split = split_samples(flame.stage_stacks())
    if split.top_own:  # notebook code by its cell: "steps (In [3], line 14)"
        split = split._replace(top_own=flame.named_frame(split.top_own))
    fallback = native_fallback(flame)
    how = (f"py-spy --native failed ({fallback}), sampled without it: time in C is "
           "charged to the Python frame that called it" if fallback else
           "" if flame.native else "sampled without --native: time in C is charged to "
           "the Python frame that called it")
    where = f"flame graph of {flame.target.label}" + (f", {how}" if how else "")
    if not split.total:
        return split, [f"{where}: no samples in the measured calls"], where
    facts = [f"{where} ({split.total} samples in the measured calls): "
             f"{split.share('own'):.0%} own Python, {split.share('stdlib'):.0%} stdlib, "
             f"{split.share('array'):.0%} array libraries, "
             f"{split.share('extension'):.0%} C extensions"]
    if split.libraries:
        facts.append("array libraries seen: " + ", ".join(split.libraries))
    if split.top_own:
        facts.append(f"busiest own function: {split.top_own} with "
                     f"{split.top_own_count / split.total:.0%} of the samples as self time")
    return split, facts, where


def _caching(split: Split, repeats: float) -> str:
    """The caching row's reading: the repeats, where the samples are, what would help."""
    own, std = split.share("own"), split.share("stdlib")
    where = f"{_pct(own)} of samples are in own Python" + \
        (f" and {_pct(std)} in the standard library" if split.counts.get("stdlib") else "")
    return (f"{_pct(repeats)} of the workload's items repeat an earlier one, and {where}: "
            "a memo table keyed by a small stable key (workbench.MemoTable) would "
            "skip repeated work")


def _flame_type(split: Split, repeats: float | None = None) -> tuple[str | None, str]:
    """The row the split reads as (None: none), with its figures."""
    array, own, ext = (split.share(k) for k in ("array", "own", "extension"))
    top = split.top_own_count / split.total if split.total else 0.0
    if array >= ARRAY_SHARE or (array + ext >= ARRAY_SHARE and array >= ext):
        libs = "/".join(split.libraries[:3]) or "array-library"
        return "array ops", _figures(f"{_pct(array)} of samples in {libs} kernels",
                                     _others(split, "array"))
    if repeats is not None and repeats >= REPEATS and \
            own + split.share("stdlib") >= OWN_SHARE:
        return "composable logic (caching)", _caching(split, repeats)
    if own >= OWN_SHARE:
        if top >= LOOP_SHARE:
            return "tight loops", _figures(
                f"{_pct(own)} of samples in own Python ({_pct(top)} in {split.top_own} "
                "alone, as self time)", _others(split, "own"))
        return "CPU-bound UDF", _figures(
            f"{_pct(own)} of samples in own Python, spread out (busiest: {split.top_own}, "
            f"{_pct(top)})", _others(split, "own"))
    if ext >= ARRAY_SHARE:
        return None, _figures(
            f"{_pct(ext)} of samples already in compiled extensions (not array libraries): "
            "the decision table has no row for code that is compiled already",
            _others(split, "extension"))
    return None, "the samples are spread with no dominant kind: " + _others(split)


def _memory_facts(memory: MemoryTrack | None, peak_rss: float | None,
                  rss_limit: float | None) -> tuple[bool, list[str]]:
    from workbench import formatting as fmt

    facts: list[str] = []
    if memory is not None:
        allocated = sum(s.bytes for s in memory.sites)
        facts.append(f"memory track of {memory.target.label}: peak RSS "
                     f"{fmt.size(memory.peak_rss_bytes)}, heap peak "
                     f"{fmt.size(memory.peak_heap_bytes)}, {fmt.size(allocated)} allocated in "
                     f"{memory.total_allocations:,} allocations")
        peak_rss = max(peak_rss or 0, memory.peak_rss_bytes)
    near = False
    if peak_rss and rss_limit:
        near = peak_rss >= RSS_NEAR * rss_limit
        facts.append(f"peak RSS {fmt.size(peak_rss)} is {peak_rss / rss_limit:.0%} of the "
                     f"{fmt.size(rss_limit)} limit")
    return near, facts


def _time_type(breached: list[str]) -> tuple[str | None, str]:
    if "throughput" in breached:
        return "throughput-critical", "pure breaches its throughput budget"
    if breached and "latency_p50" not in breached:
        return "latency-critical", ("only tail metrics breach (" + ", ".join(breached)
                                    + "), the median meets its budget")
    return None, ""


def read_hotspot(*, verdicts: Sequence[Verdict] = (), flame: Flamegraph | None = None,
                 memory: MemoryTrack | None = None, peak_rss: float | None = None,
                 rss_limit: float | None = None, variant: str = "pure",
                 repeats: float | None = None) -> Hint:
    """The hotspot type by the rules of the module docstring. ``verdicts`` are the budget
    verdicts of ``variant`` (the one escalation starts from: pure); ``peak_rss`` its
    measured peak RSS in bytes; ``rss_limit`` an absolute ``peak_rss`` limit in bytes;
    ``repeats`` the share of the workload's items that repeat an earlier one (None: not
    known)."""
    facts: list[str] = []
    if repeats is not None:
        facts.append(f"repeats: {_pct(repeats)} of the workload's items repeat an earlier "
                     "one")
    errors = [v for v in verdicts if v.rule.level == "error"]
    breached = sorted({v.rule.metric for v in errors if v.status == "breach"})
    memory_near, memory_facts = _memory_facts(memory, peak_rss, rss_limit)
    facts += memory_facts
    if verdicts:
        facts.append(f"{variant}: " + (f"error-level breach of {', '.join(breached)}"
                                       if breached else "no error-level breach"))
    split, where = None, ""
    if flame is not None:
        split, flame_facts, where = _flame_facts(flame)
        facts += flame_facts
    facts.append(GIL_FACT)

    def hint(kind: str | None, reading: str, why: str = "") -> Hint:
        if kind is None:
            return Hint(None, why, None, tuple(facts), reading)
        row = DECISION_TABLE[kind]
        return Hint(kind, row.recommended, row.leans, tuple(facts), reading)

    if memory_near or any(m in _MEMORY_METRICS for m in breached):
        return hint("memory-bound", "; ".join(memory_facts) or
                    f"{variant} breaches " + ", ".join(m for m in breached
                                                      if m in _MEMORY_METRICS))
    timed = [v for v in errors if v.rule.metric in _TIME_METRICS]
    if timed and not any(m in _TIME_METRICS for m in breached):
        return hint("composable logic", f"{variant} meets every error-level time budget")
    if split is not None and split.total:
        kind, reading = _flame_type(split, repeats)
        reading = f"{reading} ({where})"
        if kind is not None:
            return hint(kind, reading)
        return hint(None, "", "hotspot type not read: " + reading)
    if split is None or not split.total:
        kind, reading = _time_type(breached)
        if kind is not None:
            return hint(kind, reading)
    needs = [] if timed else ["error-level time budgets for the stage"]
    if flame is None:
        needs.append("a flame graph of the stage")
    else:
        needs.append(f"a longer flame graph (the {where} has no samples in the measured "
                     "calls)")
    return hint(None, "", "hotspot type not read: " + "; ".join(needs) + " would tell")
