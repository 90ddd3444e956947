"""minilm's ONNX exports are built once per model and machine (real model, real exports):
a second process reads both from disk instead of exporting again, and its choice's note
says so; an ONNX Runtime session keeps its threads on the CPUs the process may use."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from workbench.rag.minilm_onnx import thread_affinities

pytestmark = pytest.mark.slow

CHOOSE = ("from workbench.rag.minilm import minilm_pure\n"
          "from workbench.rag.minilm_backend import choose_native\n"
          "print(choose_native(minilm_pure).note)\n")


def _note() -> str:
    done = subprocess.run([sys.executable, "-c", CHOOSE], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_a_second_process_reads_the_exports_instead_of_exporting() -> None:
    """The first process builds what this machine's cache lacks (or reads it: another test
    may have built it); the second reads both, whatever the first did."""
    first = _note()
    assert re.search(r"minilm-fp32: (read from|built in)", first), first
    second = _note()
    for name in ("minilm-fp32", "minilm-int8"):
        assert re.search(rf"{name}: read from \S+{name}-[0-9a-f]{{24}}\.onnx in \d+ ms", second), \
            second
    assert "built in" not in second.split("; exports: ")[1], second


def test_session_threads_are_bound_to_the_allowed_cpus() -> None:
    assert thread_affinities(1, [0, 1]) == ""
    assert thread_affinities(2, [3, 1]) == "2,4"
    assert thread_affinities(3, [0, 5, 7]) == "1,6,8;1,6,8"
