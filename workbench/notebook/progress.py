"""A progress bar in the cell's output while a magic works, gone when it is done.

An ``IntProgress`` and a label, displayed under a display id and replaced by an empty
output at the end, so a saved or exported notebook keeps no dead widget. Without
ipywidgets (or with ``disable``) the callback does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.progress import Progress

__all__ = ["cell_progress"]


def _noop(done: int, total: int, label: str) -> None:
    return None


@contextmanager
def cell_progress(*, disable: bool = False, title: str = "measuring") -> Iterator[Progress]:
    if disable:
        yield _noop
        return
    try:
        import ipywidgets as widgets
        from IPython import display as ipython_display
    except ImportError:
        yield _noop
        return
    bar: Any = widgets.IntProgress(value=0, min=0, max=1, description=title,
                                   bar_style="info")
    label: Any = widgets.Label(value="starting ...")
    box = widgets.HBox([bar, label])
    show: Any = ipython_display.display
    handle: Any = show(box, display_id=True)

    def update(done: int, total: int, text: str) -> None:
        bar.max = max(1, total)
        bar.value = min(done, bar.max)
        label.value = f"{done}/{total} {text}"

    try:
        yield update
    finally:
        box.close()
        if handle is not None:
            handle.update({"text/plain": ""}, raw=True)
