"""The engine's equivalence check: each variant's output against the baseline variant's.

After the timings, every measured variant runs once more here, in this process, on the
same workload, and the stage's equivalence predicate compares its output with the
baseline variant's output. Timings and correctness then sit side by side in the
:class:`~workbench.measure.comparison.Comparison`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from workbench.measure.comparison import VariantResult
from workbench.measure.targets import TargetSpec, prepare, resolve_target
from workbench.stages import EquivalenceResult

__all__ = ["with_equivalence"]


def _run_once(spec: TargetSpec) -> tuple[Any, BaseException | None]:
    """Run the target once here (its output), or the exception it raised."""
    try:
        return prepare(spec).call(), None
    except Exception as exc:
        return None, exc


def _judge(spec: TargetSpec, reference: Any) -> EquivalenceResult:
    output, error = _run_once(spec)
    if error is not None:
        return EquivalenceResult(False, f"{spec.variant} raised {type(error).__name__}: {error}")
    pipeline, _, _ = resolve_target(spec)
    assert pipeline is not None
    st = pipeline.configure(**spec.params).stage(spec.name)
    merged = {**st.defaults, **spec.params.get(spec.name, {})}
    return st.equivalence(reference, output, variant=spec.variant or "pure", params=merged)


def with_equivalence(results: tuple[VariantResult, ...], baseline: str = "pure",
                     ) -> tuple[VariantResult, ...]:
    """``results`` with ``equivalence`` filled in for stage targets (unchanged when the
    baseline variant is not among them)."""
    base = next((r for r in results if r.variant == baseline), None)
    if base is None:
        return results
    reference, base_error = _run_once(base.measurement.target)
    out = []
    for r in results:
        if r.variant == baseline:
            eq = EquivalenceResult(True, "the reference")
        elif base_error is not None:
            eq = EquivalenceResult(False, f"no reference: {baseline} raised "
                                          f"{type(base_error).__name__}: {base_error}")
        else:
            eq = _judge(r.measurement.target, reference)
        out.append(replace(r, equivalence=eq))
    return tuple(out)
