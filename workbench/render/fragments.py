"""HTML fragments from Jinja2 templates (autoescaped) with the packaged stylesheet inlined.

A fragment is one ``<div class="wb-result wb-KIND">`` holding its own ``<style>`` (every
rule scoped under ``.wb-result``), so it renders the same in JupyterLab, in a papermill
report converted to HTML and in a file opened on its own: no CDN, no link to a file, no
script.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from workbench import formatting as fmt

__all__ = ["document", "fragment", "render", "stylesheet"]


@functools.cache
def stylesheet() -> str:
    return resources.files("workbench.render").joinpath("style.css").read_text(encoding="utf-8")


@functools.cache
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("workbench.render", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=False)
    env.filters.update(duration=fmt.duration, size=fmt.size, ratio=fmt.ratio,
                       percent=fmt.percent, throughput=fmt.throughput, estimate=fmt.estimate,
                       seconds=fmt.seconds, value=fmt.value, interval=fmt.interval)
    return env


def render(template: str, **context: Any) -> str:
    """The named template (``templates/NAME``) rendered with ``context``, autoescaped."""
    return str(_environment().get_template(template).render(**context))


def fragment(kind: str, body: str) -> str:
    """``body`` (already escaped HTML) wrapped as a self-contained result fragment."""
    return (f'<div class="wb-result wb-{kind}"><style>{stylesheet()}</style>'
            f"{body}</div>")


def document(title: str, body: str) -> str:
    """A whole page around one or more fragments (for ``save("x.html")``)."""
    import html

    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title></head><body>{body}</body></html>")
