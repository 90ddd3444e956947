"""Workloads: named, deterministic inputs for a pipeline's first stage.

A workload has a name, a description, a seed, a default size and ``make(n)``, which
returns the first stage's input at size ``n`` (whatever its type: documents, rows, an
array). Declare one with the decorator::

    @workload("rows", size=2000, seed=7)
    def rows(n, seed):
        rng = random.Random(seed)
        return tuple(f"{rng.random():.6f}" for _ in range(n))

or build a :class:`Workload` and :func:`register_workload` it. ``make`` receives the seed
when it has a parameter called ``seed``. ``NAME@N`` names the same workload at size ``N``
(same ``make``, same seed), which is how size sweeps address their points.

What a workload returns is loaded once per process and kept: an iterator is materialized
to a tuple (a stage is called many times on it), an empty value is refused. A workload is
registered in the module that defines it; a worker process imports that module (or, for
a workload defined in a notebook, receives it by value) before it looks the name up.
"""

from __future__ import annotations

import inspect
import re
import threading
from collections.abc import Callable, Iterator, Sized
from dataclasses import dataclass, replace
from typing import Any

from workbench.errors import ExecutionError, InvalidInputError, UnknownNameError

__all__ = [
    "Workload",
    "get_workload",
    "no_sizes",
    "register_workload",
    "registered_workloads",
    "workload",
    "workload_names",
]

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


@dataclass(frozen=True, slots=True)
class Workload:
    """A named, deterministic input: ``load()`` returns the same value every time."""

    name: str
    make: Callable[..., Any]
    size: int
    description: str = ""
    seed: int = 0
    #: A value given as it is (:mod:`workbench.fixed_workloads`): one size, its own, and a
    #: name that is the variable's (any identifier).
    fixed: bool = False

    def __post_init__(self) -> None:
        base, _, _ = self.name.partition("@")
        if self.fixed:
            if not (base.isidentifier() and len(base) <= 40 and not self.name.count("@")):
                raise InvalidInputError(
                    f"a workload given as a value is named like a variable (an identifier of "
                    f"at most 40 characters); got {self.name!r}")
        elif not _NAME.match(base):
            raise InvalidInputError(
                f"workload name {self.name!r} must be 1-40 characters of a-z, 0-9, '_' or '-', "
                "starting with a letter")
        _check_size(self.size, self.name)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise InvalidInputError(f"workload {self.name!r}: seed must be an integer; "
                                    f"got {self.seed!r}")
        if not callable(self.make):
            raise InvalidInputError(f"workload {self.name!r}: make must be a function of n; "
                                    f"got {type(self.make).__name__}")

    @property
    def base_name(self) -> str:
        return self.name.partition("@")[0]

    @property
    def module(self) -> str | None:
        """The module that defines ``make`` (importing it registers the workload)."""
        return getattr(self.make, "__module__", None)

    def load(self) -> Any:
        """``make(size)``, once per process; raises if it fails or gives an empty value."""
        return _load(self)

    def with_size(self, n: int) -> Workload:
        """The same workload at size ``n``, named ``NAME@N`` (refused for a value)."""
        if self.fixed:
            raise no_sizes(self, f"{self.name}@{n}")
        _check_size(n, f"{self.base_name}@{n}")
        return replace(self, name=f"{self.base_name}@{n}", size=n)


def no_sizes(w: Workload, asked: str) -> InvalidInputError:
    """The refusal of another size of ``w`` (a value), with the one-line way to get sizes."""
    return InvalidInputError(
        f"{asked}: workload {w.name!r} is a value of one size ({w.size:,}); sizes (sweep, "
        f"NAME@N) need a @workload function. In a cell:\n"
        f"    @workbench.workload('{w.name}_n', size={w.size})\n"
        f"    def {w.name}_n(n): return {w.name}[:n]\n"
        f"then use --workload {w.name}_n")


def _check_size(n: object, name: str) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise InvalidInputError(f"workload {name!r}: a size must be an integer >= 1; got {n!r}")


_LOADED: dict[Workload, Any] = {}
_LOCK = threading.Lock()


def _takes_seed(fn: Callable[..., Any]) -> bool:
    try:
        return "seed" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _load(w: Workload) -> Any:
    if w.fixed:  # the value itself, not kept here: the notebook's variable owns it
        return w.make(w.size)
    with _LOCK:
        if w in _LOADED:
            return _LOADED[w]
    call = f"make({w.size}{', seed=' + str(w.seed) if _takes_seed(w.make) else ''})"
    try:
        value = w.make(w.size, seed=w.seed) if _takes_seed(w.make) else w.make(w.size)
    except Exception as exc:
        raise ExecutionError(
            f"workload {w.name!r}: {call} raised {type(exc).__name__}: {exc}") from exc
    if isinstance(value, Iterator):
        value = tuple(value)  # a stage runs many times on it: an iterator would run dry
    if value is None or (isinstance(value, Sized) and len(value) == 0):
        raise InvalidInputError(
            f"workload {w.name!r}: {call} returned an empty value ({value!r}); make(n) must "
            "return the first stage's input with at least one item")
    with _LOCK:
        return _LOADED.setdefault(w, value)


_REGISTRY: dict[str, Workload] = {}


def _origin(w: Workload) -> tuple[str | None, str | None]:
    return w.module, getattr(w.make, "__qualname__", None)


def register_workload(w: Workload, *, replace: bool = False) -> Workload:
    """Add ``w`` under its name. Redefining a name needs ``replace=True``, except when the
    same function defines it again (a re-run notebook cell, a reloaded module)."""
    if not isinstance(w, Workload):
        raise InvalidInputError(f"register_workload takes a Workload; got {type(w).__name__}")
    if "@" in w.name:
        raise InvalidInputError(f"register {w.base_name!r}, not a resized {w.name!r}")
    if w.fixed:
        raise InvalidInputError(f"workload {w.name!r} is a value given as it is; pass it "
                                "where a workload is named instead of registering it")
    old = _REGISTRY.get(w.name)
    if old is not None and not replace and _origin(old) != _origin(w):
        raise InvalidInputError(
            f"a workload named {w.name!r} exists (defined by {old.module}); pass replace=True "
            "to redefine it, or choose another name")
    _REGISTRY[w.name] = w
    return w


def workload(name: str, *, size: int, seed: int = 0,
             description: str = "") -> Callable[[Callable[..., Any]], Workload]:
    """Decorator: register ``fn(n)`` (or ``fn(n, seed)``) as the workload ``name``."""

    def declare(fn: Callable[..., Any]) -> Workload:
        doc = inspect.getdoc(fn) or ""
        text = description or (doc.splitlines()[0] if doc else f"{fn.__name__}(n)")
        return register_workload(Workload(name, fn, size, text, seed))

    return declare


def get_workload(name: str, *, looked_in: tuple[str, ...] = ()) -> Workload:
    """The workload called ``name``, or ``NAME@N``: that workload at size ``N``.

    ``looked_in`` names the modules imported to find it, for the error message.
    """
    if not isinstance(name, str):
        raise InvalidInputError(f"a workload name is a string; got {type(name).__name__}")
    base, at, size = name.partition("@")
    found = _REGISTRY.get(base)
    if found is None:
        where = f" (looked in the modules {', '.join(looked_in)})" if looked_in else ""
        raise UnknownNameError("workload", name, sorted(_REGISTRY), where)
    if not at:
        return found
    if not size.isdigit() or int(size) < 1:
        raise InvalidInputError(
            f"workload {name!r}: the size after '@' must be a positive integer; got {size!r}")
    return found.with_size(int(size))


def workload_names() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def registered_workloads() -> tuple[Workload, ...]:
    return tuple(_REGISTRY[n] for n in workload_names())
