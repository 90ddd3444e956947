"""What a report run is: its notebooks and their parameters, checked before anything runs
(:class:`ReportPlan`), each notebook's outcome (:class:`NotebookRun`) and the run's folder
and summary (:class:`Report`).

The built-in report notebooks are package data of the report front end
(``workbench/report/notebooks/``); a report may run notebooks of one's own instead.
Every notebook that declares them gets the report's ``workload``, its ``history``
database (``OUT/history.sqlite``), the project's decision ``log`` and the ``run_folder``
the run writes (where the notebooks of one run leave what the next one judges:
:mod:`workbench.reporting.baselines`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from workbench.errors import InvalidInputError
from workbench.reporting.params import Given, declared_parameters, parameters_for

__all__ = ["BUILTIN", "EXIT_BREACH", "EXIT_FAILED", "EXIT_OK", "NotebookRun", "Report",
           "ReportPlan", "builtin_path", "notebook_path", "plan_report"]

#: The built-in report notebooks, in the order a report runs them.
BUILTIN = ("compare", "profile", "budgets", "decisions")
EXIT_OK, EXIT_BREACH, EXIT_FAILED = 0, 1, 3


def builtin_path(name: str) -> Path:
    """A built-in report notebook (package data of :mod:`workbench.report`)."""
    return Path(str(resources.files("workbench").joinpath("report", "notebooks",
                                                          f"{name}.ipynb")))


def notebook_path(text: str) -> Path:
    """A built-in report notebook's name, or the path of a notebook of one's own."""
    if text in BUILTIN:
        return builtin_path(text)
    path = Path(text)
    if path.suffix != ".ipynb" or not path.is_file():
        raise InvalidInputError(f"--notebook {text!r}: neither a built-in report notebook ("
                                + ", ".join(BUILTIN) + ") nor an existing .ipynb file")
    return path


@dataclass
class NotebookRun:
    """One notebook of a run: where it came from and went, and how it ended."""

    name: str
    source: Path
    parameters: dict[str, Any]
    status: str = "pending"
    seconds: float | None = None
    kernel_seconds: float | None = None  # start-up before the first cell ran
    export_seconds: float | None = None
    error: dict[str, Any] | None = None
    ipynb: str | None = None
    html: str | None = None
    node: str | None = None  # the cluster node it ran on (None: this machine)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "source": str(self.source), "status": self.status,
                "parameters": self.parameters, "seconds": self.seconds,
                "kernel_seconds": self.kernel_seconds, "export_seconds": self.export_seconds,
                "error": self.error, "ipynb": self.ipynb, "html": self.html,
                **({"node": self.node} if self.node else {})}


@dataclass
class ReportPlan:
    """Everything checked before anything runs (usage errors stop here)."""

    notebooks: list[NotebookRun]
    workload: str
    pipeline: str
    pipeline_name: str
    out: Path
    cwd: Path
    log: Path
    command: str


@dataclass
class Report:
    """A finished (or interrupted) run: its folder and summary."""

    path: Path
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def index(self) -> Path:
        return self.path / "index.html"

    @property
    def exit_code(self) -> int:
        return {"failed": EXIT_FAILED, "breach": EXIT_BREACH}.get(self.summary["status"],
                                                                  EXIT_OK)


def plan_report(notebooks: Sequence[Path], *, given: Sequence[Given], workload: str,
                pipeline: str, out: Path, cwd: Path, log: Path, command: str) -> ReportPlan:
    """Check the notebooks, their parameters and the workload: a usage error names what
    is wrong before any kernel starts."""
    from workbench.refs import resolve_pipeline
    from workbench.workloads import get_workload

    names = [f"{i:02d}-{p.stem}" for i, p in enumerate(notebooks, 1)]
    declared = {name: declared_parameters(p) for name, p in zip(names, notebooks, strict=True)}
    by_stem = {p.stem: name for name, p in zip(names, notebooks, strict=True)}
    # -p NOTEBOOK:KEY=VALUE names a notebook by its file name, without the number
    given = [Given(g.key, g.text, by_stem.get(g.notebook, g.notebook)) if g.notebook else g
             for g in given]
    pipe, _ = resolve_pipeline(pipeline)  # its module registers its workloads
    get_workload(workload)
    # run_folder is filled in when the run's folder exists (runner.execute)
    common = {"workload": workload, "history": str(out / "history.sqlite"), "log": str(log),
              "run_folder": ""}
    values = parameters_for(declared, given, common)
    runs = [NotebookRun(name, path, values[name])
            for name, path in zip(names, notebooks, strict=True)]
    return ReportPlan(runs, workload, pipeline, pipe.name, out, cwd, log, command)
