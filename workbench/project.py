"""A project's defaults: ``[tool.workbench]`` in the nearest ``pyproject.toml`` that has one.

::

    [tool.workbench]
    pipeline = "mypkg.pipeline:make"     # module:function giving a Pipeline
    workload = "rows"                    # the default workload's name
    budgets = "perf/budgets.toml"        # relative to this pyproject.toml
    modules = ["mypkg.workloads"]        # more modules that register workloads
    decisions = "perf/decisions.jsonl"   # the decision log (default decisions/decisions.jsonl)
    cluster = "tcp://sched:8786"         # a Dask scheduler to measure on (default: none)

Searched upward from a directory the front end names (the CLI: its working directory).
With no such table the reference pipeline is the default, with its ``tiny`` workload and
``budgets.toml`` in the working directory. Front ends read this; the core never does.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import InvalidInputError
from workbench.refs import REFERENCE_PIPELINE

__all__ = ["DEFAULT_DECISIONS", "DEFAULT_WORKLOAD", "Project", "find_project", "read_project"]

#: The reference pipeline's default workload.
DEFAULT_WORKLOAD = "tiny"
_KEYS = {"pipeline": str, "workload": str, "budgets": str, "modules": list, "decisions": str,
         "cluster": str}
#: The decision log's default place, relative to the project's root.
DEFAULT_DECISIONS = Path("decisions") / "decisions.jsonl"


@dataclass(frozen=True, slots=True)
class Project:
    """Where the project is and what its commands default to."""

    root: Path
    pipeline: str = REFERENCE_PIPELINE
    workload: str = DEFAULT_WORKLOAD
    budgets: Path = Path("budgets.toml")
    modules: tuple[str, ...] = ()
    source: Path | None = None  # the pyproject.toml read, if any
    decisions: Path = DEFAULT_DECISIONS
    cluster: str | None = None  # a Dask scheduler's address, checked when it is used

    @property
    def budgets_path(self) -> Path:
        return self.budgets if self.budgets.is_absolute() else self.root / self.budgets

    @property
    def decisions_path(self) -> Path:
        return self.decisions if self.decisions.is_absolute() else self.root / self.decisions


def _table(path: Path) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {str(path)!r}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"{str(path)!r} is not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("workbench")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise InvalidInputError(f"[tool.workbench] in {str(path)!r} must be a table")
    return table


def read_project(path: Path) -> Project:
    """The ``[tool.workbench]`` table of the pyproject.toml at ``path``, validated."""
    table = _table(path) or {}
    for key, value in table.items():
        if key not in _KEYS:
            raise InvalidInputError(
                f"{str(path)!r}: [tool.workbench] has an unknown key {key!r}; the keys are: "
                + ", ".join(_KEYS))
        if not isinstance(value, _KEYS[key]) or (
                key == "modules" and not all(isinstance(m, str) and m for m in value)):
            kind = "a list of module names" if key == "modules" else "a string"
            raise InvalidInputError(
                f"{str(path)!r}: [tool.workbench] {key} must be {kind}; got {value!r}")
    pipeline = table.get("pipeline", REFERENCE_PIPELINE)
    if ":" not in pipeline:
        raise InvalidInputError(f"{str(path)!r}: [tool.workbench] pipeline must be "
                                f"'module:function'; got {pipeline!r}")
    return Project(root=path.parent, pipeline=pipeline,
                   workload=table.get("workload", DEFAULT_WORKLOAD),
                   budgets=Path(table.get("budgets", "budgets.toml")),
                   modules=tuple(table.get("modules", ())), source=path,
                   decisions=Path(table.get("decisions", DEFAULT_DECISIONS)),
                   cluster=_cluster(table.get("cluster"), path))


def _cluster(value: str | None, path: Path) -> str | None:
    if value is None:
        return None
    from workbench.cluster.address import check_address

    return check_address(value, f"{str(path)!r}: [tool.workbench] cluster")


def find_project(start: Path) -> Project:
    """The nearest project at or above ``start`` with a ``[tool.workbench]`` table, else the
    reference pipeline's defaults rooted at ``start``."""
    start = start.resolve()
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and _table(candidate) is not None:
            return read_project(candidate)
    return Project(root=start)
