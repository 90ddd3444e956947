"""The result protocol: what every workbench result is, so that every front end can use it.

A result is an immutable dataclass that subclasses :class:`Result` and names its
``kind`` and ``schema_version``. It writes its data in ``_payload()`` and reads it back in
``_from_payload()``; everything else comes from here, once:

- ``to_json()`` / ``from_json()``: a JSON record ``{"schema_version", "kind", ...}``; the
  record check (:func:`check_record`) refuses another kind or a version this workbench
  does not read, and a malformed record is an ``InvalidInputError``, never a KeyError.
  ``from_json(r.to_json()) == r``. Results that have figures worth reading without the
  workbench (percentiles, speed-ups, verdicts) add a computed ``summary`` beside the raw
  data; it is recomputed on the way in, never trusted.
- ``dumps()``, ``save(path)`` (the format chosen by the suffix; written atomically, so a
  failed save never truncates an existing file) and ``load(path)``;
- ``to_text()`` and ``to_html()``: drawn by the rendering in use, :mod:`workbench.render`,
  which holds every formatter, template and chart. Results sit below the renderers in the
  layers, so the rendering registers itself here (:func:`use_rendering`); importing
  ``workbench`` does that;
- ``_repr_mimebundle_``: ``text/plain`` (a short summary, under 2 KB), ``text/html`` (a
  self-contained fragment) and ``application/vnd.workbench.<kind>+json`` (the record):
  each rendering once, so a saved notebook stores nothing twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self

from workbench.errors import InvalidInputError
from workbench.files import read_text, write_atomic

__all__ = [
    "KINDS",
    "PLAIN_LIMIT",
    "Rendering",
    "Result",
    "check_record",
    "forget_kind",
    "mime_type",
    "register_kind",
    "result_class",
    "result_from_json",
    "use_rendering",
]

#: The most characters ``text/plain`` of a bundle holds; longer text is cut with a note.
PLAIN_LIMIT = 2000


#: Every result kind and the class that reads it ("module:Class", imported when needed).
#: Profilers add theirs when they register (:mod:`workbench.profile.registry`).
KINDS: dict[str, str] = {
    "measurement": "workbench.measure.measurement:Measurement",
    "comparison": "workbench.measure.comparison:Comparison",
    "sweep": "workbench.measure.sweep:Sweep",
    "scale-out": "workbench.measure.scale_out:ScaleOut",
    "budget-check": "workbench.budget.check_result:CheckResult",
    "budget-block": "workbench.budget.budgeted_block:BudgetedBlock",
    "pipeline-run": "workbench.runs:PipelineRun",
    "fusion-report": "workbench.pipeline:FusionReport",
    "rag-run": "workbench.rag.reference:RagRun",
    "decision": "workbench.decisions.record:DecisionRecord",
    "stage-choices": "workbench.reporting.choices:StageChoices",
    "stage-shares": "workbench.reporting.shares:StageShares",
}


def register_kind(kind: str, ref: str) -> None:
    """Make results of ``kind`` loadable: ``ref`` is the "module:Class" that reads them."""
    known = KINDS.get(kind)
    if known is not None and known != ref:
        raise InvalidInputError(f"result kind {kind!r} is already read by {known}")
    KINDS[kind] = ref


def forget_kind(kind: str) -> None:
    """Undo :func:`register_kind` (a plugin unloading)."""
    KINDS.pop(kind, None)


class Rendering(Protocol):
    """What draws results: one line, text, an HTML fragment and a whole HTML page."""

    def headline(self, result: Any) -> str: ...

    def text(self, result: Any, **options: Any) -> str: ...

    def html(self, result: Any, **options: Any) -> str: ...

    def page(self, result: Any, **options: Any) -> str: ...

    def files(self, result: Any) -> Mapping[str, Callable[[], str]]: ...

    def figure(self, result: Any, **options: Any) -> Any: ...


_rendering: list[Rendering] = []


def use_rendering(rendering: Rendering) -> None:
    """Draw every result with ``rendering`` from now on (:mod:`workbench.render` calls this
    when it is imported)."""
    _rendering[:] = [rendering]


def _drawn() -> Rendering:
    if not _rendering:
        raise RuntimeError("no rendering registered: import workbench.render first")
    return _rendering[0]


def result_class(kind: str) -> type[Result]:
    """The class that reads records of ``kind``; an unknown kind is a clear error."""
    import importlib

    if kind not in KINDS:
        raise InvalidInputError(f"unknown result kind {kind!r}; known kinds: "
                                + ", ".join(sorted(KINDS)))
    module, _, name = KINDS[kind].partition(":")
    cls: type[Result] = getattr(importlib.import_module(module), name)
    return cls


def result_from_json(data: object) -> Result:
    """Any result from its JSON record (the record's ``kind`` picks the class)."""
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"a result record is a JSON object; got {type(data).__name__}")
    kind = data.get("kind")
    if not isinstance(kind, str):
        raise InvalidInputError(f"a result record names its kind; got kind {kind!r}")
    return result_class(kind).from_json(data)


def mime_type(kind: str) -> str:
    """The machine-readable MIME type of a result kind's record."""
    return f"application/vnd.workbench.{kind}+json"


def check_record(data: object, kind: str, version: int) -> Mapping[str, Any]:
    """``data`` if it is a ``kind`` record of schema version 1..``version``; else a clear
    ``InvalidInputError`` naming what was found and what is read."""
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"a {kind} record is a JSON object; got {type(data).__name__}")
    found = data.get("kind")
    if found != kind:
        raise InvalidInputError(f"not a {kind} record (kind {found!r}); expected kind {kind!r}")
    v = data.get("schema_version")
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise InvalidInputError(f"{kind} record has schema_version {v!r}; expected an integer "
                                f"from 1 to {version}")
    if v > version:
        raise InvalidInputError(f"{kind} schema_version {v} is newer than this workbench reads "
                                f"(1..{version}); upgrade the workbench to read it")
    return data


def _cut(text: str, limit: int = PLAIN_LIMIT) -> str:
    if len(text) <= limit:
        return text
    lines: list[str] = []
    used = 0
    for line in text.splitlines():
        if used + len(line) + 1 > limit - 120:
            break
        lines.append(line)
        used += len(line) + 1
    rest = text.count("\n") + 1 - len(lines)
    return "\n".join([*lines, f"... ({rest} more lines: to_text() or the HTML shows all)"])


class Result:
    """Base of every result dataclass (see the module docstring)."""

    kind: ClassVar[str]
    schema_version: ClassVar[int]

    # -- what a result supplies --------------------------------------------------------
    def _payload(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> Self:
        raise NotImplementedError

    def summary_json(self) -> dict[str, Any] | None:
        """Computed figures written beside the raw data (None: the record has none)."""
        return None

    # -- JSON ----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema_version": self.schema_version, "kind": self.kind}
        out.update(self._payload())
        summary = self.summary_json()
        if summary is not None:
            out["summary"] = summary
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        record = check_record(data, cls.kind, cls.schema_version)
        try:
            return cls._from_payload(record)
        except InvalidInputError as exc:
            raise InvalidInputError(f"malformed {cls.kind} record: {exc}") from None
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            what = f"missing field {exc}" if isinstance(exc, KeyError) else \
                f"{type(exc).__name__}: {exc}"
            raise InvalidInputError(f"malformed {cls.kind} record ({what})") from None

    def dumps(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_json(), indent=indent)

    @classmethod
    def loads(cls, text: str) -> Self:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"not a {cls.kind} record: invalid JSON ({exc.msg} at line "
                                    f"{exc.lineno}, column {exc.colno})") from None
        return cls.from_json(data)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the record (``.json``), the HTML fragment as a page (``.html``), the text
        (``.txt``) or a kind's own format; the suffix chooses."""
        renderings: dict[str, Callable[[], str]] = {
            "json": self.dumps, "html": lambda: _drawn().page(self), "txt": self.to_text,
            **_drawn().files(self)}
        target = Path(path)
        suffix = target.suffix.lower().lstrip(".")
        suffix = "html" if suffix == "htm" else suffix
        if suffix not in renderings:
            raise InvalidInputError(f"cannot save a {self.kind} to {target.name!r}: choose a "
                                    "file ending in " + ", ".join(f".{s}" for s in renderings))
        return write_atomic(target, renderings[suffix]() + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        text = read_text(path, cls.kind)
        try:
            return cls.loads(text)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{path}: {exc}") from None

    # -- renderings ----------------------------------------------------------------------
    def to_text(self, **options: Any) -> str:
        return _drawn().text(self, **options)

    def to_html(self, **options: Any) -> str:
        return _drawn().html(self, **options)

    def figure(self, **options: Any) -> Any:
        """The result as a matplotlib Figure (returned, never shown or saved), for the
        kinds that have one; other kinds raise InvalidInputError."""
        return _drawn().figure(self, **options)

    def summary_line(self) -> str:
        """One line saying what this is and what it found."""
        return _drawn().headline(self)

    def _repr_mimebundle_(self, include: Iterable[str] | None = None,
                          exclude: Iterable[str] | None = None, **_: Any) -> dict[str, Any]:
        makers: dict[str, Callable[[], Any]] = {
            "text/plain": lambda: _cut(self.to_text()),
            "text/html": self.to_html,
            mime_type(self.kind): self.to_json,
        }
        wanted = set(makers) if include is None else set(include) & set(makers)
        wanted -= set(exclude or ())
        return {mime: make() for mime, make in makers.items() if mime in wanted}

    def __str__(self) -> str:
        return self.to_text()
