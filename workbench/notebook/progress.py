"""A progress bar in the cell's output while a magic works, gone when it is done.

An ``IntProgress`` and a label, displayed under a display id at the first report (when the
work begins: a usage error comes with no bar before it) and replaced by an empty output at
the end, so a saved or exported notebook keeps no dead widget. Without ipywidgets (or with
``disable``) the callback does nothing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from workbench.progress import announced

if TYPE_CHECKING:
    from workbench.progress import Progress

__all__ = ["cell_progress"]


def _noop(done: int, total: int, label: str) -> None:
    return None


class _Bar:
    """The widgets, made and displayed at the first report."""

    def __init__(self, title: str) -> None:
        import ipywidgets as widgets
        from IPython import display as ipython_display

        self.bar: Any = widgets.IntProgress(value=0, min=0, max=1, description=title,
                                            bar_style="info")
        self.label: Any = widgets.Label(value="starting ...")
        self.box = widgets.HBox([self.bar, self.label])
        show: Any = ipython_display.display
        self.handle: Any = show(self.box, display_id=True)

    def update(self, done: int, total: int, text: str) -> None:
        self.bar.max = max(1, total)
        self.bar.value = min(done, self.bar.max)
        self.label.value = f"{done}/{total} {text}"

    def close(self) -> None:
        self.box.close()
        if self.handle is not None:
            self.handle.update({"text/plain": ""}, raw=True)


@contextmanager
def cell_progress(*, disable: bool = False, title: str = "measuring") -> Iterator[Progress]:
    if disable or importlib.util.find_spec("ipywidgets") is None:
        yield _noop
        return
    bars: list[_Bar] = []

    def update(done: int, total: int, text: str) -> None:
        bars[0].update(done, total, text)

    try:
        yield announced(update, lambda: bars.append(_Bar(title)))
    finally:
        for bar in bars:
            bar.close()
