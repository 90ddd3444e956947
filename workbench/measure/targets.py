"""What to measure: a target description and how it becomes a ready call.

A stage target names a pipeline (``module:function``, or an object shipped by value), a
stage, a variant, a workload and parameter overrides per stage. Its input is the workload
run through the preceding stages' ``pure`` variants, materialized before timing starts,
so a sample times the stage alone. A callable target names a ``module:qualname`` (or is
shipped by value); with a workload it is called with the workload's value, without one
it is called bare.

:func:`stage_target` and :func:`callable_target` build a target in the parent process
and check everything that can be checked there (names, parameters, the workload loads),
so a mistake is reported before any worker starts. A worker resolves the pipeline first,
then the modules that register workloads, then the workload (:func:`prepare`).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping, Sized
from dataclasses import dataclass, field, replace
from typing import Any

from workbench.batches import BatchSequence
from workbench.errors import InvalidInputError, UnknownNameError
from workbench.pipeline import Pipeline
from workbench.refs import (
    REFERENCE_PIPELINE,
    PipelineArg,
    callable_label,
    callable_ref,
    import_ref,
    load_pipeline,
    pipeline_label,
    resolve_pipeline,
)
from workbench.shipping import Code, pack, unpack
from workbench.stages import Stage, materialize
from workbench.workloads import Workload, get_workload

__all__ = [
    "Params",
    "Prepared",
    "TargetSpec",
    "WorkloadArg",
    "callable_target",
    "prepare",
    "resolve_target",
    "stage_target",
]

Params = Mapping[str, Mapping[str, Any]]
WorkloadArg = Workload | str


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """A measurable target. ``code`` holds what travels by value (live objects, in this
    process); ``payload`` is the same packed for a worker. Neither is part of the record."""

    kind: str  # "stage" | "callable"
    name: str  # stage name, or "module:qualname"
    variant: str | None = None
    workload: str | None = None
    params: Params = field(default_factory=dict)
    pipeline: str = REFERENCE_PIPELINE  # "module:function", or "<object>:NAME" (by value)
    modules: tuple[str, ...] = ()  # imported before the workload is looked up by name
    by_value: bool = False  # some of its code cannot be imported by name: it travels as code
    code: Code | None = field(default=None, compare=False, repr=False)
    payload: str | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        """A canonical string identifying this target in this process (a cache key)."""
        shipped = f"#{id(self.code)}" if self.code else (f"#{hash(self.payload)}"
                                                          if self.payload else "")
        return json.dumps(self.to_json(), sort_keys=True, default=str) + shipped

    @property
    def label(self) -> str:
        if self.kind == "stage":
            return f"{self.name}/{self.variant}"
        return self.name

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind, "name": self.name, "variant": self.variant,
            "workload": self.workload, "params": {k: dict(v) for k, v in self.params.items()},
            "pipeline": self.pipeline,
        }
        if self.modules:
            data["modules"] = list(self.modules)
        if self.by_value:
            data["by_value"] = True
        return data

    def unpacked(self) -> TargetSpec:
        """This target with its payload unpacked into live objects (once: the objects
        unpacked together keep their identity, e.g. a helper the variant calls)."""
        if self.code is not None or self.payload is None:
            return self
        return replace(self, code=unpack(self.payload))

    def job_json(self) -> dict[str, Any]:
        """:meth:`to_json` plus the packed code: what a worker process needs."""
        data = self.to_json()
        if self.payload is not None:
            data["payload"] = self.payload
        elif self.code:
            data["payload"] = pack(self.code, what=self.label)
        elif self.by_value:
            raise InvalidInputError(
                f"{self.label} was measured with code shipped by value (defined in a notebook "
                "or __main__), which records do not keep; it cannot be measured again from "
                "this record")
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TargetSpec:
        payload = data.get("payload")
        return cls(
            kind=str(data["kind"]), name=str(data["name"]), variant=data.get("variant"),
            workload=data.get("workload"), params=dict(data.get("params") or {}),
            pipeline=str(data.get("pipeline") or REFERENCE_PIPELINE),
            modules=tuple(str(m) for m in data.get("modules") or ()),
            by_value=bool(data.get("by_value", False)),
            payload=str(payload) if payload is not None else None,
        )


@dataclass(frozen=True, slots=True)
class Prepared:
    """A zero-argument call that does one unit of work, and what one call processes.

    On a batch-sequence workload (:class:`~workbench.batches.BatchSequence`) ``steps``
    holds one call per batch, in order, with the items of each (``step_items``), and
    ``warm`` the batches that fill a cache before a warm measurement; ``call`` then runs
    every batch once, in order (what a profiler samples), and ``items`` counts them all.
    """

    call: Callable[[], Any]
    items: int
    label: str
    steps: tuple[Callable[[], Any], ...] = ()
    step_items: tuple[int, ...] = ()
    warm: int = 0


def _resolve_workload(workload: WorkloadArg, looked_in: tuple[str, ...]) -> Workload:
    """A name looked up, a Workload as it is, any other object as a value of one size."""
    if isinstance(workload, Workload):
        return workload
    if not isinstance(workload, str):
        from workbench.fixed_workloads import from_value

        return from_value(workload)
    return get_workload(workload, looked_in=looked_in)


def _by_name(w: Workload) -> bool:
    """True when a worker can find ``w`` by its name after importing ``w.module``."""
    if w.module in (None, "__main__"):
        return False
    try:
        registered = get_workload(w.base_name)
    except UnknownNameError:  # given as an object, never registered
        return False
    return registered.make is w.make and registered.seed == w.seed


def _module_of(ref: str) -> str:
    return ref.partition(":")[0]


def _checked_workload(workload: WorkloadArg, looked_in: tuple[str, ...],
                      ) -> tuple[Workload, tuple[str, ...], Workload | None]:
    """The workload, the module to import for it by name, or itself to ship; loads it here
    so that a failing or empty workload is reported before any worker starts."""
    w = _resolve_workload(workload, looked_in)
    w.load()
    if _by_name(w):
        return w, (str(w.module),), None
    return w, (), w


def _finish(spec: TargetSpec, ship: bool) -> TargetSpec:
    if not spec.code or not ship:
        return spec
    return replace(spec, payload=pack(spec.code, what=spec.label))


def stage_target(stage: str | Stage, variant: str, workload: WorkloadArg, *,
                 pipeline: PipelineArg = None, params: Params | None = None,
                 ship: bool = True) -> TargetSpec:
    """A checked target for ``stage``'s ``variant`` on ``workload``; with ``ship``, what
    cannot be imported by name is packed for workers now (and refused here if it cannot)."""
    pipe, ref = resolve_pipeline(pipeline)
    name = stage.name if isinstance(stage, Stage) else stage
    pipe.stage(name).get(variant)
    overrides = {k: dict(v) for k, v in (params or {}).items()}
    pipe.configure(**overrides)
    looked = (_module_of(ref),) if ref is not None else ()
    w, modules, shipped_w = _checked_workload(workload, looked)
    modules = tuple(m for m in modules if m not in looked)
    code = Code(pipeline=pipe if ref is None else None, workload=shipped_w)
    spec = TargetSpec("stage", pipe.stage(name).name, variant, w.name, overrides,
                      pipeline_label(pipe, ref), modules, bool(code), code or None)
    return _finish(spec, ship)


def callable_target(fn: Callable[..., Any], workload: WorkloadArg | None = None, *,
                    ship: bool = True) -> TargetSpec:
    """A checked target calling ``fn`` (with the workload's value, if one is given)."""
    if not callable(fn) or isinstance(fn, Stage):
        raise InvalidInputError(
            f"a measurement target must be a stage name, a Stage or a callable; got "
            f"{type(fn).__name__} {fn!r}")
    ref = callable_ref(fn)
    label = callable_label(fn)
    w: Workload | None = None
    modules: tuple[str, ...] = ()
    shipped_w = None
    if workload is not None:
        w, modules, shipped_w = _checked_workload(workload, ())
    code = Code(fn=fn if ref is None else None, workload=shipped_w)
    spec = TargetSpec("callable", label, None, w.name if w else None, {}, REFERENCE_PIPELINE,
                      modules, bool(code), code or None)
    return _finish(spec, ship)


def _import_modules(modules: tuple[str, ...]) -> None:
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise InvalidInputError(f"cannot import {module!r}, which registers the target's "
                                    f"workload: {exc}") from None


def resolve_target(spec: TargetSpec) -> tuple[Pipeline | None, Workload | None, Any]:
    """The target's pipeline (stage targets), workload and function (callable targets).

    Order matters: the pipeline's module is imported first, so that workloads it
    registers are known, then ``spec.modules``, then the workload is looked up."""
    code = spec.unpacked().code or Code()
    looked: tuple[str, ...] = ()
    pipeline: Pipeline | None = None
    fn: Any = None
    if spec.kind == "stage":
        if code.pipeline is not None:
            pipeline = code.pipeline
        else:
            pipeline = load_pipeline(spec.pipeline)
            looked = (_module_of(spec.pipeline),)
    elif spec.kind == "callable":
        fn = code.fn if code.fn is not None else import_ref(spec.name)
        if not callable(fn):
            raise InvalidInputError(f"target {spec.name!r} is not callable")
    else:
        raise InvalidInputError(f"target kind must be 'stage' or 'callable'; got {spec.kind!r}")
    _import_modules(spec.modules)
    workload = code.workload
    if workload is None and spec.workload is not None:
        workload = get_workload(spec.workload, looked_in=(*looked, *spec.modules))
    return pipeline, workload, fn


def prepare(spec: TargetSpec) -> Prepared:
    """Build the ready-to-time call for ``spec`` (loads the workload, runs earlier stages)."""
    pipeline, workload, fn = resolve_target(spec)
    data = workload.load() if workload is not None else None
    if isinstance(data, BatchSequence):
        return _sequence(data, lambda batch: _prepare_one(spec, pipeline, fn, batch), spec)
    return _prepare_one(spec, pipeline, fn, data, workload is not None)


def _sequence(seq: BatchSequence, one: Callable[[Any], Prepared], spec: TargetSpec,
              ) -> Prepared:
    """One prepared call per batch (earlier stages run per batch, before timing)."""
    parts = tuple(one(batch) for batch in seq.batches)
    steps = tuple(p.call for p in parts)

    def every_batch() -> tuple[Any, ...]:
        return tuple(step() for step in steps)

    items = tuple(p.items for p in parts)
    return Prepared(every_batch, sum(items), spec.label, steps, items, seq.warm)


def _prepare_one(spec: TargetSpec, pipeline: Pipeline | None, fn: Any, data: Any,
                 has_workload: bool = True) -> Prepared:
    if spec.kind == "callable":
        if not has_workload:
            return Prepared(fn, _declared_items(fn), spec.name)
        n = len(data) if isinstance(data, Sized) else 1
        return Prepared(lambda: fn(data), n, spec.name)
    assert pipeline is not None
    if not has_workload:
        raise InvalidInputError(f"measuring stage {spec.name!r} needs a workload")
    pipeline = pipeline.configure(**spec.params)
    stage = pipeline.stage(spec.name)
    variant = stage.get(spec.variant or "pure")
    position = pipeline.stage_names.index(stage.name)
    value: Any = data
    if position > 0:
        upstream = pipeline.with_fusion(False).select_all("pure")
        value = materialize(upstream.run(data, until=pipeline.stage_names[position - 1]))
    params = stage_params(pipeline, stage, data)
    for key, val in spec.params.get(stage.name, {}).items():
        params[key] = val
    run = variant.fn
    frozen_input = value

    def call() -> Any:
        return materialize(run(frozen_input, **params))

    return Prepared(call, _count(stage, value, params), spec.label)


def _declared_items(fn: Any) -> int:
    """How many items one bare call processes: a callable may say so with an integer
    ``__workbench_items__`` attribute (a ``%%budget --items N`` cell does); else 1."""
    items = getattr(fn, "__workbench_items__", 1)
    if isinstance(items, bool) or not isinstance(items, int) or items < 1:
        raise InvalidInputError(f"{callable_label(fn)}: __workbench_items__ must be an "
                                f"integer >= 1; got {items!r}")
    return items


def stage_params(pipeline: Pipeline, stage: Stage, data: Any) -> dict[str, Any]:
    """The stage's parameters in ``pipeline``, with those it derives from the workload."""
    params = dict(pipeline.params[stage.name])
    if stage.derive_params is not None:
        params.update(stage.derive_params(pipeline, data))
    return params


def _count(stage: Stage, value: Any, params: Mapping[str, Any]) -> int:
    if stage.count_items is not None:
        return stage.count_items(value, params)
    return len(value) if isinstance(value, Sized) else 1
