"""``workbench report``: the report notebooks executed by papermill into one run folder.

A run writes ``OUT/<UTC time>-<short sha>/``: each executed notebook (``NN-NAME.ipynb``)
and its offline HTML (``NN-NAME.html``), ``summary.json`` (:mod:`.summary`) and
``index.html``; then ``OUT/index.html`` lists every run (:mod:`.pages`). The summary and
the run's index are rewritten after every notebook, so a run that is stopped halfway
still shows what it did (as ``running``).

Each notebook runs in its own kernel, in the working directory the command ran in, so
the project's ``[tool.workbench]`` defaults and relative paths mean what they mean on the
command line. The kernel is the notebook's own (``python3`` for the built-in ones),
started with this interpreter's folder first on ``PATH`` so that its ``python`` is this
environment's. Every notebook that declares them gets the report's ``workload``, its
``history`` database (``OUT/history.sqlite``), the project's decision ``log`` and the
``run_folder`` itself.

A notebook that raises a performance budget error (``%%budget``, ``%wb check``, the guard)
ends as ``breach``; one that raises anything else, or whose kernel dies, as ``failed``,
its partial output kept and exported. The run goes on with the next notebook either way.
Exit code: 3 if a notebook failed, else 1 if one breached, else 0.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench._optional import require
from workbench.errors import InvalidInputError
from workbench.reporting.plan import NotebookRun, Report, ReportPlan
from workbench.subproc import git_output

if TYPE_CHECKING:
    from workbench.measure.placement import Fanout, Site

__all__ = ["execute", "execute_one", "run_on_node"]

_FEATURE = "running the report notebooks"


def _run_folder(out: Path, now: datetime, short: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    base = f"{now:%Y%m%dT%H%M%SZ}-{short}"
    for n in range(1, 1000):
        path = out / (base if n == 1 else f"{base}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise InvalidInputError(f"{out}: too many report runs named {base}")


def _budget_errors() -> set[str]:
    from workbench.budget.budgeted_block import BlockBudgetError, CheckBudgetError
    from workbench.budget.guard import PerfBudgetError

    found, todo = set(), [PerfBudgetError, BlockBudgetError, CheckBudgetError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return found


def _kernel_seconds(nb: Any) -> float | None:
    """Seconds from papermill's start to the first cell: the kernel's start-up."""
    began = nb.get("metadata", {}).get("papermill", {}).get("start_time")
    first = next((s for c in nb.get("cells", [])
                  if (s := c.get("metadata", {}).get("papermill", {}).get("start_time"))), None)
    if not (began and first):
        return None
    return (datetime.fromisoformat(first) - datetime.fromisoformat(began)).total_seconds()


@contextmanager
def _interpreter_first() -> Iterator[None]:
    """The kernel is started as ``python``: make that this environment's interpreter."""
    old_path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), old_path])
    try:
        yield
    finally:
        os.environ["PATH"] = old_path


def execute_one(run: NotebookRun, folder: Path, cwd: Path,
                bar: Mapping[str, Any] | None, *, node: str | None = None) -> None:
    """Execute one notebook into ``folder`` with papermill, filling in ``run`` (a cluster
    node runs this too: :func:`run_on_node`)."""
    pm = require("papermill", feature=_FEATURE, extra="notebook")

    target = folder / f"{run.name}.ipynb"
    run.ipynb = target.name
    run.node = node
    started = time.perf_counter()
    try:
        if not Path(run.source).is_file() or not folder.is_dir():
            raise FileNotFoundError(f"{run.source} or {folder} is not on node {node}: a "
                                    "report through a cluster needs the notebooks and the "
                                    "reports folder on a filesystem the nodes share")
        with _interpreter_first():
            pm.execute_notebook(str(run.source), str(target), parameters=run.parameters,
                                cwd=str(cwd), progress_bar=dict(bar) if bar else False,
                                request_save_on_cell_execute=True)
        run.status = "pass"
    except pm.PapermillExecutionError as exc:
        run.status = "breach" if exc.ename in _budget_errors() else "failed"
        run.error = {"ename": exc.ename, "evalue": str(exc.evalue)[:2000],
                     "cell": exc.exec_count}
    except Exception as exc:  # a kernel that died or never started: a failed notebook
        run.status = "failed"
        run.error = {"ename": type(exc).__name__, "evalue": str(exc)[:2000], "cell": None}
    run.seconds = time.perf_counter() - started
    if not target.is_file():
        run.ipynb = None


def _read_executed(run: NotebookRun, folder: Path) -> Any:
    """The executed notebook (None if papermill wrote none); notes its kernel start-up."""
    nbformat = require("nbformat", feature=_FEATURE, extra="notebook")

    if run.ipynb is None or not (folder / run.ipynb).is_file():
        run.ipynb = None
        return None
    read: Any = nbformat.read
    nb = read(str(folder / run.ipynb), as_version=4)
    run.kernel_seconds = _kernel_seconds(nb)
    return nb


def _export(run: NotebookRun, folder: Path) -> None:
    from workbench.errors import WorkbenchError
    from workbench.files import write_atomic
    from workbench.render.notebook_page import notebook_html

    if run.ipynb is None:
        return
    started = time.perf_counter()
    try:
        run.html = write_atomic(folder / f"{run.name}.html",
                                notebook_html(folder / run.ipynb)).name
    except (WorkbenchError, OSError, ValueError) as exc:
        run.status = "failed"
        run.error = {"ename": "ExportError", "evalue": f"HTML export failed: {exc}",
                     "cell": None}
    run.export_seconds = time.perf_counter() - started


def _status(runs: Sequence[NotebookRun]) -> str:
    states = {r.status for r in runs}
    return "failed" if "failed" in states else "breach" if "breach" in states else "pass"


def execute(plan: ReportPlan, *, progress: Callable[[str], None] | None = None,
            bar: bool = False, fanout: Fanout | None = None) -> Report:
    """Run the planned notebooks (see the module docstring); through a cluster's
    ``fanout``, at once on several nodes, each notebook on one."""
    from workbench.reporting.pages import write_pages

    now = datetime.now(UTC)
    sha = git_output("rev-parse", "HEAD", cwd=plan.cwd, timeout=10)
    dirty = bool(git_output("status", "--porcelain", "--untracked-files=no", cwd=plan.cwd,
                            timeout=10))
    folder = _run_folder(plan.out, now, sha[:7] if sha else "nogit")
    for run in plan.notebooks:
        if "run_folder" in run.parameters:
            run.parameters["run_folder"] = str(folder)
    summary: dict[str, Any] = {
        "schema_version": 1, "kind": "report", "id": folder.name,
        "created_at": now.isoformat(timespec="seconds"), "finished_at": None,
        "git": {"sha": sha, "dirty": dirty}, "workload": plan.workload,
        "pipeline": plan.pipeline, "command": plan.command, "status": "running",
        "exit_code": None, "notebooks": [], "breaches": [], "stages": {}, "notes": []}
    report = Report(folder, summary)
    records: list[Any] = []
    total = len(plan.notebooks)

    def finish(i: int, run: NotebookRun) -> None:
        plan.notebooks[i] = run
        label = f"[{i + 1}/{total}] {run.name}"
        nb = _read_executed(run, folder)
        if nb is not None:
            from workbench.reporting.summary import notebook_records

            records.append((run.name, list(notebook_records(nb, summary["notes"],
                                                            run.name))))
        _export(run, folder)
        if progress is not None:
            why = f": {run.error['ename']}: {run.error['evalue'][:200]}" if run.error \
                else ""
            where = f" on {run.node}" if run.node else ""
            progress(f"{label}: {run.status} in {run.seconds:.1f} s{where}{why}")
        write_pages(report, plan, records)

    try:
        write_pages(report, plan, records)
        if fanout is not None and fanout.remote:
            work = [_on_node(run, folder, plan.cwd) for run in plan.notebooks]
            fanout.map(work, [run.name for run in plan.notebooks], on_done=finish)
        else:
            for i, run in enumerate(plan.notebooks):  # pages: written before, and by finish
                execute_one(run, folder, plan.cwd,
                            {"desc": f"[{i + 1}/{total}] {run.name}", "leave": False}
                            if bar else None)
                finish(i, run)
        summary["status"] = _status(plan.notebooks)
        summary["exit_code"] = report.exit_code
        summary["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    finally:
        write_pages(report, plan, records)
    return report


def run_on_node(run: NotebookRun, folder: str, cwd: str) -> NotebookRun:
    """One report notebook executed by papermill on the cluster node this Dask task runs
    on (its kernel's measurements then run there); returns ``run``, filled in."""
    from workbench.cluster.node_tasks import node_address

    execute_one(run, Path(folder), Path(cwd), None, node=node_address())
    return run


def _on_node(run: NotebookRun, folder: Path, cwd: Path) -> Callable[[Site], NotebookRun]:
    def go(site: Site) -> NotebookRun:
        from workbench.cluster.sites import NodeLost
        from workbench.errors import ExecutionError

        try:
            done: NotebookRun = site.call(run_on_node, run, str(folder), str(cwd),
                                          timeout=None, what=f"report notebook {run.name}")
        except NodeLost:
            raise  # the fan-out runs it again on another node
        except ExecutionError as exc:  # e.g. the node cannot import the workbench
            run.status, run.node = "failed", site.name
            run.error = {"ename": "NodeError", "evalue": str(exc)[:2000], "cell": None}
            return run
        return done
    return go
