"""The stage model: a named pipeline step with interchangeable variants.

A user brings a pipeline to the workbench by declaring its steps with :func:`stage`::

    @stage(input="Iterable[str]", output="Iterator[str]", equivalence=exact)
    def shout(lines, *, suffix="!"):
        return (line.upper() + suffix for line in lines)

    @shout.variant("vectorized", materializes_input="list()")
    def _shout_vec(lines, *, suffix="!"):
        ...

Every variant has the pure variant's signature: ``fn(data, **params)``. The stage's
equivalence predicate says when a variant's output counts as the same as pure's:
``exact`` by default, or one of :mod:`workbench.predicates` (``floats``, ``arrays``,
``frames``, ``embeddings``, ``same_items``, ...) named in ``@stage(equivalence=...)``.
Variants are registered while the stage is being declared (module import time); a
:class:`~workbench.pipeline.Pipeline` takes a snapshot and is immutable from then on.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from workbench.errors import InvalidInputError, UnknownNameError
from workbench.predicates import Equivalence, EquivalenceResult, exact, materialize

__all__ = [
    "STANDARD_VARIANTS",
    "Equivalence",
    "EquivalenceResult",
    "FrameStep",
    "Stage",
    "Variant",
    "exact",
    "materialize",
    "stage",
]

#: The conventional variant names, in display order (and order of escalation: ``cached``
#: is the FP tier, pure's results kept in memo tables (:mod:`workbench.memo`) at the cost
#: of memory; the parallel tier spends more CPUs, and a cluster); user code may add others.
STANDARD_VARIANTS = ("pure", "cached", "vectorized", "native", "parallel")


@dataclass(frozen=True, slots=True)
class FrameStep:
    """How a vectorized variant runs inside a fused lazy-frame segment.

    Adjacent stages whose frame steps chain (``a.frame_out == b.frame_in``) run as one
    lazy plan: ``to_frame`` of the first, every ``apply``, one collect, ``from_frame``
    of the last. All callables take ``(value, params)``.
    """

    frame_in: str
    frame_out: str
    to_frame: Callable[[Any, Mapping[str, Any]], Any]
    apply: Callable[[Any, Mapping[str, Any]], Any]
    collect: Callable[[Any], Any]
    from_frame: Callable[[Any, Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Variant:
    """One implementation of a stage behind the stage's pure signature.

    ``materializes_input`` / ``materializes_output`` name the materialization the
    variant performs at its boundaries (``"list()"``, ``"collect()"``, ``"to_numpy()"``);
    ``None`` means it streams. They are what the pipeline's fusion report is built from.
    """

    name: str
    fn: Callable[..., Any]
    materializes_input: str | None = None
    materializes_output: str | None = None
    frame: FrameStep | None = None
    description: str = ""


ParamCheck = Callable[[Mapping[str, Any]], None]
#: (pipeline, workload data) -> parameters a stage derives from the workload (e.g. queries).
DeriveParams = Callable[[Any, Any], Mapping[str, Any]]
#: (stage input, params) -> how many items one call processes (for throughput).
CountItems = Callable[[Any, Mapping[str, Any]], int]


@dataclass(frozen=True)
class Stage:
    """A named step with an input/output contract, variants and an equivalence predicate."""

    name: str
    input: str
    output: str
    equivalence: Equivalence
    defaults: Mapping[str, Any] = field(default_factory=dict)
    check_params: ParamCheck | None = None
    doc: str = ""
    derive_params: DeriveParams | None = None
    count_items: CountItems | None = None
    _variants: dict[str, Variant] = field(default_factory=dict, repr=False)

    @property
    def variants(self) -> Mapping[str, Variant]:
        return MappingProxyType(self._variants)

    @property
    def variant_names(self) -> tuple[str, ...]:
        standard = [v for v in STANDARD_VARIANTS if v in self._variants]
        return (*standard, *sorted(v for v in self._variants if v not in STANDARD_VARIANTS))

    def add_variant(self, variant: Variant) -> None:
        """Register a variant (declaration time only; pipelines snapshot the stage)."""
        if not variant.name or not variant.name.replace("_", "").isalnum():
            raise InvalidInputError(
                f"variant name {variant.name!r} of stage {self.name!r} must be a non-empty "
                "identifier (letters, digits, underscores)"
            )
        if variant.name in self._variants:
            raise InvalidInputError(
                f"stage {self.name!r} already has a variant {variant.name!r}"
            )
        self._variants[variant.name] = variant

    def variant(
        self,
        name: str,
        *,
        materializes_input: str | None = None,
        materializes_output: str | None = None,
        frame: FrameStep | None = None,
        description: str = "",
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: register ``fn`` as variant ``name``; returns ``fn`` unchanged."""

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.add_variant(
                Variant(
                    name,
                    fn,
                    materializes_input,
                    materializes_output,
                    frame,
                    description or _first_line(fn),
                )
            )
            return fn

        return register

    def get(self, variant: str) -> Variant:
        try:
            return self._variants[variant]
        except KeyError:
            raise UnknownNameError("variant", variant, self.variant_names,
                                   f" for stage {self.name!r}") from None

    def resolve_params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults updated with ``overrides``; unknown names and bad values raise."""
        params = dict(self.defaults)
        for key, value in (overrides or {}).items():
            if key not in self.defaults:
                raise UnknownNameError("parameter", key, sorted(self.defaults),
                                       f" for stage {self.name!r}")
            params[key] = value
        if self.check_params is not None:
            self.check_params(params)
        return params

    def __call__(self, data: Any, variant: str = "pure", **params: Any) -> Any:
        chosen = self.get(variant)
        return chosen.fn(data, **self.resolve_params(params))

    def check_equivalence(
        self, reference: Any, candidate: Any, variant: str, params: Mapping[str, Any] | None = None
    ) -> EquivalenceResult:
        """Apply the stage's predicate to ``pure``'s output and ``variant``'s output."""
        return self.equivalence(
            reference, candidate, variant=variant, params=self.resolve_params(params)
        )


def _first_line(fn: Callable[..., Any]) -> str:
    doc = inspect.getdoc(fn) or ""
    return doc.splitlines()[0] if doc else ""


def _check_equivalence(equivalence: object) -> None:
    """Refuse what cannot be called as ``equivalence(reference, candidate, variant=...,
    params=...)``, such as a predicate factory that was not called (``close``)."""
    problem = None if callable(equivalence) else "is not callable"
    if callable(equivalence):
        try:
            inspect.signature(equivalence).bind(None, None, variant="pure", params={})
        except TypeError:
            problem = "does not take (reference, candidate, *, variant, params)"
        except ValueError:  # no signature to read (some builtins): trusted
            pass
    if problem is not None:
        name = getattr(equivalence, "__name__", repr(equivalence))
        raise InvalidInputError(
            f"equivalence {name} {problem}; give a predicate such as workbench.exact, "
            "workbench.floats or a configured one (workbench.close(rel=1e-6), "
            "workbench.cosine(0.999), ...)")


def stage(
    name: str | None = None,
    *,
    input: str,
    output: str,
    equivalence: Equivalence = exact,
    check_params: ParamCheck | None = None,
    derive_params: DeriveParams | None = None,
    count_items: CountItems | None = None,
    variant: str = "pure",
    materializes_input: str | None = None,
    materializes_output: str | None = None,
) -> Callable[[Callable[..., Any]], Stage]:
    """Decorator: declare a stage whose first variant (``pure`` by default) is ``fn``.

    The stage's parameters and their defaults are the keyword-only parameters of ``fn``.
    ``derive_params(pipeline, workload_data)`` supplies parameters that come from the
    workload (a measurement calls it); ``count_items(input, params)`` says how many items
    one call processes (default: ``len(input)``).
    """

    _check_equivalence(equivalence)

    def declare(fn: Callable[..., Any]) -> Stage:
        signature = inspect.signature(fn)
        positional = [
            p for p in signature.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if len(positional) != 1:
            raise InvalidInputError(
                f"a stage function takes exactly one positional argument (its input) and "
                f"keyword-only parameters; {fn.__qualname__} takes {len(positional)} positional"
            )
        defaults: dict[str, Any] = {}
        for p in signature.parameters.values():
            if p.kind is p.KEYWORD_ONLY:
                if p.default is p.empty:
                    raise InvalidInputError(
                        f"stage parameter {p.name!r} of {fn.__qualname__} needs a default"
                    )
                defaults[p.name] = p.default
        declared = Stage(
            name=name or fn.__name__,
            input=input,
            output=output,
            equivalence=equivalence,
            defaults=MappingProxyType(defaults),
            check_params=check_params,
            doc=inspect.getdoc(fn) or "",
            derive_params=derive_params,
            count_items=count_items,
        )
        declared.add_variant(
            Variant(variant, fn, materializes_input, materializes_output, None, _first_line(fn))
        )
        return declared

    return declare
