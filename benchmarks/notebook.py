"""What the notebook front end costs, measured side by side in one run.

    python benchmarks/notebook.py [--reps 7] [--workers 3] [--samples 10]

1. ``%%budget`` against the same measurement made through the service layer
   (``workbench.app.measure`` of a function defined in the same notebook namespace, so
   both ship the same code by value to the same number of worker processes): the wall
   time of each, alternated rep by rep (A B, B A, ...), and their ratio. The difference is
   what the magic adds: parsing, building the block, the verdicts, the display.
2. The panel: from pressing Measure on ``chunk`` (three variants) to the timing table in
   the panel, on the ``tiny`` workload, in an in-process panel (no browser).

Run it on an otherwise idle machine: it prints the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

CELL = "total = work(data)\n"
SETUP = ("import math\ndata = list(range(20000))\n"
         "def work(xs):\n    return sum(math.sqrt(x) for x in xs)\n"
         "def block():\n    total = work(data)\n")


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def budget_overhead(reps: int, workers: int, samples: int) -> None:
    from IPython.testing.globalipapp import start_ipython

    ip: Any = start_ipython()
    ip.run_line_magic("load_ext", "workbench")
    assert ip.run_cell(SETUP).success
    flags = f"--latency 10s --workers {workers} --samples {samples}"

    def magic() -> None:
        from IPython.utils.capture import capture_output

        with capture_output():
            assert ip.run_cell(f"%%budget {flags}\n{CELL}").success

    def service() -> None:
        from workbench import app
        from workbench.measure.config import MeasureConfig

        m = app.measure(ip.user_ns["block"], config=MeasureConfig(workers=workers,
                                                                  samples=samples))
        assert m.ok

    magic(), service()  # first calls pay for imports
    a: list[float] = []
    b: list[float] = []
    for i in range(reps):
        order = ((a, magic), (b, service)) if i % 2 == 0 else ((b, service), (a, magic))
        for sink, fn in order:
            sink.append(_timed(fn))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"%%budget (magic):        median {ma * 1e3:8.1f} ms over {reps} reps "
          f"(min {min(a) * 1e3:.1f}, max {max(a) * 1e3:.1f})")
    print(f"app.measure (service):   median {mb * 1e3:8.1f} ms over {reps} reps "
          f"(min {min(b) * 1e3:.1f}, max {max(b) * 1e3:.1f})")
    print(f"ratio magic/service:     {ma / mb:.3f}x  (overhead {1e3 * (ma - mb):+.1f} ms per "
          f"cell; {workers} workers x {samples} samples)")


def measure_to_table(stage: str, variant: str, *, workload: str, workers: int,
                     samples: int) -> float:
    """Seconds from pressing Measure (after toggling ``stage`` to ``variant``) until the
    panel's timing tab holds the table of every variant."""
    from workbench.notebook import session as sessions
    from workbench.notebook.panel.main import build_panel

    sessions.reset()
    panel = build_panel(workload=workload, workers=workers, samples=samples)
    panel.rows[stage].toggle.value = variant
    t0 = time.perf_counter()
    panel.measure_button.click()
    while "wb-table" not in panel.tabs.timing.value:
        if not panel.runner.busy and "wb-table" not in panel.tabs.timing.value:
            raise RuntimeError(f"the panel finished without a table: {panel.errors.value}")
        time.sleep(0.01)
    return time.perf_counter() - t0


def panel_latency(reps: int, workers: int, samples: int) -> None:
    times = [measure_to_table("chunk", "native", workload="tiny", workers=workers,
                              samples=samples) for _ in range(reps)]
    print(f"panel Measure -> table:  median {statistics.median(times):.2f} s over {reps} "
          f"(min {min(times):.2f}, max {max(times):.2f}); chunk, 3 variants, tiny, "
          f"{workers} workers x {samples} samples")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--samples", type=int, default=10)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    budget_overhead(args.reps, args.workers, args.samples)
    panel_latency(max(3, args.reps // 2), args.workers, args.samples)
    print(f"load average after:  {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
