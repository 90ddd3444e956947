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
from test_results import references

from workbench.app.views import decision_log_html as export_html
from workbench.app.views import timeline_svg
from workbench.decisions import DecisionRecord, build_decision
from workbench.decisions.store import LogRead
from workbench.measure.comparison import VariantResult, build_comparison
from workbench.measure.targets import TargetSpec
from workbench.profile import Flamegraph, Overhead
from workbench.render.offline import CSP
from workbench.stages import EquivalenceResult

MARKUP = ("<script>window.__wb_pwned=1;alert(1)</script>"
          "<img src=x onerror='window.__wb_pwned=2;alert(2)'></table></div></body>"
          "<a href=\"javascript:alert(3)\">click</a> javascript:alert(4) "
          "<iframe src='https://example.com/'></iframe>")


def decided(stage: str = "chunk", variant: str = "native", *, rationale: str = "fast enough",
            who: str = "ann", day: int = 28, ident: str | None = None,
            workload: str = "tiny", label: str = "same chunks") -> DecisionRecord:
    """A decision on a synthetic comparison of pure (1 ms) and ``variant`` (0.4 ms);
    ``label`` is the variant's equivalence detail (evidence text shown on the page)."""
    results = tuple(
        VariantResult(v, measurement(v, t, workers=2, samples=5, workload=workload,
                                     stage=stage),
                      equivalence=EquivalenceResult(True, "the reference" if v == "pure" else
                                                    label))
        for v, t in (("pure", 1e6), (variant, 4e5)))
    target = TargetSpec("stage", stage, "pure", workload)
    flame = Flamegraph(target, 100, False, False,
                       ((f"{LOOP};{stage} (my/{stage}.py:5);inner (my/x.py:9)", 50),),
                       Overhead(10, 1.0, 1.05), "py-spy", WHEN)
    return build_decision(
        stage=stage, variant=variant, rationale=rationale, pipeline="my.pipe:make",
        comparison=build_comparison(stage, workload, results), profiles=(flame,), who=who,
        decision_id=ident, clock=lambda: datetime(2026, 11, day, 9, 30, tzinfo=UTC))


def _log() -> tuple[LogRead, DecisionRecord, DecisionRecord, DecisionRecord]:
    first = decided(day=20, ident="d-000000000001", variant="vectorized")
    second = decided(day=27, ident="d-000000000002").with_supersedes(first.id)
    other = decided("embed", "native", day=25, ident="d-000000000003")
    return LogRead(Path("decisions.jsonl"), (first, other, second)), first, second, other


def test_the_page_shows_each_decision_with_its_evidence_and_fetches_nothing() -> None:
    read, first, second, other = _log()
    page = export_html(read)
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "default-src 'none'" in CSP and "script" not in CSP
    assert "<script" not in page.lower()
    fetched = page.replace("xmlns='http://www.w3.org/2000/svg'", "")  # a name, not a link
    assert "http://" not in fetched and "https://" not in fetched and "//cdn" not in fetched
    assert page.count('<svg class="wb-timeline"') == 2  # one per stage
    for r in (first, second, other):
        assert f'id="{r.id}"' in page and f'href="#{r.id}"' in page
    assert "3 of 3 decisions" in page and "from decisions.jsonl" in page
    assert "@media print" in page and "break-inside: avoid" in page
    assert "Alternatives considered" in page and "420 us" in page  # native p50
    assert "Test CPU" in page and "3.11.7" in page  # the environment summary
    assert "not the suggested pure" in page  # vectorized/native chosen over eligible pure
    assert "Stage chunk" in page and "Stage embed" in page
    # newest first within a stage
    assert page.index('id="d-000000000002"') < page.index('id="d-000000000001"')


def test_superseded_decisions_are_marked_and_drawn_grey() -> None:
    read, first, second, _ = _log()
    page = export_html(read)
    assert "superseded by d-000000000002" in page and "supersedes d-000000000001" in page
    assert 'class="wb-decision wb-superseded" id="d-000000000001"' in page
    assert 'class="wb-decision" id="d-000000000002"' in page
    svg = str(timeline_svg([first, second], read.superseded_by()))
    old, new = svg.split("<g class=")[1:3]  # oldest left
    assert "wb-superseded" in old and "(superseded by d-000000000002)" in old
    assert "#9a9a9a" in old and "vectorized" in old
    assert "wb-superseded" not in new and "#9a9a9a" not in new and ">native</text>" in new
    # the superseding decision links to the one it replaced, and back
    assert '; supersedes <a href="#d-000000000001">' in page
    assert '; superseded by <a href="#d-000000000002">' in page


def test_the_filters_select_by_stage_and_time() -> None:
    read, *_ = _log()
    chunk_only = export_html(read, stage="chunk")
    assert "Stage chunk" in chunk_only and "Stage embed" not in chunk_only
    assert "d-000000000003" not in chunk_only and "2 of 3 decisions (stage chunk" in chunk_only
    recent = export_html(read, since=datetime(2026, 11, 26, tzinfo=UTC))
    assert 'id="d-000000000002"' in recent and 'id="d-000000000001"' not in recent
    assert 'id="d-000000000003"' not in recent
    assert "1 of 3 decisions (since 2026-11-26" in recent
    # the replaced decision is filtered out: named, not linked
    assert "supersedes d-000000000001" in recent and 'href="#d-000000000001"' not in recent
    for empty in (export_html(read, stage="retrieve"),
                  export_html(read, since=datetime(2027, 1, 1, tzinfo=UTC)), export_html([])):
        assert "No decision matches" in empty and "<svg" not in empty
    assert "No decision matches stage retrieve" in export_html(read, stage="retrieve")


def test_records_given_directly_and_markup_in_the_timeline_is_escaped() -> None:
    hostile = decided(f"chunk{MARKUP}", f"native{MARKUP}", who=f"eve{MARKUP}",
                      ident="d-00000000000a")
    page = export_html([hostile], title=f"log {MARKUP}")
    assert "<script" not in page and "<img" not in page and "<iframe" not in page
    # nothing the page would fetch or run; its only links are to its own decisions
    assert [r for r in references(page) if r != "<a href=>"] == []
    assert re.findall(r"href=[\"']([^#][^\"']*)", page) == []
    assert "&lt;script&gt;window.__wb_pwned=1;alert(1)&lt;/script&gt;" in page
    assert "from " not in page.split("</h1>")[1].split("</p>")[0]  # no log file named
    svg = str(timeline_svg([hostile], {}))
    assert svg.startswith('<svg class="wb-timeline"') and "<script" not in svg
    assert "&lt;script&gt;" in svg  # the label, cut at 24 characters:
    assert ">native&lt;script&gt;window.__\u2026</text>" in svg


def test_a_decision_displays_in_a_notebook_as_one_escaped_fragment() -> None:
    d = decided(rationale=f"because {MARKUP}", who=f"eve {MARKUP}")
    html = d.to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html
    text = d.to_text()
    assert "chunk uses native" in text and "rationale:" in text
    assert d.summary_line().startswith(f"decision {d.id}: chunk uses native")


@pytest.mark.slow
@pytest.mark.browser
def test_hostile_text_in_every_field_is_shown_literally_and_runs_nothing(
        tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    long_text = "x" * 10_000
    record = decided(stage=f"chunk{MARKUP}", variant=f"native{MARKUP}",
                     rationale=f"{MARKUP}\n  indented {long_text}", who=f"mallory{MARKUP}",
                     workload=f"tiny{MARKUP}", label=f"same chunks {MARKUP}")
    record = dataclasses.replace(record, pipeline=f"javascript:alert(5)//{MARKUP}",
                                 git_sha=MARKUP, supersedes=f"javascript:alert(6){MARKUP}")
    path = tmp_path / "decisions.html"
    path.write_text(export_html([record], title=f"log {MARKUP}"), encoding="utf-8")

    dialogs: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(FLAGS))
        try:
            page: Any = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(500)
            links = page.query_selector_all("a")
            assert links  # the list and the timeline link to the decision
            for link in links:  # following every link runs nothing
                # a timeline mark's link is clicked on its dot (its box is mostly empty)
                (link.query_selector("circle") or link).click()
            page.wait_for_timeout(300)
            assert page.evaluate("typeof window.__wb_pwned") == "undefined"
            counts = page.evaluate(
                "['script', 'img', 'iframe', 'a[href^=\"javascript\"]', '[onerror]']"
                ".map(s => document.querySelectorAll(s).length)")
            assert counts == [0, 0, 0, 0, 0]
            assert page.evaluate("document.querySelectorAll('svg.wb-timeline').length") == 1
            # long words wrap: nothing is wider than the window, nor scrolls sideways
            assert page.evaluate(
                "document.documentElement.scrollWidth <= window.innerWidth && "
                "['.wb-decision-log', '.wb-rationale'].every(s => "
                "{ const e = document.querySelector(s); return e.scrollWidth <= e.clientWidth; })")
            body = page.inner_text("body")
            rationale = page.inner_text(".wb-rationale")
            page.emulate_media(media="print")  # printed: nothing clipped, no split decision
            printed = page.evaluate(
                "[getComputedStyle(document.querySelector('.wb-scroll')).overflowX,"
                " getComputedStyle(document.querySelector('.wb-decision')).breakInside]")
        finally:
            browser.close()
    assert dialogs == []
    assert requests == [path.resolve().as_uri()]
    assert printed == ["visible", "avoid"]
    assert "<script>window.__wb_pwned=1;alert(1)</script>" in body
    assert "<img src=x onerror='window.__wb_pwned=2;alert(2)'>" in body
    assert "</table></div></body>" in body and "javascript:alert(3)" in body
    for shown in (f"mallory{MARKUP}", f"Stage chunk{MARKUP}", f"native{MARKUP}",
                  f"same chunks {MARKUP}", f"log {MARKUP}", "javascript:alert(6)"):
        assert shown in body, shown
    assert f"{MARKUP}\n  indented {long_text}" in rationale  # whitespace kept
    assert re.search(r"x{10000}", body)
