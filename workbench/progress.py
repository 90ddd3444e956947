"""Progress callbacks: their two types, and a tqdm bar as a ``progress(done, total, label)``
callback for the CLI.

The bar is drawn only when stderr is a terminal (:func:`workbench.terminal.progress_wanted`):
CI logs and pipes get none. In a notebook the magics and the panel draw their own widget
bar (:mod:`workbench.notebook.progress`) instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Progress", "Status", "progress_bar"]

#: ``progress(done, total, label)``: how every long operation reports how far it is.
Progress = Callable[[int, int, str], None]
#: ``status(text)``: a one-line report of the step now running (a pipeline run's stages).
Status = Callable[[str], None]


@contextmanager
def progress_bar(*, disable: bool = False) -> Iterator[Progress]:
    """Yield a callback that drives one tqdm bar on stderr (a no-op when disabled or when
    stderr is not a terminal)."""
    from workbench.terminal import progress_wanted

    if not progress_wanted(disable):
        yield lambda done, total, label: None
        return
    from tqdm import tqdm

    bar: Any = tqdm(total=1, file=sys.stderr, unit="run", dynamic_ncols=True, leave=False)

    def update(done: int, total: int, label: str) -> None:
        if bar.total != total:
            bar.reset(total=total)
        bar.n = done
        bar.set_description_str(label, refresh=False)
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()
