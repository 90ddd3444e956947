"""The hotspot type of a stage, read from its evidence, and what the decision table says.

The decision table (``docs/decision-table.md``) maps the kind of hotspot a stage has to the
kind of code that pays off: stay pure, vectorize, or extend with native code. Reading the
type from measurements is a heuristic, so the result is a :class:`Hint` shown beside the
suggestion: the user may disagree, and the decision record keeps both.

What is read, and from what:

- **the flame graph** (py-spy) of the stage: each measured sample's leaf frame is counted
  as *own Python* (the stage's code and anything not below), *stdlib*, *array library*
  (a frame of a package in :data:`ARRAY_LIBRARIES`: the work runs in their compiled
  kernels) or *native* (a frame that is not Python source, present when py-spy ran with
  ``--native``). Without ``--native``, py-spy charges time spent in C to the Python frame
  that called it, so array-library frames stand in for native code;
- **the memory track** (memray) and the measurements: peak RSS and the bytes allocated;
- **the budget verdicts** of the stage's reference variant: which metrics breach.

The rules, first match wins (thresholds are shares of the measured samples):

1. an error-level ``peak_rss``/``heap_peak`` breach, or peak RSS at >= 90 % of an absolute
   ``peak_rss`` limit: **memory-bound**;
2. the reference variant meets every error-level time budget: **composable logic**
   (nothing to escalate for);
3. with a flame graph: array-library + native leaves >= 50 %: **array ops**; own Python
   >= 50 % with one function holding >= 25 % of all samples as its own (self) time:
   **tight loops**; own Python >= 50 % otherwise: **CPU-bound UDF**;
4. without a flame graph: only tail metrics (p95/p99) breach: **latency-critical**;
   a throughput breach: **throughput-critical**;
5. otherwise no type is read (``type=None``), and the hint says which evidence would tell.

Not read (the evidence does not show them): I/O-bound, parallel-safe and GIL-blocked.
py-spy reports GIL holding only in a separate ``--gil`` recording, which the workbench
does not take yet; the hint says so rather than guess.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from workbench.budget.check_result import Verdict
    from workbench.profile.flame import Flamegraph
    from workbench.profile.memory import MemoryTrack

__all__ = ["ARRAY_LIBRARIES", "DECISION_TABLE", "Hint", "TableRow", "frame_class",
           "read_hotspot"]

#: Packages whose frames are array or tensor work running in compiled kernels.
ARRAY_LIBRARIES = frozenset({
    "numpy", "polars", "pandas", "pyarrow", "torch", "transformers", "tokenizers", "scipy",
    "sklearn", "numba", "onnxruntime", "jax", "tensorflow", "numexpr", "duckdb"})
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

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "recommendation": self.recommendation,
                "leans": self.leans, "facts": list(self.facts)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Hint:
        kind, leans = data.get("type"), data.get("leans")
        return cls(None if kind is None else str(kind), str(data["recommendation"]),
                   None if leans is None else str(leans),
                   tuple(str(f) for f in data.get("facts", ())))


def frame_class(frame: str) -> str:
    """``own``, ``stdlib``, ``array`` or ``native`` for a py-spy frame
    ``"function (path:line)"`` (see the module docstring)."""
    import sys

    from workbench.profile.flame import split_frame

    _, location = split_frame(frame)
    path = location.rsplit(":", 1)[0]
    if not path.endswith(".py") and not path.startswith("<frozen"):
        return "native"
    top = path.removeprefix("<frozen ").rstrip(">").replace("\\", "/").split("/", 1)[0]
    top = top.removesuffix(".py")
    if top in ARRAY_LIBRARIES:
        return "array"
    if top in sys.stdlib_module_names or path.startswith("<frozen"):
        return "stdlib"
    return "own"


def _flame_facts(flame: Flamegraph) -> tuple[dict[str, float], float, str, list[str]]:
    """Shares of leaf classes, the top own function's self share and name, and facts."""
    leaves: Counter[str] = Counter()
    own_self: Counter[str] = Counter()
    for stack, count in flame.stage_stacks():
        leaf = stack.rsplit(";", 1)[-1]
        cls = frame_class(leaf)
        leaves[cls] += count
        if cls == "own":
            own_self[leaf] += count
    total = sum(leaves.values())
    if not total:
        return {}, 0.0, "", [f"flame graph of {flame.target.label}: no samples in the "
                             "measured calls"]
    shares = {k: leaves[k] / total for k in ("own", "stdlib", "array", "native")}
    top, top_count = own_self.most_common(1)[0] if own_self else ("", 0)
    facts = [f"flame graph of {flame.target.label} ({total} samples in the measured calls): "
             f"{shares['own']:.0%} own Python, {shares['stdlib']:.0%} stdlib, "
             f"{shares['array']:.0%} array libraries, {shares['native']:.0%} native frames"
             + ("" if flame.native else " (recorded without --native: time in C is "
                "charged to the calling Python frame)")]
    if top:
        facts.append(f"busiest own function: {top} with {top_count / total:.0%} of the "
                     "samples as self time")
    return shares, top_count / total, top, facts


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
        near = peak_rss >= 0.9 * rss_limit
        facts.append(f"peak RSS {fmt.size(peak_rss)} is {peak_rss / rss_limit:.0%} of the "
                     f"{fmt.size(rss_limit)} limit")
    return near, facts


def read_hotspot(*, verdicts: Sequence[Verdict] = (), flame: Flamegraph | None = None,
                 memory: MemoryTrack | None = None, peak_rss: float | None = None,
                 rss_limit: float | None = None, variant: str = "pure") -> Hint:
    """The hotspot type by the rules of the module docstring. ``verdicts`` are the budget
    verdicts of ``variant`` (the one escalation starts from: pure); ``peak_rss`` its
    measured peak RSS in bytes; ``rss_limit`` an absolute ``peak_rss`` limit in bytes."""
    facts: list[str] = []
    errors = [v for v in verdicts if v.rule.level == "error"]
    breached = sorted({v.rule.metric for v in errors if v.status == "breach"})
    memory_near, memory_facts = _memory_facts(memory, peak_rss, rss_limit)
    facts += memory_facts
    if verdicts:
        facts.append(f"{variant}: " + (f"error-level breach of {', '.join(breached)}"
                                       if breached else "no error-level breach"))
    shares: dict[str, float] = {}
    top_self = 0.0
    if flame is not None:
        shares, top_self, _, flame_facts = _flame_facts(flame)
        facts += flame_facts
    facts.append("GIL: not read (py-spy reports it only in a --gil recording)")

    def hint(kind: str | None, why: str | None = None) -> Hint:
        if kind is None:
            return Hint(None, why or "", None, tuple(facts))
        row = DECISION_TABLE[kind]
        return Hint(kind, row.recommended, row.leans, tuple(facts))

    if memory_near or any(m in _MEMORY_METRICS for m in breached):
        return hint("memory-bound")
    timed = [v for v in errors if v.rule.metric in _TIME_METRICS]
    if timed and not any(m in _TIME_METRICS for m in breached):
        return hint("composable logic")
    if shares:
        if shares["array"] + shares["native"] >= 0.5:
            return hint("array ops")
        if shares["own"] >= 0.5:
            return hint("tight loops" if top_self >= 0.25 else "CPU-bound UDF")
    elif breached:
        if "throughput" in breached:
            return hint("throughput-critical")
        if "latency_p50" not in breached:
            return hint("latency-critical")
    needs = [] if timed else ["error-level time budgets for the stage"]
    needs += [] if flame is not None else ["a flame graph of the stage"]
    return hint(None, "hotspot type not read: " + ("; ".join(needs) if needs else
                "the samples are spread over stdlib and own code with no dominant kind")
                + " would tell")
