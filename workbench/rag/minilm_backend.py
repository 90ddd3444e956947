"""minilm's native back ends, and choosing one by timing it on this machine
(:mod:`workbench.rag.backend_choice`: why, and how the timing goes).

The minilm candidates are its two back ends, built here (``bf16``: a
bfloat16 copy of the model run by PyTorch's oneDNN kernels; ``onnx``: the model exported
to an in-memory ONNX graph run by an ONNX Runtime float32 session), each with one thread
and with one per allowed CPU.

Overrides (``auto`` or unset: choose by timing): ``WORKBENCH_MINILM_BACKEND=bf16|onnx``
and ``WORKBENCH_MINILM_THREADS=<n>``; with both set nothing is timed. A thread count
above the allowed CPUs is lowered to them (the note says so).
"""

from __future__ import annotations

import copy
import logging
import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from workbench.errors import InvalidInputError
from workbench.rag import minilm_model as m
from workbench.rag.backend_choice import (
    SLOW,
    SLOW_FIRST,
    Candidate,
    Choice,
    bind,
    env_choice,
    env_threads,
    fastest,
    thread_counts,
)

__all__ = [
    "BACKEND_VAR", "SLOW", "SLOW_FIRST", "THREADS_VAR", "Candidate", "Choice", "allowed_cpus",
    "builders", "choose_minilm", "choose_native", "cpu_has_native_bf16", "env_choice",
    "env_threads", "export_onnx", "fastest", "onnx_runner", "probe_batch", "thread_counts",
    "torch_runner",
]


BACKEND_VAR = "WORKBENCH_MINILM_BACKEND"
THREADS_VAR = "WORKBENCH_MINILM_THREADS"
#: The minilm probe: one padded batch of this many texts of this many tokens.
PROBE_TEXTS = 8
PROBE_TOKENS = 32
_INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


# --------------------------------------------------------------------------- minilm


def probe_batch() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The minilm probe: fixed pseudo-random word-piece ids between [CLS] and [SEP]."""
    rng = np.random.default_rng(13)
    ids = rng.integers(1996, 29_000, size=(PROBE_TEXTS, PROBE_TOKENS), dtype=np.int64)
    ids[:, 0], ids[:, -1] = 101, 102  # [CLS] ... [SEP]
    return ids, np.ones_like(ids)


def cpu_has_native_bf16() -> bool:
    """True when this CPU has AMX-BF16 or AVX512-BF16: bf16 is timed first (order only)."""
    torch = m._torch()
    try:
        caps = torch._C._cpu._get_cpu_capability()
    except (AttributeError, RuntimeError):  # a private API: absent means "don't know"
        return False
    return bool(caps.get("amx_bf16") or caps.get("avx512_bf16"))


def allowed_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def torch_runner(model: Any, threads: int) -> m.Runner:
    """Batches through ``model`` on ``threads`` threads (torch's setting is restored after)."""
    torch = m._torch()

    def run(input_ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> m.Matrix:
        before = torch.get_num_threads()
        if before != threads:
            torch.set_num_threads(threads)
        try:
            with torch.inference_mode():
                vectors = m._forward(model, torch.from_numpy(input_ids), torch.from_numpy(mask))
                result: m.Matrix = vectors.numpy()
        finally:
            if before != threads:
                torch.set_num_threads(before)
        return result

    return run


def _pooled_module(model: Any) -> Any:
    """``BertModel`` + pooling + normalisation as one module, so the ONNX graph holds all."""
    torch = m._torch()

    class Pooled(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return m._pool(out.last_hidden_state, attention_mask)

    return Pooled().eval()


def export_onnx(model: Any, tokenizer: Any) -> bytes:
    """Export model + pooling to ONNX bytes in memory (no file is written)."""
    torch = m._torch()
    m._require("onnx")  # torch.onnx's exporter needs both
    m._require("onnxscript")
    example = tokenizer(
        ["a short example", "a somewhat longer example sentence"],
        padding=True,
        return_tensors="pt",
    )
    args = tuple(example[name] for name in _INPUT_NAMES)
    batch = torch.export.Dim("batch")
    seq = torch.export.Dim("seq", max=m.MAX_SEQ_LENGTH)
    dynamic = tuple({0: batch, 1: seq} for _ in _INPUT_NAMES)
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)  # "torchvision is not installed" notices
    try:
        with warnings.catch_warnings():
            # Expected and harmless here: torch.export's pytree deprecations and
            # "axis name will not be used" notes for the shared dynamic dims.
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                _pooled_module(model),
                args,
                input_names=list(_INPUT_NAMES),
                output_names=["sentence_embedding"],
                dynamic_shapes=dynamic,
                dynamo=True,
                optimize=True,
                verbose=False,
            )
    finally:
        exporter_log.setLevel(level)
    data: bytes = program.model_proto.SerializeToString()
    return data


def onnx_runner(data: bytes, threads: int) -> m.Runner:
    """An ONNX Runtime session of the exported graph on ``threads`` intra-op threads."""
    ort = m._require("onnxruntime")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])

    def run(input_ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> m.Matrix:
        feed = {
            "input_ids": input_ids,
            "attention_mask": mask,
            "token_type_ids": np.zeros_like(input_ids),
        }
        result: m.Matrix = session.run(None, feed)[0]
        return result

    return run


def builders() -> dict[str, Callable[[int], m.Runner]]:
    """back end -> ``threads -> runner``; the bf16 copy and the ONNX export (or the
    failure to make them) are shared by the thread counts of one choice."""
    made: dict[str, Any] = {}

    def once(key: str, make: Callable[[], Any]) -> Any:
        if key not in made:
            try:
                made[key] = make()
            except Exception as exc:
                made[key] = exc
        if isinstance(made[key], Exception):
            raise made[key]
        return made[key]

    def bf16_model() -> Any:
        return copy.deepcopy(m.load_model().model).to(m._torch().bfloat16).eval()

    def onnx_bytes() -> bytes:
        m._require("onnxruntime")  # before the export: its absence is the likelier failure
        loaded = m.load_model()
        return export_onnx(loaded.model, loaded.tokenizer)

    return {
        "bf16": lambda threads: torch_runner(once("bf16", bf16_model), threads),
        "onnx": lambda threads: onnx_runner(once("onnx", onnx_bytes), threads),
    }


def choose_native(backend: str | None = None) -> Choice[m.Runner]:
    """The fastest minilm native runner on this machine (``backend`` narrows the search)."""
    return choose_minilm(builders(), cpus=allowed_cpus(), bf16_first=cpu_has_native_bf16(),
                         backend=backend)


RunT = TypeVar("RunT", bound=Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], object])


def choose_minilm(makers: Mapping[str, Callable[[int], RunT]], *, cpus: int,
                  bf16_first: bool, backend: str | None = None,
                  environ: Mapping[str, str] = os.environ) -> Choice[RunT]:
    """Time the minilm candidates (``makers``: back end -> ``threads -> runner``).

    ``backend`` (the caller's explicit choice) or ``WORKBENCH_MINILM_BACKEND`` narrows
    the back ends, ``WORKBENCH_MINILM_THREADS`` the thread counts; ``bf16_first`` (the CPU
    computes bfloat16 natively) tries bf16 first, which only changes the order."""
    names = list(makers)
    if backend is not None and backend not in names:
        raise InvalidInputError(
            f"unknown minilm native backend {backend!r}; choose one of {names}")
    wanted = backend if backend is not None else env_choice(environ, BACKEND_VAR, names)
    requested = env_threads(environ, THREADS_VAR)
    counts, lowered = thread_counts(requested, cpus)
    why = []
    if backend is not None:
        why.append(f"back end {backend} asked for")
    elif wanted is not None:
        why.append(f"{BACKEND_VAR}={wanted}")
    if requested is not None:
        why.append(f"{THREADS_VAR}={requested}{lowered}")
    order = sorted(names, key=lambda n: n != ("bf16" if bf16_first else "onnx"))
    candidates = [Candidate(name, n, bind(makers[name], n))
                  for name in order if wanted in (None, name) for n in counts]
    ids, mask = probe_batch()
    return fastest(candidates, lambda run: run(ids, mask),
                   probe_text=f"a probe of {PROBE_TEXTS} texts x {PROBE_TOKENS} tokens",
                   why="".join(f"; {w}" for w in why))
