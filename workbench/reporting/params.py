"""A report notebook's declared parameters, and ``-p KEY=VALUE`` checked against them.

A notebook declares its parameters in the cell tagged ``parameters`` (papermill's
convention): one ``name = literal  # comment`` per line. The literal's type is the
parameter's type; a value given on the command line is converted to it, or refused with
the notebook, the parameter and what it accepts named. ``-p KEY=VALUE`` goes to every
report notebook that declares ``KEY`` (a key none declares is refused);
``-p NOTEBOOK:KEY=VALUE`` goes to that notebook only, which must declare ``KEY``.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench._optional import require
from workbench.errors import InvalidInputError

__all__ = ["Declared", "Given", "declared_parameters", "parameters_for", "parse_given"]

_TYPES = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
          list: "a JSON list", dict: "a JSON object", type(None): "JSON or text"}
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


@dataclass(frozen=True, slots=True)
class Declared:
    """One parameter of a notebook's ``parameters`` cell."""

    name: str
    default: Any
    help: str

    @property
    def accepts(self) -> str:
        return _TYPES.get(type(self.default), "a JSON value")

    def convert(self, text: str, where: str) -> Any:
        """``text`` as this parameter's type; a clear error naming ``where`` if not."""
        kind = type(self.default)
        refused = InvalidInputError(f"{where}: parameter {self.name!r} takes {self.accepts} "
                                    f"(default {self.default!r}); got {text!r}")
        if kind is bool:
            if text.lower() in _TRUE + _FALSE:
                return text.lower() in _TRUE
            raise refused
        if kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                raise refused from None
        if kind is str:
            return text
        try:
            value = json.loads(text)
        except ValueError:
            if self.default is None:
                return text  # a parameter of no given type: JSON when it parses, else text
            raise refused from None
        if kind in (list, dict) and not isinstance(value, kind):
            raise refused
        return value


def _comment(lines: Sequence[str], lineno: int) -> str:
    _, hash_, text = lines[lineno - 1].partition("#")
    return text.strip() if hash_ else ""


def declared_parameters(path: Path) -> dict[str, Declared]:
    """The parameters the notebook at ``path`` declares (none: an empty dict)."""
    read: Any = require("nbformat", feature="reading a report notebook's parameters",
                        extra="notebook").read
    try:
        nb: Any = read(str(path), as_version=4)
    except FileNotFoundError:
        raise InvalidInputError(f"report notebook {str(path)!r} does not exist") from None
    except Exception as exc:  # nbformat raises several unrelated types for a bad file
        raise InvalidInputError(f"{str(path)!r} is not a readable notebook: {exc}") from None
    cells = [c for c in nb.cells
             if c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        return {}
    source = str(cells[0].source)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise InvalidInputError(f"{path.name}: its parameters cell is not valid Python "
                                f"(line {exc.lineno}: {exc.msg})") from None
    lines = source.splitlines()
    found: dict[str, Declared] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            continue
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            continue  # computed from other parameters: not settable from outside
        name = node.targets[0].id
        found[name] = Declared(name, default, _comment(lines, node.lineno))
    return found


@dataclass(frozen=True, slots=True)
class Given:
    """One ``-p`` value as typed: for every notebook (``notebook`` None) or one."""

    key: str
    text: str
    notebook: str | None = None

    @property
    def shown(self) -> str:
        scope = f"{self.notebook}:" if self.notebook else ""
        return f"-p {scope}{self.key}={self.text}"


def parse_given(text: str) -> Given:
    """``KEY=VALUE`` or ``NOTEBOOK:KEY=VALUE``; a malformed one is refused."""
    name, eq, value = text.partition("=")
    notebook, colon, key = name.rpartition(":")
    key = key.strip()
    if not eq or not key.isidentifier() or (colon and not notebook.strip()):
        raise InvalidInputError(f"-p {text!r}: expected KEY=VALUE or NOTEBOOK:KEY=VALUE, "
                                "KEY a Python name (e.g. -p workers=3, -p budgets:against=HEAD~1)")
    return Given(key, value, notebook.strip() if colon else None)


def parameters_for(notebooks: Mapping[str, Mapping[str, Declared]], given: Sequence[Given],
                   common: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per notebook (by name), the parameters to inject.

    ``common`` (the report's own settings, e.g. the workload) goes to each notebook that
    declares it; ``given`` as the module docstring says. Every refusal names the notebook
    or the key and what the notebooks declare."""
    out: dict[str, dict[str, Any]] = {
        name: {k: v for k, v in common.items() if k in declared}
        for name, declared in notebooks.items()}
    for g in given:
        if g.notebook is not None and g.notebook not in notebooks:
            raise InvalidInputError(f"{g.shown}: no report notebook is called {g.notebook!r}; "
                                    "the notebooks are: " + ", ".join(notebooks))
        targets = [g.notebook] if g.notebook is not None else \
            [name for name, declared in notebooks.items() if g.key in declared]
        if not targets:
            listing = "; ".join(f"{name}: {', '.join(d) or '(none)'}"
                                for name, d in notebooks.items())
            raise InvalidInputError(f"{g.shown}: parameter {g.key!r} is not declared by any "
                                    f"report notebook ({listing})")
        for name in targets:
            declared = notebooks[name]
            if g.key not in declared:
                raise InvalidInputError(
                    f"{g.shown}: notebook {name!r} does not declare parameter {g.key!r}; it "
                    "declares: " + (", ".join(declared) or "nothing"))
            out[name][g.key] = declared[g.key].convert(g.text, f"notebook {name!r}")
    return out
