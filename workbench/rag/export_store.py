"""Model exports kept on disk, built once per model and machine, not once per process.

Exporting all-MiniLM-L6-v2 to ONNX costs seconds (8.5 s on two cores) and every
measurement worker used to pay it. :func:`stored` keeps a built file under a key made of
the model's own files (their content hashes), the recipe and its settings, and the
versions of the packages that shape the output; the next process with the same key reads
the file instead of building it.

Where: ``$WORKBENCH_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/workbench``, else
``~/.cache/workbench``; exports go in its ``exports/`` folder, one ``NAME-DIGEST.onnx``
with a ``.json`` beside it (the key in full, the file's SHA-256 and size, how long the
build took). Deleting the folder is always safe.

Guarantees:

* a file is written to a temporary name and renamed into place, after its ``.json``
  records its checksum, so a reader never sees half a file;
* a file whose checksum or size no longer matches its record is built again (the note
  says so), never used;
* processes that start together build once: the build holds a file lock and the others
  wait for it, then read the file;
* a cache folder that cannot be written (read-only, full) does not stop the work: the
  export is built in memory and the note says why it was not kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from workbench.errors import InvalidInputError

__all__ = ["CACHE_VAR", "Stored", "cache_root", "file_digests", "package_versions", "stored"]

CACHE_VAR = "WORKBENCH_CACHE_DIR"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Stored:
    """A built export's bytes, where they came from, and what getting them cost."""

    data: bytes
    path: Path | None  # None: built in memory only (the cache could not be written)
    reused: bool
    seconds: float
    note: str


def cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    """The folder for this user's workbench caches (see the module for the order)."""
    raw = environ.get(CACHE_VAR, "").strip()
    if raw:
        path = Path(raw).expanduser()
        if path.exists() and not path.is_dir():
            raise InvalidInputError(
                f"{CACHE_VAR}={raw!r} is not a directory; give a directory (created if "
                "missing) or unset it to use ~/.cache/workbench")
        return path
    xdg = environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "workbench"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digests(folder: str | Path, names: Iterable[str]) -> dict[str, str]:
    """``name -> SHA-256`` of each named file of ``folder`` (a model's own files)."""
    base = Path(folder)
    out: dict[str, str] = {}
    for name in names:
        path = base / name
        if not path.is_file():
            raise InvalidInputError(f"the model file {path} is missing; cannot key its export")
        out[name] = _sha256(path)
    return out


def package_versions(names: Iterable[str]) -> dict[str, str]:
    """``package -> installed version`` (``"absent"`` when not installed)."""
    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def _digest(key: Mapping[str, object]) -> str:
    text = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _valid(path: Path, record: Path) -> tuple[bytes | None, str]:
    """The file's bytes when it matches its record; else ``None`` and why not."""
    if not path.is_file() or not record.is_file():
        return None, ""
    try:
        meta = json.loads(record.read_text())
        data = path.read_bytes()
    except (OSError, ValueError) as exc:
        return None, f"unreadable ({type(exc).__name__}); built again"
    if not isinstance(meta, dict) or meta.get("bytes") != len(data) or \
            meta.get("sha256") != hashlib.sha256(data).hexdigest():
        return None, "its checksum no longer matched its record; built again"
    return data, ""


def _write(folder: Path, name: str, data: bytes, record: Mapping[str, object]) -> Path:
    """``data`` at ``folder/name`` with its record beside it, each renamed into place."""
    path, meta = folder / name, folder / (Path(name).stem + ".json")
    for target, payload in ((meta, json.dumps(record, indent=1, sort_keys=True).encode()),
                            (path, data)):
        handle, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(payload)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def stored(name: str, key: Mapping[str, object] | Callable[[], Mapping[str, object]],
           build: Callable[[], bytes], *, environ: Mapping[str, str] = os.environ) -> Stored:
    """The export ``name`` for ``key``: read from the cache, or built and kept there.

    ``key`` may be a function (hashing the model's files): its time is counted in the
    export's ``seconds``, with the reading or building."""
    from filelock import FileLock

    started = time.perf_counter()
    key = key() if callable(key) else key
    folder = cache_root(environ) / "exports"
    file_name = f"{name}-{_digest(key)}.onnx"
    path, record = folder / file_name, folder / (Path(file_name).stem + ".json")
    built: bytes | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder / f".{file_name}.lock"), timeout=600)
        with lock:
            data, why = _valid(path, record)
            if data is not None:
                spent = time.perf_counter() - started
                return Stored(data, path, True, spent, f"{name}: read from {path} in {_ms(spent)}")
            built = build()
            took = time.perf_counter() - started
            _write(folder, file_name, built, {
                "key": key, "sha256": hashlib.sha256(built).hexdigest(), "bytes": len(built),
                "build_seconds": round(took, 3)})
    except OSError as exc:
        data = built if built is not None else build()
        spent = time.perf_counter() - started
        return Stored(data, None, False, spent,
                      f"{name}: built in memory in {_ms(spent)}; not kept, the cache folder "
                      f"{folder} cannot be written ({type(exc).__name__}: {exc.strerror or exc})")
    spent = time.perf_counter() - started
    again = f" ({why})" if why else ""
    return Stored(built, path, False, spent, f"{name}: built in {_ms(spent)} and kept at {path}"
                  f"{again}; later processes read it")
