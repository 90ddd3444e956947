"""The result protocol, checked on every result kind: JSON round trips, the one record
check, escaping, self-contained HTML and the notebook display bundle."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from result_samples import EVIL, SAMPLES

from workbench.errors import InvalidInputError
from workbench.results import PLAIN_LIMIT, Result, check_record, mime_type

KINDS = sorted(SAMPLES)


class _Tags(HTMLParser):
    """Every element and attribute of a page, and the text of its <style> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def references(page: str) -> list[str]:
    """What the page would fetch, link to or run: URL-bearing attributes, event handlers,
    script elements, and url()/@import in its styles (an SVG's xmlns is a name, not a
    reference)."""
    parser = _Tags()
    parser.feed(page)
    found = []
    for tag, attrs in parser.tags:
        if tag in ("script", "iframe", "object", "embed", "link", "img"):
            found.append(f"<{tag}>")
        for name in attrs:
            if name in ("src", "href", "xlink:href", "action", "srcset", "srcdoc") \
                    or name.startswith("on"):
                found.append(f"<{tag} {name}=>")
    found += [s for s in parser.styles if re.search(r"url\(|@import|https?:", s)]
    return found


@pytest.fixture(params=KINDS)
def result(request: pytest.FixtureRequest) -> Any:
    made = SAMPLES[request.param]()
    assert isinstance(made, Result) and made.kind == request.param
    return made


def test_every_kind_round_trips_through_json(result: Any, tmp_path: Path) -> None:
    cls = type(result)
    record = json.loads(result.dumps())
    assert record["kind"] == result.kind and record["schema_version"] == cls.schema_version
    assert cls.from_json(record) == result
    assert cls.loads(result.dumps(indent=None)) == result
    saved = result.save(tmp_path / "r.json")
    assert cls.load(saved) == result


def test_a_wrong_kind_or_a_future_version_is_refused(result: Any) -> None:
    cls = type(result)
    record = result.to_json()
    other = "comparison" if result.kind != "comparison" else "sweep"
    with pytest.raises(InvalidInputError,
                       match=rf"not a {result.kind} record \(kind '{other}'\); expected kind"):
        cls.from_json({**record, "kind": other})
    future = cls.schema_version + 1
    with pytest.raises(InvalidInputError, match=rf"{result.kind} schema_version {future} is "
                                                "newer than this workbench reads"):
        cls.from_json({**record, "schema_version": future})
    with pytest.raises(InvalidInputError, match=r"schema_version '1'; expected an integer"):
        cls.from_json({**record, "schema_version": "1"})
    field = next(k for k in record if k not in ("kind", "schema_version", "summary"))
    with pytest.raises(InvalidInputError, match=rf"malformed {result.kind} record"):
        cls.from_json({k: v for k, v in record.items() if k != field})
    with pytest.raises(InvalidInputError, match=r"is a JSON object; got list"):
        cls.from_json([record])  # type: ignore[arg-type]


def test_html_escapes_every_user_string_and_references_no_url(result: Any) -> None:
    page = result.to_html()
    assert page.startswith(f'<div class="wb-result wb-{result.kind}"><style>')
    assert references(page) == []
    assert "&lt;script&gt;window.__wb_pwned=1&lt;/script&gt;" in page


def test_the_display_bundle_has_three_types_each_once(result: Any) -> None:
    bundle = result._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", mime_type(result.kind)}
    assert len(bundle["text/plain"]) < PLAIN_LIMIT
    assert not bundle["text/plain"].startswith(type(result).__name__ + "(")  # not the repr
    assert bundle[mime_type(result.kind)] == result.to_json()
    assert "<div" not in bundle["text/plain"]
    only = result._repr_mimebundle_(include=["text/plain"])
    assert set(only) == {"text/plain"}
    assert set(result._repr_mimebundle_(exclude=["text/html"])) == \
        {"text/plain", mime_type(result.kind)}


def test_text_is_the_rendering_and_saves_by_suffix(result: Any, tmp_path: Path) -> None:
    text = result.to_text()
    assert str(result) == text and EVIL in text  # plain text shows the strings as given
    assert result.summary_line() and "\n" not in result.summary_line()
    assert result.save(tmp_path / "s.txt").read_text() == text + "\n"
    page = result.save(tmp_path / "r.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and result.to_html() in page
    with pytest.raises(InvalidInputError, match=r"cannot save a .* to 'r\.pdf': choose a file "
                                                r"ending in \.json, \.html, \.txt"):
        result.save(tmp_path / "r.pdf")


def test_a_failed_save_keeps_the_existing_file(result: Any, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.json"
    target.write_text("the old record\n")

    def broken(self: Any, indent: int | None = 2) -> str:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(type(result), "dumps", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        result.save(target)
    assert target.read_text() == "the old record\n"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left


def test_long_text_is_cut_in_the_bundle_with_a_note() -> None:
    from workbench.pipeline import Boundary, FusionReport

    big = FusionReport((("a", "pure"),), tuple(
        Boundary(f"s{i}", f"s{i + 1}", False, True, "x" * 60) for i in range(200)))
    plain = big._repr_mimebundle_()["text/plain"]
    assert len(plain) < PLAIN_LIMIT and len(big.to_text()) > 10_000
    assert re.search(r"\.\.\. \(\d+ more lines: to_text\(\) or the HTML shows all\)$", plain)


def test_check_record_names_what_it_found() -> None:
    assert check_record({"kind": "k", "schema_version": 2}, "k", 2)["kind"] == "k"
    for data, message in (({"kind": "k", "schema_version": 0}, "schema_version 0; expected"),
                          ({"kind": "k", "schema_version": True}, "schema_version True"),
                          ({"schema_version": 1}, r"not a k record \(kind None\)"),
                          ("text", "a k record is a JSON object; got str")):
        with pytest.raises(InvalidInputError, match=message):
            check_record(data, "k", 2)


def test_load_reports_missing_and_damaged_files(tmp_path: Path) -> None:
    cls = type(SAMPLES["comparison"]())
    with pytest.raises(InvalidInputError, match=r"comparison file .* does not exist"):
        cls.load(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text('{"kind": "comparison", ')
    with pytest.raises(InvalidInputError, match=r"bad\.json: not a comparison record: invalid "
                                                r"JSON \(Expecting"):
        cls.load(tmp_path / "bad.json")


def test_the_reference_finder_sees_markup_that_would_run_or_fetch() -> None:
    assert references(f"<p>{EVIL}</p>") == ["<script>", "<img>", "<img src=>", "<img onerror=>"]
    assert references("<div style='x'><style>.a{background:url(x.png)}</style></div>") == \
        [".a{background:url(x.png)}"]
    assert references("<svg xmlns='http://www.w3.org/2000/svg'><a href='#x'>a</a></svg>") == \
        ["<a href=>"]
