"""Corpora and workloads: deterministic, varied, validated."""

from __future__ import annotations

import unicodedata

import pytest

import workbench.rag.workloads  # noqa: F401  (registers the reference workloads)
from workbench import InvalidInputError, UnknownNameError
from workbench.rag.corpus import make_corpus, make_queries, stdlib_docstrings
from workbench.rag.types import RawDoc
from workbench.workloads import get_workload, workload_names


def test_synthetic_corpus_is_deterministic_and_seed_dependent() -> None:
    assert make_corpus(30, 7) == make_corpus(30, 7)
    assert make_corpus(30, 7) != make_corpus(30, 8)
    assert make_queries(5, 1) == make_queries(5, 1)


def test_synthetic_corpus_has_real_non_ascii_text_and_varied_lengths() -> None:
    docs = make_corpus(300, 0)
    text = "".join(d.abstract for d in docs)
    categories = {unicodedata.category(c) for c in text}
    assert "Mn" in categories  # combining marks
    assert "So" in categories  # emoji and symbols
    assert any("\u4e00" <= c <= "\u9fff" for c in text)  # CJK
    assert any(c in "éïøß" for c in text)  # accents
    assert "Cc" in categories  # controls for clean to remove
    lengths = sorted(len(d.abstract) for d in docs)
    assert lengths[0] * 10 < lengths[-1]
    assert len({d.doc_id for d in docs}) == len(docs)


def test_zipf_words_dominate() -> None:
    words = " ".join(d.abstract for d in make_corpus(200, 3)).lower().split()
    counts = sorted((words.count(w) for w in set(words[:2000])), reverse=True)
    assert counts[0] > 10 * counts[len(counts) // 2]


def test_stdlib_docstrings_are_real_english_and_sampled_deterministically() -> None:
    docs = stdlib_docstrings(50, 1)
    assert len(docs) == 50 and docs == stdlib_docstrings(50, 1)
    assert any(d.doc_id.startswith("json") for d in stdlib_docstrings())
    assert sum(" the " in d.abstract for d in docs) > 25


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_docs": 0}, "n_docs must be an integer >= 1; got 0"),
        ({"n_docs": 3, "non_ascii_share": 2.0}, "non_ascii_share must be in"),
        ({"n_docs": 3, "mean_words": 0}, "mean_words must be an integer >= 1; got 0"),
    ],
)
def test_corpus_rejects_bad_sizes(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        make_corpus(**kwargs)  # type: ignore[arg-type]


def test_reference_workloads_register_through_the_core_api() -> None:
    names = workload_names()
    assert {"tiny", "small", "medium", "docs", "queries", "docs-queries"} <= set(names)
    tiny = get_workload("tiny")
    assert tiny.module == "workbench.rag.workloads" and tiny.seed == 1
    docs = tiny.load()
    assert len(docs) == 40 and all(isinstance(d, RawDoc) for d in docs)
    assert get_workload("tiny").load() is docs  # loaded once per process
    assert len(get_workload("queries").load()) == 16
    assert get_workload("docs-queries").load()[0] == "parse a date string"
    with pytest.raises(UnknownNameError, match=r"unknown workload 'huge'; choose one of: .*tiny"):
        get_workload("huge")


def test_sized_workloads_share_their_first_documents() -> None:
    bigger = get_workload("tiny@60")
    assert bigger.name == "tiny@60" and bigger.size == 60
    docs = bigger.load()
    assert len(docs) == 60 and docs[:40] == get_workload("tiny").load()
    for bad in ("tiny@0", "tiny@x", "tiny@-3"):
        with pytest.raises(InvalidInputError, match="must be a positive integer"):
            get_workload(bad)
