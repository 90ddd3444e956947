"""Workloads as a front end is given them: a registered name (``NAME``, ``NAME@N``), a
:class:`~workbench.workloads.Workload`, a notebook variable, or any Python object (a value
of one size, :mod:`workbench.fixed_workloads`), each checked before anything is measured.

A notebook names a variable the way it names a registered workload (``--workload lines``);
:func:`from_namespace` decides which is meant: a variable holding a Workload, then a
workload-shaped variable (a list, tuple, array or frame), then a registered name, then any
other variable as a value (refused, naming why, if it is none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.errors import InvalidInputError, UnknownNameError
from workbench.fixed_workloads import describe, from_value, shaped_variables, workload_shaped
from workbench.refs import PipelineArg, resolve_pipeline
from workbench.workloads import Workload, get_workload, no_sizes, workload_names

__all__ = ["WorkloadArg", "describe", "from_namespace", "given", "no_sizes", "resolved",
           "variables", "with_sizes"]

WorkloadArg = Workload | str


def _name_in(value: Any, namespace: Mapping[str, Any] | None) -> str:
    """The public variable of ``namespace`` holding ``value`` itself, else ``value``."""
    for key, held in (namespace or {}).items():
        if held is value and key.isidentifier() and not key.startswith("_"):
            return key
    return "value"


def given(workload: Any, namespace: Mapping[str, Any] | None = None) -> WorkloadArg:
    """A workload as the Python API takes it: a name or Workload as it is; any other
    object as a value, named after the variable of ``namespace`` that holds it."""
    if isinstance(workload, str | Workload):
        return workload
    return from_value(workload, _name_in(workload, namespace))


def _registered(name: str, pipeline: PipelineArg) -> bool:
    resolve_pipeline(pipeline)  # its module registers the pipeline's workloads
    return name in workload_names()


def from_namespace(text: str | None, namespace: Mapping[str, Any], default: WorkloadArg,
                   pipeline: PipelineArg = None) -> WorkloadArg:
    """``--workload TEXT`` in a notebook (``default`` without one), see the module doc."""
    if text is None:
        return default
    base, at, size = text.partition("@")
    if not (base.isidentifier() and base in namespace):
        return text
    held = namespace[base]
    if isinstance(held, Workload):
        if at and not (size.isdigit() and int(size) >= 1):
            raise InvalidInputError(f"workload {text!r}: the size after '@' must be a "
                                    f"positive integer; got {size!r}")
        return held.with_size(int(size)) if at else held
    if not workload_shaped(held) and _registered(base, pipeline):
        return text  # `small = 3` does not hide the registered workload 'small'
    value = from_value(held, base)
    if at:
        raise no_sizes(value, text)
    return value


def resolved(workload: WorkloadArg, pipeline: PipelineArg = None) -> Workload:
    """The workload itself, looked up now (after ``pipeline``'s module registered its
    workloads): an unknown name raises here, before anything is shown or measured."""
    if isinstance(workload, Workload):
        return workload
    if not isinstance(workload, str):
        raise InvalidInputError(f"a workload is a name, a Workload or a value; got "
                                f"{type(workload).__name__}")
    _, ref = resolve_pipeline(pipeline)
    looked = (ref.partition(":")[0],) if ref else ()
    try:
        return get_workload(workload, looked_in=looked)
    except UnknownNameError as exc:
        raise UnknownNameError("workload", workload, workload_names(),
                               " (neither a registered workload nor a variable of this notebook)"
                               ) from exc


def with_sizes(workload: WorkloadArg, pipeline: PipelineArg, what: str) -> Workload:
    """:func:`resolved`, refused for a value: ``what`` (a sweep) needs other sizes."""
    w = resolved(workload, pipeline)
    if w.fixed:
        raise no_sizes(w, what)
    return w


def variables(namespace: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, what it holds) of a notebook's workload-shaped variables, by name."""
    return [(name, describe(value)) for name, value in shaped_variables(namespace)]
