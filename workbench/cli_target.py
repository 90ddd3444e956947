"""The flags that say what a command works on, shared by every subcommand that takes a stage.

``--pipeline MODULE:FUNCTION`` and ``--workload NAME`` default to the project's
``[tool.workbench]`` table (:mod:`workbench.project`), else to the reference pipeline and
its ``tiny`` workload. ``--param STAGE.KEY=VALUE`` (repeatable) sets a stage parameter;
the value is parsed as JSON when it parses (``64``, ``true``, ``[1, 2]``), else kept as a
string. ``--model M`` is short for ``--param embed.model=M`` (the reference pipeline's
embedding model).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from workbench.errors import InvalidInputError
from workbench.project import Project

__all__ = ["activate", "add_target_flags", "param", "params_of"]


def param(text: str) -> tuple[str, str, Any]:
    """``STAGE.KEY=VALUE`` -> (stage, key, value)."""
    name, eq, raw = text.partition("=")
    stage, dot, key = name.partition(".")
    if not eq or not dot or not stage.strip() or not key.strip():
        raise argparse.ArgumentTypeError(
            f"expected STAGE.KEY=VALUE (e.g. chunk.size=128); got {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return stage.strip(), key.strip(), value


def add_target_flags(cmd: argparse.ArgumentParser, project: Project, *,
                     stage: bool = True, workload: bool = True,
                     params: bool = True) -> None:
    """``[STAGE] --pipeline --workload/-w --param --model`` with the project's defaults;
    a command that would not use ``--workload`` or ``--param``/``--model`` leaves them out
    (argparse then refuses them, naming the flag)."""
    if stage:
        cmd.add_argument("stage", help="stage name (see `workbench stages`)")
    cmd.add_argument("--pipeline", default=project.pipeline, metavar="MODULE:FUNCTION",
                     help="the pipeline: a function returning a Pipeline "
                          "(default: %(default)s)")
    if workload:
        cmd.add_argument("--workload", "-w", default=project.workload, metavar="NAME",
                         help="workload name, NAME@N for size N (default: %(default)s; "
                              "see `workbench workloads`)")
    if not params:
        return
    cmd.add_argument("--param", dest="params", action="append", type=param, default=[],
                     metavar="STAGE.KEY=VALUE",
                     help="a stage parameter (repeatable); VALUE is JSON or a string")
    cmd.add_argument("--model", default=None,
                     help="the reference pipeline's embedding model (= --param embed.model=M)")


def params_of(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The ``--param`` (and ``--model``) values as ``{stage: {key: value}}``."""
    out: dict[str, dict[str, Any]] = {}
    for stage, key, value in getattr(args, "params", None) or ():
        out.setdefault(stage, {})[key] = value
    if getattr(args, "model", None):
        out.setdefault("embed", {})["model"] = args.model
    return out


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
