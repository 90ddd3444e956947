"""Presentation services: the renderings of results that the front ends show (text for the
terminal, HTML fragments and SVG charts for notebooks). The front ends reach ``render/``
through here only, so what a front end may show is listed in one place."""

from __future__ import annotations
