"""A measurement worker: ``python -m workbench.measure.worker`` reads a job on stdin.

The job (JSON): ``{"schema_version": 1, "index": i, "target": {...}, "config": {...},
"cpus": [..]}``. The parent sets the thread-count environment variables before this
process starts (they must precede the numeric libraries' import); here the worker pins
its CPU affinity, fixes seeds, limits torch's threads if torch is loaded, runs the
protocol and prints one JSON line: the :class:`WorkerRun` with ``schema_version``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
from typing import Any

SCHEMA_VERSION = 1


def pin(cpus: list[int] | None, threads: int, seed: int) -> None:
    if cpus and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):  # not allowed: the fingerprint records the real mask
            os.sched_setaffinity(0, cpus)
    random.seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed)
    torch: Any = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
        torch.manual_seed(seed)


def main() -> int:
    from workbench.measure import cache_protocol
    from workbench.measure.config import MeasureConfig
    from workbench.measure.fingerprint import fingerprint
    from workbench.measure.protocol import WorkerRun, run_protocol
    from workbench.measure.targets import TargetSpec, prepare

    job = json.loads(sys.stdin.read())
    if job.get("schema_version") != SCHEMA_VERSION:
        print(f"unsupported job schema {job.get('schema_version')!r}", file=sys.stderr)
        return 2
    index = int(job["index"])
    config = MeasureConfig.from_json(job["config"])
    pin(job.get("cpus"), config.threads, config.seed)
    try:
        prepared = prepare(TargetSpec.from_json(job["target"]).unpacked())
        pin(job.get("cpus"), config.threads, config.seed)  # again: preparing may load torch
        cache_protocol.CONTENTION_CPUS = job.get("contention_cpus")
        run = run_protocol(prepared, config, index=index, fresh_process=True)
    except Exception as exc:
        run = WorkerRun.failed(index, exc)
    record = {"schema_version": SCHEMA_VERSION,
              **run.to_json(), "fingerprint": fingerprint()}
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
