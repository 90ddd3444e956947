"""Fidelity: the same micro-workloads timed by workbench, pyperf and timeit, in one run.

    python benchmarks/fidelity.py

Each tool measures each workload ``--repeats`` times (default 5), the tools taking turns.
Printed per workload:

- the median per-call time each tool reports (median over its repeats), and the ratio
  workbench/pyperf (goal: within +-5 %);
- run-to-run dispersion: the coefficient of variation of the figure a tool reports across
  its repeats — how far the number a user reads moves when they measure again. This is
  the like-for-like dispersion and the one the goal applies to (ours <= pyperf's);
- within-run dispersion of each tool's own values (robust CV = 1.4826 MAD / median), for
  information only: pyperf's values are means of calibrated ~100 ms batches of calls, ours
  are single calls (kept so that p95/p99 describe calls), so these are not comparable.

pyperf runs through its own ``timeit`` command (default: 20 worker processes); timeit uses
``timeit.repeat`` in this process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p
)

import microloads  # noqa: E402

from workbench.measure.config import MeasureConfig  # noqa: E402
from workbench.measure.engine import measure  # noqa: E402

WORKLOADS = ("busy", "clean_tiny", "chunk_text")


def robust_cv(values: list[float]) -> float:
    arr = np.asarray(values, dtype=float)
    med = float(np.median(arr))
    return 1.4826 * float(np.median(np.abs(arr - med))) / med


def plain_cv(values: list[float]) -> float:
    return statistics.stdev(values) / statistics.mean(values)


def with_pyperf(name: str) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        subprocess.run(
            [sys.executable, "-m", "pyperf", "timeit", "--quiet", "-o", str(out),
             "-s", f"import microloads; fn = microloads.{name}", "fn()"],
            capture_output=True,
            check=True, cwd=HERE,
        )
        data = json.loads(out.read_text())
    values: list[float] = []
    for run in data["benchmarks"][0]["runs"]:
        values.extend(run.get("values", []))
    return values  # seconds per call


def with_timeit(name: str) -> list[float]:
    fn = getattr(microloads, name)
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    return [t / number for t in timer.repeat(repeat=20, number=number)]


def with_workbench(name: str, workers: int | None = None) -> list[float]:
    config = MeasureConfig() if workers is None else MeasureConfig(workers=workers)
    m = measure(getattr(microloads, name), config=config)
    if not m.ok:
        raise SystemExit(m.error_text())
    return [ns / 1e9 for ns in m.samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--matched", action="store_true",
                        help="also run workbench with pyperf's process count (20 workers)")
    args = parser.parse_args()
    tools: dict[str, Callable[[str], list[float]]] = {
        "workbench": with_workbench, "pyperf": with_pyperf, "timeit": with_timeit}
    if args.matched:
        tools["workbench-20w"] = lambda name: with_workbench(name, workers=20)
    for name in WORKLOADS:
        runs: dict[str, list[list[float]]] = {tool: [] for tool in tools}
        for _ in range(args.repeats):
            for tool, run in tools.items():
                runs[tool].append(run(name))
        print(f"\n{name}  ({args.repeats} repeats per tool)")
        reported = {tool: [statistics.median(v) for v in values] for tool, values in runs.items()}
        for tool in tools:
            within = statistics.median(robust_cv(v) for v in runs[tool])
            print(f"  {tool:13} median {statistics.median(reported[tool]) * 1e3:9.4f} ms  "
                  f"run-to-run CV {plain_cv(reported[tool]):6.2%}  "
                  f"(within-run robust CV {within:6.2%}, n={len(runs[tool][0])} values/run)")
        ratio = statistics.median(reported["workbench"]) / statistics.median(reported["pyperf"])
        print(f"  workbench/pyperf median ratio {ratio:.3f} "
              f"({'within' if abs(ratio - 1) <= 0.05 else 'OUTSIDE'} +-5%)")
        ours, theirs = plain_cv(reported["workbench"]), plain_cv(reported["pyperf"])
        print(f"  run-to-run dispersion: workbench {ours:.2%} vs pyperf {theirs:.2%}: "
              f"{'ours <= pyperf' if ours <= theirs else 'ours LARGER'}")
        if args.matched:
            matched = plain_cv(reported["workbench-20w"])
            print(f"  with pyperf's 20 processes: workbench {matched:.2%} vs pyperf {theirs:.2%}: "
                  f"{'ours <= pyperf' if matched <= theirs else 'ours LARGER'}")


if __name__ == "__main__":
    main()
