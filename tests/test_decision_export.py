"""The decision log exported as one self-contained HTML page: what it shows, its filters,
and hostile text in every field a user controls, opened offline in headless Chromium."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from browser_check import CHROMIUM, FLAGS, require_chromium
from result_samples import LOOP, WHEN, measurement

from workbench.decisions import DecisionRecord, build_decision
from workbench.decisions.store import LogRead
from workbench.decisions.timeline import CSP, export_html
from workbench.measure.comparison import VariantResult, build_comparison
from workbench.measure.targets import TargetSpec
from workbench.profile import Flamegraph, Overhead
from workbench.stages import EquivalenceResult

MARKUP = ("<script>window.__wb_pwned=1;alert(1)</script>"
          "<img src=x onerror='window.__wb_pwned=2;alert(2)'></table></div></body>"
          "<a href=\"javascript:alert(3)\">click</a> javascript:alert(4) "
          "<iframe src='https://example.com/'></iframe>")


def decided(stage: str = "chunk", variant: str = "native", *, rationale: str = "fast enough",
            who: str = "ann", day: int = 28, ident: str | None = None,
            workload: str = "tiny") -> DecisionRecord:
    results = tuple(
        VariantResult(v, measurement(v, t, workers=2, samples=5, workload=workload,
                                     stage=stage),
                      equivalence=EquivalenceResult(True, "the reference" if v == "pure" else
                                                    f"same chunks {MARKUP[:0]}"))
        for v, t in (("pure", 1e6), (variant, 4e5)))
    target = TargetSpec("stage", stage, "pure", workload)
    flame = Flamegraph(target, 100, False, False,
                       ((f"{LOOP};{stage} (my/{stage}.py:5);inner (my/x.py:9)", 50),),
                       Overhead(10, 1.0, 1.05), "py-spy", WHEN)
    return build_decision(
        stage=stage, variant=variant, rationale=rationale, pipeline="my.pipe:make",
        comparison=build_comparison(stage, workload, results), profiles=(flame,), who=who,
        decision_id=ident, clock=lambda: datetime(2026, 11, day, 9, 30, tzinfo=UTC))


def test_the_page_shows_each_decision_with_its_evidence_and_fetches_nothing() -> None:
    first = decided(day=20, ident="d-000000000001", variant="vectorized")
    second = decided(day=27, ident="d-000000000002").with_supersedes(first.id)
    other = decided("embed", "native", day=25, ident="d-000000000003")
    read = LogRead(Path("decisions.jsonl"), (first, other, second))
    page = export_html(read)
    assert page.startswith("<!DOCTYPE html>")
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "default-src 'none'" in CSP and "script" not in CSP
    assert "<script" not in page and not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert page.count('<svg class="wb-timeline"') == 2  # one per stage
    for r in (first, second, other):
        assert f'id="{r.id}"' in page and f'href="#{r.id}"' in page
    assert "superseded by d-000000000002" in page and "supersedes d-000000000001" in page
    assert "3 of 3 decisions" in page and "@media print" in page
    assert "Alternatives considered" in page and "420 us" in page  # native p50
    assert "tight loops" in page or "composable logic" in page or "not read" in page

    chunk_only = export_html(read, stage="chunk")
    assert "Stage chunk" in chunk_only and "Stage embed" not in chunk_only
    recent = export_html(read, since=datetime(2026, 11, 26, tzinfo=UTC))
    assert "d-000000000002" in recent and "d-000000000001" not in recent.split("</h1>")[1] \
        .replace("supersedes d-000000000001", "")
    assert "1 of 3 decisions (since 2026-11-26" in recent
    empty = export_html(read, stage="retrieve")
    assert "No decision matches stage retrieve" in empty


def test_a_decision_displays_in_a_notebook_as_one_escaped_fragment() -> None:
    d = decided(rationale=f"because {MARKUP}", who=f"eve {MARKUP}")
    html = d.to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html
    text = d.to_text()
    assert "chunk uses native" in text and "rationale:" in text
    assert d.summary_line().startswith(f"decision {d.id}: chunk uses native")


@pytest.mark.slow
def test_hostile_text_in_every_field_is_shown_literally_and_runs_nothing(
        tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    long_text = "x" * 10_000
    record = decided(stage=f"chunk{MARKUP}", variant=f"native{MARKUP}",
                     rationale=f"{MARKUP}\n{long_text}", who=f"mallory{MARKUP}",
                     workload=f"tiny{MARKUP}")
    record = dataclasses.replace(record, pipeline=f"javascript:alert(5)//{MARKUP}",
                                 git_sha=MARKUP, supersedes=f"javascript:alert(6){MARKUP}")
    path = tmp_path / "decisions.html"
    path.write_text(export_html([record]), encoding="utf-8")

    dialogs: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(FLAGS))
        try:
            page: Any = browser.new_context().new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(500)
            for link in page.query_selector_all("a"):  # following every link runs nothing
                link.click()
            page.wait_for_timeout(300)
            assert page.evaluate("typeof window.__wb_pwned") == "undefined"
            counts = page.evaluate(
                "['script', 'img', 'iframe', 'a[href^=\"javascript\"]']"
                ".map(s => document.querySelectorAll(s).length)")
            assert counts == [0, 0, 0, 0]
            body = page.inner_text("body")
        finally:
            browser.close()
    assert dialogs == []
    assert requests == [path.resolve().as_uri()]
    assert "<script>window.__wb_pwned=1;alert(1)</script>" in body
    assert "</table></div></body>" in body and "javascript:alert(3)" in body
    assert long_text in body and f"mallory{MARKUP}" in body
