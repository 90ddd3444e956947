"""Notes that code under measurement leaves for the record: ``record(key, text)``.

A variant that decides something at run time (which back end, how many threads) records
what it decided and why; the measurement protocol attaches the notes recorded during a
worker's run to its :class:`~workbench.measure.protocol.WorkerRun` (the measurement protocol), and a
:class:`~workbench.measure.measurement.Measurement` shows them. A key names the decision
(``"minilm.native"``); recording a key again replaces its text. Recording is a dict store
under a lock, cheap enough to repeat on every call of a variant.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collected", "collecting", "record"]

_lock = threading.Lock()
_recorded: dict[str, str] = {}
_scopes: list[dict[str, str]] = []


def record(key: str, text: str) -> None:
    """Note ``text`` under ``key`` for this process and every :func:`collecting` scope."""
    if not isinstance(key, str) or not key:
        raise TypeError(f"a note's key must be a non-empty str; got {key!r}")
    if not isinstance(text, str):
        raise TypeError(f"a note's text must be a str; got {type(text).__name__}")
    with _lock:
        _recorded[key] = text
        for scope in _scopes:
            scope[key] = text


def collected() -> dict[str, str]:
    """Every note recorded in this process so far (the latest text per key)."""
    with _lock:
        return dict(_recorded)


@contextmanager
def collecting() -> Iterator[dict[str, str]]:
    """A dict that fills with the notes recorded while the ``with`` block runs."""
    scope: dict[str, str] = {}
    with _lock:
        _scopes.append(scope)
    try:
        yield scope
    finally:
        with _lock:  # by identity: two scopes may hold equal notes
            _scopes[:] = [s for s in _scopes if s is not scope]
