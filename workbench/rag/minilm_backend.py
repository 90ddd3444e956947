"""minilm's native back ends, and choosing one by timing it on this machine.

CPU flags say what a CPU can do, not what runs fastest on it now: on an AVX512-BF16 EPYC
with a neighbour on one of its two cores, the bf16 back end picked from the flags made
minilm native 14x slower than vectorized (issue 13). So :func:`fastest` builds every
candidate, runs it on a small probe and keeps the fastest; flags only order the
candidates. The minilm candidates are its two back ends, built here (``bf16``: a
bfloat16 copy of the model run by PyTorch's oneDNN kernels; ``onnx``: the model exported
to an in-memory ONNX graph run by an ONNX Runtime float32 session), each with one thread
and with one per allowed CPU. ``retrieve`` reuses :func:`fastest` for its Numba thread
count.

Timing: a first (warm-up) call per candidate, timed; a candidate whose first call is
over :data:`SLOW_FIRST` times the best steady time so far is dropped without more calls
(emulated bf16 on a CPU without it costs a second a call). Then timed calls in
interleaved rounds (up to ``rounds`` each, fewer once ``budget`` seconds have passed),
dropping any candidate over :data:`SLOW` times the best; the fastest minimum wins. A
candidate that fails to build or run is skipped with the reason in the note; when all
fail, the first failure is raised.

Overrides (``auto`` or unset: choose by timing): ``WORKBENCH_MINILM_BACKEND=bf16|onnx``
and ``WORKBENCH_MINILM_THREADS=<n>``; with both set nothing is timed. A thread count
above the allowed CPUs is lowered to them (the note says so).
"""

from __future__ import annotations

import copy
import logging
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from workbench.errors import InvalidInputError
from workbench.rag import minilm as m

__all__ = [
    "BACKEND_VAR", "SLOW", "SLOW_FIRST", "THREADS_VAR", "Candidate", "Choice", "allowed_cpus",
    "builders", "choose_minilm", "choose_native", "cpu_has_native_bf16", "env_choice",
    "env_threads", "export_onnx", "fastest", "onnx_runner", "probe_batch", "thread_counts",
    "torch_runner",
]

R = TypeVar("R")

BACKEND_VAR = "WORKBENCH_MINILM_BACKEND"
THREADS_VAR = "WORKBENCH_MINILM_THREADS"
#: A candidate slower than this many times the best is dropped (after each round).
SLOW = 2.0
#: A candidate whose first call is slower than this many times the best is dropped.
SLOW_FIRST = 4.0
#: The minilm probe: one padded batch of this many texts of this many tokens.
PROBE_TEXTS = 8
PROBE_TOKENS = 32
_INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


@dataclass(frozen=True)
class Candidate(Generic[R]):
    """One way to run: a back end with a thread count, and how to build its runner."""

    backend: str
    threads: int
    build: Callable[[], R]

    @property
    def label(self) -> str:
        return f"{self.backend}, {self.threads} thread{'' if self.threads == 1 else 's'}"


@dataclass(frozen=True)
class Choice(Generic[R]):
    """The candidate kept, its runner, and a note saying how it was chosen."""

    backend: str
    threads: int
    runner: R
    note: str
    seconds: float  # what choosing cost, builds included


def _ms(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2g} us"
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _reason(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def _timed(probe: Callable[[R], object], runner: R) -> float:
    started = time.perf_counter()
    probe(runner)
    return time.perf_counter() - started


def fastest(candidates: Sequence[Candidate[R]], probe: Callable[[R], object], *,
            probe_text: str, why: str = "", rounds: int = 3, budget: float = 3.0) -> Choice[R]:
    """Build each candidate and time ``probe(runner)``; keep the fastest (see the module).

    ``probe_text`` describes the probe in the note ("a probe of 8 texts x 32 tokens");
    ``why`` is added to it (an override that narrowed the candidates). ``budget`` bounds
    the seconds of timed calls (building and first calls not counted) before the later
    rounds. A single
    candidate is built, not timed."""
    if not candidates:
        raise InvalidInputError("no back-end candidates to choose from")
    started = time.perf_counter()
    if len(candidates) == 1:
        only = candidates[0]
        runner = only.build()
        spent = time.perf_counter() - started
        built = f"; built in {_ms(spent)}" if spent >= 0.05 else ""
        return Choice(only.backend, only.threads, runner,
                      f"{only.label} (the only candidate{why}; not timed){built}", spent)
    runners: dict[int, R] = {}
    times: dict[int, list[float]] = {}
    dropped: dict[int, str] = {}
    failed: list[tuple[int, BaseException]] = []

    def best() -> float | None:
        return min((min(times[i]) for i in runners), default=None)

    def prune() -> None:
        top = best()
        for i in list(runners):
            if top is not None and min(times[i]) > SLOW * top:
                del runners[i]
                dropped[i] = f"{_ms(min(times[i]))} (over {SLOW:g}x the best: dropped)"

    building = firsts = 0.0
    for i, candidate in enumerate(candidates):
        try:
            build_started = time.perf_counter()
            try:
                runner = candidate.build()
            finally:
                building += time.perf_counter() - build_started
            first = _timed(probe, runner)
            firsts += first
            top = best()
            if top is not None and first > SLOW_FIRST * top:
                dropped[i] = f"{_ms(first)} on its first call (over {SLOW_FIRST:g}x: dropped)"
                continue
            times[i] = [_timed(probe, runner)]
        except Exception as exc:  # cannot build or run here: the others may
            failed.append((i, exc))
            continue
        runners[i] = runner
        prune()
    for _ in range(rounds - 1):
        if time.perf_counter() - started - building - firsts > budget or len(runners) < 2:
            break
        for i in list(runners):
            times[i].append(_timed(probe, runners[i]))
        prune()
    if not runners:
        raise failed[0][1]
    win = min(runners, key=lambda i: min(times[i]))
    chosen = candidates[win]
    others = [f"{candidates[i].label} {_ms(min(times[i]))}" for i in sorted(runners) if i != win]
    others += [f"{candidates[i].label} {text}" for i, text in sorted(dropped.items())]
    reasons: dict[str, list[str]] = {}
    for i, error in failed:
        reasons.setdefault(_reason(error), []).append(candidates[i].label)
    others += [f"{' and '.join(labels)} could not be used here ({reason})"
               for reason, labels in reasons.items()]
    spent = time.perf_counter() - started
    note = (f"{chosen.label} (fastest of {len(candidates)} candidates{why}, timed on "
            f"{probe_text}): {_ms(min(times[win]))}; " + "; ".join(others)
            + f"; choosing took {_ms(spent)}: {_ms(building)} building, {_ms(firsts)} in "
            f"first calls, {_ms(spent - building - firsts)} timing")
    return Choice(chosen.backend, chosen.threads, runners[win], note, spent)


def env_choice(environ: Mapping[str, str], var: str, accepted: Sequence[str]) -> str | None:
    """The value of ``var`` if it is one of ``accepted``; ``None`` when unset or ``auto``."""
    raw = environ.get(var, "").strip()
    if raw in ("", "auto"):
        return None
    if raw not in accepted:
        raise InvalidInputError(
            f"{var}={raw!r} is not accepted; use one of {', '.join(accepted)}, or auto "
            "(or leave it unset) to choose by timing on this machine")
    return raw


def env_threads(environ: Mapping[str, str], var: str) -> int | None:
    """The thread count in ``var`` (an integer >= 1); ``None`` when unset or ``auto``."""
    raw = environ.get(var, "").strip()
    if raw in ("", "auto"):
        return None
    try:
        threads = int(raw)
    except ValueError:
        threads = 0
    if threads < 1:
        raise InvalidInputError(
            f"{var}={raw!r} is not accepted; use a whole number of threads >= 1, or auto "
            "(or leave it unset) to choose by timing on this machine")
    return threads


def thread_counts(requested: int | None, limit: int) -> tuple[list[int], str]:
    """The thread counts to try, most first, and a note part when ``requested`` is lowered."""
    if requested is None:
        return sorted({1, max(1, limit)}, reverse=True), ""
    if requested > limit:
        return [limit], f" lowered to the {limit} allowed CPU{'' if limit == 1 else 's'}"
    return [requested], ""


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
    candidates = [Candidate(name, n, _bind(makers[name], n))
                  for name in order if wanted in (None, name) for n in counts]
    ids, mask = probe_batch()
    return fastest(candidates, lambda run: run(ids, mask),
                   probe_text=f"a probe of {PROBE_TEXTS} texts x {PROBE_TOKENS} tokens",
                   why="".join(f"; {w}" for w in why))


def _bind(build: Callable[[int], R], threads: int) -> Callable[[], R]:
    return lambda: build(threads)
