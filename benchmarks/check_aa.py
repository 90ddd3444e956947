"""How often does the whole budget check false-alarm when nothing changed?

    python benchmarks/check_aa.py [--runs 20]

Runs ``workbench check --against HEAD`` (the working commit against itself: identical
code, both sides measured in the same run, interleaved, exactly as CI does against HEAD~1)
``--runs`` times with the repository's ``budgets.toml`` and default settings, and prints
how many runs exited 1 (an error-level breach: a false alarm here) — goal <= 1 in 20 —
plus the verdict counts, the share of error-level verdicts left inconclusive (goal < 10 %),
the looks the sequential check took and the time one check takes.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    alarms = 0
    seconds: list[float] = []
    statuses: collections.Counter[str] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    looks: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            out = Path(tmp) / f"check-{run}.json"
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "workbench.cli", "check", "--against", "HEAD",
                 "--no-progress", "--no-history", "--json", str(out)],
                capture_output=True, text=True,
            )
            seconds.append(time.perf_counter() - started)
            if done.returncode not in (0, 1):
                raise SystemExit(f"check failed to run (exit {done.returncode}):\n{done.stderr}")
            verdicts = json.loads(out.read_text())["verdicts"]
            statuses.update(v["status"] for v in verdicts)
            errors.update(v["status"] for v in verdicts if v["rule"]["level"] == "error"
                          and v["rule"]["metric"].startswith(("latency", "throughput")))
            looks.append(max((v.get("look") or 1) for v in verdicts))
            breaches = [f"{v['rule']['stage']}/{v['rule']['variant']} {v['rule']['metric']}"
                        for v in verdicts if v["status"] == "breach"]
            alarms += done.returncode == 1
            print(f"  run {run + 1:2d}: exit {done.returncode}  looks {looks[-1]}  "
                  f"{seconds[-1]:.0f} s  breaches: {breaches or '-'}", flush=True)
    rate = alarms / args.runs
    print(f"\nwhole-check false alarms (exit 1 on identical code): {alarms}/{args.runs} = "
          f"{rate:.0%} (goal <= 1 in 20): {'met' if rate <= 0.05 else 'MISSED'}")
    print(f"verdicts over all runs: {dict(statuses)}")
    total = sum(errors.values())
    share = errors["inconclusive"] / total if total else 0.0
    print(f"error-level latency/throughput verdicts: {dict(errors)}; inconclusive "
          f"{share:.0%} (goal < 10 %): {'met' if share < 0.10 else 'MISSED'}")
    print(f"looks per check: median {statistics.median(looks):g}, max {max(looks)}")
    print(f"one check: median {statistics.median(seconds):.0f} s")


if __name__ == "__main__":
    main()
