"""Shipping code by value to worker processes (cloudpickle), with errors that name the culprit.

A stage, variant, pipeline, workload or function defined in a notebook cell (module
``__main__``) cannot be imported by a worker process. It travels by value instead, with
cloudpickle -- what Dask, Ray and joblib use for the same problem: functions of
importable modules are pickled by reference (the worker imports their module, which also
runs the registrations in it), everything else by value. The source lines of code shipped
by value go along, so tracebacks and line_profiler in the worker can show them.

Something that cannot be pickled (an open file, a lock, a generator captured in a
closure) is found by walking what the shipped objects reference, and reported by its
path ("stage 'parse' -> variant 'fast' -> closure variable 'fh'") with the fix, before
any process starts.
"""

from __future__ import annotations

import base64
import io
import linecache
import threading
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import InvalidInputError
from workbench.pipeline import Pipeline
from workbench.refs import callable_ref
from workbench.stages import Stage
from workbench.workloads import Workload

__all__ = ["Code", "pack", "unpack"]


@dataclass(frozen=True)
class Code:
    """The live objects a target needs that a worker cannot import by name."""

    pipeline: Pipeline | None = None
    workload: Workload | None = None
    fn: Callable[..., Any] | None = None
    functions: tuple[Callable[..., Any], ...] = ()  # more functions to line-profile
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    filenames: Mapping[str, str] = field(default_factory=dict)  # function -> its file

    @property
    def objects(self) -> list[Any]:
        """Everything shipped: the pipeline, workload, function and extra functions given."""
        given = [x for x in (self.pipeline, self.workload, self.fn) if x is not None]
        return [*given, *self.functions]

    def __bool__(self) -> bool:
        return bool(self.objects)


def _pickle() -> Any:
    import cloudpickle

    return cloudpickle


def _roots(obj: Any) -> Iterable[Any]:
    if isinstance(obj, Pipeline):
        for s in obj.stages:
            yield from _roots(s)
    elif isinstance(obj, Stage):
        yield from (v.fn for v in obj.variants.values())
        yield from (f for f in (obj.equivalence, obj.check_params, obj.derive_params,
                                obj.count_items) if f is not None)
    elif isinstance(obj, Workload):
        yield obj.make
    else:
        yield obj


def _by_value(objs: Iterable[Any]) -> list[types.FunctionType]:
    """The functions reachable from ``objs`` that cloudpickle sends by value: those not
    importable by name, and what they reference (closures, globals, defaults)."""
    found: list[types.FunctionType] = []
    seen: set[int] = set()
    todo = [r for obj in objs for r in _roots(obj)]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, Pipeline | Stage | Workload):
            todo.extend(_roots(obj))
        elif isinstance(obj, types.FunctionType) and callable_ref(obj) is None:
            found.append(obj)
            todo.extend(child for _, child in _function_children(obj))
    return found


def _key(fn: types.FunctionType) -> str:
    return f"{fn.__module__}:{fn.__qualname__}:{fn.__code__.co_firstlineno}"


def _refile(code: types.CodeType, filename: str) -> types.CodeType:
    consts = tuple(_refile(c, filename) if isinstance(c, types.CodeType) else c
                   for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def pack(code: Code, *, what: str) -> str:
    """``code`` as base64 text for a job file, or InvalidInputError naming what cannot go."""
    functions = _by_value(code.objects)
    sources = {}
    for fn in functions:
        lines = linecache.getlines(fn.__code__.co_filename)
        if lines:
            sources[fn.__code__.co_filename] = tuple(lines)
    full = Code(code.pipeline, code.workload, code.fn, code.functions, sources,
                {_key(fn): fn.__code__.co_filename for fn in functions})
    try:
        data = _pickle().dumps(full)
    except Exception as exc:
        raise _unshippable(code, what, exc) from None
    return base64.b64encode(data).decode("ascii")


def unpack(text: str) -> Code:
    """The :class:`Code` that :func:`pack` wrote. cloudpickle renames the file of code it
    sends by value to ``<dynamic-code>``; the real names come back here (so flame graphs,
    tracebacks and line profiles say where the code is), and its source lines go into
    ``linecache``."""
    code = _pickle().loads(base64.b64decode(text))
    if not isinstance(code, Code):
        raise InvalidInputError(f"the shipped code is a {type(code).__name__}, not Code")
    for filename, lines in code.sources.items():
        linecache.cache[filename] = (sum(map(len, lines)), None, list(lines), filename)
    for fn in _by_value(code.objects):
        original = code.filenames.get(_key(fn))
        if original is not None and fn.__code__.co_filename != original:
            fn.__code__ = _refile(fn.__code__, original)
    return code


# -- finding what cannot be pickled ---------------------------------------------------------

def _children(obj: Any) -> list[tuple[str, Any]]:
    if isinstance(obj, Code):
        return [(label, x) for label, x in (("the pipeline", obj.pipeline),
                                             ("the workload", obj.workload),
                                             ("the function", obj.fn)) if x is not None] \
            + [(f"function {getattr(f, '__qualname__', f)!r}", f) for f in obj.functions]
    if isinstance(obj, Pipeline):
        kids: list[tuple[str, Any]] = [(f"stage {s.name!r}", s) for s in obj.stages]
        return kids + [(f"parameter {s}.{k}", v) for s, ps in obj.params.items()
                       for k, v in ps.items()]
    if isinstance(obj, Stage):
        kids = [(f"variant {v.name!r}", v.fn) for v in obj.variants.values()]
        kids += [(name, f) for name, f in (("its equivalence", obj.equivalence),
                                           ("its check_params", obj.check_params),
                                           ("its derive_params", obj.derive_params),
                                           ("its count_items", obj.count_items)) if f]
        return kids + [(f"default {k}", v) for k, v in obj.defaults.items()]
    if isinstance(obj, Workload):
        return [("make", obj.make)]
    if isinstance(obj, types.FunctionType):
        return _function_children(obj)
    if isinstance(obj, types.MethodType):
        return [("its instance", obj.__self__), ("its function", obj.__func__)]
    if isinstance(obj, Mapping):
        return [(f"key {k!r}", v) for k, v in list(obj.items())[:200]]
    if isinstance(obj, list | tuple | set | frozenset):
        return [(f"item {i}", v) for i, v in enumerate(list(obj)[:200])]
    state = getattr(obj, "__dict__", None)
    return [(f"attribute {k!r}", v) for k, v in state.items()] if isinstance(state, dict) else []


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _function_children(fn: types.FunctionType) -> list[tuple[str, Any]]:
    if callable_ref(fn) is not None:  # pickled by reference: nothing inside it travels
        return []
    kids: list[tuple[str, Any]] = []
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=False):
        try:
            kids.append((f"closure variable {name!r}", cell.cell_contents))
        except ValueError:  # an empty cell
            continue
    globs = fn.__globals__
    kids += [(f"global {n!r}", globs[n]) for n in sorted(_names(fn.__code__))
             if n in globs and not isinstance(globs[n], types.ModuleType)]
    kids += [(f"default {i}", d) for i, d in enumerate(fn.__defaults__ or ())]
    kids += [(f"default {k!r}", d) for k, d in (fn.__kwdefaults__ or {}).items()]
    return kids


def _fails(obj: Any) -> Exception | None:
    try:
        _pickle().dump(obj, io.BytesIO())
    except Exception as exc:
        return exc
    return None


def _culprit(obj: Any, path: tuple[str, ...], seen: set[int],
             depth: int = 0) -> tuple[tuple[str, ...], Any, Exception] | None:
    error = _fails(obj)
    if error is None or id(obj) in seen:
        return None
    seen.add(id(obj))
    if depth < 12:
        for label, child in _children(obj):
            found = _culprit(child, (*path, label), seen, depth + 1)
            if found is not None:
                return found
    return path, obj, error


def _advice(obj: Any) -> str:
    if isinstance(obj, io.IOBase):
        return "open the file inside the function, or pass its path as a stage parameter"
    if isinstance(obj, types.GeneratorType):
        return ("capture a function that makes the generator, or materialize it "
                "(tuple(...)) before the function captures it")
    if isinstance(obj, type(threading.Lock()) | type(threading.RLock())):
        return "create the lock inside the function (each worker is its own process anyway)"
    return "create it inside the function, or move the code into an importable module"


def _unshippable(code: Code, what: str, exc: Exception) -> InvalidInputError:
    found = _culprit(code, (), set())
    if found is None or not found[0]:
        detail = f"{type(exc).__name__}: {exc}"
        return InvalidInputError(
            f"{what} cannot be sent to worker processes ({detail}); move the code into an "
            "importable module, or measure in this process (mode='inprocess', --inprocess)")
    path, obj, error = found
    return InvalidInputError(
        f"{what} cannot be sent to worker processes: {' -> '.join(path)} is a "
        f"{type(obj).__module__}.{type(obj).__qualname__} that cannot be pickled ({error}). "
        f"Fix: {_advice(obj)}; or measure in this process (mode='inprocess', --inprocess)")
