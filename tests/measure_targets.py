"""Importable targets for measurement tests (worker processes import them by name)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence

from workbench.rag.types import RawDoc


def count_words(docs: Sequence[RawDoc]) -> int:
    return sum(len(d.abstract.split()) for d in docs)


def always_raises() -> None:
    raise ValueError("this workload always fails")


def dies() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def hangs() -> None:
    time.sleep(600)


def busy(n: int = 20_000) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total
