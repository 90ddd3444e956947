"""The notebook workbench: ``%load_ext workbench``, ``%%budget``, ``%wb`` and the panel.

Nothing here loads with ``import workbench``; IPython and ipywidgets load when the
extension is loaded or the panel is built. No submodule is named like a function here
(``panel``, ``current_session``): importing it would replace the function on the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.notebook.panel_app import Panel
    from workbench.workloads import Workload

__all__ = ["current_session", "panel"]


def panel(pipeline: Any = None, workload: Workload | str | None = None, *,
          workers: int | None = None, samples: int | None = None) -> Panel:
    """The widget panel on ``pipeline`` and ``workload`` (default: the session's), measuring
    with ``workers`` processes of ``samples`` samples (default: the panel's, 5 x 10; fewer
    workers are flagged: they cannot decide without a model)."""
    from workbench.notebook.panel_app import build_panel

    options = {k: v for k, v in (("workers", workers), ("samples", samples)) if v is not None}
    return build_panel(pipeline=pipeline, workload=workload, **options)


def current_session() -> Any:
    """This kernel's :class:`~workbench.notebook.session.Session`."""
    from workbench.notebook.session import current

    return current()
