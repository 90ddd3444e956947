"""MiniLM embedding against outside anchors, one process, one run.

    python benchmarks/stages.py --embed-anchors [--quick] [--minilm-texts N]
    PYTHONPATH=/path/to/fastembed python benchmarks/stages.py --embed-anchors   # + fastembed

The same texts (the medium workload's first ``--minilm-texts`` chunk texts) go through
workbench's ``vectorized`` and ``native`` minilm variants, every native candidate of
:func:`workbench.rag.minilm_backend.builders` at 1 thread and at one per allowed CPU, and the
anchors: sentence-transformers (torch; its ONNX back end and int8 export where they load)
and fastembed (from an ONNX export of the local weights) where it is importable. Cases run
strictly one after another (one thread pool busy at a time), warmed first, then timed in
interleaved rounds whose order rotates. Each case's vectors are compared by cosine with
``minilm_pure``'s on the same texts. Nothing is downloaded: ``HF_HUB_OFFLINE=1``.
"""

from __future__ import annotations

import gc
import importlib.metadata
import json
import os
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before transformers / fastembed are imported

BATCH = 32
MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
OPTIMUM_WHY = ("sentence-transformers' ONNX back end needs optimum (optimum-onnx), which is "
               "not installed and cannot be here: optimum-onnx 0.1.0 pins transformers<4.58 "
               "and this project uses transformers {}")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "config.json",
                   "special_tokens_map.json", "vocab.txt")

@dataclass
class Case:
    """One way to embed the texts; ``out``: its last vectors (for the cosine against pure)."""

    name: str
    kind: str
    threads: int | str
    call: Callable[[], Any]
    out: np.ndarray | None = None

    def __call__(self) -> None:
        self.out = np.asarray(self.call(), dtype=np.float32)


def cpus() -> int:
    return len(os.sched_getaffinity(0))


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def unusable(name: str, exc: BaseException, why: str = "") -> None:
    print(f"  {name}: could not be used here: {reason(exc)}{why}")


def workbench_cases(texts: list[str]) -> list[Case]:
    """vectorized and native (its choice made, and its note printed, before any timing)."""
    from workbench import notes
    from workbench.rag.minilm import load_native, minilm_native, minilm_vectorized

    torch = importlib.import_module("torch")
    cases = [Case("vectorized", "workbench", torch.get_num_threads(),
                  lambda: minilm_vectorized(texts))]
    started = time.perf_counter()
    try:
        load_native()
    except Exception as exc:
        unusable("native", exc)
        return cases
    print(f"  native: back end chosen by timing in {time.perf_counter() - started:.1f} s")
    threads: int | str = "?"
    for key, text in notes.collected().items():
        if key.startswith("minilm."):
            print(f"  native choice, {key}: {text}")
            found = re.match(r"\s*[\w.-]+, (\d+) threads?", text)
            if key == "minilm.native" and found:
                threads = int(found.group(1))
    cases.append(Case("native", "workbench", threads, lambda: minilm_native(texts)))
    return cases


def candidate_cases(texts: list[str]) -> list[Case]:
    """Every back end of ``builders()`` at 1 thread and at one per allowed CPU."""
    from workbench.rag.minilm import _batched
    from workbench.rag.minilm_backend import builders

    made = builders()
    cases = []
    for name, build in made.items():
        for threads in sorted({1, cpus()}):
            label = f"candidate {name}, {threads} thread{'' if threads == 1 else 's'}"
            try:
                runner = build(threads)
            except Exception as exc:
                unusable(label, exc)
                continue
            cases.append(Case(label, "candidate", threads,
                              lambda run=runner: _batched(texts, BATCH, run)))
    return cases


def st_torch_case(path: str, texts: list[str]) -> list[Case]:
    try:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(path, device="cpu")
    except Exception as exc:
        unusable("sentence-transformers torch", exc)
        return []
    return [encode_case("sentence-transformers torch", model, texts)]


def ort_options() -> Any:
    """Session options for a session made here: as workbench's own (``cpus()`` threads on
    the allowed CPUs, no spinning)."""
    from workbench.rag.minilm_onnx import session_options

    return session_options(cpus())


def optimum_missing() -> str:
    """Why optimum cannot be used, from its own import error ('' when it imports)."""
    try:
        importlib.import_module("optimum.onnxruntime")
    except ImportError as exc:
        return f" [import optimum.onnxruntime: {reason(exc)}]; " + OPTIMUM_WHY.format(
            version("transformers"))
    return ""


def st_onnx_cases(path: str, texts: list[str], tmp: Path) -> list[Case]:
    """sentence-transformers' ONNX back end, fp32 and its dynamic int8 export, if it loads."""
    from sentence_transformers import SentenceTransformer

    kwargs = {"provider": "CPUExecutionProvider", "session_options": ort_options()}
    try:
        fp32 = SentenceTransformer(path, device="cpu", backend="onnx", model_kwargs=dict(kwargs))
    except Exception as exc:
        unusable("sentence-transformers onnx", exc, optimum_missing())
        print("  sentence-transformers onnx int8 (export_dynamic_quantized_onnx_model): not "
              "tried: it quantizes a model loaded with backend='onnx', which could not load")
        return []
    cases = [encode_case("sentence-transformers onnx", fp32, texts)]
    try:
        from sentence_transformers import export_dynamic_quantized_onnx_model

        local = tmp / "st-onnx"
        shutil.copytree(path, local)  # the int8 file is written beside the model: a copy
        flavour = "avx512_vnni" if "avx512_vnni" in Path("/proc/cpuinfo").read_text() else "avx2"
        export_dynamic_quantized_onnx_model(fp32, flavour, str(local))
        int8 = SentenceTransformer(str(local), device="cpu", backend="onnx", model_kwargs={
            **kwargs, "file_name": f"onnx/model_qint8_{flavour}.onnx"})
    except Exception as exc:
        unusable("sentence-transformers onnx int8", exc)
        return cases
    return [*cases, encode_case(f"sentence-transformers onnx int8 ({flavour})", int8, texts)]


def encode_case(name: str, model: Any, texts: list[str]) -> Case:
    """A sentence-transformers model's encode; torch runs on cpus() threads (see run)."""
    return Case(name, "anchor", cpus(), lambda: model.encode(
        texts, batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True,
        show_progress_bar=False))


def fastembed_dir(tmp: Path) -> Path:
    """A directory fastembed loads for all-MiniLM-L6-v2: ``model.onnx`` exported from the
    local weights, the tokenizer files, and ``model_max_length`` set to the 256 tokens
    sentence-transformers truncates at (its sentence_bert_config; the tokenizer says 512)."""
    from workbench.rag.minilm_model import load_model
    from workbench.rag.minilm_onnx import export_onnx

    loaded = load_model()
    source, target = Path(loaded.path), tmp / "fastembed-minilm"
    target.mkdir()
    for name in TOKENIZER_FILES:
        shutil.copy(source / name, target / name)
    max_tokens = json.loads((source / "sentence_bert_config.json").read_text())["max_seq_length"]
    config = json.loads((target / "tokenizer_config.json").read_text())
    config["model_max_length"] = max_tokens
    (target / "tokenizer_config.json").write_text(json.dumps(config))
    (target / "model.onnx").write_bytes(export_onnx(loaded.model, loaded.tokenizer,
                                                    pooled=False))
    return target


def fastembed_case(texts: list[str], tmp: Path) -> list[Case]:
    try:
        from fastembed import TextEmbedding
    except ImportError as exc:
        print(f"  fastembed: not installed ({reason(exc)}; fastembed 0.9.1 requires "
              f"huggingface-hub<2.0 and this project has huggingface-hub "
              f"{version('huggingface-hub')}; run with PYTHONPATH=<an unpacked fastembed> "
              "to include it)")
        return []
    try:
        started = time.perf_counter()
        folder = fastembed_dir(tmp)
        model = TextEmbedding(model_name=MODEL_ID, specific_model_path=str(folder),
                              cache_dir=str(tmp), threads=cpus(), local_files_only=True)
    except Exception as exc:
        tried = " (it tried to reach the model hub)" if "offline" in str(exc).lower() else ""
        unusable("fastembed", exc, tried)
        return []
    print(f"  fastembed {version('fastembed')}: ONNX export of the local weights and load "
          f"took {time.perf_counter() - started:.1f} s; its session uses ONNX Runtime's "
          "default spinning (fastembed exposes no option for it)")
    return [Case("fastembed", "anchor", cpus(),
                 lambda: np.stack(list(model.embed(texts, batch_size=BATCH))))]


def ratio_text(base: list[float], case: list[float]) -> str:
    """Speed-up of ``case`` over ``base`` (base time / case time), median over the rounds,
    paired by round, with its interval."""
    from workbench.measure.cache_figures import Spread

    spread = Spread.of([b / c for b, c in zip(base, case, strict=True)])
    if spread.low is None or spread.high is None:
        return f"{spread.value:6.2f}x (1 round)"
    return f"{spread.value:6.2f}x [{spread.low:.2f}-{spread.high:.2f}, {spread.confidence:.1%}]"


def cosines(reference: np.ndarray, vectors: np.ndarray | None) -> tuple[float, float]:
    from workbench.predicates.vectors import cosines as row_cosines

    if vectors is None or vectors.shape != reference.shape:
        return float("nan"), float("nan")
    cos = row_cosines(reference, vectors)
    return float(cos.min()), float(np.percentile(cos, 1))


def print_table(cases: list[Case], times: dict[str, list[float]], pure: np.ndarray) -> None:
    n = pure.shape[0]
    base = {k: times[k] for k in ("vectorized", "native") if k in times}
    print(f"\nminilm embedding, {n} texts, batches of {BATCH}; speed-up = reference time / "
          "case time, median of the per-round ratios (paired by round) [interval]")
    print(f"  {'case':44} {'threads':>7} {'s/call':>8} {'texts/s':>8} "
          f"{'vs vectorized':>24} {'vs native':>24} {'min cos':>8} {'p1 cos':>8}")
    for case in cases:
        t = times[case.name]
        low, p1 = cosines(pure, case.out)
        vs = [ratio_text(b, t) if b is not t else "1.00x (reference)" for b in base.values()]
        vs += ["n/a"] * (2 - len(vs))
        print(f"  {case.name:44} {case.threads!s:>7} {statistics.median(t):8.3f} "
              f"{n / statistics.median(t):8.1f} {vs[0]:>24} {vs[1]:>24} {low:8.5f} {p1:8.5f}")
    rounds = len(next(iter(times.values())))
    print(f"  ({rounds} rounds; interval: order statistics of the {rounds} per-round ratios "
          "around their median, distribution-free, [low-high, confidence]: 95 %, or the range of "
          "the rounds with the confidence it reaches when there are fewer than 6. The rounds "
          "are consecutive runs in one process on one machine, not independent samples of "
          "it: the interval shows this run's spread, not a population's)")
    from workbench.rag.embed import COSINE_FLOOR

    below = [c.name for c in cases if not cosines(pure, c.out)[0] >= COSINE_FLOOR]
    print(f"  cosine floor {COSINE_FLOOR} against minilm_pure: "
          + (f"BELOW for {', '.join(below)}" if below else "every case meets it"))


def print_targets(cases: list[Case], times: dict[str, list[float]]) -> None:
    print("\ntargets (ratios measured above, in this run)")
    if "native" not in times or "vectorized" not in times:
        print("  native or vectorized did not run: no target can be judged")
        return
    native = times["native"]
    goal = [("native / vectorized", times["vectorized"], 1.5, "")]
    anchors = [c.name for c in cases if c.kind == "anchor"]
    if anchors:
        best = min(anchors, key=lambda name: statistics.median(times[name]))
        goal.append(("native / best anchor", times[best], 1.0, f" (best anchor: {best})"))
    else:
        print("  native / best anchor: no anchor loaded, not judged")
    for name, base, want, extra in goal:
        mid = statistics.median(b / c for b, c in zip(base, native, strict=True))
        verdict = "met" if mid >= want else "MISSED"
        print(f"  {name:22} {ratio_text(base, native)}  goal >= {want:g}x  {verdict}{extra}")


def warm(cases: list[Case]) -> list[Case]:
    """Call each case once (its warm-up); a case that fails there is reported and left out."""
    kept = []
    for case in cases:
        started = time.perf_counter()
        try:
            case()
        except Exception as exc:
            unusable(case.name, exc)
            continue
        print(f"  warmed {case.name}: {time.perf_counter() - started:.2f} s")
        kept.append(case)
    return kept


def run(texts: list[str], *, rounds: int, interleaved: Callable[..., dict[str, list[float]]],
        machine_lines: Callable[..., list[str]]) -> None:
    """Build, warm and time every case on ``texts``; print the table and the targets."""
    print("\n".join(machine_lines()))
    torch = importlib.import_module("torch")
    torch.set_num_threads(cpus())
    importlib.import_module("transformers").utils.logging.disable_progress_bar()
    from workbench.rag.minilm import load_model, minilm_pure

    started = time.perf_counter()
    pure = minilm_pure(texts)
    print(f"\nminilm_pure on {len(texts)} texts (the cosine reference, run once): "
          f"{time.perf_counter() - started:.1f} s; torch on {torch.get_num_threads()} threads, "
          f"{cpus()} allowed CPUs")
    with tempfile.TemporaryDirectory(prefix="embed-anchors-") as folder:
        tmp, path = Path(folder), load_model().path
        print("\nbuilding the cases")
        cases = workbench_cases(texts) + candidate_cases(texts) + st_torch_case(path, texts)
        cases += st_onnx_cases(path, texts, tmp) + fastembed_case(texts, tmp)
        print("\nwarm-up (one call each, not timed in the table)")
        cases = warm(cases)
        started = time.perf_counter()
        times = interleaved({c.name: c for c in cases}, rounds, warm=False)
        print(f"\n{rounds} timed rounds took {time.perf_counter() - started:.1f} s")
        print_table(cases, times, pure)
        print_targets(cases, times)
        del cases
        gc.collect()
    print("\nat the end (this run's own load included in the average):")
    print("\n".join(machine_lines(start=False)[1:]))
