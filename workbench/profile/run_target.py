"""The profiling target runner: ``python -m workbench.profile.run_target [--job FILE | JSON]``.

External profilers (py-spy, memray) run this script; line profiling runs it in-process.
The job (JSON, from ``--job FILE``, a JSON argument, or stdin)::

    {"schema_version": 1, "target": {TargetSpec}, "mode": "loop" | "lines",
     "seconds": 2.0, "calls": null, "threads": 1, "seed": 0,
     "report": "/tmp/.../report.json", "functions": ["module:qualname", ...],
     "lines_out": "/tmp/.../lines.json"}

It prepares the target (:func:`~workbench.measure.targets.prepare`), warms it with one
call, then calls it ``calls`` times, or until ``seconds`` have passed when ``calls`` is
null (at least once), inside :func:`_run_loop` -- the frame that profile parsers use to
tell the measured calls from setup. It writes a report (JSON) with the number of calls
and the loop's wall time, or the target's exception, to ``report`` (or stdout). The
report's ``phases`` give each phase's wall-clock bounds ``[start_ms, end_ms]`` in epoch
milliseconds (``time.time() * 1000``, the clock of memray's snapshots): ``prepare``,
``warmup`` and ``measured``.
In ``lines`` mode the loop runs under line_profiler's ``LineProfiler`` on ``functions``
(default: the stage variant's function) and the per-line statistics go to ``lines_out``.
"""

from __future__ import annotations

import inspect
import json
import linecache
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.profile._protocol import JOB_SCHEMA, LOOP_FRAME

if TYPE_CHECKING:
    from workbench.measure.targets import TargetSpec

__all__ = ["main"]


def _epoch_ms() -> float:
    """Wall-clock time in epoch milliseconds (memray's snapshots use the same clock)."""
    return time.time() * 1000.0


def _run_loop(call: Callable[[], Any], calls: int | None, seconds: float) -> tuple[int, float]:
    """Call ``call`` ``calls`` times, or for ``seconds``; return (calls made, wall seconds)."""
    done = 0
    started = time.perf_counter()
    if calls is not None:
        for _ in range(calls):
            call()
        return calls, time.perf_counter() - started
    deadline = started + seconds
    while True:
        call()
        done += 1
        now = time.perf_counter()
        if now >= deadline:
            return done, now - started


def _resolve_function(ref: str) -> Callable[..., Any]:
    from workbench.refs import import_ref
    from workbench.stages import Stage

    obj = import_ref(ref)
    if isinstance(obj, Stage):  # a stage named by its module attribute: its pure function
        obj = obj.get(obj.variant_names[0]).fn
    if not callable(obj):
        raise TypeError(f"{ref} is not a function ({type(obj).__name__})")
    return obj  # type: ignore[no-any-return]


def _variant_function(spec: TargetSpec) -> Callable[..., Any]:
    from workbench.measure.targets import resolve_target

    pipeline, _, fn = resolve_target(spec)
    if pipeline is None:
        return fn  # type: ignore[no-any-return]
    return pipeline.stage(spec.name).get(spec.variant or "pure").fn


def _source_block(filename: str, first: int) -> list[str]:
    """The function's source lines starting at ``first`` (as kernprof shows them)."""
    lines = linecache.getlines(filename)
    if not lines or first < 1:
        return []
    try:
        return [line.rstrip("\n") for line in inspect.getblock(lines[first - 1:])]
    except Exception:  # tokenizer trouble: show what is there
        return [line.rstrip("\n") for line in lines[first - 1:first + 200]]


def _line_stats_json(stats: Any) -> dict[str, Any]:
    functions = []
    for (filename, first, name), rows in sorted(stats.timings.items()):
        functions.append({
            "name": name, "file": filename, "first_line": first,
            "lines": [[int(n), int(hits), int(t)] for n, hits, t in rows],
            "source": _source_block(filename, first),
        })
    return {"schema_version": JOB_SCHEMA, "unit": float(stats.unit), "functions": functions}


def _run(job: dict[str, Any]) -> dict[str, Any]:
    from workbench.measure.targets import TargetSpec, prepare
    from workbench.measure.worker import pin

    threads, seed = int(job.get("threads", 1)), int(job.get("seed", 0))
    pin(None, threads, seed)
    phases: dict[str, list[float]] = {}
    started = time.perf_counter()
    phases["prepare"] = [_epoch_ms()]
    spec = TargetSpec.from_json(job["target"]).unpacked()
    prepared = prepare(spec)
    pin(None, threads, seed)  # again: preparing may have loaded torch
    phases["prepare"].append(_epoch_ms())
    prepare_s = time.perf_counter() - started
    warm_started = time.perf_counter()
    phases["warmup"] = [_epoch_ms()]
    prepared.call()
    phases["warmup"].append(_epoch_ms())
    warmup_s = time.perf_counter() - warm_started
    calls = job.get("calls")
    calls = None if calls is None else int(calls)
    seconds = float(job.get("seconds", 1.0))
    report: dict[str, Any] = {"prepare_s": prepare_s, "warmup_s": warmup_s,
                              "items": prepared.items, "label": prepared.label}
    if job.get("mode", "loop") == "lines":
        from line_profiler import LineProfiler

        profiler = LineProfiler()
        refs = job.get("functions") or []
        shipped = list(spec.code.functions) if spec.code is not None else []
        targets = [_resolve_function(r) for r in refs] + shipped or [_variant_function(spec)]
        for fn in targets:
            profiler.add_function(fn)
        profiler.enable_by_count()
        phases["measured"] = [_epoch_ms()]
        try:
            done, wall = _run_loop(prepared.call, calls, seconds)
        finally:
            phases["measured"].append(_epoch_ms())
            profiler.disable_by_count()
        Path(job["lines_out"]).write_text(json.dumps(_line_stats_json(profiler.get_stats())),
                                          encoding="utf-8")
    else:
        phases["measured"] = [_epoch_ms()]
        done, wall = _run_loop(prepared.call, calls, seconds)
        phases["measured"].append(_epoch_ms())
    report.update(calls=done, loop_s=wall, phases=phases)
    return report


def _read_job(argv: list[str]) -> dict[str, Any]:
    if len(argv) >= 2 and argv[0] == "--job":
        return json.loads(Path(argv[1]).read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    if argv:
        return json.loads(argv[0])  # type: ignore[no-any-return]
    return json.loads(sys.stdin.read())  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    job = _read_job(sys.argv[1:] if argv is None else argv)
    if job.get("schema_version") != JOB_SCHEMA:
        print(f"run_target: unsupported job schema {job.get('schema_version')!r}",
              file=sys.stderr)
        return 2
    try:
        report: dict[str, Any] = {"ok": True, **_run(job)}
        code = 0
    except Exception as exc:
        report = {"ok": False, "error_type": type(exc).__name__,
                  "error": str(exc) or repr(exc),
                  "traceback": "".join(traceback.format_exception(exc))[-4000:]}
        print(f"run_target: the target raised {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 1
    report["schema_version"] = JOB_SCHEMA
    text = json.dumps(report)
    if job.get("report"):
        Path(job["report"]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return code


assert _run_loop.__name__ == LOOP_FRAME  # the parsers find the measured calls by this name

if __name__ == "__main__":
    raise SystemExit(main())
