"""Notebook code named as a person reads it: ``In [3], line 14``.

IPython compiles every cell into a file of its own: ``<ipython-input-3-1a2b3c4d5e6f>`` in
a terminal shell, ``/tmp/ipykernel_1234/3391735555.py`` (a hash of the cell's code) in a
Jupyter kernel. Its compiler remembers each file's execution count
(``get_ipython().compile._filename_map``), from which IPython's own tracebacks print
``Cell In[3], line 14`` (``CachingCompiler.format_code_name``). Worker processes see only
the file names -- py-spy even shortens the kernel's to ``3391735555.py`` -- so the labels
are made in the process that holds the shell: a profile's result names the cells of its
files when it is made there (:class:`CellNamed`), and keeps the names in its record beside
the raw paths. A cell compiled without an execution count is named by its first line
(``cell "total = 0", line 14``).

The shell is looked up in ``sys.modules``: this module never imports IPython. In a process
without a shell, only file names that carry their count (``<ipython-input-3-...>``) are
named by it.
"""

from __future__ import annotations

import linecache
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from workbench.errors import InvalidInputError
from workbench.profile._common import split_frame

__all__ = ["CellLabels", "CellNamed", "at_line", "cell_label", "cells_from_json",
           "is_cell_file", "label_files", "session_cells"]

#: (file name as the result holds it, its cell's label), sorted by file name.
CellLabels = tuple[tuple[str, str], ...]

_INPUT = re.compile(r"^<ipython-input-(?P<count>\d+)-[0-9a-f]+>$")
_KERNEL = re.compile(r"(?:^|/)ipykernel_\d+/\d+\.py$")
FIRST_LINE_CHARS = 32


def session_cells() -> Mapping[str, Any]:
    """The running IPython shell's cell files and their execution counts (its compiler's
    ``_filename_map``), or an empty mapping when this process has no shell."""
    module = sys.modules.get("IPython.core.getipython")
    shell = getattr(module, "get_ipython", lambda: None)() if module is not None else None
    found = getattr(getattr(shell, "compile", None), "_filename_map", None)
    return found if isinstance(found, Mapping) else {}


def _lookup(filename: str, cells: Mapping[str, Any]) -> str | None:
    """The key of ``cells`` that ``filename`` names: itself, or a key ending in
    ``/filename`` (py-spy and :func:`~workbench.profile._common.short_path` shorten
    paths), when exactly one does."""
    if filename in cells:
        return filename
    if not filename or filename.startswith("/"):
        return None
    ends = [k for k in cells if isinstance(k, str) and k.endswith("/" + filename)]
    return ends[0] if len(ends) == 1 else None


def is_cell_file(filename: str, cells: Mapping[str, Any] | None = None) -> bool:
    """Whether ``filename`` is code IPython compiled from a cell (one the shell knows, or
    a name shaped as IPython's or ipykernel's)."""
    known = session_cells() if cells is None else cells
    return (_lookup(filename, known) is not None or _INPUT.match(filename) is not None
            or _KERNEL.search(filename) is not None)


def _count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _first_line(filename: str) -> str | None:
    for line in linecache.getlines(filename):
        text = " ".join(line.split())
        if text:
            short = text if len(text) <= FIRST_LINE_CHARS else \
                text[:FIRST_LINE_CHARS - 3].rstrip() + "..."
            return f'cell "{short}"'
    return None


def cell_label(filename: str, cells: Mapping[str, Any] | None = None) -> str | None:
    """``"In [3]"`` for the file of a cell IPython ran as execution 3; ``cell "first
    line"`` for a cell without an execution count (or whose count is not known) whose
    source is in ``linecache``; None for any other file.

    ``cells`` maps cell files to execution counts (default: the running shell's)."""
    if not isinstance(filename, str):
        raise InvalidInputError(f"a file name is a string; got {type(filename).__name__}")
    known = session_cells() if cells is None else cells
    key = _lookup(filename, known)
    count = _count(known[key]) if key is not None else None
    named = _INPUT.match(filename)
    if count is None and named is not None:
        count = _count(int(named["count"]))
    if count is not None:
        return f"In [{count}]"
    if key is None and named is None and _KERNEL.search(filename) is None:
        return None
    return _first_line(key or filename)


def label_files(files: Iterable[str], cells: Mapping[str, Any] | None = None) -> CellLabels:
    """The cell labels of those ``files`` that are notebook cells, sorted by file."""
    known = session_cells() if cells is None else cells
    labels = {}
    for file in set(files):
        label = cell_label(file, known)
        if label is not None:
            labels[file] = label
    return tuple(sorted(labels.items()))


def at_line(label: str, line: int | str) -> str:
    """``"In [3], line 14"``."""
    return f"{label}, line {line}"


def cells_from_json(value: Any) -> CellLabels:
    """The labels a record stores (``{"file": "In [3]", ...}``), checked."""
    if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidInputError(f"cells must be an object of file names to cell labels; got "
                                f"{value!r:.80}")
    return tuple(sorted(value.items()))


class CellNamed:
    """What a profile result gets from naming its cells.

    A result class declares a last field ``cells: CellLabels | None = None`` and says
    which file names it holds (:meth:`_cell_files`); a result made with ``cells=None``
    names them from the running shell (:func:`label_files`) -- in the process that made
    the profile, where the shell is. A record read back keeps the names it stored.
    """

    cells: CellLabels | None

    def _cell_files(self) -> Iterable[str]:
        raise NotImplementedError

    def __post_init__(self) -> None:
        if self.cells is None:  # frozen: the one assignment, while the result is made
            object.__setattr__(self, "cells", label_files(self._cell_files()))

    @property
    def cell_names(self) -> dict[str, str]:
        """File name -> cell label (``"In [3]"``) of the notebook cells in this result."""
        return dict(self.cells or ())

    def cell_at(self, location: str) -> str | None:
        """``"In [3], line 14"`` for a ``"file:line"`` in a cell; None elsewhere."""
        file, _, line = location.rpartition(":")
        if not file or not line.isdigit():
            return self.cell_names.get(location)
        label = self.cell_names.get(file)
        return None if label is None else at_line(label, line)

    def where(self, location: str) -> str:
        """``location`` ("file:line") as a person reads it: ``"In [3], line 14"`` for a
        notebook cell, else unchanged."""
        return self.cell_at(location) or location

    def named_frame(self, frame: str) -> str:
        """A frame ``"function (file:line)"`` with its location named by its cell."""
        function, location = split_frame(frame)
        named = self.cell_at(location) if location else None
        return frame if named is None else f"{function} ({named})"
