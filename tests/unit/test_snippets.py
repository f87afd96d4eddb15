"""Snippets made without re-running the analyzer are Whoosh's own highlights, character for
character, on Ukrainian text (apostrophes, ґ/ї/є, hyphens, combining marks, long pages)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from whoosh import highlight

from arkhiv.search.index import PageIndex, PageRecord, _text_words
from arkhiv.search.snippets import MarkFormatter, snippet

TEXTS = [
    "М'ясо та сім’я: пʼять Ґанків у селі Їжаківка. Євген приніс ґанок, а ганок стояв.",
    "Фонд Р-123, опис 4, справа 56. Будь-який документ будь-якого року (1941-1945) "
    "зберігається у Р-123; Р‑123 з нерозривним дефісом.",
    "Йо\u0306жик і йожик; за\u0301мок і замок; пере\u00adнос слова; «лапки» ‘цитата’ "
    "та апостроф ʼ на початку.",
    "Рада ради раді радою; сільрада; міська рада. Голова сільської ради, голови рад.",
    "Короткий текст без збігів.",
]

QUERIES = [
    "м'ясо",
    "сім'я",
    "п’ять",
    "ґанок",
    "ганок",
    "їжаківка",
    "Євген",
    "Р-123",
    "123",
    "будь-який",
    "1941",
    "йожик",
    "замок",
    "перенос",
    "рада",
    "голова ради",
    '"міська рада"',
    "ра*",
    "цитата",
]


def _long_texts(seed: int, n: int) -> list[str]:
    """Pages of ~250 words drawn from TEXTS, so that fragments fill up and get cut."""
    rng = random.Random(seed)
    words = " ".join(TEXTS).split()
    return [" ".join(rng.choices(words, k=rng.randint(20, 300))) for _ in range(n)]


@pytest.fixture(scope="module")
def ix(tmp_path_factory: pytest.TempPathFactory) -> PageIndex:
    path: Path = tmp_path_factory.mktemp("snippets")
    index = PageIndex.open(path, create=True)
    texts = TEXTS + _long_texts(3, 60)
    index.write_pages(
        PageRecord(1, i + 1, str(i), "d", t, None, None, None) for i, t in enumerate(texts)
    )
    return index


def _whoosh_highlights(results: Any) -> list[str]:
    """What PageIndex.search made before: Whoosh's highlighter re-analysing the stored text."""
    results.fragmenter = highlight.ContextFragmenter(maxchars=240, surround=70)
    results.formatter = MarkFormatter()
    return [hit.highlights("text", top=2) for hit in results]


@pytest.mark.parametrize("query", QUERIES)
def test_snippet_equals_whoosh_highlights(ix: PageIndex, query: str) -> None:
    parsed = ix.parse(query)
    with ix.searcher() as searcher:
        results = searcher.search(parsed, limit=None)
        assert len(results) > 0, query
        words = _text_words(parsed, searcher)
        ours = [snippet(hit["text"], words, top=2) for hit in results]
        assert ours == _whoosh_highlights(results)
        assert any("[[" in s for s in ours)


def test_snippet_of_text_without_the_words_is_empty() -> None:
    assert snippet("Короткий текст без збігів.", frozenset({"рада"})) == ""
    assert snippet("Рада", frozenset()) == ""


def test_snippet_marks_surface_forms() -> None:
    text = "Голова сільської ради, голови рад. М’ясо та м'ясо."
    # (Whoosh ends a fragment at its last word: the final full stop is not in it)
    assert (
        snippet(text, frozenset({"рада"}))
        == "Голова сільської [[ради]], голови [[рад]]. М’ясо та м'ясо"
    )
    assert "[[М’ясо]]" in snippet(text, frozenset({"м'ясо"}))
