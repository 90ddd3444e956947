"""Whole pages that render offline and fetch nothing: the report pages and the exported
decision log. Each has the workbench's stylesheet inlined and a Content-Security-Policy
that forbids loading or running anything (:data:`CSP`)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from workbench.render.fragments import render, stylesheet

__all__ = ["CSP", "offline_page"]

#: Nothing may load or run: inline styles and data: images only.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"


def offline_page(template: str, **context: Any) -> str:
    """The page ``template`` (a whole document) rendered with ``context``, the policy
    (``csp``) and the stylesheet (``style``)."""
    return render(template, csp=Markup(CSP), style=Markup(stylesheet()), **context)
