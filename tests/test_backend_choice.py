"""Native back ends chosen by timing on this machine (real model runners, no mocks):
the faster candidate wins whatever the order, a failing candidate falls back with a note,
overrides are validated, and retrieve's thread count is chosen and noted."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from workbench.errors import InvalidInputError, MissingDependencyError
from workbench.measure.config import MeasureConfig
from workbench.measure.engine import measure
from workbench.rag import minilm_backend as mb
from workbench.rag import retrieve, retrieve_numba

Runner = Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], Any]
IDLE: dict[str, str] = {}  # an environment without overrides


def _fp32(threads: int) -> Runner:
    """The real float32 model on ``threads`` threads (cheap to build: no export)."""
    from workbench.rag import minilm

    return mb.torch_runner(minilm.load_model().model, threads)


def _slowed(build: Callable[[int], Runner], seconds: float = 0.5) -> Callable[[int], Runner]:
    """``build``'s runner with ``seconds`` of sleep per call: 5x and more a probe's time,
    even when a neighbour slows the real one down."""
    def slow_build(threads: int) -> Runner:
        run = build(threads)

        def slow(input_ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> Any:
            time.sleep(seconds)
            return run(input_ids, mask)

        return slow

    return slow_build


def _missing(threads: int) -> Runner:
    raise MissingDependencyError("onnxruntime", "the minilm embedding model", "ml")


pytestmark = pytest.mark.slow


@pytest.mark.parametrize("slow", ["bf16", "onnx"])
def test_the_faster_candidate_wins_whichever_is_tried_first(slow: str) -> None:
    makers: dict[str, Callable[[int], Runner]] = {"bf16": _fp32, "onnx": _fp32}
    makers[slow] = _slowed(_fp32)
    for bf16_first in (True, False):
        choice = mb.choose_minilm(makers, cpus=1, bf16_first=bf16_first, environ=IDLE)
        fast = "onnx" if slow == "bf16" else "bf16"
        assert choice.backend == fast and choice.threads == 1, choice.note
        assert choice.note.startswith(f"{fast}, 1 thread (fastest of 2 candidates, timed on "
                                      "a probe of 8 texts x 32 tokens): ")
        assert f"{slow}, 1 thread " in choice.note
        ids, mask = mb.probe_batch()
        assert choice.runner(ids, mask).shape == (8, 384)


def test_thread_counts_are_candidates_too() -> None:
    """On more than one CPU: each back end with 1 thread and with one per CPU."""
    choice = mb.choose_minilm({"bf16": _fp32, "onnx": _slowed(_fp32, 2.0)}, cpus=2,
                              bf16_first=True, environ=IDLE)
    assert choice.backend == "bf16" and choice.threads in (1, 2)
    for label in ("bf16, 2 threads", "bf16, 1 thread", "onnx, 2 threads", "onnx, 1 thread"):
        assert label in choice.note
    assert "fastest of 4 candidates" in choice.note
    # the slow one is dropped: at its first call (over 4x the best) or after a round
    # (over 2x) when a neighbour slows the 2-thread probes of bf16 down
    assert "x: dropped" in choice.note, choice.note


def test_a_failing_candidate_falls_back_with_a_note() -> None:
    choice = mb.choose_minilm({"bf16": _fp32, "onnx": _missing}, cpus=2, bf16_first=False,
                              environ=IDLE)
    assert choice.backend == "bf16"
    assert ("onnx, 2 threads and onnx, 1 thread could not be used here "
            "(MissingDependencyError: the minilm embedding model needs the package "
            "'onnxruntime'") in choice.note


def test_when_every_candidate_fails_the_first_failure_is_raised() -> None:
    with pytest.raises(MissingDependencyError, match="onnxruntime"):
        mb.choose_minilm({"bf16": _missing, "onnx": _missing}, cpus=1, bf16_first=True,
                         environ=IDLE)


def test_overrides_narrow_the_candidates() -> None:
    both = {mb.BACKEND_VAR: "onnx", mb.THREADS_VAR: "1"}
    choice = mb.choose_minilm({"bf16": _missing, "onnx": _fp32}, cpus=2, bf16_first=True,
                              environ=both)
    assert (choice.backend, choice.threads) == ("onnx", 1)
    assert choice.note.startswith(
        "onnx, 1 thread (the only candidate; WORKBENCH_MINILM_BACKEND=onnx; "
        "WORKBENCH_MINILM_THREADS=1; not timed)")
    lowered = mb.choose_minilm({"bf16": _fp32, "onnx": _missing}, cpus=1, bf16_first=True,
                               environ={mb.THREADS_VAR: "4", mb.BACKEND_VAR: "auto"})
    assert lowered.threads == 1
    assert "WORKBENCH_MINILM_THREADS=4 lowered to the 1 allowed CPU" in lowered.note
    asked = mb.choose_minilm({"bf16": _missing, "onnx": _fp32}, cpus=1, bf16_first=True,
                             backend="onnx", environ={mb.BACKEND_VAR: "bf16"})
    assert asked.backend == "onnx" and "back end onnx asked for" in asked.note


def _rotated(build: Callable[[int], Runner], rows: int = 1) -> Callable[[int], Runner]:
    """``build``'s runner with its vectors shifted by ``rows``: as fast, and wrong."""
    def wrong_build(threads: int) -> Runner:
        run = build(threads)
        return lambda ids, mask: np.roll(run(ids, mask), rows, axis=0)

    return wrong_build


def _pure_of_probe() -> npt.NDArray[np.float32]:
    ids, mask = mb.probe_batch()
    return np.asarray(_fp32(1)(ids, mask))


def test_a_fast_wrong_candidate_is_refused_by_the_accuracy_gate() -> None:
    """The wrong candidate is as fast (it is the same runner) and would win half the
    time; the gate refuses it before it is timed, naming its worst cosine."""
    makers = {"bf16": _rotated(_fp32), "int8": _rotated(_fp32), "onnx": _slowed(_fp32, 0.05)}
    choice = mb.choose_minilm(makers, cpus=1, bf16_first=True, environ=IDLE,
                              reference=_pure_of_probe())
    assert choice.backend == "onnx", choice.note
    for name in ("bf16", "int8"):
        assert re.search(rf"{name}, 1 thread not eligible: min cosine 0\.\d{{4}} against "
                         r"pure on the probe, below 0\.99", choice.note), choice.note
    unjudged = mb.choose_minilm(makers, cpus=1, bf16_first=True, environ=IDLE)
    assert unjudged.backend in ("bf16", "int8")  # without a reference nothing is judged


def test_refusing_every_candidate_or_the_only_one_is_an_error() -> None:
    wrong = {"bf16": _rotated(_fp32), "onnx": _rotated(_fp32, 2)}
    with pytest.raises(InvalidInputError, match=r"no back-end candidate is eligible here: "
                                                r"bf16, 1 thread not eligible: .*; "
                                                r"onnx, 1 thread not eligible"):
        mb.choose_minilm(wrong, cpus=1, bf16_first=True, environ=IDLE,
                         reference=_pure_of_probe())
    forced = {mb.BACKEND_VAR: "onnx", mb.THREADS_VAR: "1"}
    with pytest.raises(InvalidInputError, match=r"the back end onnx, 1 thread \(.*\) is not "
                                                "eligible: min cosine"):
        mb.choose_minilm(wrong, cpus=1, bf16_first=True, environ=forced,
                         reference=_pure_of_probe())
    right = mb.choose_minilm({"onnx": _fp32}, cpus=1, bf16_first=True, environ=forced,
                             reference=_pure_of_probe())
    assert "its probe output passed the accuracy gate" in right.note


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        (mb.BACKEND_VAR, "gpu", "WORKBENCH_MINILM_BACKEND='gpu' is not accepted; use one of "
                                "bf16, onnx, or auto"),
        (mb.BACKEND_VAR, "BF16", "WORKBENCH_MINILM_BACKEND='BF16' is not accepted"),
        (mb.THREADS_VAR, "two", "WORKBENCH_MINILM_THREADS='two' is not accepted; use a whole "
                                "number of threads >= 1, or auto"),
        (mb.THREADS_VAR, "0", "WORKBENCH_MINILM_THREADS='0' is not accepted"),
    ],
)
def test_a_bad_override_is_a_clear_error(var: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        mb.choose_minilm({"bf16": _fp32, "onnx": _fp32}, cpus=2, bf16_first=True,
                         environ={var: value})
    assert message in str(caught.value)


def test_retrieve_threads_are_chosen_once_and_noted(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench import notes
    from workbench.rag.types import EmbeddingBatch

    monkeypatch.setattr(retrieve_numba, "_chosen", [])
    monkeypatch.delenv(retrieve_numba.THREADS_VAR, raising=False)
    rng = np.random.default_rng(3)
    index = EmbeddingBatch.from_rows([f"c{i}" for i in range(3000)],
                                     rng.standard_normal((3000, 16)).astype(np.float32), 16)
    queries = rng.standard_normal((4, 16)).astype(np.float32)
    with notes.collecting() as got:
        hits = retrieve_numba.retrieve_native(index, queries, 3)
    assert hits == retrieve.retrieve_vectorized(index, queries, 3)
    note = got["retrieve.native"]
    assert "the first call's 3000 x 16 index and 4 queries" in note or "only candidate" in note
    assert note.startswith("numba, ")
    monkeypatch.setattr(retrieve_numba, "_chosen", [])
    monkeypatch.setenv(retrieve_numba.THREADS_VAR, "many")
    with pytest.raises(InvalidInputError, match="WORKBENCH_RETRIEVE_THREADS='many' is not"):
        retrieve_numba.retrieve_native(index, queries, 3)
    monkeypatch.setattr(retrieve_numba, "_chosen", [])
    monkeypatch.setenv(retrieve_numba.THREADS_VAR, "1")
    with notes.collecting() as got:
        retrieve_numba.retrieve_native(index, queries, 3)
    assert got["retrieve.native"].startswith(
        "numba, 1 thread (the only candidate; WORKBENCH_RETRIEVE_THREADS=1; not timed)")


def test_a_measured_native_variant_carries_its_choice() -> None:
    """retrieve native in a worker process with two threads: the timed choice is noted."""
    m = measure("retrieve", "tiny", variant="native",
                config=MeasureConfig(workers=1, samples=2, warmup_calls=1, warmup_seconds=0,
                                     threads=2))
    assert m.ok, m.error_text()
    (note,) = m.notes["retrieve.native"]
    assert note.startswith("numba, ")
    assert "timed on the first call's" in note or "1 CPU allowed" in note  # 1-CPU machines
    assert "note retrieve.native: numba, " in m.to_text()
