"""A notebook as one self-contained HTML page that renders offline.

nbconvert's own HTML page loads require.js, the widget manager, MathJax and Mermaid from
public CDNs, and prefers a widget's view to the static HTML beside it, so an exported
notebook shows empty boxes where widgets were, and nothing at all without a network. This
export (:func:`workbench.app.reporting.export_notebook`, the page drawn by
:mod:`workbench.render.notebook_page`) prefers each output's static renderings (HTML,
images, text) to widget views, so workbench results, the panel's snapshot and plots read
the same with or without a kernel or a network. Widgets without a static rendering show
nothing.

Usage: ``python -m workbench.notebook.export NOTEBOOK.ipynb [-o OUT.html]``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from workbench.app.reporting import export_notebook
from workbench.errors import InvalidInputError, MissingDependencyError

__all__ = ["export_notebook", "main"]


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
