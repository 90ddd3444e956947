"""A small notebook written to disk, as the notebook tests write them."""

from __future__ import annotations

from pathlib import Path

import nbformat


def own_notebook(path: Path, *cells: str, parameters: str = "greeting = 'hi'") -> Path:
    """A notebook at ``path``: a ``parameters`` cell holding ``parameters``, then ``cells``."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells.append(nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
    return path
