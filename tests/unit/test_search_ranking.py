"""Bulk scoring (search/scoring.py) and the one-pass total give what Whoosh itself gives."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from whoosh.codec.whoosh3 import W3Codec
from whoosh.formats import Positions
from whoosh.query import And, FuzzyTerm, NumericRange, Or, Phrase, Prefix, Term

from arkhiv.search import index as index_module
from arkhiv.search import scoring
from arkhiv.search.codec import ArkhivCodec
from arkhiv.search.index import PageIndex, PageRecord, SearchFilters, _ranked
from arkhiv.search.scoring import (
    DocSet,
    _adjacent_all,
    _in_order,
    _position_gaps,
    _split_positions,
    doc_set,
    plan,
    top_docs,
)

VOCAB = [
    "архів", "фонд", "опис", "справа", "наказ", "село", "рада", "земля", "м'ясо", "сім'я",
    "ґанок", "їжа", "Євген", "будь-який", "Р-123", "1941", "колгосп", "протокол", "школа",
    "вчитель", "можна", "документ", "заготівля", "хліб", "область",
]  # fmt: skip


def _texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    # Skewed frequencies, so that some words are on most pages and some on few.
    weights = [1.0 / (i + 1) for i in range(len(VOCAB))]
    return [" ".join(rng.choices(VOCAB, weights, k=rng.randint(5, 60))) for _ in range(n)]


def _record(i: int, text: str, access: str = "open") -> PageRecord:
    return PageRecord(
        document_id=1 + i // 10,
        number=1 + i % 10,
        page_key=str(i),
        document=f"doc{i // 10}",
        text=text,
        pdf_path=None,
        text_path=None,
        pdf_page=None,
        reference={"fond": "Р-1" if i % 3 else "Р-2"},
        year_from=1930 + i % 40,
        access=access,
    )


LAYOUTS = ["arkhiv", "w3", "mixed", "optimized"]


@pytest.fixture(scope="module", params=LAYOUTS)
def archive(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """400 pages in three commits (three segments), some replaced (deletions), some
    restricted. Written by ArkhivCodec (what write_pages uses), by Whoosh's W3Codec (an index
    of an older arkhiv), both (the first two commits by W3Codec), and both then optimized
    into one ArkhivCodec segment."""
    layout = request.param
    path = tmp_path_factory.mktemp("ranking")
    ix = PageIndex.open(path, create=True)
    texts = _texts(400, seed=7)
    with pytest.MonkeyPatch.context() as mp:
        for part in range(3):
            if layout == "w3" or (layout in ("mixed", "optimized") and part < 2):
                mp.setattr(index_module, "ArkhivCodec", W3Codec)
            else:
                mp.undo()
            ix.write_pages(
                _record(i, t, "restricted" if i % 17 == 0 else "open")
                for i, t in enumerate(texts)
                if i % 3 == part
            )
        # Re-indexing pages deletes their old entries in the older segments.
        ix.write_pages(_record(i, texts[i] + " архів") for i in range(0, 60, 7))
    codecs = {type(s.codec()) for s in ix._ix._segments()}
    assert codecs == {"arkhiv": {ArkhivCodec}, "w3": {W3Codec}}.get(layout, {W3Codec, ArkhivCodec})
    if layout == "optimized":
        ix._ix.writer(codec=ArkhivCodec()).commit(optimize=True)
        assert [type(s.codec()) for s in ix._ix._segments()] == [ArkhivCodec]
    return path


@pytest.fixture()
def searcher(archive: Path) -> Any:
    s = PageIndex.open(archive, create=False).searcher()
    yield s
    s.close()


def _whoosh_all(searcher: Any, q: Any, allow: Any = None, deny: Any = None) -> list[Any]:
    """Every match, scored by Whoosh without any optimization: (score, docnum) best first."""
    results = searcher.search(q, limit=None, filter=allow, mask=deny)
    return [(results.score(i), results.docnum(i)) for i in range(len(results))]


def _same_ranking(ours: list[tuple[float, int]], whoosh: list[tuple[float, int]]) -> None:
    """Same documents and scores; order may differ only between equal scores."""
    assert len(ours) == len(whoosh)
    for (s1, _), (s2, _) in zip(ours, whoosh, strict=True):
        assert s1 == pytest.approx(s2, rel=1e-12)

    def key(pairs: list[tuple[float, int]]) -> list[tuple[float, int]]:
        return sorted((round(-s, 9), d) for s, d in pairs)

    assert key(ours) == key(whoosh)


QUERIES = [
    Term("text", "архів"),
    Term("text", "рада"),
    Term("text", "м'ясо"),
    Term("text", "ганок"),
    Term("text", "нема-такого"),
    Term("text", "земля", boost=2.5),
    And([Term("text", "архів"), Term("text", "фонд")]),
    And([Term("text", "архів"), Term("text", "нема-такого")]),
    Or([Term("text", "школа"), Term("text", "вчитель"), Term("text", "хліб")]),
    And([Or([Term("text", "школа"), Term("text", "хліб")]), Term("text", "справа")]),
    Or([Or([Term("text", "їжа"), Term("text", "євген")]), Term("text", "р-123")]),
    Phrase("text", ["архів", "фонд"]),
    Phrase("text", ["рада", "рада"]),
    Phrase("text", ["архів", "фонд", "опис"], slop=3),
    Phrase("text", ["справа", "архів"], boost=2.0),
    Phrase("text", ["архів", "нема-такого"]),
    And([Phrase("text", ["фонд", "архів"]), Term("text", "рада")]),
]


@pytest.mark.parametrize("q", QUERIES, ids=str)
def test_bulk_scores_equal_whoosh(searcher: Any, q: Any) -> None:
    planned = plan(q)
    assert planned is not None
    whoosh = _whoosh_all(searcher, q)
    found = top_docs(searcher, planned, 10_000)
    assert found is not None
    assert found.total == len(whoosh)
    _same_ranking(found.top, whoosh)
    top = top_docs(searcher, planned, 7)
    assert top is not None and top.total == len(whoosh)
    _same_ranking(top.top, found.top[:7])


def test_bulk_scores_keep_filter_and_mask(searcher: Any) -> None:
    q = Or([Term("text", "архів"), Term("text", "село")])
    allow = set(searcher.docs_for_query(Term("fond", "р1")))
    deny = set(searcher.docs_for_query(Term("access", "restricted")))
    assert allow and deny
    found = top_docs(searcher, plan(q), 10_000, allow=allow, deny=deny)  # type: ignore[arg-type]
    assert found is not None
    whoosh = _whoosh_all(searcher, q, allow, deny)
    assert found.total == len(whoosh)
    _same_ranking(found.top, whoosh)
    assert not {d for _, d in found.top} & deny
    assert {d for _, d in found.top} <= allow


@pytest.mark.parametrize(
    "q",
    [
        FuzzyTerm("text", "архів"),
        Term("fond", "р1"),
        And([Term("text", "архів"), Term("fond", "р1")]),
        Prefix("text", "с"),
    ],
    ids=str,
)
def test_other_queries_are_not_planned(q: Any) -> None:
    assert plan(q) is None


@pytest.mark.parametrize(
    "q",
    [
        Prefix("text", "с"),  # an Or of many words: Whoosh's replaced matchers undercounted it
        Phrase("text", ["архів", "фонд"]),
        And([Term("text", "архів"), Term("fond", "р1")]),
        Or([Term("text", "школа"), Term("text", "хліб")]),
    ],
    ids=str,
)
def test_ranked_total_is_exact_in_one_pass(searcher: Any, q: Any) -> None:
    deny = set(searcher.docs_for_query(Term("access", "restricted")))
    for allow in (None, set(searcher.docs_for_query(Term("fond", "р2")))):
        total, top = _ranked(searcher, q, 10, allow, deny)
        whoosh = _whoosh_all(searcher, q, allow, deny)
        assert total == len(whoosh)
        assert [round(s, 9) for s, _ in top] == [round(s, 9) for s, _ in whoosh[:10]]


def test_search_pages_and_totals(archive: Path) -> None:
    """PageIndex.search: pages of hits cut from one ranking, the total the same on every page,
    no hit on a page past the last, restricted pages neither shown nor counted."""
    ix = PageIndex.open(archive, create=False)
    everything = ix.search("архів", limit=1000, include_restricted=True)
    open_only = ix.search("архів", limit=1000, include_restricted=False)
    assert everything.total == len(everything.hits)
    assert open_only.total == len(open_only.hits) < everything.total
    assert all(h.access == "open" for h in open_only.hits)
    pages = [ix.search("архів", limit=7, page=p, include_restricted=False) for p in (1, 2, 3)]
    assert {p.total for p in pages} == {open_only.total}
    keys = [(h.document_id, h.page) for p in pages for h in p.hits]
    assert keys == [(h.document_id, h.page) for h in open_only.hits[:21]]
    past = ix.search("архів", limit=7, page=1000, include_restricted=False)
    assert past.total == open_only.total and past.hits == []
    fond = ix.search("архів", limit=1000, filters=SearchFilters(fond="P-2"))
    assert fond.hits and all(h.reference["fond"] == "Р-2" for h in fond.hits)


@pytest.mark.parametrize(
    "q",
    [
        Term("fond", "р1"),
        Term("access", "restricted"),
        Term("fond", "нема"),
        Term("nofield", "x"),
        Or([Term("years", str(y)) for y in range(1935, 1946)]),
        And([Term("fond", "р2"), Or([Term("years", str(y)) for y in range(1950, 1956)])]),
        And([Term("fond", "р2"), Term("text", "архів")]),
    ],
    ids=str,
)
def test_filter_doc_set_equals_whoosh(searcher: Any, q: Any) -> None:
    assert doc_set(searcher, q) == set(searcher.docs_for_query(q))


def test_filter_doc_set_leaves_ranges_to_whoosh(searcher: Any) -> None:
    assert doc_set(searcher, NumericRange("year_from", None, 1950)) is None


def _adjacent(positions: list[list[int]]) -> bool:
    """The words at consecutive positions, set by set: the plain statement of a phrase with
    slop 1, against which the bulk check (_adjacent_all) is tested."""
    starts = set(positions[0])
    for i, following in enumerate(positions[1:], 1):
        present = set(following)
        starts = {p for p in starts if p + i in present}
        if not starts:
            return False
    return True


def test_adjacent_is_in_order_with_slop_one() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        words = rng.randint(2, 4)
        positions = [sorted(rng.sample(range(30), rng.randint(1, 8))) for _ in range(words)]
        assert _adjacent(positions) == _in_order(positions, 1), positions


def _encode(positions: list[int]) -> bytes:
    return Positions().encode(positions)  # type: ignore[no-any-return]


def test_adjacent_all_is_adjacent_of_each() -> None:
    rng = random.Random(6)
    for _ in range(200):
        words, count = rng.randint(2, 4), rng.randint(1, 30)
        positions = [
            [sorted(rng.sample(range(40), rng.randint(0, 8))) for _ in range(count)]
            for _ in range(words)
        ]
        gaps = [_position_gaps([_encode(p) for p in w]) for w in positions]
        found = _adjacent_all(gaps, count).tolist()
        assert found == [_adjacent([w[k] for w in positions]) for k in range(count)]


@pytest.mark.parametrize("sizes", [[0, 1, 2, 3], [1], [0], [5, 1200, 0, 1, 300], [2000]])
def test_position_gaps_decode_as_whoosh(sizes: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Positions of any count (none, one, several, over pickle's batch of 1000, positions
    beyond one and two bytes) decoded at once as Whoosh decodes each."""
    rng = random.Random(len(sizes))
    positions = [sorted(rng.sample(range(200_000), k)) for k in sizes]
    values = [_encode(p) for p in positions]
    one_by_one: list[bytes] = []
    gaps = scoring._gaps
    monkeypatch.setattr(scoring, "_gaps", lambda v: one_by_one.append(v) or gaps(v))
    assert _split_positions(_position_gaps(values)) == [
        Positions().decode_positions(v) for v in values
    ]
    assert not one_by_one  # all at once, not by the fallback
    # a value not as Positions writes it (no stop mark): decoded one by one, the same
    values[0] = values[0][:-1]
    assert _split_positions(_position_gaps(values)) == positions
    assert one_by_one


def test_position_gaps_of_an_index(searcher: Any) -> None:
    """The values of a posting list decoded at once are those decoded one by one."""
    reader = next(iter(searcher.leaf_searchers()))[0].reader()
    m = reader.postings("text", "архів")
    values = []
    while m.is_active():
        values.append(m.value())
        m.next()
    assert len(values) > 10
    assert _split_positions(_position_gaps(values)) == [
        Positions().decode_positions(v) for v in values
    ]


def test_filter_set_reused_as_array(searcher: Any) -> None:
    """A DocSet filter gives the same hits as the plain set, the first time and the next."""
    q = Term("text", "село")
    plain = set(searcher.docs_for_query(Term("fond", "р2")))
    docs = DocSet(plain)
    expected = top_docs(searcher, plan(q), 50, allow=plain)  # type: ignore[arg-type]
    for _ in range(2):
        assert top_docs(searcher, plan(q), 50, allow=docs) == expected  # type: ignore[arg-type]
