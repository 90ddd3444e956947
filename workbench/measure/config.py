"""How to measure: the protocol's settings, validated, with defaults tuned on 2 cores."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from workbench.errors import InvalidInputError

__all__ = ["CACHE_STATES", "COMPARE_METRICS", "GC_POLICIES", "MODES", "MeasureConfig"]

GC_POLICIES = ("enabled", "disabled", "collect")
MODES = ("process", "inprocess")
#: The cache state a measurement of a cached variant times (memo tables): ``cold``,
#: emptied before every timed call; ``warm``, filled by a batch sequence's first batches
#: and timed on the rest; ``steady``, the whole sequence from empty, every batch timed.
CACHE_STATES = ("cold", "warm", "steady")
#: What ``compare`` measures: wall time always; ``instructions`` adds the instructions per
#: call under Cachegrind beside it, ``cache`` adds the simulated cache misses too.
COMPARE_METRICS = ("time", "instructions", "cache")


def _int_at_least(name: str, value: object, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum}; got {value!r}")


@dataclass(frozen=True, slots=True)
class MeasureConfig:
    """Settings of one measurement.

    - ``workers``: fresh processes per target (``mode="process"``); in-process mode runs
      the same protocol ``workers`` times in this process.
    - ``samples``: timed samples per worker, after warm-up.
    - warm-up runs until both ``warmup_calls`` calls and ``warmup_seconds`` have passed;
      it cannot be switched off (first-call costs — Numba compilation, model loading —
      land there and are reported separately).
    - ``min_sample_ns``: calls are batched so one sample lasts at least this long
      (0 = automatic: 10x the timer's measured overhead, at least 10 us).
    - ``gc``: ``enabled`` (as in production), ``disabled`` during samples, or
      ``collect`` before every sample.
    - ``threads``: thread count pinned in each worker (OMP/MKL/OpenBLAS/Numba/Polars/torch)
      and, with ``pin``, the number of CPUs in its affinity mask.
    - ``cache``: the cache state timed when the target uses memo tables (``CACHE_STATES``).
    - ``contention_threads``: the threads that share a cached variant's tables when its
      throughput under contention is measured (against 1 thread).
    """

    workers: int = 5
    samples: int = 15
    warmup_calls: int = 3
    warmup_seconds: float = 0.3
    min_sample_ns: int = 0
    gc: str = "enabled"
    threads: int = 1
    pin: bool = True
    timeout: float = 300.0
    seed: int = 0
    heap: bool = True
    mode: str = "process"
    cache: str = "warm"
    contention_threads: int = 2

    def __post_init__(self) -> None:
        _int_at_least("workers", self.workers, 1)
        _int_at_least("samples", self.samples, 1)
        _int_at_least("warmup_calls", self.warmup_calls, 1)
        _int_at_least("min_sample_ns", self.min_sample_ns, 0)
        _int_at_least("threads", self.threads, 1)
        _int_at_least("seed", self.seed, 0)
        _int_at_least("contention_threads", self.contention_threads, 2)
        if not isinstance(self.warmup_seconds, int | float) or not self.warmup_seconds >= 0:
            raise InvalidInputError(
                f"warmup_seconds must be a number >= 0; got {self.warmup_seconds!r}"
            )
        if not isinstance(self.timeout, int | float) or not self.timeout > 0:
            raise InvalidInputError(
                f"timeout must be a number of seconds > 0; got {self.timeout!r}"
            )
        if self.gc not in GC_POLICIES:
            raise InvalidInputError(f"gc policy {self.gc!r} is unknown; choose one of: "
                                    + ", ".join(GC_POLICIES))
        if self.cache not in CACHE_STATES:
            raise InvalidInputError(f"cache state {self.cache!r} is unknown; choose one of: "
                                    + ", ".join(CACHE_STATES))
        if self.mode not in MODES:
            raise InvalidInputError(f"mode {self.mode!r} is unknown; choose one of: "
                                    + ", ".join(MODES))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MeasureConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInputError(
                f"unknown measurement settings {unknown}; known: {sorted(known)}"
            )
        return cls(**data)
