"""Naming code by ``module:qualname``: importing a reference, and pipelines named that way.

A pipeline reaches the workbench either as a :class:`~workbench.pipeline.Pipeline` object
or as ``"module:function"`` naming a factory (or a module-level pipeline). The name form
is what a worker process or another commit's worktree can import again; an object is
shipped by value (:mod:`workbench.shipping`).
"""

from __future__ import annotations

import importlib
from typing import Any

from workbench.errors import InvalidInputError
from workbench.pipeline import Pipeline

__all__ = [
    "REFERENCE_PIPELINE",
    "PipelineArg",
    "callable_label",
    "callable_ref",
    "import_ref",
    "load_pipeline",
    "pipeline_label",
    "resolve_pipeline",
]

#: The reference FuncPipe RAG pipeline, the default when a user names none.
REFERENCE_PIPELINE = "workbench.rag.reference:reference_pipeline"

#: What every API that takes a pipeline accepts.
PipelineArg = Pipeline | str | None


def import_ref(ref: str) -> Any:
    """The object ``module:qualname`` names, or an InvalidInputError saying what is wrong."""
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


def callable_ref(obj: object, *, through_stage: bool = False) -> str | None:
    """``module:qualname`` if another process can import ``obj`` back by that name, else
    None (a lambda, a local function, anything defined in ``__main__`` such as a notebook).

    With ``through_stage``, a stage's pure function also has a name: ``@stage`` replaces
    the function by its Stage at module level, and the name then imports the Stage, which
    the profiling runner resolves back to that function."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or "<" in qualname or module == "__main__":
        return None
    ref = f"{module}:{qualname}"
    try:
        found = import_ref(ref)
    except InvalidInputError:
        return None
    if found is obj:
        return ref
    if through_stage:
        from workbench.stages import Stage

        if isinstance(found, Stage) and found.get(found.variant_names[0]).fn is obj:
            return ref
    return None


def callable_label(obj: object) -> str:
    """How a callable is named in results: its ``callable_ref``, else
    ``<object>:qualname`` (code that travels by value)."""
    return callable_ref(obj) or f"<object>:{getattr(obj, '__qualname__', type(obj).__name__)}"


def load_pipeline(ref: str) -> Pipeline:
    """Import ``module:function`` and call it (or take the module-level pipeline it names)."""
    factory = import_ref(ref)
    pipeline = factory() if callable(factory) and not isinstance(factory, Pipeline) else factory
    if not isinstance(pipeline, Pipeline):
        raise InvalidInputError(f"{ref!r} did not give a Pipeline; got {type(pipeline).__name__}")
    return pipeline


def resolve_pipeline(pipeline: PipelineArg) -> tuple[Pipeline, str | None]:
    """The pipeline object and the name it was given by (``None`` means the reference
    pipeline, by name); the name is ``None`` for a Pipeline object."""
    if pipeline is None:
        pipeline = REFERENCE_PIPELINE
    if isinstance(pipeline, Pipeline):
        return pipeline, None
    if isinstance(pipeline, str):
        return load_pipeline(pipeline), pipeline
    raise InvalidInputError(
        f"a pipeline is a Pipeline object or a 'module:function' string; got "
        f"{type(pipeline).__name__} {pipeline!r}")


def pipeline_label(pipeline: Pipeline, ref: str | None) -> str:
    """How records name a pipeline: its reference, or ``<object>:NAME`` when shipped by value."""
    return ref if ref is not None else f"<object>:{pipeline.name}"
