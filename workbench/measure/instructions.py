"""Instructions per call, counted under Cachegrind: a deterministic metric beside wall time.

:func:`count_instructions` runs the target's worker (:mod:`workbench.measure.instr_worker`)
under Cachegrind (:mod:`workbench.measure.cachegrind`) in pairs of runs: one making
``calls`` calls and one making none, both after the same preparation and warm-up. The
difference of the two totals divided by ``calls`` is the cost of one call: interpreter
start-up, imports, building the input and warm-up are in both runs and cancel exactly.

Memory layout. A run's count does not depend on the machine's load, but it does depend
on where things sit in memory, on the stack and on the heap. Measured on this project's
development machine: moving the initial stack (by padding the environment) changed
chunk/pure's count per call by 0.01-0.03 % for most shifts and by 0.8 % for one of six
(glibc's string and memory routines take alignment-dependent paths; CPython hashes some
objects by address); and retrieve/vectorized counted 4.865 M, 4.912 M and 4.873 M
instructions per call from three checkouts of the same code at different paths, the
difference being in CPython's small-object allocator (``_PyObject_Malloc``/``_Free``),
whose cost per call depends on how full its pools are, which depends on everything
allocated before (module paths included). So each count is made at
:data:`DEFAULT_LAYOUTS` layouts, each moving both: the environment padded to a whole
number of pages (what the environment holds then does not move the stack) and shifted by
:data:`LAYOUT_SHIFTS`, and :data:`HEAP_SHIFTS` small objects allocated before anything
is imported (:func:`workbench.measure.instr_worker.heap_shift`). The median over layouts
is kept, and their spread, (max - min) / median, is recorded with the count.

Two counts of the same code are treated as equal when they differ by at most
:func:`equal_band`: :data:`TOLERANCE` (relative), or the larger of their layout spreads
when that is wider -- a stage whose count moves with the memory layout cannot promise
more. A budget verdict uses :func:`verdict_band`, which also covers the spread of the
same code's count across checkouts at paths of different lengths
(:data:`CHECKOUT_SPREAD`, measured by ``benchmarks/instructions.py``), since a check
against another commit counts it in another checkout. The count
is of a simulated CPU without AVX-512 (see
:mod:`workbench.measure.cachegrind`): it tracks the work a stage does, not the time it
takes, so wall-time budgets stay for what it cannot see (memory stalls, threads, vector
width).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from workbench.errors import ExecutionError, InvalidInputError
from workbench.measure.cachegrind import (
    CACHE_EVENTS,
    Counted,
    aslr_off_prefix,
    cachegrind,
    real_interpreter,
    valgrind_path,
    valgrind_version,
)
from workbench.measure.fingerprint import THREAD_VARIABLES, comparable, fingerprint
from workbench.measure.instr_worker import SCHEMA_VERSION
from workbench.measure.metrics import Members
from workbench.measure.targets import TargetSpec

__all__ = ["CHECKOUT_SPREAD", "DEFAULT_CALLS", "DEFAULT_LAYOUTS", "DEFAULT_WARMUP",
           "HEAP_SHIFTS", "INSTRUCTION_METRICS", "LAYOUT_SHIFTS", "TOLERANCE",
           "InstructionCount", "InstructionSettings", "count_instructions", "differs_beyond",
           "equal_band", "instruction_env", "layout_sizes", "verdict_band"]

#: Relative difference within which two instruction counts are taken as equal (at
#: least: see :func:`equal_band`).
TOLERANCE = 1e-3
#: The spread of the instructions per call of the same code counted from checkouts at
#: paths of different lengths, (max - min) / median over three checkouts: the floor of
#: :func:`verdict_band`. Measured on this project's development machine (AMD EPYC, 2
#: CPUs, Python 3.11.7, valgrind-3.19.0) by ``python benchmarks/instructions.py --seed 1
#: --rounds 4 --trials 0``: 12 spreads of chunk/pure and retrieve/vectorized on tiny and
#: the benchmark's one-stage text pipeline, at most 0.101 % (retrieve/vectorized; chunk/pure
#: 0.035-0.054 %, the pipeline 0-0.044 %); the same measurement made by hand before
#: (checkouts at three fixed paths, the environment padded to 20 KiB) gave up to 0.148 %
#: (chunk/pure). The floor is the larger, rounded up.
CHECKOUT_SPREAD = 1.5e-3
DEFAULT_CALLS = 10
DEFAULT_WARMUP = 1
#: Memory layouts counted per target (the median is kept).
DEFAULT_LAYOUTS = 3
#: Shifts of the initial stack per layout, made by padding the environment, in bytes.
LAYOUT_SHIFTS = (0, 592, 2720, 1328, 3504)
#: Small objects the worker allocates before its imports, per layout (with the stack
#: shift of the same index).
HEAP_SHIFTS = (0, 613, 1499, 101, 3001)
#: Budget metrics read from a count: ``instructions`` always, the misses with the cache
#: simulation on (``l1_misses``: first-level instruction and data misses; ``ll_misses``:
#: last-level).
INSTRUCTION_METRICS = Members("instructions")
_L1 = ("I1mr", "D1mr", "D1mw")
_LL = ("ILmr", "DLmr", "DLmw")


@dataclass(frozen=True, slots=True)
class InstructionSettings:
    """How to count: ``calls`` measured calls after ``warmup`` ones, the cache simulation,
    the hash seed, a time limit per Cachegrind run, and how many memory layouts to count
    (at most ``len(LAYOUT_SHIFTS)``)."""

    calls: int = DEFAULT_CALLS
    warmup: int = DEFAULT_WARMUP
    cache_sim: bool = False
    seed: int = 0
    timeout: float = 900.0
    layouts: int = DEFAULT_LAYOUTS

    def __post_init__(self) -> None:
        for name, value, least in (("calls", self.calls, 1), ("warmup", self.warmup, 0),
                                   ("seed", self.seed, 0), ("layouts", self.layouts, 1)):
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise InvalidInputError(f"instruction counting: {name} must be an integer "
                                        f">= {least}; got {value!r}")
        if self.layouts > len(LAYOUT_SHIFTS):
            raise InvalidInputError(f"instruction counting: layouts must be at most "
                                    f"{len(LAYOUT_SHIFTS)}; got {self.layouts}")
        if not isinstance(self.timeout, int | float) or not self.timeout > 0:
            raise InvalidInputError(f"instruction counting: timeout must be a number of "
                                    f"seconds > 0; got {self.timeout!r}")


def differs_beyond(a: float, b: float, tolerance: float = TOLERANCE) -> bool:
    """True when ``a`` and ``b`` differ by more than ``tolerance`` relative to ``b``."""
    return abs(a - b) > tolerance * abs(b)


def equal_band(a: InstructionCount, b: InstructionCount,
               tolerance: float = TOLERANCE) -> float:
    """The relative difference within which counts ``a`` and ``b`` are equal: the
    tolerance, or the larger of their spreads over memory layouts when that is wider."""
    return max(tolerance, a.spread, b.spread)


def verdict_band(*counts: InstructionCount, floor: float = CHECKOUT_SPREAD) -> float:
    """The relative band around a limit within which a budget verdict on ``counts`` (the
    current count, and the baseline's for a relative rule) cannot tell over from under:
    the spread across checkouts ``floor``, or the widest of the counts' spreads over
    memory layouts when that is wider."""
    return max([floor, *(c.spread for c in counts)])


@dataclass(frozen=True, slots=True)
class InstructionCount:
    """Events per call of one target, from two Cachegrind runs (``calls`` calls vs none)."""

    target: TargetSpec
    per_call: Mapping[str, float]  # event -> per call: Ir, and the cache events if simulated
    calls: int
    warmup: int
    cache_sim: bool
    items_per_call: int | None
    tool: str  # Valgrind's version
    settings: Mapping[str, Any] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)
    totals: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # "0" / "k" runs
    seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and "Ir" in self.per_call

    @property
    def instructions(self) -> float | None:
        return self.per_call.get("Ir") if self.ok else None

    @property
    def spread(self) -> float:
        """(max - min) / median of the instructions per call over the memory layouts
        (0 for a count made at one layout, or recorded without it)."""
        value = self.settings.get("layout_spread")
        return float(value) if isinstance(value, int | float) and value > 0 else 0.0

    def metric(self, name: str) -> float | None:
        """A budget metric's value per call (see :data:`INSTRUCTION_METRICS`)."""
        if not self.ok:
            return None
        if name == "instructions":
            return self.per_call["Ir"]
        events = {"l1_misses": _L1, "ll_misses": _LL}.get(name)
        if events is None:
            raise InvalidInputError(f"unknown instruction metric {name!r}; choose one of: "
                                    + ", ".join(INSTRUCTION_METRICS))
        if not self.cache_sim:
            return None
        return sum(self.per_call.get(e, 0.0) for e in events)

    def incomparable(self, other: InstructionCount) -> list[str]:
        """Why this count and ``other`` cannot be compared (empty: they can)."""
        why = comparable(dict(self.environment), dict(other.environment))
        if self.tool != other.tool:
            why.append("valgrind version")
        if self.settings.get("aslr") != other.settings.get("aslr"):
            why.append("address-space randomisation")
        return why

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target.to_json(), "per_call": dict(self.per_call),
                "calls": self.calls, "warmup": self.warmup, "cache_sim": self.cache_sim,
                "items_per_call": self.items_per_call, "tool": self.tool,
                "settings": dict(self.settings), "environment": dict(self.environment),
                "totals": {k: dict(v) for k, v in self.totals.items()},
                "seconds": self.seconds, "error": self.error}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InstructionCount:
        try:
            per_call = {str(k): float(v) for k, v in dict(data["per_call"]).items()}
            items = data.get("items_per_call")
            return cls(TargetSpec.from_json(data["target"]), per_call, int(data["calls"]),
                       int(data["warmup"]), bool(data["cache_sim"]),
                       None if items is None else int(items), str(data["tool"]),
                       dict(data.get("settings") or {}), dict(data.get("environment") or {}),
                       {str(k): {str(e): int(n) for e, n in dict(v).items()}
                        for k, v in dict(data.get("totals") or {}).items()},
                       float(data.get("seconds") or 0.0),
                       None if data.get("error") is None else str(data["error"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInputError(
                f"malformed instruction count ({type(exc).__name__}: {exc}); expected target, "
                "per_call, calls, warmup, cache_sim and tool") from None

    @classmethod
    def failed(cls, target: TargetSpec, settings: InstructionSettings, why: str,
               tool: str = "") -> InstructionCount:
        return cls(target, {}, settings.calls, settings.warmup, settings.cache_sim, None,
                   tool, error=why)


def instruction_env(seed: int, root: Path | None = None) -> dict[str, str]:
    """The counting worker's environment: one thread everywhere, the hash seed and the
    import path of :func:`workbench.measure.launch.worker_env` (``root`` first)."""
    from workbench.measure.config import MeasureConfig
    from workbench.measure.launch import worker_env

    env = worker_env(MeasureConfig(threads=1, seed=seed, pin=False), root)
    for var in THREAD_VARIABLES:
        if var != "OPENBLAS_CORETYPE":
            env[var] = "1"
    return env


def layout_sizes(env: Mapping[str, str], layouts: int, at_least: int | None = None,
                 ) -> list[int]:
    """The environment sizes of the ``layouts`` runs: a base rounded up to a whole
    number of pages (so that what the environment holds does not move the stack), then
    shifted by :data:`LAYOUT_SHIFTS`."""
    from workbench.measure.launch import environment_size

    need = max(environment_size(dict(env)) + 64, at_least or 0, 16384)
    base = -(-need // 4096) * 4096
    return [base + shift for shift in LAYOUT_SHIFTS[:layouts]]


def count_instructions(spec: TargetSpec, settings: InstructionSettings | None = None, *,
                       root: Path | None = None, env_size: int | None = None,
                       strict: bool = False) -> InstructionCount:
    """Count ``spec``'s instructions per call (see the module docstring).

    ``root`` (a checkout) leads the import path and is the working directory, as for
    :func:`workbench.measure.launch.code_launcher`; ``env_size`` is a floor for the
    padded environment (two sides given the same floor get the same layouts).
    Missing Valgrind or an interpreter it cannot run raise
    :class:`~workbench.measure.cachegrind.ValgrindUnavailable` (whatever ``strict``); a
    target that fails under Cachegrind gives a failed count, or raises with ``strict``.
    """
    from workbench.measure.launch import padded_env

    settings = settings or InstructionSettings()
    python = real_interpreter()
    tool = valgrind_version(valgrind_path())
    env = instruction_env(settings.seed, root)
    sizes = layout_sizes(env, settings.layouts, env_size)
    started = time.monotonic()

    def run(job: tuple[int, int]) -> Counted:
        size, calls = job
        payload = {"schema_version": SCHEMA_VERSION, "target": spec.job_json(),
                   "calls": calls, "warmup": settings.warmup, "seed": settings.seed,
                   "heap_shift": HEAP_SHIFTS[sizes.index(size)]}
        return cachegrind([python, "-m", "workbench.measure.instr_worker"],
                          what=f"instruction count of {spec.label} ({calls} calls)",
                          timeout=settings.timeout, cache_sim=settings.cache_sim,
                          stdin=json.dumps(payload), env=padded_env(env, size), cwd=root)

    jobs = [(size, calls) for size in sizes for calls in (0, settings.calls)]
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            done = list(pool.map(run, jobs))
        count = _difference(spec, settings, sizes, done, tool)
    except ExecutionError as exc:
        if strict:
            raise
        count = InstructionCount.failed(spec, settings, str(exc), tool)
    return replace(count, seconds=time.monotonic() - started, environment=fingerprint())


def _record(counted: Counted, what: str) -> dict[str, Any]:
    lines = [line for line in counted.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise ExecutionError(f"{what} printed no result; its stderr ends with:\n"
                             f"{counted.stderr.strip()[-2000:]}")
    record: dict[str, Any] = json.loads(lines[-1])
    if record.get("schema_version") != SCHEMA_VERSION:
        raise ExecutionError(f"{what} answered with schema {record.get('schema_version')!r}, "
                             f"expected {SCHEMA_VERSION}")
    return record


def _difference(spec: TargetSpec, settings: InstructionSettings, sizes: Sequence[int],
                done: Sequence[Counted], tool: str) -> InstructionCount:
    """Per layout, (k calls - none) / k for each event; the median over layouts."""
    what = f"the instruction-count worker of {spec.label}"
    k = settings.calls
    events = ["Ir", *(e for e in CACHE_EVENTS if settings.cache_sim)]
    per_layout: list[dict[str, float]] = []
    totals: dict[str, dict[str, int]] = {}
    items: Any = None
    for i, size in enumerate(sizes):
        none, some = done[2 * i], done[2 * i + 1]
        _record(none, what)
        items = _record(some, what).get("items")
        missing = [e for e in events if e not in none.events or e not in some.events]
        if missing:
            raise ExecutionError(f"Cachegrind did not count {', '.join(missing)} for "
                                 f"{spec.label}")
        per_layout.append({e: (some.events[e] - none.events[e]) / k for e in events})
        totals[f"{size}:0"] = dict(none.events)
        totals[f"{size}:{k}"] = dict(some.events)
        if per_layout[-1]["Ir"] <= 0:
            raise ExecutionError(
                f"{spec.label}: {k} calls counted {some.events['Ir']:,} instructions in all "
                f"and none counted {none.events['Ir']:,}, so a call cost nothing "
                "measurable; is the call doing any work?")
    per_call = {e: statistics.median(layout[e] for layout in per_layout) for e in events}
    irs = [layout["Ir"] for layout in per_layout]
    settings_json = {"threads": 1, "hash_seed": settings.seed,
                     "aslr": "off" if aslr_off_prefix() else "on",
                     "gc": "collected and frozen before the calls",
                     "layouts": list(sizes), "heap_shifts": list(HEAP_SHIFTS[:len(sizes)]),
                     "per_layout_ir": irs,
                     "layout_spread": (max(irs) - min(irs)) / per_call["Ir"]}
    return InstructionCount(spec, per_call, k, settings.warmup, settings.cache_sim,
                            int(items) if isinstance(items, int) else None, tool,
                            settings_json, {}, totals)
