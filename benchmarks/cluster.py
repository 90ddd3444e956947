"""A batch of comparisons here and through a 2-worker local Dask cluster, and the parallel
tier's throughput at 1 and 2 Dask workers.

    python benchmarks/cluster.py [--workers 3] [--samples 8] [--skip-minilm]

1. The same batch of 12 comparisons (clean, chunk, embed, retrieve x 3 workload sizes;
   pure, vectorized and native each) runs twice in this one process: first here, one
   comparison after another (the engine's default: fresh workers pinned to the last CPU),
   then through a ``LocalCluster`` of 2 single-threaded worker processes, each pinned to
   its own CPU, each comparison on one node. Prints both wall times, their ratio, and how
   many verdicts agree between the two runs.
2. ``workbench sweep embed --cluster-workers 1,2`` with the real MiniLM model (and with
   the hashing model, where a partition is too little work for Dask's per-task cost):
   items per second at 1 and 2 Dask workers and the parallel efficiency with its
   interval.

Run it on an otherwise idle machine: the output says what the load was before and after.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

from workbench import app
from workbench.cluster.connect import connect
from workbench.cluster.fanout import ClusterFanout, LocalFanout
from workbench.cluster.sites import Site
from workbench.measure.comparison import Comparison
from workbench.measure.config import MeasureConfig
from workbench.measure.engine import compare
from workbench.measure.load import busy_note

STAGES = ("clean", "chunk", "embed", "retrieve")
SIZES = (10, 20, 40)
VARIANTS = ("pure", "vectorized", "native")


def _batch(config: MeasureConfig) -> tuple[list[Callable[[Site], Comparison]], list[str]]:
    work, labels = [], []
    for stage in STAGES:
        for n in SIZES:
            def run(site: Site, stage: str = stage, n: int = n) -> Comparison:
                return compare(stage, f"tiny@{n}", variants=VARIANTS, config=config,
                               launcher=site.launcher() if site.remote else None,
                               check_equivalence=False)
            work.append(run)
            labels.append(f"{stage} on tiny@{n}")
    return work, labels


def _verdicts(comps: list[Comparison]) -> list[str | None]:
    return [r.versus_baseline.verdict if r.versus_baseline else None
            for c in comps for r in c.results if r.variant != c.baseline]


def _load() -> str:
    return busy_note() or f"idle (1-minute load {os.getloadavg()[0]:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=3, help="worker processes per variant")
    parser.add_argument("--samples", type=int, default=8, help="samples per worker")
    parser.add_argument("--skip-minilm", action="store_true",
                        help="the parallel tier with the hashing model only")
    args = parser.parse_args()
    config = MeasureConfig(workers=args.workers, samples=args.samples)
    cpus = sorted(os.sched_getaffinity(0))
    print(f"machine: {len(cpus)} allowed CPUs {cpus}; before: {_load()}")
    print(f"batch: {len(STAGES)} stages x {len(SIZES)} sizes = {len(STAGES) * len(SIZES)} "
          f"comparisons of {', '.join(VARIANTS)}; {config.workers} workers x "
          f"{config.samples} samples per variant", flush=True)

    work, labels = _batch(config)
    started = time.perf_counter()
    here = LocalFanout().map(work, labels)
    local_s = time.perf_counter() - started
    print(f"  here, one after another:        {local_s:7.1f} s", flush=True)
    with connect("local:2") as cluster:
        pinned = cluster.node_cpus()
        fanout = ClusterFanout(cluster)
        started = time.perf_counter()
        remote = fanout.map(work, labels)
        cluster_s = time.perf_counter() - started
    spread = {label: nodes[0] for label, nodes in fanout.placed.items()}
    print(f"  LocalCluster of 2 (CPUs {sorted(pinned.values())}): {cluster_s:7.1f} s "
          f"({sum(1 for n in spread.values() if n == min(spread.values()))} and "
          f"{sum(1 for n in spread.values() if n != min(spread.values()))} comparisons "
          "on its two nodes)")
    print(f"  ratio here / cluster: {local_s / cluster_s:.2f}x (2 nodes: at most 2x)")
    a, b = _verdicts(here), _verdicts(remote)
    agree = sum(x == y for x, y in zip(a, b, strict=True))
    print(f"  verdicts that agree between the two runs: {agree} of {len(a)}")
    if agree < len(a):
        for label, c, d in zip(labels, here, remote, strict=True):
            for r, s in zip(c.results[1:], d.results[1:], strict=True):
                x, y = r.versus_baseline, s.versus_baseline
                if x and y and x.verdict != y.verdict:
                    print(f"    {label} {r.variant}: here {x.verdict} {x.speedup.value:.3g}x,"
                          f" cluster {y.verdict} {y.speedup.value:.3g}x")
    print(f"after the batch: {_load()}", flush=True)

    models = ("hashing",) if args.skip_minilm else ("minilm", "hashing")
    for model in models:
        workload = "tiny@4" if model == "minilm" else "tiny@40"
        scaled = app.scale_out("embed", workload, workers=[1, 2],
                               params={"embed": {"model": model}},
                               config=MeasureConfig(workers=5, samples=10))
        print(f"\nparallel tier, embed with {model} on {workload}:")
        print(scaled.to_text())
        eff, low, high = scaled.efficiency(2)
        rates = [m.throughput() for _, m in scaled.points]
        if eff is not None and all(rates):
            print(f"  throughput {rates[0]:.1f} -> {rates[1]:.1f} items/s at 1 -> 2 Dask "
                  f"workers; efficiency {eff:.2f} [{low:.2f}, {high:.2f}]")
    print(f"\nafter: {_load()}")


if __name__ == "__main__":
    main()
