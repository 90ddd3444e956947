"""A notebook as one self-contained HTML page that renders offline.

nbconvert's own HTML page loads require.js, the widget manager, MathJax and Mermaid from
public CDNs, and prefers a widget's view to the static HTML beside it, so an exported
notebook shows empty boxes where widgets were, and nothing at all without a network. This
page is nbconvert's lab page without those scripts (``templates/notebook_offline.html.j2``)
and prefers each output's static renderings (HTML, images, text) to widget views, so
workbench results, the panel's snapshot and plots read the same with or without a kernel
or a network. Widgets without a static rendering show nothing.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from workbench._optional import require
from workbench.errors import InvalidInputError

__all__ = ["PRIORITY", "notebook_html"]

#: Static renderings first; a widget view only when an output has nothing else.
PRIORITY = ["text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown",
            "text/latex", "text/plain", "application/vnd.jupyter.widget-view+json"]
_TEMPLATE = "notebook_offline.html.j2"
_FEATURE = "exporting a notebook"


def _exporter(nbconvert: Any, config: Any) -> Any:
    import jinja2

    page = resources.files("workbench.render").joinpath("templates", _TEMPLATE)
    # nbconvert's lab template (and its conf.json: the pygments stylesheet, text/html)
    # under this page, which is found by name before nbconvert's own templates
    return nbconvert.HTMLExporter(
        config=config.Config({"NbConvertBase": {"display_data_priority": PRIORITY}}),
        template_name="lab", template_file=_TEMPLATE, embed_images=True,
        extra_loaders=[jinja2.DictLoader({_TEMPLATE: page.read_text(encoding="utf-8")})])


def notebook_html(path: Path) -> str:
    """The notebook at ``path`` as an offline HTML page (see the module docstring)."""
    nbconvert = require("nbconvert", feature=_FEATURE, extra="notebook")
    nbformat = require("nbformat", feature=_FEATURE, extra="notebook")
    config = require("traitlets.config", feature=_FEATURE, extra="notebook",
                     package="traitlets")
    if not path.is_file():
        raise InvalidInputError(f"notebook {str(path)!r} does not exist")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for a bad file
        raise InvalidInputError(f"{str(path)!r} is not a readable notebook: {exc}") from None
    body, _ = _exporter(nbconvert, config).from_notebook_node(
        nb, resources={"metadata": {"name": path.stem}})
    return str(body)
