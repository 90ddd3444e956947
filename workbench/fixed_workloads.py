"""Workloads given as values: a notebook variable (or any Python object) used as the first
stage's input as it is.

``%wb compare total --workload lines`` with ``lines = [...]`` in a cell measures ``lines``:
:func:`from_value` wraps the value in a :class:`~workbench.workloads.Workload` named after
the variable, with one size (its own: ``len(value)``, or 1). It travels to the worker
processes by value, like any code defined in a notebook (pickled with cloudpickle), so it
must pickle, and it must stay under :data:`MAX_VALUE_BYTES` pickled: each worker holds a
copy. Larger inputs are better built in each worker by a ``@workload`` function, which is
also what gives a workload other sizes (``sweep``, ``NAME@N``): a value has only its own.

:func:`workload_shaped` says which values look like a pipeline's input (a non-empty list
or tuple, an array, a data frame or series, an Arrow table), the ones a notebook's
variables are offered as, and the ones that take precedence over a registered workload of
the same name when named.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping, Sized
from typing import Any

from workbench import formatting as fmt
from workbench.errors import InvalidInputError
from workbench.workloads import Workload

__all__ = ["MAX_VALUE_BYTES", "describe", "from_value", "shaped_variables", "workload_shaped"]

#: The largest value (pickled) a workload given as a value may be: every worker process
#: receives and holds a copy of it.
MAX_VALUE_BYTES = 256 * 2**20

#: Names a notebook holds that are never workloads (IPython's history and helpers).
_NOT_WORKLOADS = frozenset({"In", "Out", "exit", "quit", "get_ipython"})


class Value:
    """``make(n)`` of a workload given as a value: returns the value, whatever ``n``."""

    __slots__ = ("nbytes", "value")

    def __init__(self, value: Any, nbytes: int) -> None:
        self.value = value
        self.nbytes = nbytes

    def __call__(self, n: int) -> Any:
        return self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Value) and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)

    def __repr__(self) -> str:
        return f"Value({describe(self.value)})"


def describe(value: Any) -> str:
    """``list of 300 items``, ``ndarray float64 (1000, 384)``, ``DataFrame 200 x 3``."""
    kind = type(value).__name__
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and shape:
        dtype = getattr(value, "dtype", None)
        dims = " x ".join(f"{d:,}" if isinstance(d, int) else str(d) for d in shape)
        return f"{kind}{'' if dtype is None else f' {dtype}'} ({dims})"
    if isinstance(value, Sized):
        n = len(value)
        return f"{kind} of {n:,} item{'' if n == 1 else 's'}"
    return kind


def workload_shaped(value: Any) -> bool:
    """True for a non-empty list or tuple, array, frame, series or table: what a
    pipeline's first stage takes, and what a notebook's variables are offered as."""
    if isinstance(value, list | tuple):
        return len(value) > 0
    shape = getattr(value, "shape", None)
    if not isinstance(shape, tuple) or not shape or isinstance(value, type):
        return False
    try:
        return len(value) > 0
    except TypeError:  # a 0-d array
        return False


def shaped_variables(namespace: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The workload-shaped public variables of a notebook's namespace, by name."""
    return sorted(((k, v) for k, v in namespace.items()
                   if k.isidentifier() and not k.startswith("_") and k not in _NOT_WORKLOADS
                   and workload_shaped(v)), key=lambda kv: kv[0])


def _refuse_kind(value: Any, name: str) -> None:
    if value is None or isinstance(value, str | bytes | Workload | type | types.ModuleType):
        raise InvalidInputError(
            f"workload {name!r}: a {type(value).__name__} is not a workload's value; give "
            "the first stage's input (a list, tuple, array or frame) or a Workload")
    if isinstance(value, Iterator):
        raise InvalidInputError(
            f"workload {name!r}: a {type(value).__name__} runs dry after the first call and "
            f"a stage is called many times; give tuple({name}) instead")
    if callable(value):
        raise InvalidInputError(
            f"workload {name!r}: a function is not a workload's value; decorate it with "
            f"@workbench.workload({name!r}, size=N) to make it one (it is called as fn(n))")
    if isinstance(value, Sized) and len(value) == 0:
        raise InvalidInputError(f"workload {name!r}: the value is empty ({describe(value)}); "
                                "a workload needs at least one item")


def _pickled_size(value: Any, name: str) -> int:
    import cloudpickle

    try:
        return len(cloudpickle.dumps(value))
    except Exception as exc:
        raise InvalidInputError(
            f"workload {name!r}: its value ({describe(value)}) cannot be sent to worker "
            f"processes ({type(exc).__name__}: {exc}); give plain data, or write a "
            f"@workbench.workload function that builds it in each worker") from None


def from_value(value: Any, name: str = "value") -> Workload:
    """``value`` as a workload of one size, named ``name`` (a variable's name); refused,
    naming why, when it is no input (a function, a generator, empty), cannot be pickled,
    or is larger than :data:`MAX_VALUE_BYTES` pickled."""
    if not isinstance(name, str) or not name.isidentifier():
        raise InvalidInputError(f"a workload given as a value is named like a variable; "
                                f"got {name!r}")
    _refuse_kind(value, name)
    nbytes = _pickled_size(value, name)
    if nbytes > MAX_VALUE_BYTES:
        raise InvalidInputError(
            f"workload {name!r}: its value is {fmt.size(nbytes)} pickled, above the "
            f"{fmt.size(MAX_VALUE_BYTES)} a value sent to every worker may be; write a "
            f"@workbench.workload function that builds it in each worker instead")
    size = len(value) if isinstance(value, Sized) else 1
    text = f"{describe(value)}, {fmt.size(nbytes)} sent to each worker by value"
    return Workload(name, Value(value, nbytes), max(size, 1), text, 0, fixed=True)
