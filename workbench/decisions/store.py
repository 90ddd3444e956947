"""The decision log: append-only JSON Lines, one :class:`DecisionRecord` per line.

Writing (:meth:`DecisionLog.append`) holds a file lock (``<log>.lock``, filelock) for the
whole read-check-append, so concurrent writers lose nothing: under the lock the log is
scanned (an unreadable line stops the append: nothing is added to a log that is already
damaged), the record is told which earlier decision on the same pipeline and stage it
supersedes, and its line is written with one ``write`` on a descriptor opened with
``O_APPEND``, then flushed to disk (``fsync``). The file is never rewritten.

Reading (:meth:`DecisionLog.read`) gives every record in order. A line cut short by a
writer killed mid-write (JSON that ends early) is reported with its line number and
skipped: it never held a whole record. If the log ends in such a line, the next append
first ends it with a newline, so the cut line stays what it was and the new record stands
on its own line. Any other unreadable line, or a record of a schema version this workbench
does not read, is an error naming the file and line: nothing is skipped silently.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.decisions.record import DecisionRecord
from workbench.errors import ExecutionError, InvalidInputError

__all__ = ["DecisionLog", "LogRead", "parse_since"]

LOCK_TIMEOUT = 60.0


def parse_since(text: str) -> datetime:
    """``--since``: an ISO date or date-time (UTC when no zone is given)."""
    from datetime import UTC

    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(f"--since {text!r} is not a date; write YYYY-MM-DD or an ISO "
                                "date-time such as 2026-11-28T09:30") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _when(record: DecisionRecord) -> datetime:
    return parse_since(record.created_at)


@dataclass(frozen=True)
class LogRead:
    """What a read of the log found: the records in order and the cut lines skipped."""

    path: Path
    records: tuple[DecisionRecord, ...]
    torn: tuple[int, ...] = ()

    def notices(self) -> list[str]:
        return [f"{self.path}:{n}: a line cut short (a write was interrupted) holds no whole "
                "record; it was skipped, and the file was left as it is" for n in self.torn]

    def superseded_by(self) -> dict[str, str]:
        """Decision id -> the id of the later decision that replaced it."""
        return {r.supersedes: r.id for r in self.records if r.supersedes}

    def current(self, *pipeline: str) -> dict[str, DecisionRecord]:
        """The latest decision per stage (of the pipeline called by any of the names in
        ``pipeline``, matched against its reference and its own name, if given)."""
        out: dict[str, DecisionRecord] = {}
        for r in self.records:
            if not pipeline or r.pipeline in pipeline or r.pipeline_name in pipeline:
                out[r.stage] = r
        return out

    def choices(self, *pipeline: str) -> dict[str, str]:
        """Stage -> the variant the latest decision chose, for the pipeline called by
        any of the names in ``pipeline`` (its reference or its own name)."""
        return {stage: r.variant for stage, r in self.current(*pipeline).items()}

    def find(self, ident: str) -> DecisionRecord:
        """The record whose id is ``ident`` or starts with it (unambiguously)."""
        found = [r for r in self.records if r.id == ident] or \
            [r for r in self.records if r.id.startswith(ident)]
        if len(found) == 1:
            return found[0]
        if not found:
            known = ", ".join(r.id for r in self.records[-5:]) or "(the log is empty)"
            raise InvalidInputError(f"no decision {ident!r} in {self.path}; latest: {known}")
        raise InvalidInputError(f"{ident!r} matches {len(found)} decisions in {self.path}: "
                                + ", ".join(r.id for r in found) + "; give more of the id")

    def select(self, *, stage: str | None = None,
               since: datetime | None = None) -> tuple[DecisionRecord, ...]:
        """The records of ``stage`` made at or after ``since`` (either may be None)."""
        return tuple(r for r in self.records
                     if (stage is None or r.stage == stage)
                     and (since is None or _when(r) >= since))


_DECODER = json.JSONDecoder()
_LEADING = ("id", "pipeline", "pipeline_name", "stage")


def _head(line: str) -> dict[str, Any] | None:
    """The leading fields of a record line as this log writes them (compact JSON, id,
    pipeline and stage first), read without parsing the rest of the line (the evidence can
    be a megabyte); None when the line is not such a whole record."""
    text = line.rstrip("\r\n")
    if not (text.startswith("{") and text.endswith("}")):
        return None
    found: dict[str, Any] = {}
    pos = 1
    try:
        while len(found) < len(_LEADING):
            key, pos = _DECODER.raw_decode(text, pos)
            if text[pos] != ":":
                return None
            value, pos = _DECODER.raw_decode(text, pos + 1)
            if key in _LEADING:
                found[key] = value
            if text[pos] != ",":
                break
            pos += 1
    except (json.JSONDecodeError, IndexError):
        return None
    return found if len(found) == len(_LEADING) else None


def _cut_short(line: str) -> bool:
    """Is ``line`` JSON that ends early (a prefix of a record), not other damage?"""
    try:
        json.loads(line)
    except json.JSONDecodeError as exc:
        text = line.rstrip("\r\n")
        tail = text[exc.pos:]
        ran_out = (not tail.strip() or exc.msg.startswith("Unterminated string")
                   or any(word.startswith(tail) for word in ("null", "true", "false"))
                   or re.fullmatch(r"-?[0-9]*\.?[0-9]*(?:[eE][-+]?[0-9]*)?", tail) is not None)
        return ran_out and text.lstrip().startswith("{")
    return False


class DecisionLog:
    """The log at ``path`` (created on the first append, with its folder)."""

    def __init__(self, path: str | os.PathLike[str], *,
                 lock_timeout: float = LOCK_TIMEOUT) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    # -- reading -------------------------------------------------------------------------
    def _lines(self) -> Iterator[tuple[int, str]]:
        if not self.path.exists():
            return
        if not self.path.is_file():
            raise InvalidInputError(f"decision log {self.path} is not a file")
        try:
            with self.path.open("rb") as handle:
                for number, raw in enumerate(handle, 1):
                    try:
                        yield number, raw.decode("utf-8")
                    except UnicodeDecodeError:
                        raise InvalidInputError(
                            f"{self.path}:{number}: not UTF-8 text; a decision log holds "
                            "one JSON record per line (nothing was changed)") from None
        except OSError as exc:
            raise InvalidInputError(f"cannot read decision log {self.path}: {exc}") from None

    def _raw(self) -> tuple[list[tuple[int, dict[str, Any]]], list[int]]:
        """Each record line as (line number, JSON object); the cut lines."""
        found: list[tuple[int, dict[str, Any]]] = []
        torn: list[int] = []
        for number, line in self._lines():
            if line.strip():
                parsed = self._parse(number, line)
                found += parsed
                torn += [] if parsed else [number]
        return found, torn

    def _parse(self, number: int, line: str) -> list[tuple[int, dict[str, Any]]]:
        """``[(number, record object)]``, or ``[]`` for a line cut short; other damage
        raises, naming the file and line."""
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            if _cut_short(line):
                return []
            raise InvalidInputError(
                f"{self.path}:{number}: not a JSON record ({exc.msg} at column "
                f"{exc.colno}); the log was not changed: fix or remove that line by "
                "hand") from None
        if not isinstance(data, dict):
            raise InvalidInputError(f"{self.path}:{number}: a decision record is a JSON "
                                    f"object; got {type(data).__name__}")
        return [(number, data)]

    def read(self) -> LogRead:
        """Every record, in the order written (see the module docstring for damage). The
        read holds the lock when it can take it, so a write in progress is not mistaken
        for a cut line; a log in a place it cannot lock (read-only) is read without it."""
        from filelock import FileLock, Timeout

        if not self.path.is_file():
            return self._read()
        try:
            with FileLock(str(self.lock_path), timeout=self.lock_timeout):
                return self._read()
        except Timeout:
            raise ExecutionError(f"another process has held {self.lock_path} for more than "
                                 f"{self.lock_timeout:g} s; read again later") from None
        except OSError:  # the lock file cannot be made here (a read-only checkout)
            return self._read()

    def _read(self) -> LogRead:
        raw, torn = self._raw()
        records = []
        for number, data in raw:
            try:
                records.append(DecisionRecord.from_json(data))
            except InvalidInputError as exc:
                raise InvalidInputError(f"{self.path}:{number}: {exc}") from None
        return LogRead(self.path, tuple(records), tuple(torn))

    # -- writing -------------------------------------------------------------------------
    def append(self, record: DecisionRecord) -> DecisionRecord:
        """Append ``record`` (marked as superseding the latest decision on its pipeline
        and stage); returns the record as written."""
        from filelock import FileLock, Timeout

        if not isinstance(record, DecisionRecord):
            raise InvalidInputError(f"only decision records go into the log; got "
                                    f"{type(record).__name__}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self.lock_path), timeout=self.lock_timeout)
            with lock:
                written = self._append_locked(record)
        except Timeout:
            raise ExecutionError(f"another process has held {self.lock_path} for more than "
                                 f"{self.lock_timeout:g} s; nothing was written") from None
        except OSError as exc:
            raise ExecutionError(f"cannot write decision log {self.path}: {exc}") from None
        return written

    def _scan(self) -> list[tuple[int, dict[str, Any]]]:
        """The leading fields of every record line, for an append: lines written by this
        log are read by :func:`_head`; any other line is parsed whole, so damage still
        stops the append."""
        found: list[tuple[int, dict[str, Any]]] = []
        for number, line in self._lines():
            head = _head(line)
            if head is not None:
                found.append((number, head))
            elif line.strip():
                found += self._parse(number, line)
        return found

    def _append_locked(self, record: DecisionRecord) -> DecisionRecord:
        earlier = None
        for number, data in self._scan():
            if data.get("id") == record.id:
                raise InvalidInputError(f"{self.path}:{number} already holds decision "
                                        f"{record.id}; records are never replaced")
            if (data.get("pipeline"), data.get("stage")) == (record.pipeline, record.stage):
                earlier = str(data.get("id"))
        record = record.with_supersedes(earlier)
        line = (json.dumps(record.to_json(), separators=(",", ":"), ensure_ascii=False)
                + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            size = os.fstat(fd).st_size
            if size and not self._ends_with_newline(size):
                line = b"\n" + line
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def _ends_with_newline(self, size: int) -> bool:
        with self.path.open("rb") as handle:
            handle.seek(size - 1)
            return handle.read(1) == b"\n"
