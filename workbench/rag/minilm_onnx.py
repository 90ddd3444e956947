"""minilm as ONNX: the float32 export (model + pooling + normalisation in one graph), its
int8 quantization (:mod:`workbench.rag.minilm_int8`), both kept on disk
(:mod:`workbench.rag.export_store`), and ONNX Runtime sessions that fit the worker.

An export is keyed by the model's weights and configuration (content hashes), the recipe,
and the versions of the packages that shape it, so it is built once per model and
machine: a later process (every measurement worker) reads it in milliseconds instead of
exporting again (8.5 s on two cores).

A session runs on the thread count it is given, no more than the CPUs this process may
use: its extra intra-op threads are bound to those CPUs (ONNX Runtime's own default binds
them to every physical core of the machine), and they block instead of spinning between
runs, so an idle session never takes CPU from the next candidate or variant timed.
"""

from __future__ import annotations

import functools
import logging
import os
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt

from workbench.rag import minilm_model as m
from workbench.rag.export_store import Stored, file_digests, package_versions, stored
from workbench.rag.minilm_int8 import INT8_SETTINGS, quantize_int8

__all__ = ["export_onnx", "fp32_export", "int8_export", "onnx_runner", "session_options",
           "thread_affinities"]

_INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
#: What the float32 export is: bump ``recipe`` when :func:`export_onnx` changes.
FP32_SETTINGS: dict[str, object] = {
    "recipe": "BertModel + mean pooling + L2 normalise, torch.onnx.export(dynamo=True, "
              "optimize=True), dynamic batch and sequence axes; v1",
    "max_seq_length": m.MAX_SEQ_LENGTH,
}
_MODEL_FILES = ("config.json", "model.safetensors")
_EXPORT_PACKAGES = ("torch", "transformers", "onnx", "onnxscript")


def _module(model: Any, pooled: bool) -> Any:
    """``BertModel`` + pooling + normalisation as one module, so the ONNX graph holds all
    (or, not ``pooled``, the model's last hidden state alone)."""
    torch = m._torch()

    class Export(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            if not pooled:
                return out.last_hidden_state
            return m._pool(out.last_hidden_state, attention_mask)

    return Export().eval()


def export_onnx(model: Any, tokenizer: Any, *, pooled: bool = True) -> bytes:
    """Export model + pooling to ONNX bytes in memory (no file is written). Not ``pooled``:
    the plain model, whose one output is ``last_hidden_state`` (what other engines pool
    themselves)."""
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
                _module(model, pooled),
                args,
                input_names=list(_INPUT_NAMES),
                output_names=["sentence_embedding" if pooled else "last_hidden_state"],
                dynamic_shapes=dynamic,
                dynamo=True,
                optimize=True,
                verbose=False,
            )
    finally:
        exporter_log.setLevel(level)
    data: bytes = program.model_proto.SerializeToString()
    return data


@functools.cache
def _fp32_key() -> dict[str, object]:
    """The float32 export's key: the model's files, the recipe, the exporting packages."""
    loaded = m.load_model()
    return {"model files": file_digests(loaded.path, _MODEL_FILES), **FP32_SETTINGS,
            "packages": package_versions(_EXPORT_PACKAGES)}


@functools.cache
def fp32_export() -> Stored:
    """The float32 export, from the cache or built (once per process either way)."""
    m._require("onnxruntime")  # before the export: its absence is the likelier failure

    def build() -> bytes:
        loaded = m.load_model()
        return export_onnx(loaded.model, loaded.tokenizer)

    return stored("minilm-fp32", _fp32_key, build)


@functools.cache
def int8_export() -> Stored:
    """The int8 export (:mod:`workbench.rag.minilm_int8`), from the cache or built."""
    m._require("onnxruntime")
    def key() -> dict[str, object]:
        return {**_fp32_key(), "int8": INT8_SETTINGS,
                "quantizer": package_versions(("onnxruntime",))}

    return stored("minilm-int8", key, lambda: quantize_int8(fp32_export().data))


def thread_affinities(threads: int, cpus: list[int]) -> str:
    """ONNX Runtime's ``session.intra_op_thread_affinities`` for ``threads`` threads: each
    thread it starts (all but the caller's) may run on any of ``cpus`` (1-based ids)."""
    allowed = ",".join(str(cpu + 1) for cpu in sorted(cpus))
    return ";".join([allowed] * (threads - 1))


def session_options(threads: int) -> Any:
    """ONNX Runtime session options: ``threads`` intra-op threads bound to this process's
    CPUs, one inter-op thread, no spinning, every graph optimisation."""
    ort = m._require("onnxruntime")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads > 1 and hasattr(os, "sched_getaffinity"):
        options.add_session_config_entry("session.intra_op_thread_affinities",
                                         thread_affinities(threads, list(os.sched_getaffinity(0))))
    return options


def onnx_runner(data: bytes, threads: int) -> m.Runner:
    """An ONNX Runtime session of an exported graph on ``threads`` intra-op threads."""
    ort = m._require("onnxruntime")
    session = ort.InferenceSession(data, session_options(threads),
                                   providers=["CPUExecutionProvider"])

    def run(input_ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> m.Matrix:
        feed = {
            "input_ids": input_ids,
            "attention_mask": mask,
            "token_type_ids": np.zeros_like(input_ids),
        }
        result: m.Matrix = session.run(None, feed)[0]
        return result

    return run
