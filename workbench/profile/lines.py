"""Line profiles: line_profiler's per-line hits and time for a stage variant's functions.

The runner (``run_target`` in ``lines`` mode, a fresh process) wraps the measured calls
in line_profiler's ``LineProfiler`` on the chosen functions -- by default the variant's
own function -- and dumps its ``LineStats`` as JSON (times as timer units, with the
functions' source); :func:`parse_line_stats` reads that into a :class:`LineProfile`.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar, NamedTuple, Self

from workbench.errors import InvalidInputError, MissingDependencyError
from workbench.measure.targets import TargetSpec, WorkloadArg
from workbench.profile._common import (
    Overhead,
    now,
    profiled_run,
    runner_argv,
    short_path,
    target_spec,
    workdir,
)
from workbench.profile.cells import CellLabels, CellNamed, cells_from_json, label_files
from workbench.refs import PipelineArg, callable_ref
from workbench.results import Result
from workbench.shipping import Code, pack
from workbench.stages import Stage, Variant

__all__ = ["FunctionLines", "LineProfile", "LineRow", "line_profile", "parse_line_stats"]

FEATURE = "line profiles (line_profiler)"


class LineRow(NamedTuple):
    line: int
    hits: int
    time_s: float
    source: str


@dataclass(frozen=True)
class FunctionLines:
    """One function's lines (every line of its source; unexecuted ones have 0 hits)."""

    name: str
    file: str
    first_line: int
    rows: tuple[LineRow, ...]

    @property
    def total_s(self) -> float:
        return sum(r.time_s for r in self.rows)

    def pct(self, row: LineRow) -> float:
        total = self.total_s
        return 100.0 * row.time_s / total if total > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "first_line": self.first_line,
                "rows": [list(r) for r in self.rows]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FunctionLines:
        return cls(str(data["name"]), str(data["file"]), int(data["first_line"]),
                   tuple(LineRow(int(n), int(h), float(t), str(s)) for n, h, t, s in data["rows"]))


def parse_line_stats(data: Mapping[str, Any]) -> tuple[float, tuple[FunctionLines, ...]]:
    """(timer unit in seconds, functions) from the runner's line-stats JSON."""
    try:
        unit = float(data["unit"])
        functions = []
        for fn in data["functions"]:
            measured = {int(n): (int(h), int(t) * unit) for n, h, t in fn["lines"]}
            first = int(fn["first_line"])
            source = list(fn.get("source") or [])
            numbers = sorted(set(range(first, first + len(source))) | set(measured))
            rows = tuple(
                LineRow(n, *measured.get(n, (0, 0.0)),
                        source[n - first] if 0 <= n - first < len(source) else "")
                for n in numbers)
            functions.append(FunctionLines(str(fn["name"]), str(fn["file"]), first, rows))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"not a line-stats record: {exc!r}") from None
    return unit, tuple(functions)


@dataclass(frozen=True)
class LineProfile(CellNamed, Result):
    """line_profiler's per-line hits and time for the profiled functions, over the
    measured calls only (setup and warm-up run before the profiler is enabled).

    ``cells`` names the functions' files that are notebook cells (``"In [3]"``; a line
    of one is ``In [3], line 14``), made where the profile was taken; schema 2 added it.
    """

    kind: ClassVar[str] = "line_profile"
    schema_version: ClassVar[int] = 2

    target: TargetSpec
    functions: tuple[FunctionLines, ...]
    unit: float
    overhead: Overhead
    tool: str
    created_at: str
    artifacts: str | None = None
    cells: CellLabels | None = None  # None: named from this process's IPython shell

    def _cell_files(self) -> Iterable[str]:
        return {fn.file for fn in self.functions}

    def function(self, name: str) -> FunctionLines:
        for fn in self.functions:
            if fn.name == name or fn.name.endswith("." + name):
                return fn
        raise InvalidInputError(f"no profiled function {name!r}; profiled: "
                                + ", ".join(f.name for f in self.functions))

    def hottest_lines(self, n: int = 10) -> list[tuple[str, str, LineRow, float]]:
        """The ``n`` lines with the most time: (function, "file:line", row, % of function)."""
        rows = [(fn.name, f"{short_path(fn.file)}:{r.line}", r, fn.pct(r))
                for fn in self.functions for r in fn.rows if r.hits]
        return sorted(rows, key=lambda x: -x[2].time_s)[:n]

    # -- the record --------------------------------------------------------------------
    def _payload(self) -> dict[str, Any]:
        return {"target": self.target.to_json(), "unit": self.unit,
                "functions": [f.to_json() for f in self.functions],
                "overhead": self.overhead.to_json(), "tool": self.tool,
                "created_at": self.created_at, "artifacts": self.artifacts,
                "cells": self.cell_names}

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> Self:
        artifacts = data.get("artifacts")
        functions = tuple(FunctionLines.from_json(f) for f in data["functions"])
        # before schema 2: the cells that name themselves (<ipython-input-3-...>)
        cells = (cells_from_json(data["cells"]) if data["schema_version"] >= 2
                 else label_files({f.file for f in functions}, {}))
        return cls(TargetSpec.from_json(data["target"]), functions,
                   float(data["unit"]), Overhead.from_json(data["overhead"]),
                   str(data["tool"]), str(data["created_at"]),
                   None if artifacts is None else str(artifacts), cells)

    def summary_json(self) -> dict[str, Any]:
        return {"functions": [
            {"name": fn.name, "file": fn.file, "first_line": fn.first_line,
             "cell": self.cell_at(f"{fn.file}:{fn.first_line}"), "total_s": fn.total_s}
            for fn in self.functions]}


def _unwrap(fn: Any) -> Any:
    if isinstance(fn, Variant):
        return fn.fn
    if isinstance(fn, Stage):
        return fn.get(fn.variant_names[0]).fn  # its pure function
    return fn


def function_refs(functions: Sequence[Any],
                  ) -> tuple[list[str], tuple[Callable[..., Any], ...]]:
    """The functions to profile: ``module:qualname`` names for those the runner can import,
    the others (a notebook's) to ship by value."""
    refs: list[str] = []
    shipped: list[Callable[..., Any]] = []
    for fn in functions:
        if isinstance(fn, str):
            if ":" not in fn:
                raise InvalidInputError(f"expected 'module:qualname'; got {fn!r}")
            refs.append(fn)
            continue
        target = _unwrap(fn)
        if not callable(target):
            raise InvalidInputError(f"a function to line-profile is a callable, a stage, a "
                                    f"variant or 'module:qualname'; got {type(fn).__name__}")
        ref = callable_ref(target, through_stage=True)
        if ref is not None:
            refs.append(ref)
        elif getattr(target, "__code__", None) is None:
            raise InvalidInputError(f"{fn!r} has no Python code to line-profile")
        else:
            shipped.append(target)
    return refs, tuple(shipped)


def _with_functions(spec: TargetSpec, functions: tuple[Callable[..., Any], ...]) -> TargetSpec:
    if not functions:
        return spec
    base = spec.code or Code()
    code = Code(base.pipeline, base.workload, base.fn, functions)
    return replace(spec, by_value=True, code=code, payload=pack(code, what=spec.label))


def line_profile(
    stage: str | TargetSpec,
    workload: WorkloadArg | None = None,
    variant: str = "pure",
    *,
    pipeline: PipelineArg = None,
    functions: Sequence[str | Callable[..., Any] | Stage | Variant] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    duration: float = 1.0,
    calls: int | None = None,
    threads: int = 1,
    timeout: float = 300.0,
    keep_artifacts: bool = False,
) -> LineProfile:
    """Line-profile ``stage``'s ``variant`` on ``workload`` (or exactly ``calls`` calls).

    ``functions`` (callables or ``"module:qualname"``) replace the default, the variant's
    own function. A plain run first fixes the number of calls and their time without the
    profiler.
    """
    if not isinstance(duration, int | float) or not duration > 0:
        raise InvalidInputError(f"duration must be > 0 seconds; got {duration!r}")
    refs, shipped = function_refs(functions or ())
    spec = _with_functions(target_spec(stage, workload, variant, params, pipeline), shipped)
    if importlib.util.find_spec("line_profiler") is None:
        raise MissingDependencyError("line_profiler", FEATURE, "profile")
    with workdir(keep_artifacts) as directory:
        stats_path = directory / "lines.lines.json"
        run = profiled_run(
            directory, spec, lambda job: [sys.executable, *runner_argv(job)],
            what="line_profiler", seconds=float(duration), calls=calls, threads=threads,
            timeout=timeout, outputs=(stats_path,), mode="lines", functions=refs,
            name="lines")
        unit, profiled = parse_line_stats(json.loads(stats_path.read_text(encoding="utf-8")))
        from importlib.metadata import version

        return LineProfile(spec, profiled, unit, run.overhead,
                           f"line_profiler {version('line_profiler')}", now(),
                           str(directory) if keep_artifacts else None)
