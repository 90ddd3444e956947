"""The JSON documents of ``workbench stages``, ``workloads`` and ``history`` (``--json``).

Each is one object with a ``"schema"`` key (``workbench.<listing>/1``; a change that
removes or renames a field bumps the number) and a list of records.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.budget.history import Series
    from workbench.budget.steps import Step
    from workbench.pipeline import Pipeline
    from workbench.workloads import Workload

__all__ = ["history_json", "stages_json", "workloads_json"]


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, allow_nan=False)


def stages_json(pipeline: Pipeline, ref: str) -> str:
    stages = [{"name": s.name, "input": s.input, "output": s.output,
               "params": {k: repr(v) for k, v in s.defaults.items()},
               "variants": [{"name": v, "description": s.get(v).description}
                            for v in s.variant_names]}
              for s in pipeline.stages]
    return _dumps({"schema": "workbench.stages/1", "pipeline": ref, "name": pipeline.name,
                   "stages": stages})


def workloads_json(rows: Iterable[Workload], default: str | None, ref: str) -> str:
    workloads = [{"name": w.name, "size": w.size, "seed": w.seed,
                  "description": w.description, "module": w.module,
                  "default": w.name == default} for w in rows]
    return _dumps({"schema": "workbench.workloads/1", "pipeline": ref,
                   "workloads": workloads})


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else x


def history_json(parts: Sequence[tuple[Series, Sequence[Step]]], stage: str,
                 metric: str) -> str:
    """One record per (variant, workload) series, its points oldest first and its steps
    (``ratio`` null when the level before was 0)."""
    series = []
    for s, steps in parts:
        first = s.points[0]
        series.append({
            "variant": first.variant, "workload": first.workload,
            "points": [{"run_id": p.run_id, "git_sha": p.git_sha, "created_at": p.created_at,
                        "value": p.value, "ci_low": p.ci_low, "ci_high": p.ci_high}
                       for p in s.points],
            "steps": [{"index": st.index, "before": st.before, "after": st.after,
                       "ratio": _finite(st.ratio)} for st in steps],
        })
    return _dumps({"schema": "workbench.history/1", "stage": stage, "metric": metric,
                   "series": series})
