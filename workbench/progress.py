"""Progress callbacks: their two types, a tqdm bar as a ``progress(done, total, label)``
callback for the CLI, and :func:`announced`.

The bar is drawn only when stderr is a terminal (:func:`workbench.terminal.progress_wanted`):
CI logs and pipes get none. In a notebook the magics and the panel draw their own widget
bar (:mod:`workbench.notebook.progress`) instead.

Nothing is shown before the work begins: a bar appears at its first report, and what a front
end says about a run (a busy machine, too few workers) goes into :func:`announced`, printed
then too. The services check their whole request (names, values, files) before they report
progress, so a usage error is never preceded by a bar or a warning.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Progress", "Status", "announced", "progress_bar"]

#: ``progress(done, total, label)``: how every long operation reports how far it is.
Progress = Callable[[int, int, str], None]
#: ``status(text)``: a one-line report of the step now running (a pipeline run's stages).
Status = Callable[[str], None]


def announced(progress: Progress, announce: Callable[[], None]) -> Progress:
    """``progress`` that first calls ``announce()``, once, at its first report: when the
    work begins, after every check of the request (the reports may come from several
    threads; the first one announces, the others wait for it)."""
    lock = threading.Lock()
    pending = [announce]

    def report(done: int, total: int, label: str) -> None:
        if pending:
            with lock:
                while pending:
                    pending.pop()()
        progress(done, total, label)

    return report


@contextmanager
def progress_bar(*, disable: bool = False) -> Iterator[Progress]:
    """Yield a callback that drives one tqdm bar on stderr, drawn at its first report (a
    no-op when disabled or when stderr is not a terminal)."""
    from workbench.terminal import progress_wanted

    if not progress_wanted(disable):
        yield lambda done, total, label: None
        return
    from tqdm import tqdm

    bars: list[Any] = []

    def draw() -> None:
        bars.append(tqdm(total=1, file=sys.stderr, unit="run", dynamic_ncols=True,
                         leave=False))

    def update(done: int, total: int, label: str) -> None:
        bar = bars[0]
        if bar.total != total:
            bar.reset(total=total)
        bar.n = done
        bar.set_description_str(label, refresh=False)
        bar.refresh()

    try:
        yield announced(update, draw)
    finally:
        for bar in bars:
            bar.close()
