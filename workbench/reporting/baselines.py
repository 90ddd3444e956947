"""What passes from one report run to the next, and between the notebooks of one run.

A report measures each target once. The compare notebook keeps its measurements in the
run's folder (``measurements.json``, :func:`keep_measurements`); the budgets notebook
judges those (:func:`kept_measurements`) and measures only what they lack. A run whose
budgets pass stores what it measured as ``baseline-WORKLOAD.json`` in its folder
(:func:`store_run_baseline`); the next run judges relative limits against the newest
run on this machine that ended green (:func:`last_green`): the budgeting protocol's
baseline, the last green run on a fixed workload, seeds and warm-up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import InvalidInputError, WorkbenchError
from workbench.files import write_atomic

if TYPE_CHECKING:
    from workbench.budget.baseline import Baseline
    from workbench.budget.check_result import CheckResult, ScalingObservation
    from workbench.measure.comparison import Comparison
    from workbench.measure.instructions import InstructionCount
    from workbench.measure.measurement import Measurement

__all__ = ["MEASUREMENTS", "GreenRun", "first_run", "keep_measurements", "kept_measurements",
           "last_green", "run_baseline_path", "store_run_baseline"]

#: The compare notebook's measurements, in the run's folder.
MEASUREMENTS = "measurements.json"
_KIND = "report-measurements"


def run_baseline_path(folder: Path, workload: str) -> Path:
    """Where a green run keeps the baseline of ``workload``."""
    return folder / f"baseline-{workload}.json"


def keep_measurements(comparisons: Iterable[Comparison], folder: Path) -> Path:
    """Every variant's measurement of ``comparisons``, written to ``folder``."""
    records = [r.measurement.to_json() for c in comparisons for r in c.results]
    return write_atomic(folder / MEASUREMENTS, json.dumps(
        {"schema_version": 1, "kind": _KIND, "measurements": records}, allow_nan=False))


def kept_measurements(folder: Path) -> tuple[Measurement, ...]:
    """The measurements the run's compare notebook kept (none: an empty tuple); a file
    that is not one is refused, naming it."""
    from workbench.measure.measurement import Measurement
    from workbench.results import result_from_json

    path = folder / MEASUREMENTS
    if not path.is_file():
        return ()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("kind") != _KIND:
            raise ValueError(f"kind {data.get('kind') if isinstance(data, dict) else None!r}")
        found = tuple(result_from_json(m) for m in data["measurements"])
    except (OSError, ValueError, KeyError, TypeError, WorkbenchError) as exc:
        raise InvalidInputError(f"{path}: not the measurements of a report's compare "
                                f"notebook ({exc})") from None
    if not all(isinstance(m, Measurement) for m in found):
        raise InvalidInputError(f"{path}: holds records that are not measurements")
    return tuple(m for m in found if isinstance(m, Measurement))


@dataclass(frozen=True)
class GreenRun:
    """A report run that ended green, and the baseline it stored."""

    folder: Path
    baseline: Path
    sha: str | None
    created_at: str

    @property
    def said(self) -> str:
        commit = f"commit {self.sha[:7]}" if self.sha else "no commit"
        return f"the last green report on this machine, {self.folder.name} ({commit}, " \
               f"{self.created_at})"


def _summary(folder: Path) -> Mapping[str, Any] | None:
    from workbench.reporting.summary import read_summary

    try:
        return read_summary(folder / "summary.json")
    except InvalidInputError:
        return None


def last_green(reports: Path, workload: str, pipeline: str,
               before: Path | None = None) -> GreenRun | None:
    """The newest run under ``reports`` (other than ``before``) of ``pipeline`` on
    ``workload`` that ended green and stored a baseline; None if there is none."""
    if not reports.is_dir():
        return None
    for folder in sorted((p for p in reports.iterdir() if p.is_dir()), reverse=True):
        if before is not None and folder.resolve() == before.resolve():
            continue
        summary = _summary(folder)
        stored = run_baseline_path(folder, workload)
        if summary is None or summary.get("status") != "pass" or \
                summary.get("workload") != workload or summary.get("pipeline") != pipeline \
                or not stored.is_file():
            continue
        git = summary.get("git")
        sha = git.get("sha") if isinstance(git, dict) else None
        return GreenRun(folder, stored, sha, str(summary.get("created_at", "")))
    return None


def first_run(result: CheckResult, stored: Path | None) -> CheckResult:
    """``result`` without its no-baseline verdicts, which a first run cannot avoid: one
    note says how many relative rules wait for a baseline and where it was stored."""
    waiting = [v for v in result.verdicts if v.status == "no-baseline"]
    if not waiting:
        return result
    where = (f"stored this run's measurements as the baseline the next run will use: "
             f"{stored}" if stored is not None else
             "this run is not green, so it stored no baseline")
    note = (f"first run on this machine: {len(waiting)} relative rules have no baseline "
            f"yet; {where}")
    return replace(result, verdicts=tuple(v for v in result.verdicts
                                          if v.status != "no-baseline"),
                   notes=(*result.notes, note))


def store_run_baseline(path: Path, measured: Sequence[Measurement],
                       current: Sequence[Measurement], budgets_hash: str, *,
                       instructions: Sequence[InstructionCount] = (),
                       scaling: Sequence[ScalingObservation] = ()) -> Baseline:
    """The run's measurements as a stored baseline at ``path``: the check's own
    (``current``, which may hold more workers) where it has them, else the compare
    notebook's (``measured``), so later runs can judge every compared variant."""
    from workbench.budget.baseline import save_baseline

    by_target = {m.target.label: m for m in measured if m.ok}
    by_target.update({m.target.label: m for m in current if m.ok})
    return save_baseline(path, list(by_target.values()), budgets_hash,
                         instructions=instructions, scaling=scaling)
