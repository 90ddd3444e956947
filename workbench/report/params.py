"""Compatibility: the names ``workbench/cli_report.py`` imports, over
:mod:`workbench.app.reporting`. Delete this module once the command line calls
``workbench.app.reporting`` itself (the parameters are :mod:`workbench.reporting.params`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["declared_parameters", "parse_given"]


def parse_given(text: str) -> str:
    """The ``-p`` text as given: :func:`workbench.app.reporting.plan_report` checks it."""
    return text


def declared_parameters(path: Path) -> dict[str, Any]:
    from workbench.app.reporting import notebook_parameters

    return {d.name: d for d in notebook_parameters(path)}
