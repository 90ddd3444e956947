"""A magic's usage error, shown to whoever runs the notebook: a person or a program.

IPython shows a plain ``UsageError`` as one line on stderr, without a traceback
(``InteractiveShell.showtraceback`` singles out ``etype is UsageError``). That suits a
person reading the cell, but the kernel then sends no ``error`` output: the cell holds only
the stderr text, so papermill, which builds ``PapermillExecutionError`` from the cell's error
output, knows just that the cell failed (ename ``CellExecutionError``, no evalue, no
traceback: ``Exception encountered at "In [8]"`` and nothing more), and so do
``workbench report``'s index and a CI log.

So a magic raises :class:`MagicUsageError` where a program runs the notebook: a
``UsageError`` subclass, which IPython shows as an ordinary error, in one line without a
traceback (:meth:`MagicUsageError._render_traceback_`), so its name and message reach the
cell's error output, papermill's exception (``ename``, ``evalue``, its text) and the report.
Where a person runs it (terminal IPython, JupyterLab, Notebook, VS Code) the magics keep
IPython's plain ``UsageError``.

The signal (:func:`batch`): the execute request's ``allow_stdin``. A front end a person
types into answers ``input()``, so it allows stdin; a batch executor cannot and says so
(nbclient, and so papermill, ``jupyter nbconvert --execute`` and ``workbench report``, send
``allow_stdin: false``). A shell without a kernel (terminal IPython) is interactive.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from IPython.core.error import UsageError

from workbench.errors import InvalidInputError, UnknownNameError

__all__ = ["MagicUsageError", "batch", "split", "usage_error", "usage_errors"]


class MagicUsageError(UsageError):
    """A magic's usage error in a notebook run by a program: shown as an ordinary error
    (one line, no traceback), so its name and message are the cell's error output."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows (and ipykernel sends as the error's traceback)."""
        return [f"{type(self).__name__}: {self}"]


def batch(shell: Any) -> bool:
    """Does a program run the cell (an execute request that does not allow stdin)?"""
    kernel = getattr(shell, "kernel", None)
    get_parent = getattr(kernel, "get_parent", None)
    if get_parent is None:  # no kernel: terminal IPython, a person at the prompt
        return False
    request = get_parent("shell") or {}
    if request.get("header", {}).get("msg_type") != "execute_request":
        return False
    return not request.get("content", {}).get("allow_stdin", False)


def usage_error(message: str, shell: Any) -> UsageError:
    """The usage error to raise: :class:`MagicUsageError` under a batch executor, else
    IPython's ``UsageError`` (one line on stderr)."""
    return MagicUsageError(message) if batch(shell) else UsageError(message)


@contextmanager
def usage_errors(shell: Any) -> Iterator[None]:
    """The parsers' usage errors and our input errors, raised as :func:`usage_error`."""
    try:
        yield
    except (InvalidInputError, UnknownNameError, UsageError) as exc:
        raise usage_error(str(exc), shell) from None


def split(line: str) -> list[str]:
    """A magic's line as words, the way a shell splits it (quotes keep spaces)."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"cannot split the arguments {line!r}: {exc}") from None
