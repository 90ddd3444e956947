"""A :class:`Measurement`: the raw record of measuring one target, and what it says.

Immutable and JSON round-trippable (``schema_version``); raw samples are kept, every
statistic is computed from them on demand. A run whose target raised is recorded as a
failed worker with its exception; the measurement is failed when no worker succeeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from workbench.errors import InvalidInputError
from workbench.measure import stats
from workbench.measure.cache_figures import cache_summary
from workbench.measure.config import MeasureConfig
from workbench.measure.fingerprint import fingerprint
from workbench.measure.protocol import WorkerRun
from workbench.measure.summary import Summary, summarize_groups
from workbench.measure.targets import TargetSpec
from workbench.results import Result

__all__ = ["SCHEMA_VERSION", "Measurement"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Measurement(Result):
    kind: ClassVar[str] = "measurement"
    schema_version: ClassVar[int] = SCHEMA_VERSION

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
    def nodes(self) -> tuple[str, ...]:
        """The machines its successful workers ran on: cluster nodes by address, else
        hosts by name (empty for records made before either was kept)."""
        found = {str(r.fingerprint.get("node") or r.fingerprint.get("host") or "")
                 for r in self.runs if r.ok}
        return tuple(sorted(found - {""}))

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

    def summary(self) -> Summary:
        """Figures of the pooled samples; the percentile intervals take the worker as the
        unit (``summarize_groups``: a worker's samples are not independent)."""
        if not self.samples:
            raise InvalidInputError(f"measurement of {self.target.label} has no samples: "
                                    + self.error_text())
        return summarize_groups(self.groups)

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

    @property
    def notes(self) -> dict[str, tuple[str, ...]]:
        """What the target recorded about itself (:mod:`workbench.notes`): per key,
        the distinct texts across workers, in worker order."""
        found: dict[str, dict[str, None]] = {}
        for r in self.runs:
            for key, text in r.notes.items():
                found.setdefault(key, {})[text] = None
        return {key: tuple(texts) for key, texts in found.items()}

    def notes_text(self) -> list[str]:
        """One line per distinct note; a text not every worker recorded names its workers."""
        lines = []
        for key, texts in self.notes.items():
            for text in texts:
                workers = [str(r.index) for r in self.runs if r.notes.get(key) == text]
                who = "" if len(texts) == 1 and len(workers) == len(self.runs) else (
                    f" (worker{'s' if len(workers) > 1 else ''} {', '.join(workers)})")
                lines.append(f"  note {key}{who}: {text}")
        return lines

    def to_text(self, **options: Any) -> str:
        return "\n".join([super().to_text(**options), *self.notes_text()])

    @property
    def isolated(self) -> bool:
        """False when the runs shared this process (mode ``inprocess``)."""
        return self.config.mode != "inprocess"

    # -- the record ----------------------------------------------------------------------
    def _payload(self) -> dict[str, Any]:
        return {
            "target": self.target.to_json(),
            "config": self.config.to_json(),
            "started_at": self.started_at,
            "environment": self.environment,
            "runs": [r.to_json() for r in self.runs],
        }

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> Measurement:
        return cls(
            TargetSpec.from_json(data["target"]),
            MeasureConfig.from_json(data["config"]),
            tuple(WorkerRun.from_json(r) for r in data["runs"]),
            str(data["started_at"]),
            dict(data["environment"]),
        )

    def summary_json(self) -> dict[str, Any]:
        """The figures a reader wants without re-doing the statistics (all in ns, bytes
        and items/s; percentiles with their worker-level 95% intervals)."""
        out: dict[str, Any] = {
            "ok": self.ok, "workers": len(self.groups), "failed_workers": len(self.failures),
            "per": "batch" if self.per_batch else "call", "isolated": self.isolated}
        if self.notes:
            out["notes"] = {key: list(texts) for key, texts in self.notes.items()}
        if not self.samples:
            return out
        s = self.summary()
        out.update(samples=s.n, p50_ns=s.median.to_json(), p95_ns=s.p95.to_json(),
                   p99_ns=s.p99.to_json(), mad_ns=s.mad, iqr_ns=s.iqr, outliers=s.outliers,
                   items_per_call=self.items_per_call, throughput_items_per_s=self.throughput(),
                   peak_rss_bytes=None if self.peak_rss_kb is None else self.peak_rss_kb * 1024,
                   rss_exact=self.rss_exact, heap_peak_bytes=self.heap_peak_bytes,
                   warmup_ns=self.warmup_ns, first_call_ns=self.first_call_ns)
        cache = cache_summary(self)
        if cache is not None:
            out["cache"] = cache
        return out
