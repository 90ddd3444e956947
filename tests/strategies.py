"""Hypothesis strategies shared by the tests: text with the awkward parts of Unicode."""

from __future__ import annotations

import unicodedata

from hypothesis import strategies as st

from workbench.rag.corpus import NON_ASCII_SAMPLES
from workbench.rag.types import CleanDoc, RawDoc

# Characters assigned in this Python's Unicode database. Polars (Rust) ships a newer
# Unicode version; for code points Python does not know yet the two legitimately
# disagree, so equivalence is stated over the characters Python knows.
_assigned = st.characters(
    exclude_categories=("Cs", "Cn"),
).filter(lambda c: unicodedata.category(c) != "Cn")

_awkward = st.sampled_from(
    [
        *NON_ASCII_SAMPLES,
        " ", "\t", "\n", "\r\n", "\x00", "\x1b", "\x7f", "\x85", "\x1c", "\u00a0", "\u3000",
        "\u2028", "\u200b", "\u200d", "\u0301", "\u0308", "ΑΣ", "Σ", "ς", "İ", "ß", "ẞ", "ǅ",
        "ﬁ", "Ⅻ", "¨", "e\x00\u0301", "\U0001f469\u200d\U0001f4bb", "🇫🇷",
    ]
)

#: Strings mixing arbitrary assigned characters with known-awkward fragments.
texts = st.lists(st.one_of(st.text(_assigned, max_size=12), _awkward), max_size=12).map(
    "".join
)

raw_docs = st.lists(
    st.builds(RawDoc, st.uuids().map(str), texts, texts), max_size=6
).map(tuple)

clean_docs = st.lists(
    st.builds(CleanDoc, st.uuids().map(str), st.just(""), texts), max_size=6
).map(tuple)
