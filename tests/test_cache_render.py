"""A comparison shows a cached variant's cache figures in one line (text, HTML, the panel's
Timing tab), and nothing new for variants without them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.measure.cache_figures import cache_figures
from workbench.measure.comparison import Comparison, VariantResult, build_comparison
from workbench.measure.config import MeasureConfig
from workbench.measure.measurement import Measurement
from workbench.measure.protocol import WorkerRun
from workbench.measure.targets import TargetSpec
from workbench.render.cache import cache_line
from workbench.render.measure import comparison_body, comparison_text
from workbench.render.panel import timing
from workbench.stages import EquivalenceResult

TABLE = {"name": "chunks", "key": "doc id, content hash, size", "version": "1",
         "max_entries": 50_000, "max_bytes": None, "hashes_payload": False}
LINE = ("cached: cache (warm): hit rate 89.8 % [89.7 %, 89.9 %], 612 misses, 0 evictions, "
        "3.15 MiB (2 % of peak RSS); 2 threads: 0.98x [0.956x, 1x] of 1 thread")


def _runs(ns: float, cache: dict[str, Any] | None = None, workers: int = 6,
          ) -> tuple[WorkerRun, ...]:
    out = []
    for w in range(workers):
        extra: dict[str, Any] = {}
        if cache is not None:
            hits = 898 + (w % 3) - 1
            extra = {"cache": {**cache, "hits": hits, "misses": 1000 - hits,
                               "bytes": 3_300_000 + 1000 * w},
                     "contention": {"threads": 2, "items": 400, "single_ns": [1_000_000],
                                    "multi_ns": [round(1e6 / (0.975 * (1 + 0.01 * (w - 2))))]}}
        out.append(WorkerRun(index=w, ok=True, batch_ns=tuple(int(ns * (1 + 0.01 * (i % 5)))
                                                              for i in range(10)),
                             items_per_call=40, rss_peak_kb=160_000 + w, **extra))
    return tuple(out)


def _result(variant: str, ns: float, cache: dict[str, Any] | None = None) -> VariantResult:
    m = Measurement(TargetSpec("stage", "chunk", variant, "docs"), MeasureConfig(),
                    _runs(ns, cache), "2026-11-28T00:00:00+00:00", {"python": "3.11.7"})
    same = EquivalenceResult(True, "the reference" if variant == "pure" else "same")
    return VariantResult(variant, m, equivalence=same)


CACHE = {"state": "warm", "batches": 8, "evictions": 0, "entries": 900,
         "tables": [TABLE], "note": ""}


def comparison(*variants: str, note: str = "") -> Comparison:
    results = [_result("pure", 1e6), _result("vectorized", 5e5)]
    if "cached" in variants:
        results.insert(1, _result("cached", 3e5, {**CACHE, "note": note}))
    return build_comparison("chunk", "docs", tuple(results))  # type: ignore[return-value]


def test_the_text_shows_the_cache_line_of_the_cached_variant() -> None:
    text = comparison_text(comparison("cached"))
    assert LINE in text.splitlines()
    assert sum("cache (" in line for line in text.splitlines()) == 1


def test_the_html_and_the_panel_s_timing_tab_show_it_escaped() -> None:
    c = comparison("cached", note="tables <b>shared</b> by two stages")
    html = comparison_body(c)
    assert LINE in html
    assert "tables &lt;b&gt;shared&lt;/b&gt; by two stages" in html and "<b>shared" not in html
    assert LINE in timing([c])


def _without_figures(c: Comparison) -> Comparison:
    """``c`` with the same timings, and no variant's runs carrying cache figures."""
    results = tuple(replace(r, measurement=replace(r.measurement, runs=tuple(
        replace(run, cache=None, contention=None) for run in r.measurement.runs)))
        for r in c.results)
    return build_comparison(c.stage, c.workload, results)  # type: ignore[return-value]


def test_variants_without_cache_figures_render_exactly_as_before() -> None:
    shown = comparison("cached")
    plain = _without_figures(shown)
    assert [line for line in comparison_text(shown).splitlines() if line != LINE] == \
        comparison_text(plain).splitlines()
    html = comparison_body(shown)
    assert html.replace(f'<p class="wb-note">{LINE}</p>', "") == comparison_body(plain)
    assert "cache (" not in comparison_body(plain)


@settings(max_examples=40)
@given(hits=st.lists(st.integers(0, 1000), min_size=1, max_size=9),
       state=st.sampled_from(["cold", "warm", "steady"]))
def test_the_line_states_the_state_and_the_counters_it_was_given(hits: list[int],
                                                                 state: str) -> None:
    runs = tuple(WorkerRun(index=w, ok=True, batch_ns=(1000,), items_per_call=1,
                           rss_peak_kb=1000,
                           cache={**CACHE, "state": state, "hits": h, "misses": 1000 - h,
                                  "evictions": w, "bytes": 2048})
                 for w, h in enumerate(hits))
    m = Measurement(TargetSpec("stage", "chunk", "cached", "docs"), MeasureConfig(), runs,
                    "2026-11-28T00:00:00+00:00", {})
    figures = cache_figures(m)
    assert figures is not None
    line = cache_line(figures)
    assert line.startswith(f"cache ({state}): hit rate ")
    assert f"{sum(1000 - h for h in hits):,} misses" in line
    assert f"{sum(range(len(hits))):,} evictions" in line
    assert "2 KiB (0.2 % of peak RSS)" in line and line.endswith("contention not measured")
