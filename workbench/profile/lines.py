"""Line profiles: line_profiler's per-line hits and time for a stage variant's functions.

The runner (``run_target`` in ``lines`` mode, a fresh process) wraps the measured calls
in line_profiler's ``LineProfiler`` on the chosen functions -- by default the variant's
own function -- and dumps its ``LineStats`` as JSON (times as timer units, with the
functions' source); :func:`parse_line_stats` reads that into a :class:`LineProfile`.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from workbench.errors import ExecutionError, InvalidInputError, MissingDependencyError
from workbench.measure.targets import TargetSpec, WorkloadArg
from workbench.profile._common import (
    RESULT_SCHEMA,
    Overhead,
    check_schema,
    now,
    read_report,
    run_plain,
    run_tool,
    runner_argv,
    runner_env,
    save_text,
    short_path,
    target_spec,
    workdir,
    write_job,
)
from workbench.refs import PipelineArg, import_ref, name_of
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
class LineProfile:
    target: TargetSpec
    functions: tuple[FunctionLines, ...]
    unit: float
    overhead: Overhead
    tool: str
    created_at: str
    artifacts: str | None = None

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

    # -- persistence -------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"schema_version": RESULT_SCHEMA, "kind": "line_profile",
                "target": self.target.to_json(), "unit": self.unit,
                "functions": [f.to_json() for f in self.functions],
                "overhead": self.overhead.to_json(), "tool": self.tool,
                "created_at": self.created_at, "artifacts": self.artifacts}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LineProfile:
        check_schema(data, "line_profile")
        return cls(TargetSpec.from_json(data["target"]),
                   tuple(FunctionLines.from_json(f) for f in data["functions"]),
                   float(data["unit"]), Overhead.from_json(data["overhead"]),
                   str(data["tool"]), str(data["created_at"]), data.get("artifacts"))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``.json`` (the record), ``.html`` or ``.txt`` (kernprof's table)."""
        return save_text(path, {"json": lambda: json.dumps(self.to_json()),
                                "html": self.to_html, "txt": self.to_text})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LineProfile:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    # -- renderings --------------------------------------------------------------------
    def _head(self) -> str:
        return (f"line profile of {self.target.label} on {self.target.workload or '-'} "
                f"({self.tool})")

    def to_text(self) -> str:
        """kernprof's table, per function (Time and Per Hit in microseconds)."""
        out = [self._head(), self.overhead.to_text(), "", "Timer unit: 1e-06 s"]
        for fn in self.functions:
            out += ["", f"Total time: {fn.total_s:g} s", f"File: {fn.file}",
                    f"Function: {fn.name} at line {fn.first_line}", "",
                    f"{'Line #':>6} {'Hits':>9} {'Time':>12} {'Per Hit':>8} {'% Time':>8}  "
                    "Line Contents", "=" * 62]
            for r in fn.rows:
                if r.hits:
                    us = r.time_s * 1e6
                    out.append(f"{r.line:>6} {r.hits:>9} {us:>12.1f} {us / r.hits:>8.1f} "
                               f"{fn.pct(r):>8.1f}  {r.source}")
                else:
                    out.append(f"{r.line:>6} {'':>9} {'':>12} {'':>8} {'':>8}  {r.source}")
        return "\n".join(out)

    def to_html(self) -> str:
        parts = [f"<div class='wb-profile wb-lines' style='font-size:12px'><p style="
                 f"'font-family:sans-serif;font-size:13px'><b>{html.escape(self._head())}"
                 f"</b><br>{html.escape(self.overhead.to_text())}</p>"]
        for fn in self.functions:
            parts.append(f"<p style='font-family:sans-serif'><b>{html.escape(fn.name)}</b> "
                         f"({html.escape(short_path(fn.file))}:{fn.first_line}), total "
                         f"{fn.total_s:.4g} s</p><table style='border-collapse:collapse;"
                         "font-family:monospace'><thead><tr>"
                         + "".join(f"<th style='padding:0 6px;text-align:right'>{h}</th>"
                                   for h in ("Line", "Hits", "Time (us)", "Per hit", "% Time"))
                         + "<th></th><th style='text-align:left'>Source</th></tr></thead>"
                         "<tbody>")
            for r in fn.rows:
                share = fn.pct(r)
                cells = ((str(r.hits), f"{r.time_s * 1e6:.1f}", f"{r.time_s * 1e6 / r.hits:.2f}",
                          f"{share:.1f}") if r.hits else ("", "", "", ""))
                bar = (f"<div style='background:#e4572e;height:9px;width:{share:.1f}px'></div>"
                       if r.hits else "")
                parts.append(
                    f"<tr><td style='text-align:right;padding:0 6px'>{r.line}</td>"
                    + "".join(f"<td style='text-align:right;padding:0 6px'>{c}</td>"
                              for c in cells)
                    + f"<td style='width:100px'>{bar}</td><td style='white-space:pre'>"
                    f"{html.escape(r.source)}</td></tr>")
            parts.append("</tbody></table>")
        parts.append("</div>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_text()


def _unwrap(fn: Any) -> Any:
    if isinstance(fn, Variant):
        return fn.fn
    if isinstance(fn, Stage):
        return fn.get(fn.variant_names[0]).fn  # its pure function
    return fn


def _stage_ref(fn: Callable[..., Any]) -> str | None:
    """The name of a stage's pure function: its module attribute is the Stage, which the
    runner resolves back to that function."""
    ref = f"{getattr(fn, '__module__', '')}:{getattr(fn, '__qualname__', '')}"
    try:
        obj = import_ref(ref)
    except InvalidInputError:
        return None
    return ref if isinstance(obj, Stage) and obj.get(obj.variant_names[0]).fn is fn else None


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
        ref = name_of(target) or _stage_ref(target)
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
        plain = run_plain(directory, spec, seconds=float(duration), calls=calls,
                          threads=threads, timeout=timeout)
        n = int(plain["calls"])
        job = write_job(directory, "lines", spec, seconds=0.0, calls=n, threads=threads,
                        mode="lines", functions=refs)
        done = run_tool([sys.executable, *runner_argv(job)], what="line_profiler",
                        label=spec.label, timeout=timeout, env=runner_env(threads), check=False)
        report = read_report(job, what="line_profiler", label=spec.label, completed=done)
        stats_path = directory / "lines.lines.json"
        if not stats_path.exists():
            raise ExecutionError(f"the line-profiling runner wrote no statistics for "
                                 f"{spec.label}; its stderr ends with:\n{done.stderr[-2000:]}")
        unit, profiled = parse_line_stats(json.loads(stats_path.read_text(encoding="utf-8")))
        from importlib.metadata import version

        return LineProfile(spec, profiled, unit,
                           Overhead(n, float(plain["loop_s"]), float(report["loop_s"])),
                           f"line_profiler {version('line_profiler')}", now(),
                           str(directory) if keep_artifacts else None)
