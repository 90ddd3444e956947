"""A :class:`Measurement`: the raw record of measuring one target, and what it says.

Immutable and JSON round-trippable (``schema_version``); raw samples are kept, every
statistic is computed from them on demand. A run whose target raised is recorded as a
failed worker with its exception; the measurement is failed when no worker succeeded.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workbench.errors import InvalidInputError
from workbench.measure import stats
from workbench.measure.config import MeasureConfig
from workbench.measure.fingerprint import fingerprint
from workbench.measure.protocol import WorkerRun
from workbench.measure.targets import TargetSpec

__all__ = ["SCHEMA_VERSION", "Measurement", "format_ns"]

SCHEMA_VERSION = 1


def format_ns(ns: float | None) -> str:
    if ns is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def _estimate_text(est: stats.Estimate) -> str:
    if est.value is None:
        return "insufficient samples"
    if est.interval is None:
        return format_ns(est.value)
    return f"{format_ns(est.value)} [{format_ns(est.interval.low)}, {format_ns(est.interval.high)}]"


@dataclass(frozen=True)
class Measurement:
    target: TargetSpec
    config: MeasureConfig
    runs: tuple[WorkerRun, ...]
    started_at: str
    environment: dict[str, Any]

    @classmethod
    def new(cls, target: TargetSpec, config: MeasureConfig,
            runs: tuple[WorkerRun, ...]) -> Measurement:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        env = next((r.fingerprint for r in runs if r.fingerprint), None) or fingerprint()
        return cls(target, config, runs, now, env)

    # -- what the runs say ---------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return any(r.ok for r in self.runs)

    @property
    def failures(self) -> tuple[WorkerRun, ...]:
        return tuple(r for r in self.runs if not r.ok)

    @property
    def groups(self) -> tuple[tuple[float, ...], ...]:
        """Per-call nanoseconds, one tuple per successful worker."""
        return tuple(r.per_call_ns for r in self.runs if r.ok and r.batch_ns)

    @property
    def samples(self) -> tuple[float, ...]:
        return tuple(x for g in self.groups for x in g)

    @property
    def per_batch(self) -> bool:
        """True when calls were batched: percentiles are of batch means, not single calls."""
        return any(r.loops > 1 for r in self.runs if r.ok)

    @property
    def items_per_call(self) -> int:
        return next((r.items_per_call for r in self.runs if r.ok), 0)

    def summary(self) -> stats.Summary:
        if not self.samples:
            raise InvalidInputError(f"measurement of {self.target.label} has no samples: "
                                    + self.error_text())
        return stats.summarize(self.samples)

    def throughput(self) -> float | None:
        """Items per second at the median per-call time."""
        if not self.samples or not self.items_per_call:
            return None
        return self.items_per_call / (stats.percentile(self.samples, 50) / 1e9)

    @property
    def peak_rss_kb(self) -> int | None:
        values = [r.rss_peak_kb for r in self.runs if r.ok and r.rss_peak_kb is not None]
        return max(values) if values else None

    @property
    def rss_exact(self) -> bool:
        return all(r.rss_exact for r in self.runs if r.ok)

    @property
    def heap_peak_bytes(self) -> int | None:
        values = [r.heap_peak_bytes for r in self.runs if r.ok and r.heap_peak_bytes is not None]
        return max(values) if values else None

    @property
    def first_call_ns(self) -> float | None:
        values = [r.first_call_ns for r in self.runs if r.ok]
        return stats.percentile(values, 50) if values else None

    @property
    def warmup_ns(self) -> float | None:
        values = [r.warmup_ns for r in self.runs if r.ok]
        return stats.percentile(values, 50) if values else None

    def error_text(self) -> str:
        if not self.failures:
            return ""
        first = self.failures[0]
        return (f"{len(self.failures)} of {len(self.runs)} workers failed; first: "
                f"[{first.error_type}] {first.error}")

    # -- persistence ---------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "measurement",
            "target": self.target.to_json(),
            "config": self.config.to_json(),
            "started_at": self.started_at,
            "environment": self.environment,
            "runs": [r.to_json() for r in self.runs],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measurement:
        version = data.get("schema_version")
        if data.get("kind") != "measurement":
            raise InvalidInputError(f"not a measurement record (kind {data.get('kind')!r})")
        if not isinstance(version, int) or version > SCHEMA_VERSION or version < 1:
            raise InvalidInputError(
                f"measurement schema_version {version!r} is not supported; this workbench "
                f"reads versions 1..{SCHEMA_VERSION}"
            )
        return cls(
            TargetSpec.from_json(data["target"]),
            MeasureConfig.from_json(data["config"]),
            tuple(WorkerRun.from_json(r) for r in data["runs"]),
            str(data["started_at"]),
            dict(data["environment"]),
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)

    # -- renderings ----------------------------------------------------------------------
    def to_text(self) -> str:
        head = f"{self.target.label} on {self.target.workload or '(no workload)'}"
        if not self.ok:
            return f"{head}: FAILED: {self.error_text()}"
        s = self.summary()
        unit = "per batch" if self.per_batch else "per call"
        tp = self.throughput()
        lines = [
            f"{head}: {s.n} samples from {len(self.groups)} "
            + ("in-process runs, no process isolation" if self.config.mode == "inprocess"
               else "worker processes") + f" ({unit})",
            f"  p50 {_estimate_text(s.median)}",
            f"  p95 {_estimate_text(s.p95)}",
            f"  p99 {_estimate_text(s.p99)}",
            f"  MAD {format_ns(s.mad)}  IQR {format_ns(s.iqr)}  outliers {s.outliers}",
            f"  throughput {tp:,.1f} items/s" if tp else "  throughput -",
            f"  peak RSS {self.peak_rss_kb / 1024:.1f} MiB"
            + ("" if self.rss_exact else " (approximate)") if self.peak_rss_kb else "  peak RSS -",
            f"  Python heap peak {self.heap_peak_bytes / 2**20:.2f} MiB (tracemalloc)"
            if self.heap_peak_bytes is not None else "  Python heap peak -",
            f"  warm-up {format_ns(self.warmup_ns)} (first call {format_ns(self.first_call_ns)})",
        ]
        if self.failures:
            lines.append(f"  {self.error_text()}")
        return "\n".join(lines)

    def to_html(self) -> str:
        return f"<pre class='wb-measurement'>{html.escape(self.to_text())}</pre>"

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()
