"""A notebook as one self-contained HTML page that renders offline.

nbconvert's own HTML page loads require.js, the widget manager, MathJax and Mermaid from
public CDNs, and prefers a widget's view to the static HTML beside it, so an exported
notebook shows empty boxes where widgets were, and nothing at all without a network. This
export uses the ``workbench_offline`` template (the lab page without those scripts) and
prefers each output's static renderings (HTML, images, text) to widget views, so
workbench results, the panel's snapshot and plots read the same with or without a kernel
or a network. Widgets without a static rendering show nothing.

Usage: ``python -m workbench.notebook.export NOTEBOOK.ipynb [-o OUT.html]``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.errors import InvalidInputError, MissingDependencyError

__all__ = ["PRIORITY", "export_notebook", "notebook_html"]

TEMPLATES = Path(__file__).parent / "templates"

#: Static renderings first; a widget view only when an output has nothing else.
PRIORITY = ["text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown",
            "text/latex", "text/plain", "application/vnd.jupyter.widget-view+json"]


def notebook_html(path: Path) -> str:
    """The notebook at ``path`` as an offline HTML page (see the module docstring)."""
    try:
        import nbconvert
        import nbformat
        from traitlets.config import Config
    except ImportError as exc:
        raise MissingDependencyError(exc.name or "nbconvert", "exporting a notebook",
                                     "notebook") from None
    read: Any = nbformat.read
    exporter_class: Any = nbconvert.HTMLExporter
    if not path.is_file():
        raise InvalidInputError(f"notebook {str(path)!r} does not exist")
    try:
        nb = read(path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for a bad file
        raise InvalidInputError(f"{str(path)!r} is not a readable notebook: {exc}") from None
    config = Config({"NbConvertBase": {"display_data_priority": PRIORITY}})
    exporter = exporter_class(config=config, template_name="workbench_offline",
                            extra_template_basedirs=[str(TEMPLATES)], embed_images=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
    return str(body)


def export_notebook(path: Path, out: Path | None = None) -> Path:
    """Write :func:`notebook_html` next to the notebook (or to ``out``), atomically."""
    from workbench.files import write_atomic

    target = out or path.with_suffix(".html")
    return write_atomic(target, notebook_html(path))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.notebook.export",
                                     description="A notebook as an offline HTML page.")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("-o", "--out", type=Path, help="output (default: NOTEBOOK.html)")
    args = parser.parse_args(argv)
    try:
        print(f"wrote {export_notebook(args.notebook, args.out)}")
    except (InvalidInputError, MissingDependencyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
