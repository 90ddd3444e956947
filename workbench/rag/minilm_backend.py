"""minilm's native back ends, and choosing one by timing it on this machine
(:mod:`workbench.rag.backend_choice`: why, and how the timing goes).

The candidates are three back ends, each with one thread and with one per allowed CPU:

``bf16``
    a bfloat16 copy of the model run by PyTorch's oneDNN kernels;
``onnx``
    the float32 ONNX export run by ONNX Runtime;
``int8``
    its dynamically quantized int8 export (:mod:`workbench.rag.minilm_int8`) run by
    ONNX Runtime.

Both exports are built once per model and machine and read from disk after that
(:mod:`workbench.rag.minilm_onnx`); the note says which happened and what it cost.

The probe is a padded batch of :data:`PROBE_TEXTS` (English, accented, CJK, Greek and
Cyrillic, an empty string): real text, since random word pieces hide the error that
quantization makes on such text. Before a candidate is timed its first probe output is
judged against pure's with the embed stage's own equivalence predicate (cosine >= 0.99
per vector): a candidate below it is not eligible, whatever its speed, and the note gives
its worst cosine. The stage's equivalence check then judges the chosen one on the
workload, as for every variant.

Overrides (``auto`` or unset: choose by timing): ``WORKBENCH_MINILM_BACKEND=bf16|onnx|int8``
and ``WORKBENCH_MINILM_THREADS=<n>``; with both set nothing is timed (the accuracy gate
still runs). A thread count above the allowed CPUs is lowered to them (the note says so).
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
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
from workbench.rag.export_store import Stored
from workbench.rag.minilm_onnx import export_onnx, fp32_export, int8_export, onnx_runner

__all__ = [
    "BACKEND_VAR",
    "PROBE_TEXTS",
    "SLOW",
    "SLOW_FIRST",
    "THREADS_VAR",
    "Candidate",
    "Choice",
    "accuracy_gate",
    "allowed_cpus",
    "builders",
    "choose_minilm",
    "choose_native",
    "cpu_has_native_bf16",
    "env_choice",
    "env_threads",
    "export_onnx",
    "fastest",
    "onnx_runner",
    "probe_batch",
    "text_probe",
    "thread_counts",
    "torch_runner",
]


BACKEND_VAR = "WORKBENCH_MINILM_BACKEND"
THREADS_VAR = "WORKBENCH_MINILM_THREADS"
#: The random probe (:func:`probe_batch`): this many rows of this many word pieces.
PROBE_ROWS = 8
PROBE_TOKENS = 32
#: The probe that :func:`choose_native` times and judges: real text of the kinds that
#: chunks hold, including the non-ASCII text where quantization errs most.
PROBE_TEXTS = (
    "Retrieval pipelines split each cleaned document into overlapping chunks, embed every "
    "chunk once, and answer a query with the chunks whose vectors lie closest to it.",
    "The p99 latency budget of the embed stage is 40 ms per batch of 32 chunks at 2 threads.",
    "Café naïve Ærøskøbing Straße İstanbul: accented words, ligatures like ﬁle, and ①②.",
    "機械学習のパイプラインは文書を分割し、各チャンクをベクトルに変換します。"
    "東京都 数据管道 한국어",
    "Ωμέγα ΣΟΦΙΑ και ελληνικό κείμενο, и русский текст о векторных представлениях.",  # noqa: RUF001
    "🚀 👩‍💻 dev notes 🇫🇷 ✓ ok: emoji, flags and symbols between plain words.",
    "a",
    "",
)


def probe_batch() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """A probe of fixed pseudo-random word-piece ids between [CLS] and [SEP] (no tokenizer
    needed: :func:`choose_minilm` uses it when it is given no probe)."""
    rng = np.random.default_rng(13)
    ids = rng.integers(1996, 29_000, size=(PROBE_ROWS, PROBE_TOKENS), dtype=np.int64)
    ids[:, 0], ids[:, -1] = 101, 102  # [CLS] ... [SEP]
    return ids, np.ones_like(ids)


Probe = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]
#: ``minilm_pure``, passed in by :mod:`workbench.rag.minilm` (which imports this module).
Pure = Callable[[Sequence[str]], m.Matrix]


def text_probe(loaded: m.MiniLM, pure: Pure) -> tuple[Probe, m.Matrix]:
    """:data:`PROBE_TEXTS` as one padded batch, and ``pure``'s vectors of them."""
    ids: list[list[int]] = loaded.tokenizer(list(PROBE_TEXTS), truncation=True,
                                            max_length=m.MAX_SEQ_LENGTH)["input_ids"]
    input_ids = np.zeros((len(ids), max(map(len, ids))), dtype=np.int64)
    mask = np.zeros_like(input_ids)
    for row, piece in enumerate(ids):
        input_ids[row, : len(piece)] = piece
        mask[row, : len(piece)] = 1
    return (input_ids, mask), pure(PROBE_TEXTS)


def accuracy_gate(reference: m.Matrix) -> Callable[[object], str | None]:
    """Judge a candidate's probe output with the embed stage's predicate for minilm native:
    ``None`` when every vector's cosine with pure's is >= the floor, else why not."""
    from workbench.rag.embed import COSINE_FLOOR, SAME_DIRECTION

    def admit(output: object) -> str | None:
        verdict = SAME_DIRECTION(reference, np.asarray(output), variant="native",
                                 params={"model": "minilm"})
        if verdict:
            return None
        worst = "NaN" if verdict.worst is None else f"{verdict.worst:.4f}"
        return (f"not eligible: min cosine {worst} against pure on the probe, below "
                f"{COSINE_FLOOR:g}")

    return admit


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


def builders(exports: list[str] | None = None) -> dict[str, Callable[[int], m.Runner]]:
    """back end -> ``threads -> runner``; the bf16 copy and the exports (or the failure to
    make them) are shared by the thread counts of one choice. How each export was had
    (read from disk, or built and kept) is appended to ``exports``."""
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

    def export(get: Callable[[], Stored]) -> Callable[[], bytes]:
        def read() -> bytes:
            got = get()
            if exports is not None:
                exports.append(got.note)
            return got.data
        return read

    return {
        "bf16": lambda threads: torch_runner(once("bf16", bf16_model), threads),
        "onnx": lambda threads: onnx_runner(once("onnx", export(fp32_export)), threads),
        "int8": lambda threads: onnx_runner(once("int8", export(int8_export)), threads),
    }


def choose_native(pure: Pure, backend: str | None = None) -> Choice[m.Runner]:
    """The fastest eligible minilm native runner here (``backend`` narrows the search),
    timed on :data:`PROBE_TEXTS` and judged against ``pure``'s vectors of them; the note
    ends with how the exports were had."""
    exports: list[str] = []
    probe, reference = text_probe(m.load_model(), pure)
    choice = choose_minilm(builders(exports), cpus=allowed_cpus(),
                           bf16_first=cpu_has_native_bf16(), backend=backend, probe=probe,
                           probe_text=f"{len(PROBE_TEXTS)} probe texts", reference=reference)
    if not exports:
        return choice
    return dataclasses.replace(choice, note=f"{choice.note}; exports: {'; '.join(exports)}")


RunT = TypeVar("RunT", bound=Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], object])


def choose_minilm(makers: Mapping[str, Callable[[int], RunT]], *, cpus: int,
                  bf16_first: bool, backend: str | None = None,
                  environ: Mapping[str, str] = os.environ, probe: Probe | None = None,
                  probe_text: str = "", reference: m.Matrix | None = None) -> Choice[RunT]:
    """Time the minilm candidates (``makers``: back end -> ``threads -> runner``) on
    ``probe`` (:func:`probe_batch` when ``None``), described by ``probe_text``.

    ``backend`` (the caller's explicit choice) or ``WORKBENCH_MINILM_BACKEND`` narrows
    the back ends, ``WORKBENCH_MINILM_THREADS`` the thread counts; ``bf16_first`` (the CPU
    computes bfloat16 natively) tries bf16 first, which only changes the order. With a
    ``reference`` (pure's vectors of the probe), a candidate must pass
    :func:`accuracy_gate` before it is timed."""
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
    first = ("bf16", "int8", "onnx") if bf16_first else ("int8", "onnx", "bf16")
    order = sorted(names, key=lambda n: first.index(n) if n in first else len(first))
    candidates = [Candidate(name, n, bind(makers[name], n))
                  for name in order if wanted in (None, name) for n in counts]
    ids, mask = probe_batch() if probe is None else probe
    described = probe_text or f"a probe of {len(ids)} texts x {ids.shape[1]} tokens"
    return fastest(candidates, lambda run: run(ids, mask), probe_text=described,
                   why="".join(f"; {w}" for w in why),
                   admit=None if reference is None else accuracy_gate(reference))
