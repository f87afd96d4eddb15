"""ArkhivCodec (search/codec.py) stores the postings Whoosh's W3Codec stores, and every Whoosh
query reads the same documents, scores and highlights from it."""

from __future__ import annotations

import pickle
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from whoosh import fields, highlight, index
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher, W3TermInfo
from whoosh.matching import ListMatcher
from whoosh.query import (
    And,
    FuzzyTerm,
    Not,
    NumericRange,
    Or,
    Phrase,
    Prefix,
    Term,
    TermRange,
    Wildcard,
)

from arkhiv.search.analyzer import analyzer
from arkhiv.search.codec import ArkhivCodec, ArkhivLeafMatcher

WORDS = [
    "архів", "фонд", "опис", "справа", "наказ", "село", "рада", "земля", "м'ясо", "сім'я",
    "ґанок", "їжа", "Євген", "колгосп", "протокол", "школа", "вчитель", "можна", "документ",
    "заготівля", "хліб", "область", "дернова", "замість",
]  # fmt: skip
DOCS = 700  # the most frequent words fill several blocks of 128 postings


def _schema() -> fields.Schema:
    return fields.Schema(
        text=fields.TEXT(analyzer=analyzer(), phrase=True, stored=True, vector=True),
        keywords=fields.KEYWORD(),  # frequencies as values (fixed size)
        fond=fields.ID(stored=True),  # no values
        year=fields.NUMERIC(int, stored=True),
        boosted=fields.TEXT(field_boost=2.5),  # weights of 2.5: constant blocks not of 1.0
    )


def _documents() -> list[dict[str, Any]]:
    rng = random.Random(11)
    weights = [1.0 / (i + 1) for i in range(len(WORDS))]
    docs = [
        {
            "text": " ".join(rng.choices(WORDS, weights, k=rng.randint(3, 60))),
            "keywords": " ".join(rng.sample(WORDS, 3)),
            "fond": rng.choice(["Р-1", "Р-2", "П-9"]),
            "year": rng.randint(1920, 1990),
            "boosted": " ".join(rng.sample(WORDS, 4)),
        }
        for _ in range(DOCS)
    ]
    docs[5]["text"] += " Одинак"  # a word on one page: a list of one posting
    return docs


def _build(path: Path, codec: Any, docs: list[dict[str, Any]]) -> Any:
    path.mkdir()
    ix = index.create_in(str(path), _schema())
    writer = ix.writer(codec=codec)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    return index.open_dir(str(path))  # read back from disk, the codec unpickled from the TOC


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """The same documents written by Whoosh's W3Codec and by ArkhivCodec (same docnums)."""
    base = tmp_path_factory.mktemp("codec")
    docs = _documents()
    return _build(base / "w3", W3Codec(), docs), _build(base / "arkhiv", ArkhivCodec(), docs)


def _postings(ix: Any) -> dict[tuple[str, bytes], list[tuple[int, float, Any]]]:
    """(id, weight, value) of every posting of every term, through the Matcher interface."""
    out = {}
    with ix.reader() as reader:
        for fieldname, btext in reader.all_terms():
            m = reader.postings(fieldname, btext)
            items = []
            while m.is_active():
                items.append((m.id(), m.weight(), m.value()))
                m.next()
            out[(fieldname, btext)] = items
    return out


def _blocks(matcher: Any) -> Iterator[Any]:
    while matcher.is_active():
        matcher._read_weights()
        yield matcher
        matcher._next_block()


def test_segments_use_the_codec(indexes: tuple[Any, Any]) -> None:
    w3, ours = indexes
    assert [type(s.codec()) for s in w3._segments()] == [W3Codec]
    assert [type(s.codec()) for s in ours._segments()] == [ArkhivCodec]


def test_postings_round_trip(indexes: tuple[Any, Any]) -> None:
    w3, ours = indexes
    expected = _postings(w3)
    assert _postings(ours) == expected
    # What the comparison covered: lists of several blocks and of one posting, blocks of
    # weights all 1.0, all equal but not 1.0, and varied.
    counts = {len(items) for items in expected.values()}
    assert max(counts) > 2 * 128 and 1 in counts
    kinds = set()
    with ours.reader() as reader:
        for fieldname, btext in reader.all_terms():
            m = reader._terms.matcher(fieldname, btext, reader.schema[fieldname].format)
            assert isinstance(m, ArkhivLeafMatcher)
            for block in _blocks(m):
                ws = set(block._weights)
                kinds.add("ones" if ws == {1.0} else "constant" if len(ws) == 1 else "varied")
    assert kinds == {"ones", "constant", "varied"}


def test_bulk_read_equals_matcher(indexes: tuple[Any, Any]) -> None:
    w3, ours = indexes
    expected = _postings(w3)
    with ours.reader() as reader:
        for (fieldname, btext), items in expected.items():
            m = reader._terms.matcher(fieldname, btext, reader.schema[fieldname].format)
            m.next()  # read_all reads the whole list wherever the matcher stands
            bulk = m.read_all()
            assert bulk.ids.tolist() == [d for d, _, _ in items]
            assert bulk.weights.tolist() == [w for _, w, _ in items]
            assert bulk.values(np.arange(len(items))) == [v for _, _, v in items]
            some = np.arange(len(items))[::7]
            assert bulk.values(some) == [items[i][2] for i in some.tolist()]


def test_vectors_stay_readable(indexes: tuple[Any, Any]) -> None:
    w3, ours = indexes
    with w3.searcher() as a, ours.searcher() as b:
        for docnum in (0, 5, DOCS - 1):
            assert list(b.vector_as("weight", docnum, "text")) == list(
                a.vector_as("weight", docnum, "text")
            )


QUERIES = [
    Term("text", "архів"),
    Term("text", "одинак"),
    And([Term("text", "можний"), Term("text", "рада")]),  # lemmas, as the analyzer gives them
    Or([Term("text", "школа"), Term("text", "хліб"), Term("fond", "Р-1")]),
    Prefix("text", "з"),
    Wildcard("text", "с*о"),
    FuzzyTerm("text", "заготівла", maxdist=2, prefixlength=1),
    Phrase("text", ["архів", "фонд"]),
    Phrase("text", ["дернова", "земля", "замість"], slop=4),
    NumericRange("year", 1930, 1945),
    TermRange("keywords", "а", "м"),
    And([Term("text", "архів"), Not(Term("fond", "Р-2"))]),
    And([Term("boosted", "село"), NumericRange("year", None, 1950)]),
]


@pytest.mark.parametrize("q", QUERIES, ids=str)
def test_whoosh_queries_give_the_same(indexes: tuple[Any, Any], q: Any) -> None:
    w3, ours = indexes
    with w3.searcher() as a, ours.searcher() as b:
        expected = a.search(q, limit=None)
        found = b.search(q, limit=None)
        assert len(expected) > 0
        assert [(h.docnum, h.score) for h in found] == [(h.docnum, h.score) for h in expected]
        # The default collector with block-quality skipping takes the same top 10.
        top_a, top_b = a.search(q, limit=10), b.search(q, limit=10)
        assert [(h.docnum, h.score) for h in top_b] == [(h.docnum, h.score) for h in top_a]


@pytest.mark.parametrize(
    "q",
    [Term("text", "земля"), Phrase("text", ["архів", "фонд"]), Prefix("text", "сел")],
    ids=str,
)
def test_highlights_with_matched_terms_are_the_same(indexes: tuple[Any, Any], q: Any) -> None:
    w3, ours = indexes
    with w3.searcher() as a, ours.searcher() as b:
        expected = a.search(q, limit=20, terms=True)
        found = b.search(q, limit=20, terms=True)
        for results in (expected, found):
            results.fragmenter = highlight.ContextFragmenter()
        assert len(found) == len(expected) > 0
        for hit_a, hit_b in zip(expected, found, strict=True):
            assert sorted(hit_b.matched_terms()) == sorted(hit_a.matched_terms())
            assert hit_b.highlights("text") == hit_a.highlights("text")


def _two_commits(path: Path, docs: list[dict[str, Any]], second: Any) -> Any:
    path.mkdir()
    ix = index.create_in(str(path), _schema())
    for part, codec in ((docs[:150], W3Codec()), (docs[150:], second)):
        writer = ix.writer(codec=codec)
        for doc in part:
            writer.add_document(**doc)
        writer.commit(merge=False)
    return index.open_dir(str(path))


def test_merged_with_w3_segment_reads_the_same(tmp_path: Path) -> None:
    """An index begun by W3Codec (an older arkhiv) and continued with ArkhivCodec: each
    segment reads with its own codec, and once optimized the index is ArkhivCodec's. Compared
    with the same steps done by W3Codec alone (merging changes Whoosh's field length totals,
    and so the scores, whatever the codec)."""
    docs = _documents()[:300]
    plain = _two_commits(tmp_path / "plain", docs, W3Codec())
    ours = _two_commits(tmp_path / "ours", docs, ArkhivCodec())
    assert {type(s.codec()) for s in ours._segments()} == {W3Codec, ArkhivCodec}
    for stage in ("mixed", "optimized"):
        with plain.searcher() as a, ours.searcher() as b:
            for q in QUERIES:
                expected = [(h.docnum, h.score) for h in a.search(q, limit=None)]
                assert [(h.docnum, h.score) for h in b.search(q, limit=None)] == expected, stage
        if stage == "mixed":
            plain.writer(codec=W3Codec()).commit(optimize=True)
            ours.writer(codec=ArkhivCodec()).commit(optimize=True)
            plain = index.open_dir(str(tmp_path / "plain"))
            ours = index.open_dir(str(tmp_path / "ours"))
            assert [type(s.codec()) for s in ours._segments()] == [ArkhivCodec]


def test_codec_pickles_with_its_settings() -> None:
    codec = pickle.loads(pickle.dumps(ArkhivCodec(blocklimit=64, compression=1)))
    assert type(codec) is ArkhivCodec
    assert (codec._blocklimit, codec._compression, codec._inlinelimit) == (64, 1, 1)


def test_w3_matcher_refuses_arkhiv_postings(indexes: tuple[Any, Any]) -> None:
    """A posting list of ArkhivCodec read as W3Codec's fails at once, not with garbage."""
    _w3, ours = indexes
    with ours.reader() as reader:
        btext = reader.schema["text"].to_bytes("архів")
        info = reader._terms.term_info("text", btext)
        offset, length = info.extent()
        with pytest.raises(Exception, match="Block tag error"):
            W3LeafMatcher(reader._terms._postfile, offset, length, reader.schema["text"].format)


def test_inlined_postings_read_as_whoosh_does() -> None:
    """Postings inlined in the term info (Whoosh 2.7.5 cannot write them, its writer calls a
    misspelled set_inline; an index from elsewhere may have them) are a ListMatcher."""
    info = W3TermInfo()
    info.set_inlined([3, 8], [1.0, 2.0], [b"a", b"b"])
    m = ArkhivCodec().postings_reader(None, info, _schema()["text"].format)
    assert isinstance(m, ListMatcher)
    assert list(m.all_ids()) == [3, 8]
