"""Exports kept on disk (workbench.rag.export_store): built once per key, read after that,
rebuilt when damaged, built once when processes start together, and never lost work when
the cache folder cannot be written."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from workbench.errors import InvalidInputError
from workbench.rag.export_store import CACHE_VAR, cache_root, file_digests, stored

KEY = {"model files": {"model.safetensors": "ab12"}, "recipe": "v1"}


class Builds:
    """A build function that counts its calls."""

    def __init__(self, data: bytes = b"onnx bytes") -> None:
        self.data, self.calls = data, 0

    def __call__(self) -> bytes:
        self.calls += 1
        return self.data


def _env(tmp_path: Path) -> dict[str, str]:
    return {CACHE_VAR: str(tmp_path / "cache")}


def test_built_once_then_read(tmp_path: Path) -> None:
    build = Builds()
    first = stored("minilm-fp32", KEY, build, environ=_env(tmp_path))
    second = stored("minilm-fp32", dict(KEY), build, environ=_env(tmp_path))
    assert build.calls == 1
    assert (first.reused, second.reused) == (False, True)
    assert first.data == second.data == b"onnx bytes"
    assert first.path == second.path and first.path is not None
    assert first.path.parent == tmp_path / "cache" / "exports"
    assert "built in" in first.note and "kept at" in first.note
    assert second.note.startswith(f"minilm-fp32: read from {second.path} in ")
    leftovers = [p.name for p in first.path.parent.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == []


def test_another_key_or_name_is_another_export(tmp_path: Path) -> None:
    build = Builds()
    stored("minilm-fp32", KEY, build, environ=_env(tmp_path))
    stored("minilm-fp32", {**KEY, "recipe": "v2"}, build, environ=_env(tmp_path))
    stored("minilm-int8", KEY, build, environ=_env(tmp_path))
    stored("minilm-fp32", lambda: KEY, build, environ=_env(tmp_path))  # a key function
    assert build.calls == 3


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "garble the record"])
def test_a_damaged_export_is_built_again_never_used(tmp_path: Path, damage: str) -> None:
    build = Builds(b"x" * 1000)
    path = stored("minilm-fp32", KEY, build, environ=_env(tmp_path)).path
    assert path is not None
    if damage == "flip a byte":
        data = bytearray(path.read_bytes())
        data[500] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:10])
    else:
        path.with_suffix(".json").write_text("{not json")
    again = stored("minilm-fp32", KEY, build, environ=_env(tmp_path))
    assert build.calls == 2 and not again.reused
    assert again.data == b"x" * 1000 and path.read_bytes() == b"x" * 1000
    assert "built again" in again.note
    assert stored("minilm-fp32", KEY, build, environ=_env(tmp_path)).reused


def test_an_unwritable_cache_still_gives_the_export(tmp_path: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    build = Builds()
    got = stored("minilm-fp32", KEY, build, environ={CACHE_VAR: str(blocker / "cache")})
    assert got.data == b"onnx bytes" and got.path is None and build.calls == 1
    assert "built in memory" in got.note and "cannot be written" in got.note


def test_the_cache_folder_is_validated_and_defaults_under_the_home(tmp_path: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("")
    with pytest.raises(InvalidInputError, match=f"{CACHE_VAR}='.*a file' is not a directory"):
        cache_root({CACHE_VAR: str(blocker)})
    assert cache_root({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "workbench"
    assert cache_root({}) == Path.home() / ".cache" / "workbench"


def test_model_files_are_keyed_by_content(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    before = file_digests(tmp_path, ["config.json"])
    (tmp_path / "config.json").write_text('{"hidden_size": 384}')
    assert file_digests(tmp_path, ["config.json"]) != before
    with pytest.raises(InvalidInputError, match=r"model\.safetensors is missing"):
        file_digests(tmp_path, ["model.safetensors"])


def _slow_build(counter: str) -> bytes:
    with open(counter, "a") as out:
        out.write("built\n")
    time.sleep(0.5)
    return b"the export"


def _in_a_process(args: tuple[str, str]) -> bytes:
    cache, counter = args
    return stored("minilm-fp32", KEY, lambda: _slow_build(counter),
                  environ={CACHE_VAR: cache}).data


def test_processes_that_start_together_build_once(tmp_path: Path) -> None:
    counter = tmp_path / "builds.txt"
    with multiprocessing.get_context("fork").Pool(3) as pool:
        got = pool.map(_in_a_process, [(str(tmp_path / "cache"), str(counter))] * 3)
    assert got == [b"the export"] * 3
    assert counter.read_text() == "built\n"
