"""The instruction-count worker: ``python -m workbench.measure.instr_worker``, run under
Cachegrind by :mod:`workbench.measure.instructions`.

It reads a job on stdin (JSON: ``{"schema_version": 1, "target": {...}, "calls": k,
"warmup": w, "seed": s, "heap_shift": h}``), allocates ``h`` small objects (and ``8h``
bytes) that it keeps, so that everything after starts from another heap state (a memory
layout: see :mod:`workbench.measure.instructions`), prepares the target (imports,
workload, upstream stages), makes
``w`` warm-up calls (first-call costs: lazy imports, caches, JIT compilation), collects and
freezes the garbage collector's generations (so a later full collection does not scan the
imported modules' objects, whose number has nothing to do with the stage), then makes
``k`` calls and prints one JSON line. Memo tables (:mod:`workbench.memo`) are emptied
before every call, so a cached variant's count is of a cold call. Everything but the
``k`` calls is the same for every ``k``, so the difference between a run with ``k``
calls and one with none is what the calls cost.
"""

from __future__ import annotations

import gc
import json
import sys

SCHEMA_VERSION = 1


def heap_shift(n: int) -> tuple[list[bytes], bytearray]:
    """``n`` small objects of 31 sizes (16 to 496 bytes of payload) and one ``8n``-byte
    buffer: kept alive, they move where the allocator places what comes after."""
    return [bytes(16 * (i % 31) + 1) for i in range(n)], bytearray(8 * n)


def main() -> int:
    job = json.loads(sys.stdin.read())
    if job.get("schema_version") != SCHEMA_VERSION:
        print(f"unsupported instruction job schema {job.get('schema_version')!r}",
              file=sys.stderr)
        return 2
    shifted = heap_shift(int(job.get("heap_shift", 0)))  # before the imports

    from workbench.measure.targets import TargetSpec, prepare
    from workbench.measure.worker import pin
    from workbench.memo import live_tables

    calls, warmup, seed = int(job["calls"]), int(job["warmup"]), int(job["seed"])
    pin(None, 1, seed)
    prepared = prepare(TargetSpec.from_json(job["target"]).unpacked())
    pin(None, 1, seed)  # again: preparing may load torch
    target = prepared.call

    def call() -> None:
        # memo tables start empty every call: a count is of a cold call (on a batch
        # sequence, the whole sequence from empty), never of hits left by the calls before
        for table in live_tables():
            table.clear()
        target()

    for _ in range(warmup):
        call()
    gc.collect()
    gc.freeze()
    for _ in range(calls):
        call()
    record = {"schema_version": SCHEMA_VERSION, "calls": f"{calls:09d}",
              "items": prepared.items, "shifted": len(shifted[0])}
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
