"""Where a flame graph's time goes: each measured sample charged to one kind of code.

A py-spy frame is ``"function (location)"``: a Python frame's location is ``file:line``
(a ``.py`` or ``.pyx`` file, or ``<frozen module>``), a native frame's (present when
py-spy ran with ``--native``) is the shared object it lives in (``libc.so.6``,
``numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so``), sometimes a C source
``file:line``. Each frame is one of:

- ``array``: code of an array library (:data:`ARRAY_LIBRARIES`: its Python, Cython or
  compiled modules) or of the native libraries they run on (:data:`ARRAY_NATIVE`: BLAS,
  LAPACK, OpenMP runtimes, libtorch, Arrow);
- ``own``: Python source outside the standard library and the array libraries (the
  stage's code, the user's helpers, other third-party Python);
- ``stdlib``: the standard library's Python (``<frozen ...>`` included);
- ``system``: the C library, the dynamic loader, the C++ runtime and the interpreter
  itself (:data:`SYSTEM_LIBRARIES`, unnamed addresses): not a kind of work of its own;
- ``extension``: any other native code: compiled extension modules and the libraries
  they load.

A sample is charged by its leaf, read upwards (:func:`sample_kind`): system frames are
charged to what called them; a run of native frames at the bottom of the stack is
``array`` when any of them is array code (a ``memcpy`` in libc called by NumPy is NumPy's
time), else ``extension``; a Python frame is charged to its own kind. Without
``--native`` the leaf is always a Python frame, so the time an extension spends is
charged to the Python frame that called it, and array-library Python frames stand in for
their kernels.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["ARRAY_LIBRARIES", "ARRAY_NATIVE", "KINDS", "SYSTEM_LIBRARIES", "Split",
           "frame_kind", "library_name", "sample_kind", "split_samples"]

#: Packages whose frames are array or tensor work running in compiled kernels.
ARRAY_LIBRARIES = frozenset({
    "numpy", "polars", "pandas", "pyarrow", "torch", "transformers", "tokenizers", "scipy",
    "sklearn", "numba", "onnxruntime", "jax", "tensorflow", "numexpr", "duckdb"})
#: Native libraries array libraries run on, by a piece of their file name, and the name
#: the hint gives them.
ARRAY_NATIVE = {"openblas": "OpenBLAS", "mkl": "MKL", "blas": "BLAS", "lapack": "LAPACK",
                "gomp": "OpenMP", "iomp": "OpenMP", "libomp": "OpenMP", "torch": "PyTorch",
                "c10": "PyTorch", "arrow": "Arrow", "polars": "Polars", "cudnn": "cuDNN",
                "cublas": "cuBLAS"}
#: Native libraries whose time is charged to their caller, by the start of their file name.
SYSTEM_LIBRARIES = ("libc.", "libc-", "libm.", "libm-", "libpthread", "libdl", "librt",
                    "ld-linux", "ld-musl", "libstdc++", "libgcc", "libpython", "python3",
                    "python", "libz.", "libutil", "linux-vdso", "[vdso]", "ntdll", "kernel")
#: The kinds a sample is charged to, in the order the hint names them.
KINDS = ("array", "own", "extension", "stdlib")
_NAMES = {"numpy": "NumPy", "polars": "Polars", "pandas": "pandas", "pyarrow": "PyArrow",
          "torch": "PyTorch", "scipy": "SciPy", "sklearn": "scikit-learn", "numba": "Numba",
          "jax": "JAX", "tensorflow": "TensorFlow", "duckdb": "DuckDB",
          "onnxruntime": "ONNX Runtime", "transformers": "Transformers",
          "tokenizers": "Tokenizers", "numexpr": "numexpr"}


def _path(frame: str) -> str:
    """The file of ``"function (location)"``: the location without its ``:line``."""
    frame = frame.strip()
    if not frame.endswith(")") or " (" not in frame:
        return ""
    location = frame[frame.rindex(" (") + 2:-1]
    head, sep, line = location.rpartition(":")
    return head if sep and line.isdigit() else location


def _is_python(path: str) -> bool:
    return path.endswith((".py", ".pyx", ".pxd", ".pyi")) or path.startswith("<")


def _top(path: str) -> str:
    """The first component of a (shortened) path: ``numpy`` of ``numpy/_core/x.py``."""
    path = path.removeprefix("<frozen ").rstrip(">").replace("\\", "/")
    for marker in ("/site-packages/", "/dist-packages/"):
        path = path.rsplit(marker, 1)[-1]
    return path.lstrip("/").split("/", 1)[0].split(".", 1)[0]


def library_name(frame: str) -> str | None:
    """The array library ``frame`` belongs to (``NumPy``, ``OpenBLAS``), or None."""
    path = _path(frame)
    top = _top(path)
    if top in ARRAY_LIBRARIES:
        return _NAMES.get(top, top)
    if path and not _is_python(path):
        base = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
        return next((name for piece, name in ARRAY_NATIVE.items() if piece in base), None)
    return None


def frame_kind(frame: str) -> str:
    """``array``, ``own``, ``stdlib``, ``system`` or ``extension`` (module docstring)."""
    if library_name(frame) is not None:
        return "array"
    path = _path(frame)
    if _is_python(path):
        if path.startswith("<frozen") or _top(path) in sys.stdlib_module_names:
            return "stdlib"
        return "own"
    base = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return "system" if not base or base.startswith(SYSTEM_LIBRARIES) else "extension"


def sample_kind(frames: list[str]) -> str | None:
    """The kind a sample (its frames, root first) is charged to: the module docstring's
    rule. None for a sample of system frames only."""
    native_run: list[str] = []
    for frame in reversed(frames):
        kind = frame_kind(frame)
        if kind in ("own", "stdlib") or (kind == "array" and _is_python(_path(frame))):
            if "array" in native_run:
                return "array"
            return "extension" if "extension" in native_run else kind
        native_run.append(kind)
    if "array" in native_run:
        return "array"
    return "extension" if "extension" in native_run else None


class Split(NamedTuple):
    """A flame graph's measured samples by kind: ``counts`` per kind of :data:`KINDS`
    (samples of system frames alone are left out of ``total``), the array libraries
    seen (most samples first), and the busiest own Python function by self time."""

    counts: dict[str, int]
    total: int
    libraries: tuple[str, ...]
    top_own: str
    top_own_count: int

    def share(self, kind: str) -> float:
        return self.counts.get(kind, 0) / self.total if self.total else 0.0


def split_samples(stacks: Iterable[tuple[str, int]]) -> Split:
    """Charge each stack (``"root;...;leaf"``, samples) to a kind (:func:`sample_kind`)."""
    counts: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    own_self: Counter[str] = Counter()
    for stack, count in stacks:
        frames = stack.split(";")
        kind = sample_kind(frames)
        if kind is None:
            continue
        counts[kind] += count
        if kind == "array":
            named = [n for n in map(library_name, frames) if n is not None]
            libraries[named[-1] if named else "array libraries"] += count
        elif kind == "own":
            leaf = next(f for f in reversed(frames) if frame_kind(f) == "own")
            own_self[leaf] += count
    top, top_count = own_self.most_common(1)[0] if own_self else ("", 0)
    return Split({k: counts[k] for k in KINDS}, sum(counts.values()),
                 tuple(n for n, _ in libraries.most_common()), top, top_count)
