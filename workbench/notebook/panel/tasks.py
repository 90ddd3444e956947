"""The panel's background work: one job at a time in a daemon thread, cancellable between
worker processes, with every outcome (done, cancelled, failed) reported to the panel.

The kernel stays responsive while a job runs: the cell that built the panel has long
finished, and the job's widgets update from the thread. Cancel sets an event; the
measurement's progress callback (:meth:`Runner.progress`) raises the private
:class:`_Cancelled` at its next call, which the engine makes between worker processes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.progress import Progress

__all__ = ["Runner"]


class _Cancelled(Exception):
    """Raised inside a job's progress callback once Cancel was pressed."""


class Runner:
    """Runs one job at a time (``start``) and reports ``on_busy(True/False)`` around it."""

    def __init__(self, on_busy: Callable[[bool, str], None]) -> None:
        self._on_busy = on_busy
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.kind = ""

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, kind: str, job: Callable[[], None], *,
              on_cancelled: Callable[[], None],
              on_error: Callable[[BaseException], None]) -> bool:
        """Run ``job`` in a thread unless one is running (then False)."""
        with self._lock:
            if self.busy:
                return False
            self._cancel.clear()
            self.kind = kind
            self._on_busy(True, kind)

            def run() -> None:
                try:
                    job()
                except _Cancelled:
                    on_cancelled()
                except BaseException as exc:  # shown in the panel, never lost
                    on_error(exc)
                finally:
                    self._on_busy(False, kind)

            self._thread = threading.Thread(target=run, name=f"workbench-panel-{kind}",
                                            daemon=True)
            self._thread.start()
            return True

    def cancel(self) -> None:
        if self.busy:
            self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def progress(self, report: Progress) -> Progress:
        """A progress callback that passes on to ``report`` and raises once cancelled
        (not after the last worker: the work is then done)."""
        def callback(done: int, total: int, label: str) -> None:
            if self._cancel.is_set() and done < total:
                raise _Cancelled
            report(done, total, label)

        return callback

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running job (True when none is left running)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.busy
