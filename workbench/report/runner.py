"""Compatibility: the names ``workbench/cli_report.py`` imports, over
:mod:`workbench.app.reporting`. Delete this module once the command line calls
``workbench.app.reporting`` itself (the report machinery is :mod:`workbench.reporting`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from workbench.app.reporting import REPORT_NOTEBOOKS as BUILTIN
from workbench.app.reporting import ReportPlan
from workbench.app.reporting import run_report as execute

__all__ = ["BUILTIN", "execute", "notebook_path", "plan_report"]


def notebook_path(text: str) -> str:
    """The notebook as given: :func:`plan_report` checks it."""
    return text


def plan_report(notebooks: Sequence[str], *, given: Sequence[str], workload: str,
                pipeline: str, out: Path, cwd: Path, log: Path, command: str) -> ReportPlan:
    from workbench.app.reporting import plan_report as plan

    return plan(list(notebooks), list(given), workload=workload, pipeline=pipeline, out=out,
                cwd=cwd, log=log, command=command)
