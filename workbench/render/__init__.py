"""Every rendering of every result: text, HTML fragments, charts.

Results hold data (:mod:`workbench.results`); this package draws them. One module per
family of results holds its renderers (``measure``: measurement, comparison, sweep;
``budget``: budget check; ``profile``: flame graph, memory track, line profile, each
named by its profiler's declaration in :mod:`workbench.profile.registry`; ``runs``:
pipeline runs and fusion reports), each a :class:`Renderer` registered under the result's
``kind``. Formatting lives in :mod:`.format`, HTML machinery in :mod:`.fragments`, text
tables in :mod:`.tables`, charts in :mod:`.charts` and :mod:`.bars`. Nothing here prints
or writes files.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workbench import results
from workbench.errors import InvalidInputError
from workbench.profile import registry

__all__ = ["Renderer", "body", "figure", "files", "headline", "html", "page", "text"]

_MODULES = {
    "measurement": "measure", "comparison": "measure", "sweep": "measure",
    "scale-out": "scale_out",
    "budget-check": "budget", "budget-block": "block",
    "pipeline-run": "runs", "fusion-report": "runs", "rag-run": "runs",
    "decision": "decision", "stage-choices": "report", "stage-shares": "report",
}


@dataclass(frozen=True, slots=True)
class Renderer:
    """How one kind of result is drawn: ``headline`` (one line), ``text`` and the HTML
    ``body`` of its fragment (escaped; the fragment wrapper adds the stylesheet)."""

    headline: Callable[..., str]
    text: Callable[..., str]
    body: Callable[..., str]
    #: Extra file formats ``Result.save`` writes, by suffix (beyond json, html, txt).
    files: Callable[[Any], Mapping[str, Callable[[], str]]] | None = None
    #: A matplotlib Figure of the result (returned, never shown or saved).
    figure: Callable[..., Any] | None = None


def _renderer(result: Any) -> Renderer:
    kind = getattr(result, "kind", None)
    found: Renderer
    profiler = registry.by_kind(kind) if isinstance(kind, str) else None
    if profiler is not None:  # a profiler names its renderer in its declaration
        found = registry.load(profiler.renderer)[kind]
        return found
    if kind not in _MODULES:
        raise InvalidInputError(f"no renderer for {type(result).__name__} (kind {kind!r}); "
                                "rendered kinds: " + ", ".join(sorted(_MODULES)))
    module = importlib.import_module(f"workbench.render.{_MODULES[kind]}")
    found = module.RENDERERS[kind]
    return found


def headline(result: Any) -> str:
    return _renderer(result).headline(result)


def text(result: Any, **options: Any) -> str:
    return _renderer(result).text(result, **options)


def body(result: Any, **options: Any) -> str:
    """The HTML of ``result`` without the fragment around it (to place inside another
    result's fragment, whose stylesheet it shares)."""
    return _renderer(result).body(result, **options)


def html(result: Any, **options: Any) -> str:
    from workbench.render.fragments import fragment

    return fragment(str(result.kind), body(result, **options))


def files(result: Any) -> Mapping[str, Callable[[], str]]:
    """The extra file formats a result of this kind saves to, by suffix."""
    made = _renderer(result).files
    return {} if made is None else made(result)


def figure(result: Any, **options: Any) -> Any:
    """``result`` as a matplotlib Figure, for the kinds that have one."""
    made = _renderer(result).figure
    if made is None:
        raise InvalidInputError(f"a {result.kind} has no figure")
    return made(result, **options)


def page(result: Any, **options: Any) -> str:
    """A whole HTML document showing ``result`` (self-contained, like the fragment)."""
    from workbench.render.fragments import document

    return document(headline(result), html(result, **options))


class _Drawing:
    """This package as the results' rendering (see :func:`workbench.results.use_rendering`)."""

    headline = staticmethod(headline)
    text = staticmethod(text)
    html = staticmethod(html)
    page = staticmethod(page)
    files = staticmethod(files)
    figure = staticmethod(figure)


results.use_rendering(_Drawing())
