"""Wall time of ``workbench report`` on the CI workload, and where it goes.

    python benchmarks/report.py [--workload tiny] [--reps 1] [-p KEY=VALUE ...]

Runs ``python -m workbench.cli report --workload W --out TMP --no-progress`` as a user
would (a fresh process, the built-in notebooks with their default parameters unless
``-p`` says otherwise), then reads the run's ``summary.json`` and executed notebooks: per
notebook its wall time, the kernel start-up before its first cell, its cells (the two
slowest named) and its HTML export; "outside the notebooks" is the whole minus the
notebooks (interpreter start, imports, planning, the index pages). Each figure is printed
with its share of the whole, and the whole as a ratio of the goal (120 s on 2 cores).

Run it on an otherwise idle machine: it prints the load average and the busiest other
processes before it starts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GOAL_S = 120.0
ROOT = Path(__file__).resolve().parents[1]


def _busy() -> str:
    out = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"],
                         capture_output=True, text=True, check=False).stdout.splitlines()
    others = [line.strip() for line in out if not line.strip().endswith(("ps", "python"))]
    return "; ".join(others[:3]) or "nothing"


def _cells(path: Path) -> list[tuple[float, str]]:
    nb = json.loads(path.read_text())
    found = []
    for cell in nb["cells"]:
        took = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if cell["cell_type"] == "code" and took is not None:
            first = "".join(cell["source"]).strip().splitlines()[0][:60]
            found.append((float(took), first))
    return found


def one_run(workload: str, given: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wb-report-bench-") as tmp:
        out = Path(tmp) / "reports"
        cmd = [sys.executable, "-m", "workbench.cli", "report", "--workload", workload,
               "--out", str(out), "--no-progress", *(x for g in given for x in ("-p", g))]
        started = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if done.returncode not in (0, 1):
            raise SystemExit(f"report failed ({done.returncode}):\n{done.stderr[-3000:]}")
        (summary_path,) = out.glob("*/summary.json")
        summary = json.loads(summary_path.read_text())
        notebooks = []
        for nb in summary["notebooks"]:
            cells = _cells(summary_path.parent / nb["ipynb"])
            notebooks.append({"name": nb["name"], "seconds": nb["seconds"],
                              "kernel": nb["kernel_seconds"] or 0.0,
                              "cells": sum(c for c, _ in cells),
                              "export": nb["export_seconds"] or 0.0,
                              "slowest": sorted(cells, reverse=True)[:2]})
        return {"wall": wall, "status": summary["status"], "notebooks": notebooks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="tiny")
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("-p", dest="given", action="append", default=[])
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; "
          f"busiest other processes: {_busy()}")
    runs = [one_run(args.workload, args.given) for _ in range(args.reps)]
    print(f"load average after:  {os.getloadavg()[0]:.2f}")
    walls = [r["wall"] for r in runs]
    wall = statistics.median(walls)
    run = runs[walls.index(min(walls, key=lambda w: abs(w - wall)))]
    print(f"\nworkbench report --workload {args.workload} "
          f"{' '.join('-p ' + g for g in args.given)}: status {run['status']}")
    print(f"whole run: {wall:.1f} s (median of {len(runs)}: "
          f"{', '.join(f'{w:.1f}' for w in walls)}); goal {GOAL_S:.0f} s; "
          f"ratio to goal {wall / GOAL_S:.2f}x")
    inside = sum(nb["seconds"] for nb in run["notebooks"]) + \
        sum(nb["export"] for nb in run["notebooks"])
    print(f"\n{'where':34} {'seconds':>8} {'share':>6}")
    for nb in run["notebooks"]:
        other = nb["seconds"] - nb["kernel"] - nb["cells"]
        print(f"{nb['name']:34} {nb['seconds'] + nb['export']:8.1f} "
              f"{(nb['seconds'] + nb['export']) / run['wall']:6.1%}")
        for label, value in (("  kernel start", nb["kernel"]), ("  cells", nb["cells"]),
                             ("  kernel stop, saving", other), ("  HTML export", nb["export"])):
            print(f"{label:34} {value:8.1f} {value / run['wall']:6.1%}")
        for took, first in nb["slowest"]:
            print(f"    {took:6.1f} s  {first}")
    outside = run["wall"] - inside
    print(f"{'outside the notebooks':34} {outside:8.1f} {outside / run['wall']:6.1%}")


if __name__ == "__main__":
    main()
