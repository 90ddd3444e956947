"""The project a front end works in: its ``[tool.workbench]`` defaults, and its code made
importable (:mod:`workbench.project` reads the table)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from workbench.errors import InvalidInputError
from workbench.project import Project, find_project

__all__ = ["Project", "activate", "open_project"]


def activate(project: Project, cwd: Path) -> None:
    """Make the project's code importable as ``python -m`` would (its root and the working
    directory lead ``sys.path``) and import the modules it lists as registering workloads."""
    for directory in dict.fromkeys((str(cwd), str(project.root))):
        if directory not in sys.path:
            sys.path.insert(0, directory)
    for module in project.modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise InvalidInputError(
                f"cannot import {module!r}, listed in [tool.workbench] modules of "
                f"{project.source}: {exc}") from None


def open_project(cwd: Path) -> Project:
    """The nearest project at or above ``cwd`` with a ``[tool.workbench]`` table (else the
    reference pipeline's defaults rooted at ``cwd``), activated."""
    project = find_project(cwd)
    activate(project, cwd)
    return project
