"""clean and chunk: every variant against pure (exact), and the stages' laws."""

from __future__ import annotations

import unicodedata
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import clean_docs, raw_docs, texts

from workbench import InvalidInputError
from workbench.pipeline import Pipeline
from workbench.rag.chunk import chunk, window_count
from workbench.rag.clean import clean, clean_text
from workbench.rag.types import CleanDoc, RawDoc

VARIANTS = ("vectorized", "native")


@pytest.mark.parametrize("variant", VARIANTS)
@given(docs=raw_docs)
@settings(max_examples=150)
def test_clean_variants_equal_pure(variant: str, docs: tuple[RawDoc, ...]) -> None:
    reference = clean(docs)
    candidate = clean(docs, variant)
    verdict = clean.check_equivalence(reference, candidate, variant)
    assert verdict, verdict.detail


@given(text=texts)
@settings(max_examples=300)
def test_clean_is_idempotent(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once


def test_clean_is_idempotent_on_every_code_point() -> None:
    # Exhaustive over the single characters: where lower() and NFKC could disagree.
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        once = clean_text(chr(c))
        assert clean_text(once) == once, hex(c)


@given(text=texts)
def test_clean_output_has_no_controls_or_runs_of_space(text: str) -> None:
    out = clean_text(text)
    assert out == out.strip(" ")
    assert "  " not in out
    assert not any(unicodedata.category(ch) == "Cc" for ch in out)
    assert out == unicodedata.normalize("NFKC", out)


def test_clean_on_known_examples() -> None:
    raw = RawDoc("d", "  Ti\ttle\x00 ", "Caf\u0065\u0301 ΟΔΟΣ\u00a0\u3000ﬁne\x07  Ⅻ")
    (doc,) = clean([raw])
    assert doc == CleanDoc("d", "ti tle", "café οδος fine xii")


def test_clean_keeps_empty_documents() -> None:
    for variant in ("pure", *VARIANTS):
        assert list(clean([RawDoc("e", "", "")], variant)) == [CleanDoc("e", "", "")]
        assert list(clean([], variant)) == []


SIZES = st.integers(1, 40).flatmap(lambda size: st.tuples(st.just(size), st.integers(0, size - 1)))


@pytest.mark.parametrize("variant", VARIANTS)
@given(docs=clean_docs, size_overlap=SIZES)
@settings(max_examples=150)
def test_chunk_variants_equal_pure(
    variant: str, docs: tuple[CleanDoc, ...], size_overlap: tuple[int, int]
) -> None:
    size, overlap = size_overlap
    reference = chunk(docs, size=size, overlap=overlap)
    candidate = chunk(docs, variant, size=size, overlap=overlap)
    verdict = chunk.check_equivalence(reference, candidate, variant, {"size": size,
                                                                      "overlap": overlap})
    assert verdict, verdict.detail


@given(docs=clean_docs, size_overlap=SIZES)
def test_chunks_cover_the_text_with_the_declared_overlap(
    docs: tuple[CleanDoc, ...], size_overlap: tuple[int, int]
) -> None:
    size, overlap = size_overlap
    for doc in docs:
        chunks = [c for c in chunk([doc], size=size, overlap=overlap)]
        text = doc.abstract
        assert len(chunks) == window_count(len(text), size, overlap)
        for c in chunks:
            assert text[c.start : c.end] == c.text
            assert 0 < len(c.text) <= size
        if not text:
            assert chunks == []
            continue
        assert chunks[0].start == 0 and chunks[-1].end == len(text)
        for a, b in pairwise(chunks):
            assert b.start == a.start + size - overlap  # fixed step
            assert a.end - b.start == overlap  # no gap: they share exactly `overlap` chars
            assert b.end > a.end  # no window lies inside the one before it


def test_chunk_is_lazy_in_pure() -> None:
    def endless():  # type: ignore[no-untyped-def]
        i = 0
        while True:
            yield CleanDoc(str(i), "", "x" * 10)
            i += 1

    first = next(iter(chunk(endless(), size=4, overlap=0)))
    assert first.text == "xxxx"


@pytest.mark.parametrize(
    ("size", "overlap", "message"),
    [
        (0, 0, "chunk size must be a positive integer; got 0"),
        (-5, 0, "got -5"),
        (10, 10, r"0 <= overlap < size \(10\); got 10"),
        (10, -1, "got -1"),
        (True, 0, "got True"),
        ("8", 0, "got '8'"),
    ],
)
def test_chunk_rejects_bad_sizes(size: object, overlap: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        list(chunk([CleanDoc("d", "", "abc")], size=size, overlap=overlap))


@given(docs=raw_docs, size_overlap=SIZES)
@settings(max_examples=100)
def test_fused_clean_chunk_equals_the_unfused_pure_path(
    docs: tuple[RawDoc, ...], size_overlap: tuple[int, int]
) -> None:
    size, overlap = size_overlap
    base = Pipeline.of(clean, chunk).configure(chunk={"size": size, "overlap": overlap})
    fused = base.select(clean="vectorized", chunk="vectorized")
    assert [seg.fused for seg in fused.plan()] == [True]
    assert list(fused.run(docs)) == list(base.run(docs))


def test_fusion_report_of_the_vectorized_segment() -> None:
    pipe = Pipeline.of(clean, chunk).select(clean="vectorized", chunk="vectorized")
    (boundary,) = pipe.fusion_report().boundaries
    assert boundary.fused and not boundary.is_break
    unfused = pipe.with_fusion(False).fusion_report()
    assert [b.is_break for b in unfused.boundaries] == [True]
    assert "collect()" in unfused.boundaries[0].reason
