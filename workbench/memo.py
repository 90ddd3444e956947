"""Memo tables: the explicit cache a stage author puts behind a cached variant.

Pure stages make memoization safe (the same input gives the same output), but a cache is
only worth its memory when its key is small and stable, its hit rate is high, its size
fits the memory budget and it holds up under threads. A :class:`MemoTable` makes each of
those visible::

    CHUNKS = MemoTable("chunk", key="doc id, content hash, chunk size", version="1",
                       max_entries=50_000)

    @chunk.variant("cached")
    def chunk_cached(docs, *, size=256):
        return tuple(c for d in docs
                     for c in CHUNKS.get_or_compute((d.doc_id, text_hash(d.abstract), size),
                                                    lambda d=d: chunk_one(d, size)))

- **Keys are the author's**: a small hashable value derived from the input (ids, a
  content hash, parameters). Whole payloads are not hashed for you; :func:`text_hash`
  hashes one string when that is the stable key, and a table built with
  ``hashes_payload=True`` says so in its description. A key part longer than
  :data:`MAX_KEY_CHARS` characters is refused: it is a payload, not a key.
- **A version** is part of every entry: :meth:`MemoTable.set_version` with a new value
  drops the entries of the old one (the model changed, the chunker changed); a value
  computed while the version changed is returned but not kept.
- **A bound**, in entries or in bytes (or both); the least recently used entry goes first.
  A value larger than ``max_bytes`` on its own is returned but not kept (it counts as an
  eviction), so one outsized value never flushes the table.
- **Thread safe**: one lock guards the table and its counters; a value is computed outside
  it, so two threads missing the same key both compute it (both count as misses).
- **Counters**: hits, misses, evictions, entries, bytes, invalidations (:meth:`stats`).

A measurement empties every live table before it times anything and reads their counters
around the timed calls only (:func:`live_tables`), so warm-up never shows as hits. A table
pickles (a notebook's table travels to worker processes with the code that uses it)
without its entries and counters: each process fills its own.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar, cast

from workbench.errors import InvalidInputError

__all__ = ["MAX_KEY_CHARS", "MemoStats", "MemoTable", "approx_bytes", "live_tables",
           "text_hash"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: The longest string or bytes a key part may be: longer ones are payloads.
MAX_KEY_CHARS = 256
_TABLES: weakref.WeakSet[MemoTable[Any, Any]] = weakref.WeakSet()
_REGISTRY_LOCK = threading.Lock()


def text_hash(text: str | bytes, size: int = 16) -> str:
    """A short stable digest of ``text`` (BLAKE2b, ``size`` bytes as hex): the content
    part of a key, when the content itself is what identifies the work."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.blake2b(data, digest_size=size).hexdigest()


def approx_bytes(value: object, _depth: int = 0) -> int:
    """A cheap estimate of what ``value`` holds in memory: arrays by ``nbytes``, strings
    and bytes by ``sys.getsizeof``, containers and slotted/dataclass objects one level
    at a time (three levels deep at most)."""
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes + 112
    size = sys.getsizeof(value)
    if _depth >= 3 or isinstance(value, str | bytes | int | float | bool) or value is None:
        return size
    if isinstance(value, dict):
        return size + sum(approx_bytes(k, _depth + 1) + approx_bytes(v, _depth + 1)
                          for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return size + sum(approx_bytes(x, _depth + 1) for x in value)
    slots = getattr(type(value), "__slots__", ())
    fields = [getattr(value, s) for s in slots if hasattr(value, s)]
    if not fields and hasattr(value, "__dict__"):
        fields = list(vars(value).values())
    return size + sum(approx_bytes(x, _depth + 1) for x in fields)


@dataclass(frozen=True, slots=True)
class MemoStats:
    """A table's counters and settings at one moment (what a measurement records)."""

    name: str
    key: str
    version: str
    hits: int
    misses: int
    evictions: int
    invalidations: int
    entries: int
    bytes: int
    max_entries: int | None
    max_bytes: int | None
    hashes_payload: bool

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.lookups if self.lookups else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _positive_or_none(name: str, value: object) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                              or value < 1):
        raise InvalidInputError(f"memo table {name}: a bound must be an integer >= 1 or "
                                f"None; got {value!r}")


class MemoTable(Generic[K, V]):
    """A bounded, versioned, thread-safe memo table with counters (see the module)."""

    def __init__(self, name: str, *, key: str, version: str, max_entries: int | None = None,
                 max_bytes: int | None = None, sizeof: Callable[[Any], int] = approx_bytes,
                 hashes_payload: bool = False) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"a memo table needs a name; got {name!r}")
        for what, text in (("key", key), ("version", version)):
            if not isinstance(text, str) or not text.strip():
                raise InvalidInputError(
                    f"memo table {name!r}: {what} must be a non-empty description (key: what "
                    "the key is made of, e.g. 'doc id, content hash, size'; version: what "
                    f"invalidates it, e.g. the model's name); got {text!r}")
        _positive_or_none(repr(name), max_entries)
        _positive_or_none(repr(name), max_bytes)
        if max_entries is None and max_bytes is None:
            raise InvalidInputError(f"memo table {name!r} needs a bound: max_entries, "
                                    "max_bytes or both (an unbounded cache grows until the "
                                    "RSS budget breaks)")
        self.name, self.key, self._version = name, key, version
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.hashes_payload = hashes_payload
        self._sizeof = sizeof
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._bytes = 0
        self._hits = self._misses = self._evictions = self._invalidations = 0
        with _REGISTRY_LOCK:
            _TABLES.add(self)

    # -- shipping: a table travels empty (its entries belong to the process) ---------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_data"] = OrderedDict()
        del state["_lock"]
        state["_bytes"] = 0
        state["_hits"] = state["_misses"] = state["_evictions"] = 0
        state["_invalidations"] = 0
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        with _REGISTRY_LOCK:
            _TABLES.add(self)

    # -- what it is ------------------------------------------------------------------
    @property
    def version(self) -> str:
        return self._version

    def describe(self) -> str:
        bound = " and ".join(b for b in (
            f"{self.max_entries:,} entries" if self.max_entries else "",
            f"{self.max_bytes:,} bytes" if self.max_bytes else "") if b)
        payload = " (hashes whole payloads)" if self.hashes_payload else ""
        return (f"memo table {self.name!r}: key ({self.key}){payload}, version "
                f"{self._version}, bound {bound}")

    def __repr__(self) -> str:
        return f"<{self.describe()}>"

    def __len__(self) -> int:
        return len(self._data)

    # -- use -------------------------------------------------------------------------
    def get_or_compute(self, key: K, compute: Callable[[], V]) -> V:
        """The value stored under ``key``, or ``compute()`` stored and returned."""
        self._check_key(key)
        version = self._version
        found, hit = self._lookup(key)
        if found:
            return cast(V, hit)
        value = compute()
        self._store(key, value, version)
        return value

    def get_many(self, keys: Sequence[K],
                 compute_missing: Callable[[list[int]], Sequence[V]]) -> list[V]:
        """Values for ``keys`` in order; the positions that missed are computed in one
        call, ``compute_missing(positions)`` (a vectorized variant's batch), and stored."""
        for key in keys:  # every key is checked before any lookup counts
            self._check_key(key)
        version = self._version
        out: list[Any] = [None] * len(keys)
        missing: list[int] = []
        for i, key in enumerate(keys):
            found, value = self._lookup(key)
            if found:
                out[i] = value
            else:
                missing.append(i)
        if missing:
            computed = compute_missing(missing)
            if len(computed) != len(missing):
                raise InvalidInputError(
                    f"memo table {self.name!r}: compute_missing returned {len(computed)} "
                    f"values for {len(missing)} missing keys")
            for i, value in zip(missing, computed, strict=True):
                out[i] = value
                self._store(keys[i], value, version)
        return out

    def _check_key(self, key: object) -> None:
        try:
            hash(key)
        except TypeError:
            raise InvalidInputError(
                f"memo table {self.name!r}: a key must be hashable (a string, a number, a "
                f"tuple of them); got a {type(key).__name__}") from None
        parts = key if isinstance(key, tuple) else (key,)
        for part in parts:
            if isinstance(part, str | bytes) and len(part) > MAX_KEY_CHARS:
                raise InvalidInputError(
                    f"memo table {self.name!r}: a key part of {len(part):,} characters is a "
                    f"payload, not a key (at most {MAX_KEY_CHARS}); derive a small stable key "
                    "(an id, workbench.memo.text_hash(content), a size)")

    def _lookup(self, key: K) -> tuple[bool, Any]:  # the key is checked
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                self._misses += 1
                return False, None
            self._data.move_to_end(key)
            self._hits += 1
            return True, entry[0]

    def _store(self, key: K, value: V, version: str) -> None:
        """Keep ``value``, computed while ``version`` was current (a value computed
        across a :meth:`set_version` is returned but not kept: it may be stale)."""
        size = int(self._sizeof(value))
        with self._lock:
            if version != self._version:
                return
            if self.max_bytes is not None and size > self.max_bytes:
                self._evictions += 1  # too large to keep at all: stored and dropped at once
                return
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._data[key] = (value, size)
            self._bytes += size
            self._evict()

    def _evict(self) -> None:  # under the lock
        while self._data and (
                (self.max_entries is not None and len(self._data) > self.max_entries)
                or (self.max_bytes is not None and self._bytes > self.max_bytes)):
            _, (_, dropped) = self._data.popitem(last=False)
            self._bytes -= dropped
            self._evictions += 1

    # -- control ---------------------------------------------------------------------
    def set_version(self, version: str) -> None:
        """Entries are valid for one version: a new one drops them all."""
        if not isinstance(version, str) or not version.strip():
            raise InvalidInputError(f"memo table {self.name!r}: a version is a non-empty "
                                    f"string; got {version!r}")
        with self._lock:
            if version != self._version:
                self._invalidations += len(self._data)
                self._data.clear()
                self._bytes = 0
                self._version = version

    def set_bounds(self, *, max_entries: int | None, max_bytes: int | None) -> None:
        """Change the bound (a stage parameter may size the table); entries over the new
        bound are evicted now."""
        _positive_or_none(repr(self.name), max_entries)
        _positive_or_none(repr(self.name), max_bytes)
        if max_entries is None and max_bytes is None:
            raise InvalidInputError(f"memo table {self.name!r} needs a bound: max_entries, "
                                    "max_bytes or both")
        with self._lock:
            self.max_entries, self.max_bytes = max_entries, max_bytes
            self._evict()

    def clear(self) -> None:
        """Drop every entry (the counters stay: :meth:`reset_counters`)."""
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def reset_counters(self) -> None:
        with self._lock:
            self._hits = self._misses = self._evictions = self._invalidations = 0

    def stats(self) -> MemoStats:
        with self._lock:
            return MemoStats(self.name, self.key, self._version, self._hits, self._misses,
                             self._evictions, self._invalidations, len(self._data),
                             self._bytes, self.max_entries, self.max_bytes,
                             self.hashes_payload)


def live_tables() -> tuple[MemoTable[Any, Any], ...]:
    """Every memo table alive in this process, by name."""
    with _REGISTRY_LOCK:
        return tuple(sorted(_TABLES, key=lambda t: t.name))
