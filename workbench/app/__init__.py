"""The service layer: what the command line, the notebook magics and the widget panel do.

Each function takes plain values (a pipeline reference or object, a workload name or
object, parameters, a :class:`~workbench.measure.config.MeasureConfig`, an optional
progress callback), does the work through the core, and returns a result of the result
protocol (:mod:`workbench.results`) or a small record around results. Nothing here
prints, and nothing picks an output path: a file is written only where the caller names
one (the CLI's defaults live in the CLI). Errors are ``WorkbenchError`` subclasses.
"""

from __future__ import annotations

from workbench.app.budgets import CheckReport, baseline, check
from workbench.app.deciding import Decided, decide, decisions, export_decisions
from workbench.app.measuring import compare, measure, run, scale_out, select_decided, sweep
from workbench.app.profiling import ProfileKind, profile, profilers
from workbench.progress import Progress

__all__ = [
    "CheckReport",
    "Decided",
    "ProfileKind",
    "Progress",
    "baseline",
    "check",
    "compare",
    "decide",
    "decisions",
    "export_decisions",
    "measure",
    "profile",
    "profilers",
    "run",
    "scale_out",
    "select_decided",
    "sweep",
]
