"""The notebook workbench: ``%load_ext workbench``, ``%%budget``, ``%wb`` and the panel.

Nothing here loads with ``import workbench``; IPython and ipywidgets load when the
extension is loaded or the panel is built. The panel's package (:mod:`.panel`) shares its
name with the function :func:`panel`: it is imported here first, so that importing it
(or a module of it) later never replaces the function on this package. No other
submodule is named like a function here (``current_session``).
"""

from __future__ import annotations

from typing import Any

from workbench.notebook.panel import panel

__all__ = ["current_session", "panel"]


def current_session() -> Any:
    """This kernel's :class:`~workbench.notebook.session.Session`."""
    from workbench.notebook.session import current

    return current()
