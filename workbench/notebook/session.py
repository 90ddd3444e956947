"""The notebook session: what the magics and the panel share in one kernel.

One :class:`Session` per kernel (:func:`current`): the pipeline and workload the magics and
the panel work on (the project's ``[tool.workbench]`` defaults until changed), the current
variant selection (``%wb select``, the panel's toggles), the named ``%%budget`` cells with
their measured blocks (so a later cell can be checked ``--against`` one, measured again
beside it), every result a magic or the panel produced, and the decisions recorded in
this session (each also written to the project's decision log).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.app.hinting import stage_profiles
from workbench.app.workloads import resolved
from workbench.app.workspace import find_project, resolve_pipeline
from workbench.errors import InvalidInputError
from workbench.pipeline import Pipeline
from workbench.workloads import Workload

if TYPE_CHECKING:
    from workbench.app import Decided
    from workbench.app.workspace import PipelineArg, Project
    from workbench.budget.rules import Rule
    from workbench.decisions.record import DecisionRecord
    from workbench.notebook.cell import CellBlock
    from workbench.results import Result

__all__ = ["NamedCell", "Session", "current", "reset"]

WorkloadArg = Workload | str

@dataclass(frozen=True)
class NamedCell:
    """A ``%%budget`` cell of this session: its measured block and its last result."""

    name: str
    block: CellBlock
    result: Result


@dataclass
class Session:
    """The state the magics and the panel share (see the module docstring)."""

    project: Project
    pipeline: PipelineArg = None
    workload: WorkloadArg = "tiny"
    selection: dict[str, str] = field(default_factory=dict)
    cells: dict[str, NamedCell] = field(default_factory=dict)
    results: list[tuple[str, Result]] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def for_directory(cls, directory: Path) -> Session:
        project = find_project(directory)
        return cls(project, project.pipeline, project.workload)

    def pipeline_object(self) -> Pipeline:
        """The session's pipeline with the current selection applied."""
        pipe, _ = resolve_pipeline(self.pipeline)
        return pipe.select(**self.selection) if self.selection else pipe

    def use(self, *, pipeline: PipelineArg | None = None,
            workload: WorkloadArg | None = None) -> None:
        """Work on another pipeline and/or workload; a new pipeline clears the selection."""
        if pipeline is not None:
            resolve_pipeline(pipeline)  # fails here, naming the problem, if it is not one
            with self._lock:
                self.pipeline = pipeline
                self.selection = {}
        if workload is not None:
            if not isinstance(workload, Workload | str):
                raise InvalidInputError(f"a workload is a name or a Workload; got "
                                        f"{type(workload).__name__} {workload!r}")
            resolved(workload, self.pipeline)  # an unknown name is refused now, not later
            with self._lock:
                self.workload = workload

    def select(self, choices: Mapping[str, str]) -> dict[str, str]:
        """Choose variants (``{"chunk": "native"}``); every name is checked against the
        pipeline before anything changes. Returns the whole selection."""
        pipe, _ = resolve_pipeline(self.pipeline)
        for stage_name, variant in choices.items():
            pipe.stage(stage_name).get(variant)
        with self._lock:
            self.selection.update(choices)
            return dict(self.selection)

    def variant_of(self, stage: str) -> str:
        """The selected variant of ``stage`` (``pure`` until one is chosen)."""
        return self.selection.get(stage, "pure")

    def keep(self, label: str, result: Result) -> None:
        with self._lock:
            self.results.append((label, result))

    def kept(self) -> tuple[tuple[str, Result], ...]:
        """Every (label, result) kept so far, oldest first (a copy, taken under the lock)."""
        with self._lock:
            return tuple(self.results)

    def last(self, kind: str) -> Result | None:
        """The newest kept result of ``kind`` (``"comparison"``, ``"budget-cell"``, ...)."""
        with self._lock:
            return next((r for _, r in reversed(self.results) if r.kind == kind), None)

    def remember_cell(self, name: str, block: CellBlock, result: Result) -> None:
        with self._lock:
            self.cells[name] = NamedCell(name, block, result)

    def cell(self, name: str) -> NamedCell | None:
        with self._lock:
            return self.cells.get(name)

    def decide(self, stage: str, variant: str, rationale: str, *,
               evidence: tuple[Result, ...] = (), limits: tuple[Rule, ...] = (),
               **options: Any) -> Decided:
        """Record a decision in the project's decision log (``app.decide`` on the
        session's pipeline and workload, the project's budgets and stored baseline) and
        keep it in the session. ``options`` go to ``app.decide``."""
        from workbench import app
        from workbench.app.suggesting import baseline_path

        name = self.workload if isinstance(self.workload, str) else self.workload.name
        stored = baseline_path(self.project.root, name)
        options.setdefault("baseline_file", stored if stored.is_file() else None)
        options.setdefault("budgets", self.project.budgets_path)
        options.setdefault("log", self.project.decisions_path)
        done = app.decide(stage, variant, rationale, pipeline=self.pipeline,
                          workload=self.workload, evidence=evidence, limits=limits,
                          **options)
        self.remember_decision(done.record)
        return done

    def remember_decision(self, record: DecisionRecord) -> None:
        with self._lock:
            self.decisions.append(record)

    def evidence_for(self, stage: str) -> tuple[Result, ...]:
        """The newest comparison of ``stage`` kept in the session and, per registered
        profiler, the profile of it the panel's hint reads too (pure's newest, else the
        newest: :func:`~workbench.app.hinting.stage_profiles`)."""
        kept = [r for _, r in self.kept()]
        comparison = next((r for r in reversed(kept) if r.kind == "comparison"
                           and getattr(r, "stage", None) == stage), None)
        profiles = stage_profiles(kept, stage)
        return profiles if comparison is None else (comparison, *profiles)

    def summary(self) -> dict[str, Any]:
        """A small plain view of the session (for ``%wb session`` and tests)."""
        pipe, ref = resolve_pipeline(self.pipeline)
        workload = self.workload if isinstance(self.workload, str) else self.workload.name
        return {"pipeline": ref or f"<object>:{pipe.name}", "workload": workload,
                "selection": {s: self.variant_of(s) for s in pipe.stage_names},
                "cells": list(self.cells), "results": len(self.results),
                "decisions": len(self.decisions)}


_CURRENT: Session | None = None
_GUARD = threading.Lock()


def current() -> Session:
    """This kernel's session (created from the working directory's project on first use)."""
    global _CURRENT
    with _GUARD:
        if _CURRENT is None:
            _CURRENT = Session.for_directory(Path.cwd())
        return _CURRENT


def reset(session: Session | None = None) -> Session:
    """Start a fresh session (or install ``session``); returns it."""
    global _CURRENT
    with _GUARD:
        _CURRENT = session or Session.for_directory(Path.cwd())
        return _CURRENT
