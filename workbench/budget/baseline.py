"""The baseline store: a versioned JSON file of reference measurements.

Layout (``schema_version`` 1)::

    {"schema_version": 1, "kind": "baseline", "tool_version": "0.1.0",
     "workload": "small" | null,          # null when the measurements span several
     "workloads": ["small"], "seeds": [0], "config": {...} | null,
     "budgets_hash": "<sha256 of the budgets the baseline was recorded for>",
     "created_at": "2024-05-01T12:00:00+00:00",
     "measurements": [<Measurement.to_json()>, ...],
     "scaling": [<ScalingObservation.to_json()>, ...],
     "instructions": [<InstructionCount.to_json()>, ...]}   # optional

:func:`save_baseline` serializes first, then writes a temporary file in the target's
directory and ``os.replace``-s it over the target, so an existing baseline is never
clobbered by a failed or interrupted save. :func:`load_baseline` refuses missing,
truncated or non-JSON files, other kinds, schema versions it does not know, and (when
asked for one) a baseline of another workload.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.budget.check_result import ScalingObservation
from workbench.errors import InvalidInputError
from workbench.files import read_text, write_atomic
from workbench.measure.instructions import InstructionCount
from workbench.measure.measurement import Measurement
from workbench.results import check_record

__all__ = ["BASELINE_SCHEMA_VERSION", "Baseline", "load_baseline", "save_baseline"]

BASELINE_SCHEMA_VERSION = 1


def _tool_version() -> str:
    from workbench.version import __version__

    return __version__


@dataclass(frozen=True)
class Baseline:
    measurements: tuple[Measurement, ...]
    budgets_hash: str
    workloads: tuple[str, ...] = ()
    seeds: tuple[int, ...] = ()
    config: Mapping[str, Any] | None = None
    scaling: tuple[ScalingObservation, ...] = ()
    tool_version: str = ""
    created_at: str = ""
    path: str | None = field(default=None, compare=False)
    instructions: tuple[InstructionCount, ...] = ()

    @property
    def workload(self) -> str | None:
        return self.workloads[0] if len(self.workloads) == 1 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": BASELINE_SCHEMA_VERSION,
            "kind": "baseline",
            "tool_version": self.tool_version,
            "workload": self.workload,
            "workloads": list(self.workloads),
            "seeds": list(self.seeds),
            "config": None if self.config is None else dict(self.config),
            "budgets_hash": self.budgets_hash,
            "created_at": self.created_at,
            "measurements": [m.to_json() for m in self.measurements],
            "scaling": [s.to_json() for s in self.scaling],
            "instructions": [c.to_json() for c in self.instructions],
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "baseline") -> Baseline:
        try:
            check_record(data, "baseline", BASELINE_SCHEMA_VERSION)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{where}: {exc}") from None
        try:
            measurements = tuple(Measurement.from_json(m) for m in data["measurements"])
            scaling = tuple(ScalingObservation.from_json(s) for s in data.get("scaling", ()))
            counts = tuple(InstructionCount.from_json(c) for c in data.get("instructions", ()))
            config = data.get("config")
            return cls(
                measurements, str(data["budgets_hash"]),
                tuple(str(w) for w in data.get("workloads") or ()),
                tuple(int(s) for s in data.get("seeds") or ()),
                None if config is None else dict(config), scaling,
                str(data.get("tool_version", "")), str(data.get("created_at", "")), where,
                counts,
            )
        except InvalidInputError as exc:
            raise InvalidInputError(f"{where}: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInputError(f"{where}: malformed baseline ({type(exc).__name__}: "
                                    f"{exc}); expected the layout of save_baseline") from None


def save_baseline(path: str | Path, measurements: Sequence[Measurement], budgets_hash: str, *,
                  scaling: Sequence[ScalingObservation] = (),
                  config: Mapping[str, Any] | None = None,
                  created_at: str | None = None,
                  instructions: Sequence[InstructionCount] = ()) -> Baseline:
    """Write ``measurements`` (and sweep ``scaling``, instruction counts) as the baseline at
    ``path``, atomically.

    ``config`` defaults to the measurements' common MeasureConfig (None if they differ).
    Raises InvalidInputError, leaving any existing file untouched, when there is nothing to
    save or the data cannot be serialized.
    """
    if not measurements:
        raise InvalidInputError("a baseline needs at least one measurement; got none")
    configs = {json.dumps(m.config.to_json(), sort_keys=True) for m in measurements}
    if config is None and len(configs) == 1:
        config = measurements[0].config.to_json()
    baseline = Baseline(
        tuple(measurements), budgets_hash,
        tuple(sorted({m.target.workload for m in measurements if m.target.workload})),
        tuple(sorted({m.config.seed for m in measurements})), config, tuple(scaling),
        _tool_version(), created_at or datetime.now(UTC).isoformat(timespec="seconds"),
        str(path), tuple(instructions),
    )
    try:
        text = json.dumps(baseline.to_json(), indent=1, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"cannot save the baseline to {str(path)!r}: the data is not "
                                f"JSON-serializable ({exc}); nothing was written") from None
    if not Path(path).parent.is_dir():
        raise InvalidInputError(f"cannot save the baseline to {str(path)!r}: its directory "
                                "does not exist")
    write_atomic(path, text)
    return baseline


def load_baseline(path: str | Path, workload: str | None = None) -> Baseline:
    """Read the baseline at ``path``; with ``workload``, refuse a baseline of another one."""
    p = Path(path)
    where = str(p)
    text = read_text(p, "baseline", missing="; record one first")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{where}: not valid JSON (truncated or corrupted?): {exc.msg} at line "
            f"{exc.lineno}, column {exc.colno}"
        ) from None
    baseline = Baseline.from_json(data, where)
    if workload is not None and workload not in baseline.workloads:
        have = ", ".join(baseline.workloads) or "(none)"
        raise InvalidInputError(f"{where}: the baseline is for workload {have}, not "
                                f"{workload!r}; record a baseline for {workload!r}")
    return baseline
