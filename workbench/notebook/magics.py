"""The IPython extension: ``%%budget`` and ``%wb`` (see their modules for what they do).

``%load_ext workbench`` calls :func:`workbench.load_ipython_extension`, which registers
:class:`WorkbenchMagics` here. A magic shows its result as the result's own bundle
(text/plain, a self-contained text/html fragment, the JSON record). ``%wb`` returns its
result, so ``r = %wb compare chunk`` keeps it; a result the cell does not display itself
(assigned, or not the cell's last line) is shown once when the cell finishes. Mistakes in
the arguments, names or values are ``UsageError`` s naming the flag or value, raised
before anything runs or is shown (no warning, no progress bar). In a notebook a program
runs (papermill, ``workbench report``) they are ``MagicUsageError`` s, whose message
reaches the cell's error output and papermill's exception (:mod:`workbench.notebook.usage`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from workbench.notebook.usage import split, usage_errors

__all__ = ["WorkbenchMagics", "load"]


def _display(obj: Any) -> None:
    from IPython import display as ipython_display

    show: Callable[..., Any] = ipython_display.display
    show(obj)


@magics_class
class WorkbenchMagics(Magics):
    """``%%budget`` and ``%wb``."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)  # type: ignore[no-untyped-call]
        self.ip: Any = shell
        self._build()
        self._pending: list[Any] = []
        self.ip.events.register("post_run_cell", self._show_pending)

    def _build(self) -> None:
        """The parsers (and the magics' help), from the registered profilers and metrics."""
        from workbench.app.profiling import registrations
        from workbench.notebook.budget_magic import add_budget_flags
        from workbench.notebook.session import current
        from workbench.notebook.wb_magic import MagicParser, build_wb_parser, full_help

        self.budget_parser = MagicParser(
            prog="%%budget", description="Measure the cell's code (warmed, repeated, in "
            "worker processes) and hold it to limits; an error-level breach raises "
            "PerfBudgetError after the verdicts are shown.")
        add_budget_flags(self.budget_parser)
        self.wb_project = current().project
        self.wb_parser = build_wb_parser(self.wb_project)
        self.built_for = registrations()
        WorkbenchMagics.budget.__doc__ = inspect.cleandoc(self.budget_parser.format_help())
        WorkbenchMagics.wb.__doc__ = inspect.cleandoc(full_help(self.wb_parser))

    def _current(self) -> None:
        """Rebuild the parsers when a profiler or a metric was registered since."""
        from workbench.app.profiling import registrations

        if registrations() != self.built_for:
            self._build()

    def _show_pending(self, result: Any) -> None:
        """Show the results of ``%wb`` calls that the cell did not display itself."""
        pending, self._pending = self._pending, []
        shown = getattr(result, "result", None)
        for obj in pending:
            if obj is not shown:
                _display(obj)

    def unregister(self) -> None:
        self.ip.events.unregister("post_run_cell", self._show_pending)

    @cell_magic  # type: ignore[untyped-decorator]
    def budget(self, line: str, cell: str) -> None:
        from workbench.notebook.budget_magic import plan, raise_for, run_budget
        from workbench.notebook.progress import cell_progress
        from workbench.notebook.session import current

        session = current()
        self._current()
        with usage_errors(self.ip):
            args = self.budget_parser.parse_args(split(line))
            code = self.ip.transform_cell(cell)
            request = plan(args, code, self.ip.user_ns, session,
                           self.ip.execution_count)
            with cell_progress(title=f"%%budget {request.name}") as progress:
                result = run_budget(request, session, progress=progress)
        _display(result)
        raise_for(result)

    @line_magic  # type: ignore[untyped-decorator]
    def wb(self, line: str) -> Any:
        from workbench.notebook.progress import cell_progress
        from workbench.notebook.session import current
        from workbench.notebook.wb_magic import build_wb_parser, run_wb

        session = current()
        self._current()
        # built per call: the defaults (budgets file, decision log) are the session's
        # project's, which %wb use or a new session may have changed since loading
        parser = self.wb_parser if session.project == self.wb_project else \
            build_wb_parser(session.project)
        with usage_errors(self.ip):
            result = run_wb(parser, split(line), self.ip.user_ns, session,
                            cell_progress, _display)
        if result is not None and hasattr(result, "_repr_mimebundle_"):
            self._pending.append(result)
        return result


def load(shell: Any) -> WorkbenchMagics:
    """Register the magics on ``shell`` (once; loading again replaces them)."""
    magics = WorkbenchMagics(shell)
    old = getattr(shell, "_workbench_magics", None)
    if old is not None:
        old.unregister()
    shell.register_magics(magics)
    shell._workbench_magics = magics
    return magics
