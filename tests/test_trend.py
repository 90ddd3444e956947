"""The SVG trend chart of performance history (`render.trend`) and `history.series_keys`."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.budget.history import HistoryRow, Point, Series, record_rows, series_keys
from workbench.errors import InvalidInputError
from workbench.render.trend import metric_kind, trend_svg

NS = "{http://www.w3.org/2000/svg}"


def _when(run: str) -> str:
    n = int(run[1:])
    return f"2024-01-01T{n // 60:02d}:{n % 60:02d}:00"


def _series(values: Sequence[float], runs: Sequence[str] | None = None,
            metric: str = "latency_p50", ci: bool = True) -> Series:
    runs = runs if runs is not None else [f"r{i:03d}" for i in range(len(values))]
    return Series("work", metric, tuple(
        Point(run, f"{i:040x}", _when(run), "pure", None,
              v, v * 0.95 if ci else None, v * 1.05 if ci else None)
        for i, (run, v) in enumerate(zip(runs, values, strict=True))))


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def _of_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{NS}{tag}") if e.get("class") == cls]


def _safe(root: ET.Element) -> None:
    tags = {e.tag.removeprefix(NS) for e in root.iter()}
    assert not tags & {"script", "foreignObject", "image", "use", "a"}
    for e in root.iter():
        assert not [k for k in e.attrib if "href" in k or k == "src" or k.startswith("on")]


def test_metric_kind_of_every_metric_and_unknown() -> None:
    assert [metric_kind(m) for m in ("latency_p50", "latency_p95", "latency_p99")] == [
        "time"] * 3
    assert (metric_kind("peak_rss"), metric_kind("heap_peak")) == ("size", "size")
    assert (metric_kind("throughput"), metric_kind("scaling")) == ("throughput", "exponent")
    with pytest.raises(InvalidInputError, match=r"'latency_p42'.*latency_p50"):
        metric_kind("latency_p42")


def test_one_polyline_per_nonempty_line_and_one_marker_per_point() -> None:
    lines = {"a": _series([1e6, 1.1e6, 1.2e6]), "b": _series([2e6, 2.1e6]),
             "empty": _series([])}
    svg = trend_svg(lines, title="work latency")
    root = _parse(svg)
    _safe(root)
    assert root.get("role") == "img" and root.get("aria-label") == "work latency"
    assert len(_of_class(root, "polyline", "wb-trend-line")) == 2
    assert len(_of_class(root, "circle", "wb-trend-pt")) == 5
    assert len(_of_class(root, "line", "wb-trend-ci")) == 5
    tips = [e.findtext(f"{NS}title") or "" for e in _of_class(root, "circle", "wb-trend-pt")]
    assert tips[0].startswith("a: 1 ms [950 us, 1.05 ms], run r000, ")
    assert f"{0:010x}" in tips[0] and "2024-01-01T00:00:00" in tips[0]
    legend = [e.findtext(f"{NS}title") for e in _of_class(root, "text", "wb-trend-legend")]
    assert legend == ["a", "b", "empty"]
    assert trend_svg(lines, title="work latency") == svg  # deterministic


def test_y_axis_starts_at_zero_with_three_to_five_formatted_ticks() -> None:
    root = _parse(trend_svg({"a": _series([5e6, 6e6, 7e6], ci=False)}, title="t"))
    ticks = _of_class(root, "text", "wb-trend-tick")
    labels = [e.text or "" for e in ticks]
    assert labels == ["0 ns", "2 ms", "4 ms", "6 ms", "8 ms"]
    ys = [float(e.get("y", "nan")) for e in ticks]
    assert ys == sorted(ys, reverse=True)  # 0 at the bottom, rising upwards
    negative = _parse(trend_svg({"a": _series([-0.4, 0.2, 0.3], metric="scaling", ci=False)},
                                title="t"))
    assert float(_of_class(negative, "text", "wb-trend-tick")[0].text or "0") <= -0.4


def test_labels_are_escaped() -> None:
    label = "<script>alert('x')</script>&\"q\""
    svg = trend_svg({label: _series([1.0, 2.0])}, title="<b>t</b> & 'u'")
    assert "<script" not in svg and "<b>" not in svg
    root = _parse(svg)
    _safe(root)
    assert root.get("aria-label") == "<b>t</b> & 'u'"
    texts = [e.findtext(f"{NS}title") for e in root.iter(f"{NS}circle")]
    assert all(t and t.startswith(label + ": ") for t in texts)


def test_a_doubling_in_a_long_series_is_marked_as_a_step() -> None:
    values = [100.0 + (i % 3) for i in range(10)] + [200.0 + (i % 3) for i in range(10)]
    root = _parse(trend_svg({"a": _series(values)}, title="t"))
    marks = _of_class(root, "text", "wb-trend-step")
    assert len(marks) == 1 and len(_of_class(root, "line", "wb-trend-step")) == 1
    tip = marks[0].find(f"{NS}title")
    assert tip is not None and "run r010" in (tip.text or "")
    ratio = re.fullmatch(r"x(\d+(?:\.\d+)?)", tip.tail or "")
    assert ratio and float(ratio.group(1)) == pytest.approx(2.0, rel=0.02)
    flat = _parse(trend_svg({"a": _series([100.0] * 20)}, title="t"))
    assert not _of_class(flat, "text", "wb-trend-step")
    short = _parse(trend_svg({"a": _series([100.0, 100.0, 300.0])}, title="t"))
    assert not _of_class(short, "line", "wb-trend-step")  # 3 points: too few to split


def test_lines_with_gaps_stay_aligned_by_run() -> None:
    full = _series([1.0, 2.0, 3.0, 4.0], ["r001", "r002", "r003", "r004"])
    gappy = _series([5.0, 6.0, 7.0], ["r001", "r003", "r004"])
    root = _parse(trend_svg({"full": full, "gappy": gappy}, title="t"))
    where: dict[tuple[str, str], float] = {}
    for c in _of_class(root, "circle", "wb-trend-pt"):
        tip = c.findtext(f"{NS}title") or ""
        run = re.search(r"run (r\d+)", tip)
        assert run
        where[(tip.split(":")[0], run.group(1))] = float(c.get("cx", "nan"))
    for run in ("r001", "r003", "r004"):
        assert where[("full", run)] == where[("gappy", run)]
    xs = [where[("full", r)] for r in ("r001", "r002", "r003", "r004")]
    assert xs == sorted(xs) and len(set(xs)) == 4


def test_empty_input_and_bad_metrics() -> None:
    for lines in ({}, {"a": _series([])}):
        svg = trend_svg(lines, title="t")
        _parse(svg)
        assert "no history yet" in svg and "polyline" not in svg
    with pytest.raises(InvalidInputError, match="latency_p50, peak_rss"):
        trend_svg({"a": _series([1.0]), "b": _series([1.0], metric="peak_rss")}, title="t")
    with pytest.raises(InvalidInputError, match="bogus"):
        trend_svg({"a": _series([1.0], metric="bogus")}, title="t")


def test_series_keys_returns_exactly_what_was_written(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    rows = [HistoryRow("work", "pure", "tiny", "latency_p50", 1.0),
            HistoryRow("work", "pure", None, "latency_p50", 2.0),
            HistoryRow("clean", "fast", "big", "latency_p50", 3.0),
            HistoryRow("clean", "fast", "big", "peak_rss", 4.0),
            HistoryRow("only_rss", "pure", None, "peak_rss", 5.0)]
    record_rows(db, rows, "run1", "abc", "2024-01-01T00:00:00")
    record_rows(db, rows[:2], "run2", "abd", "2024-01-02T00:00:00")
    assert series_keys(db) == (("clean", "fast", "big"), ("work", "pure", None),
                               ("work", "pure", "tiny"))
    assert series_keys(db, "peak_rss") == (("clean", "fast", "big"),
                                           ("only_rss", "pure", None))
    assert series_keys(db, "throughput") == ()
    with pytest.raises(InvalidInputError, match="does not exist"):
        series_keys(tmp_path / "missing.sqlite")
    with pytest.raises(InvalidInputError, match="unknown metric"):
        series_keys(db, "nope")
    (tmp_path / "junk.sqlite").write_text("not a database")
    with pytest.raises(InvalidInputError, match="cannot read history"):
        series_keys(tmp_path / "junk.sqlite")


@given(st.lists(st.lists(st.floats(min_value=1e-6, max_value=1e15), min_size=1, max_size=30),
                min_size=1, max_size=3),
       st.integers(min_value=0, max_value=2**32))
def test_every_point_lies_in_the_plot_area(data: list[list[float]], seed: int) -> None:
    lines = {}
    for k, values in enumerate(data):  # runs interleave across lines; some are skipped
        runs = [f"r{(seed >> k) % 5 + 7 * i + k:03d}" for i in range(len(values))]
        lines[f"line<{k}>&"] = _series(values, runs, ci=bool(k % 2))
    root = _parse(trend_svg(lines, title="prop"))
    _safe(root)
    plot = _of_class(root, "rect", "wb-trend-plot")[0]
    top, height = float(plot.get("y", "0")), float(plot.get("height", "0"))
    left, width = float(plot.get("x", "0")), float(plot.get("width", "0"))
    pts = _of_class(root, "circle", "wb-trend-pt")
    assert len(pts) == sum(map(len, data))
    assert len(_of_class(root, "polyline", "wb-trend-line")) == len(data)
    for c in pts:
        assert top - 0.05 <= float(c.get("cy", "nan")) <= top + height + 0.05
        assert left <= float(c.get("cx", "nan")) <= left + width
