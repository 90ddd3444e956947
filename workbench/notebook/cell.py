"""A notebook cell's code as a measurable block: a function built from the cell.

The cell's source (after IPython's own transformations, so ``%`` and ``!`` lines parse) is
wrapped into the body of a function, so that every call runs the whole block afresh and
names it assigns stay local to one call. The function's globals are the kernel's namespace:

- measured in the kernel (``--inprocess``) it reads the namespace directly;
- measured in worker processes it travels by value with cloudpickle, which ships exactly
  the global names the code uses (functions and data defined in the notebook by value,
  importable modules and functions by reference).

A name that the cell assigns *and* reads before assigning (``total = total + 1``) would be
a local read before assignment inside the function; such a cell is refused up front with
the name. ``global``/``nonlocal`` statements and ``return``/``yield`` at the top level are
refused too: a measured block is straight-line code.
"""

from __future__ import annotations

import ast
import builtins
import linecache
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import InvalidInputError

__all__ = ["CellBlock", "block_from_cell"]

_FUNCTION = "__workbench_cell__"


@dataclass(frozen=True)
class CellBlock:
    """The measured block of one cell: ``fn`` (no arguments) and what it was built from."""

    name: str
    source: str
    fn: Callable[[], Any]
    items: int
    globals_used: tuple[str, ...]


class _Checker(ast.NodeVisitor):
    """Refuses top-level statements that change meaning inside a function."""

    def __init__(self) -> None:
        self.depth = 0

    def generic_visit(self, node: ast.AST) -> None:
        scoped = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                            | ast.ClassDef)
        self.depth += scoped
        super().generic_visit(node)
        self.depth -= scoped

    def visit_Global(self, node: ast.Global) -> None:
        if self.depth == 0:
            raise InvalidInputError(f"a measured cell cannot use 'global {', '.join(node.names)}'"
                                    "; assign the result in the next cell instead")

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        if self.depth == 0:
            raise InvalidInputError("a measured cell cannot use 'nonlocal' at its top level")

    def visit_Return(self, node: ast.Return) -> None:
        if self.depth == 0:
            raise InvalidInputError("a measured cell cannot 'return' at its top level")

    def _yield(self, node: ast.AST) -> None:
        if self.depth == 0:
            raise InvalidInputError("a measured cell cannot 'yield' at its top level")
        self.generic_visit(node)

    visit_Yield = visit_YieldFrom = _yield
    visit_Await = _yield


def _top_level_names(tree: ast.Module) -> tuple[set[str], list[tuple[str, int]]]:
    """Names the block binds at its top level, and the names it reads before binding them
    (with the line), in evaluation order, not looking inside nested functions, lambdas,
    classes or comprehensions (their names resolve when they run)."""
    events: list[tuple[str, str, int]] = []  # ("load" | "store", name, line)

    def store(name: str, line: int) -> None:
        events.append(("store", name, line))

    def walk(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for d in node.decorator_list:
                walk(d)
            store(node.name, node.lineno)
            return
        if isinstance(node, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp
                      | ast.GeneratorExp):
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                store((alias.asname or alias.name).partition(".")[0], node.lineno)
            return
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                events.append(("load", node.target.id, node.lineno))
            if node.value is not None:  # evaluated before the targets are bound
                walk(node.value)
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                walk(t)
            return
        if isinstance(node, ast.For | ast.AsyncFor):
            walk(node.iter)
            walk(node.target)
            for statement in (*node.body, *node.orelse):
                walk(statement)
            return
        if isinstance(node, ast.Name):
            kind = "load" if isinstance(node.ctx, ast.Load) else "store"
            events.append((kind, node.id, node.lineno))
            return
        for child in ast.iter_child_nodes(node):
            walk(child)

    for statement in tree.body:
        walk(statement)
    bound = {name for kind, name, _ in events if kind == "store"}
    seen: set[str] = set()
    early: list[tuple[str, int]] = []
    for kind, name, line in events:
        if kind == "store":
            seen.add(name)
        elif name in bound and name not in seen:
            early.append((name, line))
    return bound, early


def _wrap(tree: ast.Module, filename: str) -> types.CodeType:
    module = ast.parse(f"def {_FUNCTION}():\n    pass\n")
    fn = module.body[0]
    assert isinstance(fn, ast.FunctionDef)
    fn.body = list(tree.body) or fn.body
    ast.fix_missing_locations(module)
    return compile(module, filename, "exec")


def block_from_cell(source: str, namespace: Mapping[str, Any] | dict[str, Any], *,
                    name: str, items: int = 1) -> CellBlock:
    """The cell ``source`` as a :class:`CellBlock` whose globals are ``namespace``
    (kept by reference: the kernel's namespace, read when the block runs)."""
    if not source.strip():
        raise InvalidInputError("%%budget needs code in the cell to measure")
    filename = f"<workbench cell {name}>"
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        raise InvalidInputError(f"the cell does not parse: {exc.msg} (line {exc.lineno})"
                                ) from None
    _Checker().visit(tree)
    bound, early = _top_level_names(tree)
    for var, line in early:
        if var in namespace:
            raise InvalidInputError(
                f"line {line} reads {var!r} before the cell assigns it; a measured block runs "
                f"as a function, where {var!r} would be unbound. Rename the assigned variable "
                "or copy the value first (x = outer_x)")
    code = _wrap(tree, filename)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    globals_dict = namespace if isinstance(namespace, dict) else dict(namespace)
    scope: dict[str, Any] = {}
    exec(code, globals_dict, scope)
    fn = scope[_FUNCTION]
    fn.__qualname__ = fn.__name__ = _label(name)
    fn.__workbench_items__ = items
    used = sorted({n for n, _ in _loads_anywhere(tree)} - bound - set(dir(builtins)))
    return CellBlock(name, source, fn, items, tuple(n for n in used if n in globals_dict))


def _label(name: str) -> str:
    return name if name.isidentifier() else "cell"


def _loads_anywhere(tree: ast.AST) -> list[tuple[str, int]]:
    return [(n.id, n.lineno) for n in ast.walk(tree)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
