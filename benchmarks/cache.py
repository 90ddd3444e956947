"""The cached tier side by side: cached embed against uncached, with and without repeats.

    python benchmarks/cache.py                 # hashing model, reindex and reindex-fresh
    python benchmarks/cache.py --model minilm  # the real MiniLM model (slower: minutes)
    python benchmarks/cache.py --quick         # one state, fewer workers: a smoke run

For each workload (``reindex``: 90 % of each batch's documents come back unchanged;
``reindex-fresh``: none do) and each cache state (``warm``: the tables are filled by the
first batch and the other five are timed; ``steady``: every batch from empty), embed's
``pure``, ``vectorized`` and ``cached`` variants are measured by the workbench's own engine
in interleaved worker processes. Printed per run: the throughput of ``cached`` against
``vectorized`` (the kernel it calls on a miss) and against ``pure`` as a ratio with its 95 %
interval (worker medians, the engine's rank interval), the hit rate against the workload's
stated repeat rate, the cache's bytes and share of peak RSS, and the throughput at 2
threads against 1 (contention), each with its interval over workers. Ratios measured in
one run are what to compare; absolute times move with the machine and its load.

Last, the selection rule is asked which variant to choose under :data:`BUDGET` (a target
pure misses and vectorized meets): it should choose ``cached`` on ``reindex`` (every cache
condition held) and not on ``reindex-fresh`` (hit rate 0).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stages import machine_lines

from workbench import formatting as fmt
from workbench.batches import BatchSequence
from workbench.measure.cache_figures import cache_figures
from workbench.measure.comparison import Comparison
from workbench.measure.config import MeasureConfig
from workbench.measure.engine import compare
from workbench.render.cache import cache_line
from workbench.workloads import get_workload

VARIANTS = ("pure", "vectorized", "cached")
#: The budget the selection rule is asked under: a throughput target for embed.
BUDGET = '[target.embed]\nthroughput = "20000 items/s"\n'


def suggestion(comp: Comparison, workload: str) -> str:
    """What the selection rule chooses for ``comp`` under :data:`BUDGET`, and why."""
    from workbench.app.suggesting import standing_budgets, suggest_variant

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "budgets.toml"
        path.write_text(BUDGET, encoding="utf-8")
        judged = suggest_variant(comp, standing_budgets(path, workload))
    s = judged.suggestion
    return f"  suggested under {BUDGET.splitlines()[1]!r}: {s.variant or 'none'} ({s.reason})"


def _ratio(comp: Comparison, a: str, b: str) -> str:
    """Throughput of a over b: b's worker-median time over a's, with the rank interval."""
    from workbench.measure.worker_stats import unit_ratio_interval, worker_medians

    ma, mb = comp.result(a).measurement, comp.result(b).measurement
    iv = unit_ratio_interval(worker_medians(mb.groups), worker_medians(ma.groups), 0.025)
    if iv.low is None or iv.high is None:
        return f"{iv.value:.3g}x (too few workers for an interval)"
    return f"{iv.value:.3g}x [{iv.low:.3g}x, {iv.high:.3g}x]"


def run(workload: str, state: str, model: str, config: MeasureConfig) -> list[str]:
    seq = get_workload(workload).load()
    assert isinstance(seq, BatchSequence)
    comp = compare("embed", workload, variants=VARIANTS, params={"embed": {"model": model}},
                   config=replace(config, cache=state))
    cached = comp.result("cached")
    f = cache_figures(cached.measurement)
    eq = cached.equivalence
    lines = [f"{workload} ({seq.summary()}), state {state}:",
             f"  throughput cached / vectorized: {_ratio(comp, 'cached', 'vectorized')}",
             f"  throughput cached / pure:       {_ratio(comp, 'cached', 'pure')}",
             f"  equivalent to pure: {'yes' if eq and eq.equivalent else 'NO'}"
             + (f" ({eq.detail})" if eq else "")]
    for v in VARIANTS:
        tp = comp.result(v).measurement.throughput()
        lines.append(f"  {v:<10} {fmt.value(tp, 'throughput') if tp else '-'} (median)")
    lines.append(suggestion(comp, workload))
    if f is None:
        lines.append("  cached recorded no memo-table lookups")
        return lines
    single = "-" if f.single is None else f.single.text(lambda x: fmt.value(x, "throughput"))
    lines += [
        f"  {cache_line(f)}",
        f"  stated repeat rate {100 * seq.repeat_rate:.0f} %; {f.hits:,} hits over the "
        f"workers' timed batches, {f.entries:,} entries; 1 thread: {single}",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("hashing", "minilm"), default="hashing")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    config = MeasureConfig(workers=3 if args.quick else 6, samples=5,
                           warmup_seconds=0.1, contention_threads=2)
    states = ("warm",) if args.quick else ("warm", "steady")
    print("\n".join(machine_lines()))
    print(f"embed model {args.model}; {config.workers} worker processes per variant, "
          "interleaved; intervals 95 % over workers")
    for workload in ("reindex", "reindex-fresh"):
        for state in states:
            print("\n".join(run(workload, state, args.model, config)), flush=True)
    print("\n".join(machine_lines(start=False)))


if __name__ == "__main__":
    main()
