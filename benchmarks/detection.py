"""Does the default comparison detect a 10 % slowdown, and stay quiet when nothing changed?

    python benchmarks/detection.py [--trials 20]

Runs ``--trials`` A/B comparisons of a busy-work workload against a copy that does 10 %
more work (busy work, not sleep), and as many A/A comparisons of two identical copies, all
with the engine's default settings (process workers, interleaved). Prints the detection
rate (goal >= 95 %) and the false-alarm rate (goal <= 1 in 20), and how long one default
comparison took.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p
)

from microloads import busy, busy_copy, busy_slower  # noqa: E402

from workbench.measure.config import MeasureConfig  # noqa: E402
from workbench.measure.engine import compare_callables  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    config = MeasureConfig()
    print(f"default settings: {config.workers} workers x {config.samples} samples, warm-up "
          f">= {config.warmup_calls} calls and {config.warmup_seconds} s")
    outcomes: dict[str, list[str]] = {"A/B (10% slower)": [], "A/A (identical)": []}
    ratios: dict[str, list[float]] = {k: [] for k in outcomes}
    seconds: list[float] = []
    for trial in range(args.trials):
        for kind, candidate in (("A/B (10% slower)", busy_slower), ("A/A (identical)", busy_copy)):
            started = time.perf_counter()
            comp = compare_callables(busy, candidate, config=config)
            seconds.append(time.perf_counter() - started)
            pair = comp.result("candidate").versus_baseline
            assert pair is not None
            outcomes[kind].append(pair.verdict)
            if pair.speedup.value is not None:
                ratios[kind].append(pair.speedup.value)
            print(f"  trial {trial + 1:2d} {kind:17} speed-up {pair.speedup.value:.3f} "
                  f"p={pair.p_value:.2g} -> {pair.verdict}", flush=True)
    detected = outcomes["A/B (10% slower)"].count("slower")
    alarms = sum(v != "inconclusive" for v in outcomes["A/A (identical)"])
    n = args.trials
    print(f"\ndetection rate: {detected}/{n} = {detected / n:.0%} (goal >= 95%): "
          f"{'met' if detected / n >= 0.95 else 'MISSED'}")
    print(f"false alarms:   {alarms}/{n} = {alarms / n:.0%} (goal <= 1 in 20): "
          f"{'met' if alarms / n <= 0.05 else 'MISSED'}")
    for kind, values in ratios.items():
        print(f"median speed-up {kind}: {statistics.median(values):.3f} "
              f"(range {min(values):.3f}-{max(values):.3f})")
    print(f"one default comparison of two targets: median {statistics.median(seconds):.1f} s")


if __name__ == "__main__":
    main()
