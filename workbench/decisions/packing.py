"""How a decision stores compacted evidence: a lossless encoding of a result record.

:func:`pack` writes a result's JSON record (``{"schema_version", "kind", ...}``) smaller,
and :func:`unpack` gives the record back, except for its summaries: every result
recomputes its ``summary`` on the way in and never trusts a stored one, and the decision's
own alternatives and hint summarise its evidence. The packed entry is the record with
these changes, each announced in its ``"compacted"`` object so that a reader knows what
to undo:

- no ``summary``, at any depth;
- call stacks name their frames by number and share their beginnings: ``"frames"`` lists
  each frame once, and ``"framed"`` names the fields whose stacks were rewritten --
  ``"list"``: each entry's first item is a list of frames; ``"joined"``: it is one
  ``;``-joined string (collapsed stacks). That first item becomes ``[0, f, ...]`` (frames
  numbered f, root first) or ``[k, j, f, ...]``: the first k frames of entry j (an earlier
  one of the same field), then frames f;
- an object that occurs more than once (a worker's machine fingerprint, the same for every
  worker) is stored once in ``"shared"`` and each occurrence is ``{"$shared": N}``; done
  only when the record holds no object with a ``"$shared"`` key of its own.

The ``"compacted"`` object also carries what the lossy compaction cut (``"cuts"``,
:mod:`workbench.decisions.compaction`); this module passes it through. A stored entry is
user input: :func:`unpack` checks every table and reference and raises
:class:`~workbench.errors.InvalidInputError` naming what is wrong.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

from workbench.errors import InvalidInputError

__all__ = ["HEADER", "pack", "packed_size", "unpack"]

#: The key of a packed entry that says how it was packed.
HEADER = "compacted"
_REF = "$shared"
_SHARED_MIN = 64  # characters: smaller objects are cheaper written out than referenced
_LEADING = ("schema_version", "kind", "summary")
#: The most a stored entry may unfold to (frames of its stacks; characters of shared
#: objects copied): a log line is user input, and a small one must not unfold to gigabytes.
MAX_FRAMES = 5_000_000
MAX_SHARED_CHARS = 50_000_000


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def packed_size(entry: Mapping[str, Any]) -> int:
    """Bytes of ``entry`` as the log writes it (compact JSON, UTF-8)."""
    return len(_compact(entry).encode("utf-8"))


def _without_summaries(value: Any) -> Any:
    """``value`` without the summaries of the result records in it (``summary`` beside
    ``kind`` and ``schema_version``)."""
    if isinstance(value, dict):
        record = "kind" in value and "schema_version" in value
        return {k: _without_summaries(v) for k, v in value.items()
                if not (record and k == "summary")}
    if isinstance(value, list):
        return [_without_summaries(v) for v in value]
    return value


def _framing(value: Any) -> str | None:
    """How a field's entries hold call stacks ("list" or "joined"), or None."""
    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(e, list) and e for e in value):
        return None
    if all(isinstance(e[0], list) and all(isinstance(f, str) for f in e[0]) for e in value):
        return "list"
    if all(len(e) == 2 and isinstance(e[0], str) and isinstance(e[1], int) for e in value):
        return "joined"
    return None


def _paths(stacks: list[list[int]]) -> list[list[int]]:
    """Each stack (frame numbers, root first) as ``[0, *frames]`` or ``[k, j, *rest]``:
    the first k frames of stack j, the earliest one sharing the longest beginning."""
    trie: dict[int, tuple[dict[Any, Any], int]] = {}
    out = []
    for i, frames in enumerate(stacks):
        node, k, j = trie, 0, 0
        while k < len(frames) and frames[k] in node:
            child, j = node[frames[k]]
            node, k = child, k + 1
        for f in frames[k:]:
            node[f] = ({}, i)
            node = node[f][0]
        out.append([k, j, *frames[k:]] if k else [0, *frames])
    return out


def _intern(record: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    frames: dict[str, int] = {}
    framed: dict[str, str] = {}
    for key in [k for k in record if k not in _LEADING]:
        how = _framing(record[key])
        if how is None:
            continue
        framed[key] = how
        numbered = [[frames.setdefault(f, len(frames)) for f in
                     (entry[0] if how == "list" else entry[0].split(";"))]
                    for entry in record[key]]
        record[key] = [[path, *entry[1:]] for path, entry in zip(_paths(numbered),
                                                                record[key], strict=True)]
    return list(frames), framed


def _objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _objects(v)
    elif isinstance(value, list):
        for v in value:
            yield from _objects(v)


def _share(record: dict[str, Any]) -> list[Any]:
    """Objects seen more than once in ``record`` replaced by references (in place); the
    table of them, in the order first met."""
    seen: dict[str, int] = {}
    body = [v for k, v in record.items() if k not in _LEADING]
    for obj in _objects(body):
        text = _compact(obj)
        if len(text) >= _SHARED_MIN:
            seen[text] = seen.get(text, 0) + 1
    table: dict[str, int] = {}
    shared: list[Any] = []

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            text = _compact(value)
            if seen.get(text, 0) > 1:
                if text not in table:
                    table[text] = len(shared)
                    shared.append(value)
                return {_REF: table[text]}
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    for key in list(record):
        if key not in _LEADING:
            record[key] = swap(record[key])
    return shared


def pack(record: Mapping[str, Any], cuts: list[dict[str, Any]]) -> dict[str, Any]:
    """``record`` packed (see the module docstring), with ``cuts`` in its header. Call
    stacks are found by their shape, in any top-level field: a list whose entries each
    start with a list of strings (frames), or a list of ``[string, integer]`` pairs
    (collapsed stacks)."""
    out: dict[str, Any] = _without_summaries(dict(record))
    header: dict[str, Any] = {"cuts": cuts}
    frames, framed = _intern(out)
    if framed:
        header.update(frames=frames, framed=framed)
    if not any(_REF in obj for obj in _objects(out)):
        shared = _share(out)
        if shared:
            header["shared"] = shared
    out[HEADER] = header
    return out


# -- reading -----------------------------------------------------------------------------

def _bad(what: str) -> InvalidInputError:
    return InvalidInputError(f"packed evidence: {what}")


def _resolve(record: dict[str, Any], shared: list[Any]) -> dict[str, Any]:
    """``record`` with every reference replaced by (a copy of) the object it names."""
    sizes = [len(_compact(v)) for v in shared]
    copied = 0

    def walk(value: Any) -> Any:
        nonlocal copied
        if isinstance(value, dict):
            if _REF not in value:
                return {k: walk(v) for k, v in value.items()}
            index = value[_REF]
            if len(value) != 1 or not isinstance(index, int) or isinstance(index, bool) \
                    or not 0 <= index < len(shared):
                raise _bad(f"{_compact(value)[:80]} is not a reference to one of the "
                           f"{len(shared)} shared objects")
            copied += sizes[index]
            if copied > MAX_SHARED_CHARS:
                raise _bad(f"its shared objects unfold to more than {MAX_SHARED_CHARS:,} "
                           "characters")
            return copy.deepcopy(shared[index])
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return {k: v if k in _LEADING else walk(v) for k, v in record.items()}


def _number(value: Any, below: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < below:
        raise _bad(f"{what} {value!r:.40} is not a number from 0 to {below - 1}")
    return value


def _path(path: Any, earlier: list[list[str]], frames: list[str], key: str) -> list[str]:
    """The frames of one packed stack of field ``key`` (see the module docstring)."""
    if not (isinstance(path, list) and path):
        raise _bad(f"an entry of {key!r} does not start with a list of frame numbers")
    head: list[str] = []
    shared = _number(path[0], 1 << 16, f"the shared beginning in {key!r}")
    if shared:
        if len(path) < 2 or not earlier:
            raise _bad(f"an entry of {key!r} shares {shared} frames with no earlier entry")
        head = earlier[_number(path[1], len(earlier), f"an earlier entry of {key!r}")]
        if len(head) < shared:
            raise _bad(f"an entry of {key!r} shares {shared} frames with an entry of "
                       f"{len(head)}")
    rest = path[2:] if shared else path[1:]
    return [*head[:shared],
            *(frames[_number(i, len(frames), f"frame in {key!r}")] for i in rest)]


def _unintern(record: dict[str, Any], frames: list[str], framed: Mapping[str, Any]) -> None:
    unfolded = 0
    for key, how in framed.items():
        rows = record.get(key)
        if how not in ("list", "joined") or not isinstance(rows, list):
            raise _bad(f"field {key!r} is named as framed ({how!r}) but holds no stacks")
        decoded: list[list[str]] = []
        out = []
        for entry in rows:
            if not (isinstance(entry, list) and entry):
                raise _bad(f"an entry of {key!r} is not a list")
            decoded.append(_path(entry[0], decoded, frames, key))
            unfolded += len(decoded[-1])
            if unfolded > MAX_FRAMES:
                raise _bad(f"its stacks unfold to more than {MAX_FRAMES:,} frames")
            out.append([decoded[-1] if how == "list" else ";".join(decoded[-1]), *entry[1:]])
        record[key] = out


def unpack(entry: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any] | None]:
    """The result record ``entry`` holds and its header's cuts (None: the entry was not
    packed, a record as written before evidence was compacted)."""
    if HEADER not in entry:
        return dict(entry), None
    header = entry[HEADER]
    if not isinstance(header, Mapping):
        raise _bad(f"{HEADER!r} must be an object; got {type(header).__name__}")
    cuts, frames = header.get("cuts", []), header.get("frames", [])
    framed, shared = header.get("framed", {}), header.get("shared", [])
    if not isinstance(cuts, list) or not isinstance(shared, list):
        raise _bad("'cuts' and 'shared' must be lists")
    if not (isinstance(frames, list) and all(isinstance(f, str) for f in frames)):
        raise _bad("'frames' must be a list of strings")
    if not isinstance(framed, Mapping):
        raise _bad("'framed' must be an object")
    record = {k: v for k, v in entry.items() if k != HEADER}
    if shared:
        record = _resolve(record, shared)
    _unintern(record, frames, framed)
    return record, cuts
