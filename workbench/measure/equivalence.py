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
    """Run the target once here (its output), or the exception it raised. On a batch
    sequence the output is a :class:`_PerBatch` of every batch's output, in order (a
    cached variant carries its tables from batch to batch, as a re-index would)."""
    try:
        prepared = prepare(spec)
        out = prepared.call()
        return (_PerBatch(out) if prepared.steps else out), None
    except Exception as exc:
        return None, exc


class _PerBatch(tuple[Any, ...]):
    """The outputs of a target on a batch sequence, one per batch."""


def _per_batch(st: Any, reference: _PerBatch, output: _PerBatch, variant: str,
               params: dict[str, Any]) -> EquivalenceResult:
    """Equivalent when every batch's output is; else the first batch that is not."""
    for i, (ref, out) in enumerate(zip(reference, output, strict=True)):
        eq: EquivalenceResult = st.equivalence(ref, out, variant=variant, params=params)
        if not eq.equivalent:
            return EquivalenceResult(False, f"batch {i + 1} of {len(reference)}: {eq.detail}")
    return EquivalenceResult(True, f"every one of {len(reference)} batches: equivalent")


def _judge(spec: TargetSpec, reference: Any) -> EquivalenceResult:
    output, error = _run_once(spec)
    if error is not None:
        return EquivalenceResult(False, f"{spec.variant} raised {type(error).__name__}: {error}")
    pipeline, _, _ = resolve_target(spec)
    assert pipeline is not None
    st = pipeline.configure(**spec.params).stage(spec.name)
    merged = {**st.defaults, **spec.params.get(spec.name, {})}
    if isinstance(reference, _PerBatch) and isinstance(output, _PerBatch):
        return _per_batch(st, reference, output, spec.variant or "pure", merged)
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
