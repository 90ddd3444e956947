"""Open a local HTML file in headless Debian Chromium with the network blocked.

Shared by tests that check an HTML rendering really renders offline. Chromium is the
distribution's (``apt-get install chromium``), driven by Python Playwright with
``executable_path=``; ``playwright install`` is never used. Every request that is not
for a ``file:`` or ``data:`` URL is aborted and recorded, so a test can assert that the
page asked for nothing from the network.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from needs import require_tool

CHROMIUM = "/usr/lib/chromium/chromium"
FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")


def require_chromium() -> None:
    """Skip the calling test when the browser is not installed (see :mod:`needs`; only
    then: a missing Playwright is an error -- it comes with the dev extra)."""
    require_tool(os.access(CHROMIUM, os.X_OK), f"Chromium ({CHROMIUM})",
                 "as root: apt-get install chromium, or `make browser`")


@contextmanager
def offline_page(path: Path, *, width: int = 1280, height: int = 1600) -> Iterator[tuple[Any,
                                                                                     list[str]]]:
    """(Playwright page showing ``path``, the list of blocked request URLs)."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []

    def route(r: Any) -> None:
        url: str = r.request.url
        if url.startswith(("file:", "data:", "about:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(FLAGS))
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            context.route("**/*", route)
            page = context.new_page()
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(300)
            yield page, blocked
        finally:
            browser.close()


def pixel_spread(png: bytes) -> float:
    """The standard deviation of the screenshot's grey levels (0 for a blank page)."""
    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(png)).convert("L")
    return float(ImageStat.Stat(image).stddev[0])

