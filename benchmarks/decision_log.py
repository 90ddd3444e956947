"""What the decision log costs as it grows, measured side by side in one run.

    python benchmarks/decision_log.py [--sizes 50,150,300] [--reps 5]

One real decision is recorded first: ``chunk`` of the reference pipeline compared on
``tiny`` (2 workers x 5 samples), with a py-spy flame graph and a memray memory track as
evidence (the memory track dominates the record's size). The log is then grown with copies
of it (new ids) to each size, and at each size, alternated rep by rep:

- the scan an append does under the lock (the leading fields of each line it wrote),
- a scan that parses every line whole (what an append would cost without the leading-field
  read), and their ratio;
- one whole append, and one whole read (every record rebuilt, evidence included).

Run it on an otherwise idle machine: it prints the load average before and after.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _alternated(a: Callable[[], Any], b: Callable[[], Any], reps: int) -> tuple[float, float]:
    """Median times of ``a`` and ``b``, run A B, B A, A B, ..."""
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(reps):
        for j in ((0, 1) if i % 2 == 0 else (1, 0)):
            times[j].append(_timed((a, b)[j]))
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50,150,300", help="log sizes (records)")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    from workbench import app
    from workbench.decisions import DecisionLog, new_id
    from workbench.measure.config import MeasureConfig

    print(f"load average before: {os.getloadavg()}")
    work = Path(tempfile.mkdtemp(prefix="wb-decision-log-"))
    comparison = app.compare("chunk", "tiny", config=MeasureConfig(workers=2, samples=5))
    flame = app.profile("flame", "chunk", "tiny", duration=1.0)
    memory = app.profile("memory", "chunk", "tiny", calls=2)
    log = DecisionLog(work / "decisions.jsonl")
    first = app.decide("chunk", "pure", "benchmark", log=log.path, workload="tiny",
                       evidence=(comparison, flame, memory)).record
    size = log.path.stat().st_size
    print(f"one decision with a comparison, a flame graph and a memory track: "
          f"{size / 1e6:.2f} MB on one line")
    print(f"{'records':>8} {'MB':>7} {'append scan':>12} {'whole-line scan':>16} {'ratio':>6} "
          f"{'append':>8} {'read':>8}")
    for n in sizes:
        have = len(log.read().records)
        for _ in range(n - have):
            log.append(dataclasses.replace(first, id=new_id()))
        scan, whole = _alternated(log._scan, log._raw, args.reps)
        append = _timed(lambda: log.append(dataclasses.replace(first, id=new_id())))
        read = _timed(log.read)
        mb = log.path.stat().st_size / 1e6
        print(f"{n:>8} {mb:>7.1f} {scan:>11.3f}s {whole:>15.3f}s {whole / scan:>5.1f}x "
              f"{append:>7.3f}s {read:>7.3f}s")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
