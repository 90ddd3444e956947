"""The reference pipeline's cached variants and its batch-sequence workloads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import clean_docs

import workbench.rag.reference  # noqa: F401  (registers the cached variants and workloads)
from workbench.batches import BatchSequence, observed_repeat_rate
from workbench.errors import InvalidInputError
from workbench.memo import approx_bytes, text_hash
from workbench.rag.cached import CHUNK_ENTRIES, CHUNKS, EMBED_BYTES, EMBEDDINGS
from workbench.rag.chunk import chunk
from workbench.rag.clean import clean
from workbench.rag.embed import embed
from workbench.rag.reference import reference_pipeline
from workbench.rag.types import Chunk, RawDoc
from workbench.rag.workloads import REINDEX_BATCHES, chunk_texts, reindex, reindex_fresh
from workbench.runs import run_pipeline
from workbench.stages import STANDARD_VARIANTS
from workbench.workloads import get_workload


@pytest.fixture(autouse=True)
def empty_tables() -> Iterator[None]:
    """Every test starts from empty tables with their shipped bounds and versions."""
    versions = CHUNKS.version, EMBEDDINGS.version

    def reset() -> None:
        for t in (CHUNKS, EMBEDDINGS):
            t.clear()
            t.reset_counters()
        CHUNKS.set_version(versions[0])
        EMBEDDINGS.set_version(versions[1])
        CHUNKS.set_bounds(max_entries=CHUNK_ENTRIES, max_bytes=CHUNKS.max_bytes)
        EMBEDDINGS.set_bounds(max_entries=None, max_bytes=EMBED_BYTES)

    reset()
    yield
    reset()


def load(name: str) -> BatchSequence:
    seq = get_workload(name).load()
    assert isinstance(seq, BatchSequence)
    return seq


def texts_of(seq: BatchSequence) -> list[list[str]]:
    return [[t for d in batch for t in chunk_texts(d)] for batch in seq.batches]


def chunks_of(batch: tuple[RawDoc, ...]) -> tuple[Chunk, ...]:
    return tuple(chunk(tuple(clean(batch))))


# -- registration --------------------------------------------------------------------------

def test_cached_is_a_variant_of_chunk_and_embed_right_after_pure() -> None:
    assert STANDARD_VARIANTS[:2] == ("pure", "cached")
    assert chunk.variant_names[:2] == ("pure", "cached")
    assert embed.variant_names[:2] == ("pure", "cached")


# -- the workloads -------------------------------------------------------------------------

def test_reindex_repeats_90_percent_of_documents_and_of_chunk_texts() -> None:
    seq = load("reindex")
    assert (len(seq), seq.warm, seq.repeat_rate) == (REINDEX_BATCHES, 1, 0.9)
    assert all(len(b) == 200 for b in seq.batches)
    assert all(len({d.doc_id for d in b}) == 200 for b in seq.batches)
    assert observed_repeat_rate(seq.batches) == pytest.approx(0.9)
    texts = texts_of(seq)
    assert observed_repeat_rate(texts) == pytest.approx(0.9, abs=0.02)
    for i in range(1, len(texts)):  # and batch by batch, within a few points
        earlier = [t for b in texts[:i] for t in b]
        assert observed_repeat_rate([earlier, texts[i]]) == pytest.approx(0.9, abs=0.03)


def test_reindex_repeats_only_the_kept_documents_chunks() -> None:
    seq = load("reindex")
    seen = {t for t in texts_of(seq)[0]}
    for before, batch in zip(seq.batches, seq.batches[1:], strict=False):
        kept = set(before)
        assert sum(d in kept for d in batch) == 180
        for doc in batch:
            texts = chunk_texts(doc)
            if doc not in kept:  # wholly new: none of its chunk texts was seen before
                assert seen.isdisjoint(texts), doc.doc_id
            seen.update(texts)


def test_reindex_fresh_repeats_nothing() -> None:
    seq = load("reindex-fresh")
    assert (len(seq), seq.repeat_rate) == (REINDEX_BATCHES, 0.0)
    assert observed_repeat_rate(seq.batches) == 0.0
    assert observed_repeat_rate(texts_of(seq)) == 0.0


def test_the_workloads_are_deterministic_and_sized() -> None:
    assert reindex.make(30, seed=5) == reindex.make(30, seed=5)
    assert reindex.make(30, seed=5) != reindex.make(30, seed=6)
    small = reindex.make(37, seed=5)
    assert all(len(b) == 37 for b in small) and small.repeat_rate == pytest.approx(33 / 37)
    assert observed_repeat_rate(small.batches) == pytest.approx(small.repeat_rate)
    assert reindex_fresh.make(3, seed=6).items == 3 * REINDEX_BATCHES
    with pytest.raises(InvalidInputError, match="at least 10; got 5"):
        reindex.make(5, seed=5)


def test_a_single_run_refuses_a_batch_sequence_and_says_what_to_use() -> None:
    with pytest.raises(InvalidInputError) as err:
        run_pipeline(reference_pipeline(), "reindex@20")
    text = str(err.value)
    for part in ("'reindex@20'", "6 batches", "compare STAGE -w reindex@20", "warm"):
        assert part in text


# -- the cached variants equal pure --------------------------------------------------------

def run_batches(seq: BatchSequence, model: str = "hashing") -> list[tuple[float, float]]:
    """Each batch through pure and cached (tables carried across batches); each batch's
    (chunk hit rate, embed hit rate). Asserts the cached outputs equal pure's."""
    rates = []
    for i, batch in enumerate(seq.batches):
        for t in (CHUNKS, EMBEDDINGS):
            t.reset_counters()
        cleaned = tuple(clean(batch))
        pure = tuple(chunk(cleaned))
        cached = chunk(cleaned, "cached")
        assert chunk.check_equivalence(pure, cached, "cached").equivalent, i
        reference = embed(pure, model=model)
        candidate = embed(pure, "cached", model=model)
        same = embed.check_equivalence(reference, candidate, "cached", {"model": model})
        assert same.equivalent, (i, same.detail)
        c, e = CHUNKS.stats().hit_rate, EMBEDDINGS.stats().hit_rate
        assert c is not None and e is not None
        rates.append((c, e))
    return rates


def test_cached_equals_pure_and_hits_at_the_stated_rate_on_reindex() -> None:
    seq = load("reindex")
    rates = run_batches(seq)
    assert rates[0] == (0.0, 0.0)  # the first batch fills the tables
    assert rates[1][0] > 0 and rates[1][1] > 0
    chunk_rates = [c for c, _ in rates[1:]]
    embed_rates = [e for _, e in rates[1:]]
    assert chunk_rates == pytest.approx([0.9] * (len(seq) - 1))
    texts = texts_of(seq)
    for i, rate in enumerate(embed_rates, start=1):  # exactly the repeats in the data
        earlier = [t for b in texts[:i] for t in b]
        assert rate == pytest.approx(observed_repeat_rate([earlier, texts[i]]))
        assert rate == pytest.approx(0.9, abs=0.03)


def test_cached_never_hits_on_reindex_fresh() -> None:
    seq = load("reindex-fresh")
    rates = run_batches(seq)
    assert all(r == (0.0, 0.0) for r in rates)
    assert EMBEDDINGS.stats().entries == len({t for b in texts_of(seq) for t in b})


def test_a_smaller_byte_bound_trades_hits_for_memory() -> None:
    seq = load("reindex")
    per_row = approx_bytes(np.zeros(384, np.float32))
    bound = 300 * per_row  # fewer rows than one batch has chunks
    EMBEDDINGS.set_bounds(max_entries=None, max_bytes=bound)
    rates = run_batches(seq)
    s = EMBEDDINGS.stats()
    assert s.bytes <= bound and s.entries <= 300 and s.evictions > 0
    assert all(e < 0.5 for _, e in rates[1:])  # most repeats were evicted before they came


def test_a_new_version_drops_the_embeddings() -> None:
    seq = load("reindex")
    chunks = chunks_of(seq.batches[0])
    embed(chunks, "cached")
    EMBEDDINGS.set_version("embed-test (a changed model)")
    assert EMBEDDINGS.stats().invalidations == len({c.text for c in chunks})
    EMBEDDINGS.reset_counters()
    embed(chunks, "cached")
    assert EMBEDDINGS.stats().hits == 0


def test_stored_rows_are_read_only_copies() -> None:
    chunks = chunks_of(load("reindex").batches[0])[:20]
    out = embed(chunks, "cached")
    for i, c in enumerate(chunks):
        row = EMBEDDINGS.get_or_compute((text_hash(c.text), "hashing"), _not_called)
        assert not row.flags.writeable and row.base is None
        assert not np.shares_memory(row, out.matrix)
        np.testing.assert_array_equal(row, out.matrix[i])


def _not_called() -> Any:
    raise AssertionError("the row should be in the table")


def test_empty_input() -> None:
    assert tuple(chunk((), "cached")) == ()
    batch = embed((), "cached")
    assert len(batch) == 0 and batch.matrix.shape == (0, 384)
    assert embed.check_equivalence(embed(()), batch, "cached").equivalent


@settings(max_examples=40)
@given(clean_docs)
def test_cached_chunk_equals_pure_on_awkward_text(docs: Any) -> None:
    for size, overlap in ((256, 32), (7, 3)):
        pure = tuple(chunk(docs, size=size, overlap=overlap))
        assert tuple(chunk(docs, "cached", size=size, overlap=overlap)) == pure
        assert tuple(chunk(docs, "cached", size=size, overlap=overlap)) == pure  # from the table


def test_threads_sharing_the_tables_get_pure_results() -> None:
    seq = load("reindex")
    batches = [chunks_of(b) for b in seq.batches[:3]]
    expected = [embed(b) for b in batches]
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for j in range(len(batches)):
                k = (j + seed) % len(batches)
                got = embed(batches[k], "cached")
                assert embed.check_equivalence(expected[k], got, "cached").equivalent
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    s = EMBEDDINGS.stats()
    assert s.hits + s.misses == 4 * sum(len(b) for b in batches) and s.hits > 0


@pytest.mark.slow
def test_cached_embed_equals_pure_with_minilm() -> None:
    seq = load("reindex@10")
    run_batches(BatchSequence(seq.batches[:3], repeat_rate=0.9), model="minilm")
    assert EMBEDDINGS.stats().hits > 0
