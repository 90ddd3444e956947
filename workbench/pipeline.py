"""Composition of stages into an immutable pipeline, variant selection and fusion.

``Pipeline.select(chunk="native")`` returns a new pipeline. Adjacent vectorized
stages whose frame steps chain run as one lazy plan (fused); every other boundary where
a variant materializes its input or output (``list()``, ``collect()``, ``to_numpy()``)
is a fusion break, listed by :meth:`Pipeline.fusion_report`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Protocol

from workbench.errors import InvalidInputError, UnknownNameError
from workbench.results import Result
from workbench.stages import Stage, Variant

__all__ = ["Boundary", "DecidedChoices", "FusionReport", "Pipeline", "Segment"]

StageObserver = Callable[[str, str], None]


class DecidedChoices(Protocol):
    """A read decision log, as a pipeline sees it: the variant each stage was decided on."""

    def choices(self, *pipeline: str) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class Segment:
    """Consecutive stages that run together; ``fused`` when they share one lazy plan."""

    stages: tuple[str, ...]
    variants: tuple[str, ...]
    fused: bool


@dataclass(frozen=True, slots=True)
class Boundary:
    upstream: str
    downstream: str
    fused: bool
    materializes: bool
    reason: str

    @property
    def is_break(self) -> bool:
        return self.materializes and not self.fused


@dataclass(frozen=True, slots=True)
class FusionReport(Result):
    """Where data is materialized between the stages of a pipeline with a selection."""

    kind: ClassVar[str] = "fusion-report"
    schema_version: ClassVar[int] = 1

    selection: tuple[tuple[str, str], ...]
    boundaries: tuple[Boundary, ...]

    @property
    def breaks(self) -> tuple[Boundary, ...]:
        return tuple(b for b in self.boundaries if b.is_break)

    def _payload(self) -> dict[str, Any]:
        return {
            "selection": dict(self.selection),
            "boundaries": [
                {"upstream": b.upstream, "downstream": b.downstream, "fused": b.fused,
                 "materializes": b.materializes, "reason": b.reason}
                for b in self.boundaries
            ],
        }

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> FusionReport:
        return cls(tuple((str(k), str(v)) for k, v in data["selection"].items()),
                   tuple(Boundary(str(b["upstream"]), str(b["downstream"]), bool(b["fused"]),
                                  bool(b["materializes"]), str(b["reason"]))
                         for b in data["boundaries"]))


@dataclass(frozen=True)
class Pipeline:
    """An immutable composition of stages with one selected variant and params per stage."""

    name: str
    stages: tuple[Stage, ...]
    selection: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    fuse: bool = True

    def __post_init__(self) -> None:
        names = [s.name for s in self.stages]
        if not names:
            raise InvalidInputError("a pipeline needs at least one stage")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidInputError(f"stage names must be unique; repeated: {duplicates}")
        selection = {s.name: "pure" if "pure" in s.variants else s.variant_names[0]
                     for s in self.stages}
        for stage_name, variant in self.selection.items():
            selection[self.stage(stage_name).name] = self.stage(stage_name).get(variant).name
        params = {s.name: s.resolve_params(self.params.get(s.name)) for s in self.stages}
        for stage_name in self.params:
            self.stage(stage_name)
        object.__setattr__(self, "selection", MappingProxyType(selection))
        object.__setattr__(
            self, "params", MappingProxyType({k: MappingProxyType(v) for k, v in params.items()})
        )

    @classmethod
    def of(cls, *stages: Stage, name: str = "pipeline") -> Pipeline:
        return cls(name=name, stages=tuple(stages))

    # -- lookup and immutable updates -------------------------------------------------
    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    def stage(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise UnknownNameError("stage", name, self.stage_names)

    def variant(self, stage_name: str) -> Variant:
        return self.stage(stage_name).get(self.selection[self.stage(stage_name).name])

    def select(self, **choices: str) -> Pipeline:
        """A new pipeline with the given ``stage=variant`` choices."""
        for stage_name, variant in choices.items():
            self.stage(stage_name).get(variant)
        return Pipeline(self.name, self.stages, {**self.selection, **choices}, self.params,
                        self.fuse)

    def select_decided(self, decisions: Mapping[str, str] | DecidedChoices, *,
                       name: str | None = None) -> Pipeline:
        """A new pipeline with the recorded decisions applied: ``decisions`` is a mapping of
        stage to variant, or a read decision log (``DecisionLog(path).read()``: its latest
        decision per stage of this pipeline, matched by ``name`` or this pipeline's own
        name). A log's path goes to :func:`workbench.app.select_decided`. Stages without a
        decision keep their variant; a decided stage or variant this pipeline lacks is an
        error naming it."""
        if isinstance(decisions, Mapping):
            return self.select(**decisions)
        if isinstance(decisions, str | os.PathLike):
            raise InvalidInputError(
                f"Pipeline.select_decided takes a mapping of stage to variant or a read "
                f"decision log, not the path {str(decisions)!r}; read the log with "
                f"workbench.app.select_decided(pipeline, {str(decisions)!r})")
        names = (self.name,) if name is None else (self.name, name)
        return self.select(**decisions.choices(*names))

    def select_all(self, variant: str) -> Pipeline:
        """Every stage that has ``variant`` switched to it; the others keep theirs."""
        known = {v for s in self.stages for v in s.variants}
        if variant not in known:
            raise UnknownNameError("variant", variant, sorted(known))
        return self.select(**{s.name: variant for s in self.stages if variant in s.variants})

    def configure(self, **params: Mapping[str, Any]) -> Pipeline:
        """A new pipeline with parameters updated per stage: ``configure(chunk={"size": 64})``."""
        merged = {k: dict(v) for k, v in self.params.items()}
        for stage_name, values in params.items():
            self.stage(stage_name)
            merged[stage_name] = {**merged[stage_name], **values}
        return Pipeline(self.name, self.stages, self.selection, merged, self.fuse)

    def with_fusion(self, fuse: bool) -> Pipeline:
        return Pipeline(self.name, self.stages, self.selection, self.params, fuse)

    # -- planning ----------------------------------------------------------------------
    def plan(self) -> tuple[Segment, ...]:
        """Group stages into segments; chained frame steps fuse when fusion is on."""
        segments: list[list[int]] = []
        for i, s in enumerate(self.stages):
            current = self.variant(s.name).frame
            if self.fuse and segments and current is not None:
                previous = self.variant(self.stages[segments[-1][-1]].name).frame
                if previous is not None and previous.frame_out == current.frame_in:
                    segments[-1].append(i)
                    continue
            segments.append([i])
        return tuple(
            Segment(
                tuple(self.stages[i].name for i in seg),
                tuple(self.selection[self.stages[i].name] for i in seg),
                len(seg) > 1,
            )
            for seg in segments
        )

    def fusion_report(self) -> FusionReport:
        segment_of = {name: n for n, seg in enumerate(self.plan()) for name in seg.stages}
        boundaries = []
        for up, down in zip(self.stages, self.stages[1:], strict=False):
            uv, dv = self.variant(up.name), self.variant(down.name)
            if segment_of[up.name] == segment_of[down.name]:
                boundaries.append(Boundary(
                    up.name, down.name, True, False,
                    f"one lazy plan: {up.name}/{uv.name} and {down.name}/{dv.name} "
                    "share a frame, materialized once at the segment's end",
                ))
                continue
            reasons = []
            if uv.materializes_output:
                reasons.append(f"{up.name}/{uv.name} materializes its output "
                               f"({uv.materializes_output})")
            if dv.materializes_input:
                reasons.append(f"{down.name}/{dv.name} materializes its input "
                               f"({dv.materializes_input})")
            boundaries.append(Boundary(
                up.name, down.name, False, bool(reasons),
                "; ".join(reasons) or "streams: a lazy iterator passes between them",
            ))
        return FusionReport(tuple(self.selection.items()), tuple(boundaries))

    # -- running -----------------------------------------------------------------------
    def run(self, data: Any, *, until: str | None = None,
            on_stage: StageObserver | None = None) -> Any:
        """Run the pipeline on ``data`` (through stage ``until``, inclusive, if given).

        Outputs stay lazy where the variants stream; ``on_stage(stage, variant)`` is
        called as each stage (or fused segment member) is entered.
        """
        last = self.stage(until).name if until is not None else self.stages[-1].name
        value = data
        for seg in self.plan():
            if seg.fused:
                value = self._run_fused(seg, value, on_stage)
            else:
                name = seg.stages[0]
                if on_stage is not None:
                    on_stage(name, seg.variants[0])
                value = self.variant(name).fn(value, **self.params[name])
            if last in seg.stages:
                if seg.fused and seg.stages[-1] != last:
                    raise InvalidInputError(
                        f"cannot stop after {last!r}: it is fused with "
                        f"{seg.stages[-1]!r}; use .with_fusion(False) to stop inside a segment"
                    )
                return value
        return value

    def _run_fused(self, seg: Segment, value: Any, on_stage: StageObserver | None) -> Any:
        steps = [(name, self.variant(name).frame) for name in seg.stages]
        first_name, first = steps[0]
        assert first is not None
        frame = first.to_frame(value, self.params[first_name])
        for name, step in steps:
            assert step is not None
            if on_stage is not None:
                on_stage(name, self.selection[name])
            frame = step.apply(frame, self.params[name])
        last_name, last = steps[-1]
        assert last is not None
        return last.from_frame(last.collect(frame), self.params[last_name])
