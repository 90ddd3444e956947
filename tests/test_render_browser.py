"""Rendered results opened offline in headless Chromium: styled by the packaged
stylesheet, nothing fetched, and no script from the data runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_check import offline_page, pixel_spread, require_chromium
from result_samples import SAMPLES

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SHOWN = ("comparison", "budget-check", "budget-block", "sweep", "measurement", "rag-run",
         "flamegraph", "memory_track", "line_profile")


def _style(page: Any, selector: str, prop: str) -> str:
    value: str = page.eval_on_selector(
        selector, f"e => getComputedStyle(e).getPropertyValue('{prop}')")
    return value


def test_fragments_are_styled_offline_and_run_no_script(tmp_path: Path) -> None:
    require_chromium()
    body = "".join(SAMPLES[kind]().to_html() for kind in SHOWN)  # type: ignore[attr-defined]
    path = tmp_path / "results.html"
    path.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                    f"{body}</body></html>", encoding="utf-8")
    with offline_page(path) as (page, blocked):
        assert page.evaluate("typeof window.__wb_pwned") == "undefined"
        assert page.evaluate("document.querySelectorAll('script').length") == 0
        # the stylesheet applies: table heads, status badges, the comparison's chart
        assert _style(page, ".wb-comparison table.wb-table th", "background-color") == \
            "rgb(243, 243, 243)"
        assert _style(page, ".wb-budget-check .wb-status.wb-breach", "background-color") == \
            "rgb(198, 40, 40)"
        assert _style(page, ".wb-comparison .wb-no", "color") == "rgb(198, 40, 40)"
        assert _style(page, ".wb-comparison td.num", "text-align") == "right"
        chart = page.query_selector(".wb-comparison svg.wb-speedup")
        assert chart is not None and chart.bounding_box()["width"] > 300
        for kind in ("flamegraph", "memory_track", "line_profile"):  # each profile styled
            assert _style(page, f".wb-{kind} table.wb-table th", "background-color") == \
                "rgb(243, 243, 243)"
            assert page.query_selector(f".wb-{kind} svg").bounding_box()["width"] > 50
        # the markup in the data is shown as text
        shown = page.inner_text(".wb-comparison")
        assert "<script>window.__wb_pwned=1</script>" in shown
        assert page.query_selector(".wb-result img") is None
        png = page.screenshot(full_page=True)
    assert blocked == []
    assert pixel_spread(png) > 5.0
