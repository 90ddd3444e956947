"""What to measure: a JSON-able target description and how it becomes a ready call.

A stage target names a pipeline factory (``module:function``), a stage, a variant, a
workload and parameter overrides per stage. Its input is the workload run through the
preceding stages' ``pure`` variants, materialized before timing starts, so a sample
times the stage alone. A callable target names an importable ``module:qualname``; with a
workload it is called with the workload's documents, without one it is called bare.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import InvalidInputError
from workbench.pipeline import Pipeline
from workbench.stages import Stage, materialize

__all__ = ["REFERENCE_PIPELINE", "Prepared", "TargetSpec", "callable_ref", "prepare"]

REFERENCE_PIPELINE = "workbench.rag.reference:reference_pipeline"


@dataclass(frozen=True, slots=True)
class TargetSpec:
    kind: str  # "stage" | "callable"
    name: str  # stage name, or "module:qualname"
    variant: str | None = None
    workload: str | None = None
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    pipeline: str = REFERENCE_PIPELINE

    @property
    def key(self) -> str:
        """A canonical string identifying this target (a cache key)."""
        return json.dumps(self.to_json(), sort_keys=True, default=str)

    @property
    def label(self) -> str:
        if self.kind == "stage":
            return f"{self.name}/{self.variant}"
        return self.name

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "name": self.name, "variant": self.variant,
            "workload": self.workload, "params": {k: dict(v) for k, v in self.params.items()},
            "pipeline": self.pipeline,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TargetSpec:
        return cls(
            kind=str(data["kind"]), name=str(data["name"]), variant=data.get("variant"),
            workload=data.get("workload"), params=dict(data.get("params") or {}),
            pipeline=str(data.get("pipeline") or REFERENCE_PIPELINE),
        )


@dataclass(frozen=True, slots=True)
class Prepared:
    """A zero-argument call that does one unit of work, and what one call processes."""

    call: Callable[[], Any]
    items: int
    label: str


def _import(ref: str) -> Any:
    module, _, qualname = ref.partition(":")
    if not module or not qualname:
        raise InvalidInputError(f"expected 'module:qualname'; got {ref!r}")
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as exc:
        raise InvalidInputError(f"cannot import module {module!r} from {ref!r}: {exc}") from None
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise InvalidInputError(f"{module!r} has no attribute {qualname!r}") from None
    return obj


def callable_ref(fn: Callable[..., Any]) -> str:
    """The ``module:qualname`` a worker process can import ``fn`` by, or a clear error."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not module or not qualname or "<" in qualname or module == "__main__":
        raise InvalidInputError(
            f"{fn!r} cannot be sent to worker processes: it is not importable by name "
            "(a lambda, a local function or defined in __main__); define it at module level "
            "in an importable module, or measure it with mode='inprocess'"
        )
    if _import(f"{module}:{qualname}") is not fn:
        raise InvalidInputError(f"{module}:{qualname} does not import back to {fn!r}")
    return f"{module}:{qualname}"


def load_pipeline(ref: str) -> Pipeline:
    factory = _import(ref)
    pipeline = factory() if callable(factory) else factory
    if not isinstance(pipeline, Pipeline):
        raise InvalidInputError(f"{ref!r} did not give a Pipeline; got {type(pipeline).__name__}")
    return pipeline


def _count(stage: Stage, value: Any, params: Mapping[str, Any]) -> int:
    if stage.count_items is not None:
        return stage.count_items(value, params)
    return len(value) if hasattr(value, "__len__") else 1


def prepare(spec: TargetSpec) -> Prepared:
    """Build the ready-to-time call for ``spec`` (loads the workload, runs earlier stages)."""
    from workbench.rag.workloads import get_workload

    data = get_workload(spec.workload).load() if spec.workload is not None else None
    if spec.kind == "callable":
        fn = _import(spec.name)
        if not callable(fn):
            raise InvalidInputError(f"target {spec.name!r} is not callable")
        if data is None:
            return Prepared(fn, 1, spec.name)
        docs = data.docs
        return Prepared(lambda: fn(docs), len(docs), spec.name)
    if spec.kind != "stage":
        raise InvalidInputError(f"target kind must be 'stage' or 'callable'; got {spec.kind!r}")
    if data is None:
        raise InvalidInputError(f"measuring stage {spec.name!r} needs a workload")
    pipeline = load_pipeline(spec.pipeline).configure(**spec.params)
    stage = pipeline.stage(spec.name)
    variant = stage.get(spec.variant or "pure")
    position = pipeline.stage_names.index(stage.name)
    value: Any = data.docs
    if position > 0:
        upstream = pipeline.with_fusion(False).select_all("pure")
        value = materialize(upstream.run(data.docs, until=pipeline.stage_names[position - 1]))
    params = dict(pipeline.params[stage.name])
    if stage.derive_params is not None:
        params.update(stage.derive_params(pipeline, data))
    for key, val in spec.params.get(stage.name, {}).items():
        params[key] = val
    fn = variant.fn
    frozen_input = value

    def call() -> Any:
        return materialize(fn(frozen_input, **params))

    return Prepared(call, _count(stage, value, params), spec.label)
