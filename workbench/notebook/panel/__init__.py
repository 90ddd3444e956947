"""The notebook workbench's widget panel (ipywidgets 8): ``workbench.notebook.panel()``
and ``%wb panel`` build it.

One row per stage (variants as toggle buttons: the session's selection; a "measure"
checkbox; equivalence and budget status), a workload picker, workers and samples, a
Measure button that compares the ticked stages' variants in a background thread (with
a progress bar and Cancel), result tabs (Timing, Fusion, Flame graph, Memory, Lines) and
a "Record decision" area. Errors show inside the panel. Every result is kept in the
session. One module per area, composed by :class:`~.main.Panel`:

- :mod:`.controls`: workload, workers, samples, "count instructions"; Measure, Cancel,
  the progress bar, the status line and the error area;
- :mod:`.rows` and :mod:`.status`: the stage rows and what they say;
- :mod:`.tabs`: the result tabs; :mod:`.decide`: the "Record decision" area;
- :mod:`.jobs` and :mod:`.tasks`: what Measure and the profile buttons do, one job at a
  time in a background thread;
- :mod:`.state`: the results the panel holds; :mod:`.snapshot`: its static rendering.

The panel reaches the core through :mod:`workbench.app` only; its HTML is
:mod:`workbench.render.panel`'s (through :mod:`workbench.app.views`). Nothing loads
ipywidgets until the panel is built.

The package shares its name with the function :func:`panel`: :mod:`workbench.notebook`
imports this package first and then binds ``panel`` to the function, so
``from workbench.notebook import panel`` gives the function; import the modules by their
full names (``from workbench.notebook.panel.main import Panel``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.notebook.panel.main import Panel
    from workbench.workloads import Workload

__all__ = ["panel"]


def panel(pipeline: Any = None, workload: Workload | str | Any = None, *,
          workers: int | None = None, samples: int | None = None) -> Panel:
    """The widget panel on ``pipeline`` and ``workload`` (default: the session's), measuring
    with ``workers`` processes of ``samples`` samples (default: the panel's, 5 x 10; fewer
    workers are flagged: they cannot decide without a model). ``workload`` is a name, a
    Workload, or any value (a list of documents, an array, a frame): the first stage's
    input as it is, named after the notebook variable holding it."""
    from workbench.app.workloads import given
    from workbench.notebook.namespace import user_namespace
    from workbench.notebook.panel.main import build_panel

    if workload is not None:
        workload = given(workload, user_namespace())
    options = {k: v for k, v in (("workers", workers), ("samples", samples)) if v is not None}
    return build_panel(pipeline=pipeline, workload=workload, **options)
