"""Fidelity: the same micro-workloads timed by workbench, pyperf and timeit, in one run.

    python benchmarks/fidelity.py

For each workload: the median per-call time each tool reports, the ratio workbench/pyperf
(goal: within +-5 %), and each tool's dispersion over its own values — the robust
coefficient of variation 1.4826 * MAD / median, and stdev / mean — (goal: ours <= pyperf's).
pyperf runs through its own ``timeit`` command (its default: 20 worker processes); timeit
uses ``timeit.repeat`` in this process. The tools run one after the other per workload.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import timeit
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


def with_workbench(name: str) -> list[float]:
    m = measure(getattr(microloads, name), config=MeasureConfig())
    if not m.ok:
        raise SystemExit(m.error_text())
    return [ns / 1e9 for ns in m.samples]


def main() -> None:
    rows = []
    for name in WORKLOADS:
        results = {"workbench": with_workbench(name), "pyperf": with_pyperf(name),
                   "timeit": with_timeit(name)}
        rows.append((name, results))
        print(f"\n{name}")
        for tool, values in results.items():
            print(f"  {tool:10} median {statistics.median(values) * 1e3:9.4f} ms  "
                  f"n={len(values):4d}  robust CV {robust_cv(values):6.2%}  "
                  f"stdev/mean {plain_cv(values):6.2%}")
        ratio = statistics.median(results["workbench"]) / statistics.median(results["pyperf"])
        print(f"  workbench/pyperf median ratio {ratio:.3f} "
              f"({'within' if abs(ratio - 1) <= 0.05 else 'OUTSIDE'} +-5%)")
        ours, theirs = robust_cv(results["workbench"]), robust_cv(results["pyperf"])
        print(f"  dispersion (robust CV) workbench {ours:.2%} vs pyperf {theirs:.2%}: "
              f"{'ours <= pyperf' if ours <= theirs else 'ours LARGER'}")


if __name__ == "__main__":
    main()
