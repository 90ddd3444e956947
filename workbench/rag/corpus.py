"""Deterministic corpora for the reference pipeline.

- :func:`make_corpus`: synthetic abstracts with Zipf-distributed pseudo-words,
  punctuation, varied lengths, and real non-ASCII text (accents, CJK, emoji with ZWJ
  sequences, combining marks) plus stray controls and odd white space in a share of the
  documents, so that clean has real work to do.
- :func:`stdlib_docstrings`: the docstrings of the installed Python standard library,
  read with :mod:`ast` (nothing is imported or executed): real technical English.

Both depend only on their arguments (and, for the docstrings, on the Python installed),
using :class:`random.Random`, whose output is stable across Python versions.
"""

from __future__ import annotations

import ast
import random
import sysconfig
from functools import cache
from itertools import accumulate
from pathlib import Path

from workbench.errors import InvalidInputError
from workbench.rag.types import RawDoc

__all__ = ["NON_ASCII_SAMPLES", "make_corpus", "make_queries", "stdlib_docstrings"]

_SYLLABLES = (
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "pe", "da", "qui", "tron", "str", "ex",
    "al", "po", "ly", "gen", "ber", "ment", "ion", "ic", "ar", "um", "ed", "ing", "or",
)

#: Real non-ASCII fragments mixed into a share of the synthetic documents.
NON_ASCII_SAMPLES = (
    "café", "naïve", "Ærøskøbing", "Straße", "ÉCOLE", "Ωμέγα", "ΣΟΦΙΑ", "İstanbul",
    "機械学習", "数据管道", "東京都", "한국어", "emoji 🚀", "👩\u200d💻 dev", "✓ ok",
    "e\u0301te\u0301", "n\u0303o", "A\u030a", "ﬁle", "①②", "\uff26\uff55\uff4c\uff4c",
)
_ODD_SPACE = ("\t", "\n", "\u00a0", "\u3000", "  ", "\r\n", "\u2009")
_CONTROLS = ("\x00", "\x07", "\x1b", "\x7f")
_PUNCT = (",", ",", ";", ":", " -", "")


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < size:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def _check_count(name: str, value: int, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum}; got {value!r}")


def make_corpus(
    n_docs: int,
    seed: int = 0,
    *,
    mean_words: int = 120,
    vocabulary: int = 5000,
    zipf_s: float = 1.1,
    non_ascii_share: float = 0.25,
) -> tuple[RawDoc, ...]:
    """``n_docs`` synthetic documents, identical for identical arguments."""
    _check_count("n_docs", n_docs, 1)
    _check_count("mean_words", mean_words, 1)
    _check_count("vocabulary", vocabulary, 1)
    if not 0.0 <= non_ascii_share <= 1.0:
        raise InvalidInputError(f"non_ascii_share must be in [0, 1]; got {non_ascii_share!r}")
    if not zipf_s > 0:
        raise InvalidInputError(f"zipf_s must be > 0; got {zipf_s!r}")
    rng = random.Random(seed)
    words = _vocabulary(rng, vocabulary)
    cum = list(accumulate(1.0 / (rank**zipf_s) for rank in range(1, vocabulary + 1)))
    docs = []
    for i in range(n_docs):
        n_words = max(1, int(rng.expovariate(1.0 / mean_words)))
        picked = rng.choices(words, cum_weights=cum, k=n_words)
        spicy = rng.random() < non_ascii_share
        parts: list[str] = []
        sentence_start = True
        for word in picked:
            if spicy and rng.random() < 0.08:
                word = rng.choice(NON_ASCII_SAMPLES)
            parts.append(word.capitalize() if sentence_start else word)
            sentence_start = rng.random() < 0.08
            if sentence_start:
                parts.append(".")
            elif rng.random() < 0.12:
                parts.append(rng.choice(_PUNCT))
            if spicy and rng.random() < 0.03:
                parts.append(rng.choice(_CONTROLS))
            parts.append(rng.choice(_ODD_SPACE) if spicy and rng.random() < 0.1 else " ")
        title = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(2, 8))).title()
        docs.append(RawDoc(f"syn-{seed}-{i:06d}", title, "".join(parts).strip()))
    return tuple(docs)


def make_queries(n: int, seed: int = 0, *, vocabulary: int = 5000) -> tuple[str, ...]:
    """``n`` short query strings from the same Zipf vocabulary as :func:`make_corpus`."""
    _check_count("n", n, 1)
    rng = random.Random(seed)
    words = _vocabulary(rng, vocabulary)
    cum = list(accumulate(1.0 / rank for rank in range(1, vocabulary + 1)))
    query_rng = random.Random(seed + 1)
    return tuple(
        " ".join(query_rng.choices(words, cum_weights=cum, k=query_rng.randint(3, 8)))
        for _ in range(n)
    )


def _docstrings_of(path: Path, module: str) -> list[RawDoc]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return []
    found: list[RawDoc] = []

    def visit(node: ast.AST, qualname: str) -> None:
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node, clean=True)
            if doc and len(doc) >= 40:
                title = qualname.rsplit(".", 1)[-1]
                found.append(RawDoc(qualname, title, doc))
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, f"{qualname}.{child.name}")

    visit(tree, module)
    return found


@cache
def _all_stdlib_docstrings() -> tuple[RawDoc, ...]:
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {"test", "tests", "idle_test", "site-packages", "lib2to3", "__pycache__"}
    docs: list[RawDoc] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if skip.intersection(rel.parts):
            continue
        module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        docs.extend(_docstrings_of(path, module))
    return tuple(docs)


def stdlib_docstrings(n_docs: int | None = None, seed: int = 0) -> tuple[RawDoc, ...]:
    """Docstrings of the standard library; ``n_docs`` of them sampled with ``seed``."""
    docs = _all_stdlib_docstrings()
    if not docs:
        raise InvalidInputError("no standard-library sources were found to read docstrings from")
    if n_docs is None:
        return docs
    _check_count("n_docs", n_docs, 1)
    if n_docs >= len(docs):
        return docs
    picked = sorted(random.Random(seed).sample(range(len(docs)), n_docs))
    return tuple(docs[i] for i in picked)
