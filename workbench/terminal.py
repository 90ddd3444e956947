"""What the command line may do to the terminal: colour, progress bars, JSON on stdout.

Colour follows the common conventions: ``NO_COLOR`` set and not empty turns it off
(https://no-color.org), else ``FORCE_COLOR`` set and not empty turns it on, else it is on
only when the stream is a terminal whose ``TERM`` is not ``dumb``. A progress bar is drawn
only on a terminal, so CI logs and pipes get none.

``--json -`` sends a command's JSON document to stdout and everything else it prints to
stderr: :func:`json_to_stdout` makes that switch around a command, and :func:`emit_json`
writes the document where ``--json`` asked.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import IO

__all__ = ["STDOUT", "emit_json", "json_path", "json_to_stdout", "progress_wanted",
           "use_color"]

# ``--json -``: the document goes to stdout.
STDOUT = Path("-")
_json_stream: list[IO[str]] = []


def use_color(stream: IO[str] | None = None) -> bool:
    """Whether to colour what is written to ``stream`` (stdout by default)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = sys.stdout if stream is None else stream
    return _isatty(stream) and os.environ.get("TERM", "") != "dumb"


def progress_wanted(disable: bool = False, stream: IO[str] | None = None) -> bool:
    """A bar is drawn unless disabled, and only on a terminal (stderr by default)."""
    return not disable and _isatty(sys.stderr if stream is None else stream)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


def json_path(text: str) -> Path:
    """argparse type of ``--json``: a file path, or ``-`` for stdout."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a file path or '-' (stdout), got ''")
    return STDOUT if text == "-" else Path(text)


@contextmanager
def json_to_stdout(active: bool) -> Iterator[None]:
    """While active, ``print`` goes to stderr and :func:`emit_json` to the real stdout."""
    if not active:
        yield
        return
    _json_stream.append(sys.stdout)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        _json_stream.pop()


def emit_document(path: Path | None, document: str, text: str) -> None:
    """A listing's JSON ``document`` to ``path`` (see :func:`emit_json`), and its ``text``
    to stdout unless the JSON went there."""
    emit_json(path, document)
    if path != STDOUT:
        print(text)


def emit_json(path: Path | None, text: str) -> None:
    """Write a JSON document to ``path`` (atomically, saying where) or to stdout for ``-``."""
    if path is None:
        return
    text = text if text.endswith("\n") else text + "\n"
    if path == STDOUT:
        stream = _json_stream[-1] if _json_stream else sys.stdout
        stream.write(text)
        stream.flush()
        return
    from workbench.files import write_atomic

    print(f"wrote {write_atomic(path, text)}")
