"""Whoosh analyzers for Ukrainian page text: tokenize, fold, lemmatize with pymorphy3.

Use the one mode-aware analyzer for the page field; Whoosh passes mode="index" when it
indexes or re-tokenizes stored text for highlighting and mode="query" when QueryParser
analyzes the user's words, so one field serves both sides::

    from whoosh.fields import TEXT, Schema
    from whoosh.qparser import QueryParser
    from arkhiv.search.analyzer import analyzer
    from arkhiv.search.normalize import normalize_text

    schema = Schema(text=TEXT(analyzer=analyzer(), stored=True, phrase=True))
    writer.add_document(text=normalize_text(ocr_text))
    query = QueryParser("text", schema).parse(user_input)
    hit.highlights("text")  # re-tokenizes in index mode, so inflected forms light up

For whoosh.highlight.highlight() pass mode="index" (its default "query" would reduce each
stored word to one lemma and miss matches).

Index mode puts every candidate lemma of a word at the word's position (same pos and
startchar/endchar); query mode yields one lemma per position, so phrases line up and the
query term is always one of the terms indexed for the same surface word. No stop words.

Choosing the one query lemma: pymorphy3's Ukrainian dictionary has no frequency data (every
parse scores 1.0), so its order of candidates says nothing about which is likely. In order:
1. readings tagged Name/Surn/Patr are dropped if the word has any other reading
   ("Львові" is Львів, not the surname Львов; "Гнатюка" keeps its surname reading);
2. a lemma in _QUERY_RIVALS yields to its common archival rival when both are candidates
   ("року" is рік, not рок);
3. the word itself if it is one of the remaining lemmas ("міст" stays міст, the bridge,
   and does not find "міста"; "дані" stays дані);
4. else the first remaining lemma in dictionary order.
The dictionary has no Geox grammeme, so places are preferred only by outranking names.
Counting readings per lemma (a "majority" rule) was measured and rejected: paradigm
syncretism, not frequency, drives those counts ("селі": 4 readings of сель, 1 of село;
"Рівному": 4 of рівний, 2 of рівне).

Hyphens: "будь-який", "Р-123", "1941-1945" are one token; in index mode its parts' lemmas
("р", "123") are added at the same position, so a fond code is found whole and by its
number. Letters and digits never share a segment: "1941р." gives "1941" and "р".
Wildcard and prefix text (Whoosh's tokenize=False) is folded but never lemmatized.

Thread safety: lemmas come from an lru_cache (thread-safe; two threads may compute the same
missing entry, which is harmless since the result is a pure function of the word) around
one lazily created MorphAnalyzer, whose parse() only reads its dictionaries. Each process
builds its own analyzer on first use (about 0.2 s).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from pymorphy3 import MorphAnalyzer
from whoosh.analysis import Analyzer, Filter, IDTokenizer, RegexTokenizer, Token

from arkhiv.search.normalize import APOSTROPHES, fold_ref, fold_token

__all__ = [
    "TOKEN_PATTERN",
    "FoldFilter",
    "LemmaFilter",
    "NumeroFilter",
    "UkrainianTokenizer",
    "analyzer",
    "index_analyzer",
    "query_analyzer",
    "word_lemmas",
]

# A letter that may start a word or follow an apostrophe. ʼ and ʹ are Unicode letters
# (Lm) but here they act only as apostrophes, so they may not begin or end a word.
_LETTER = r"[^\W\d_\u02bc\u02b9]"
# Combining marks (NFD й/ї, stress, titlo) and soft hyphens sit inside words in raw OCR
# text; matching them keeps startchar/endchar on the original, unnormalized string.
# Written as letters*(marks+ letters*)*, not (letter|mark)*: the same strings (the two sets
# are disjoint), a third faster in Python's regex engine, for indexing and snippets alike.
_MARKS = r"[\u0300-\u036f\u0483-\u0489\u00ad]"
_IN_WORD = rf"{_LETTER}*(?:{_MARKS}+{_LETTER}*)*"
_APOSTROPHE = "[" + re.escape(APOSTROPHES) + "]"
_LETTER_SEGMENT = rf"{_LETTER}{_IN_WORD}(?:{_APOSTROPHE}{_LETTER}{_IN_WORD})*"
_SEGMENT = rf"(?:\d+|{_LETTER_SEGMENT})"
# Hyphen-minus and the Unicode hyphens join segments; dashes (– —) separate words/ranges.
_HYPHEN_CHARS = "-\u2010\u2011"
TOKEN_PATTERN = rf"{_SEGMENT}(?:[{_HYPHEN_CHARS}]{_SEGMENT})*"

_ONE_HYPHEN = str.maketrans({"\u2010": "-", "\u2011": "-"})
_GE_TO_G = str.maketrans("ґ", "г")
_HAS_CYRILLIC = re.compile("[\u0400-\u052f]")

# Distinct words in a large archive stay well under this; each entry is a few hundred bytes.
LEMMA_CACHE_SIZE = 200_000


@lru_cache(maxsize=1)
def _morph() -> Any:
    # maxsize=1: the lazily built, process-wide analyzer without a mutable global.
    return MorphAnalyzer(lang="uk", result_type=None)


# Grammemes of personal-name readings, which rank below any other reading at query time.
_PERSONAL_NAME = frozenset({"Name", "Surn", "Patr"})

# Query time only: lemma -> the lemma it yields to when a word has both. Each rival is a
# rare word whose forms coincide with a very frequent word of archival text and which
# pymorphy3 happens to list first. Kept short on purpose: add an entry only for such a
# measured collision (tests/unit/test_analyzer.py, QUERY_LEMMA_TABLE). Checked and needing
# no entry: місто, район, область, наказ, справа, фонд, опис, протокол, колгосп.
_QUERY_RIVALS: dict[str, str] = {
    "рок": "рік",  # року, рокові: "fate; rock music" vs "year" (dates on every page)
    "сель": "село",  # селі: "mudflow" vs "village"
    "рад": "рада",  # ради, раді, рад: "rad" (dose unit), "glad" vs "council" (сільрада)
    "кий": "київ",  # Києві: "cue, club" vs the city
    "голови": "голова",  # голови: rare plural-only noun vs "head, chairman"
}


def _parses(word: str) -> list[tuple[str, bool]]:
    """(folded lemma, is a personal name) per pymorphy3 parse of a folded word, in order."""
    if not _HAS_CYRILLIC.search(word):
        return [(word, False)]  # numbers and Latin words are their own term
    parses = [
        (fold_token(parse[2]), not _PERSONAL_NAME.isdisjoint(parse[1].grammemes))
        for parse in _morph().parse(word)
    ]
    return parses or [(word.translate(_GE_TO_G), False)]


def _candidates(word: str) -> list[str]:
    """Folded distinct lemmas of one folded word (ґ kept), in pymorphy3's order."""
    return list(dict.fromkeys(lemma for lemma, _ in _parses(word)))


def _query_term(word: str, parses: list[tuple[str, bool]]) -> str:
    """The one query lemma of a word (folded, ґ as г) by the rules in the module docstring."""
    lemmas = [lemma for lemma, is_name in parses if not is_name]
    if not lemmas:
        lemmas = [lemma for lemma, _ in parses]
    present = set(lemmas)
    # A rival never drops the last lemma: the lemma it yields to is present and no rival's
    # winner is itself a rival (a test checks the table for chains).
    lemmas = [lemma for lemma in lemmas if _QUERY_RIVALS.get(lemma) not in present]
    return word if word in lemmas else lemmas[0]


@lru_cache(maxsize=LEMMA_CACHE_SIZE)
def word_lemmas(word: str) -> tuple[str, tuple[str, ...]]:
    """Return (query term, index terms) for a word already folded with keep_ge=True."""
    word = word.translate(_ONE_HYPHEN)
    parses = _parses(word)
    query_term = _query_term(word.translate(_GE_TO_G), parses)
    index_terms = list(dict.fromkeys(lemma for lemma, _ in parses))
    if "-" in word:
        for part in word.split("-"):
            for lemma in _candidates(part) if part else ():
                if lemma not in index_terms:
                    index_terms.append(lemma)
    return query_term, tuple(index_terms)


class UkrainianTokenizer(RegexTokenizer):  # type: ignore[misc]
    """RegexTokenizer on TOKEN_PATTERN that tells filters whether the text was tokenized."""

    def __init__(self) -> None:
        super().__init__(TOKEN_PATTERN)

    def __call__(self, value: str, tokenize: bool = True, **kwargs: Any) -> Iterator[Token]:
        # Whoosh calls with tokenize=False for wildcard, prefix and range text; the extra
        # keyword becomes a Token attribute so LemmaFilter leaves such text unlemmatized.
        tokens: Iterator[Token] = super().__call__(
            value, tokenize=tokenize, lemmatize=tokenize, **kwargs
        )
        return tokens


# What Tesseract's `ukr` model reads for `№`, which it cannot write (pipeline/page/numero.py
# puts most back; what it could not is still searchable): a token of one to three look-alike
# letters standing right before a number or a fund code.
_NUMERO_LOOKALIKE = re.compile(r"[МЖЮЙХНNКмжю][МмЖжЮюЙйХхНNКкИиОоOoеeСc]{0,2}")
_NUMBERED = re.compile(r"\d|[РПрпPR]-\d")


class NumeroFilter(Filter):  # type: ignore[misc]
    """Drop a look-alike of `№` before a number, as `№` itself is dropped (it is no word):
    "наказ М 149" is indexed as "наказ № 149" is, so the phrase "наказ № 149" finds both.
    The words after it move up one position, as if it had never been read."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        held: Token | None = None  # a look-alike, kept until the next token tells
        dropped = 0
        for t in tokens:
            if held is not None:
                if _NUMBERED.match(t.text):
                    dropped += 1
                else:
                    yield _moved_up(held, dropped)
                held = None
            if getattr(t, "lemmatize", True) and _NUMERO_LOOKALIKE.fullmatch(t.text):
                held = t.copy()  # Whoosh reuses one Token object for every token
                continue
            yield _moved_up(t, dropped)
        if held is not None:
            yield _moved_up(held, dropped)


def _moved_up(t: Token, by: int) -> Token:
    if by and getattr(t, "positions", False):
        t.pos -= by
    return t


class FoldFilter(Filter):  # type: ignore[misc]
    """Replace each token's text with fold_token(text)."""

    def __init__(self, keep_ge: bool = False) -> None:
        self.keep_ge = keep_ge

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        keep_ge = self.keep_ge
        for t in tokens:
            t.text = fold_token(t.text, keep_ge=keep_ge)
            yield t


class LemmaFilter(Filter):  # type: ignore[misc]
    """Replace folded words by lemmas: all at one position to index, one to query.

    mode None follows the mode Whoosh passes to the analyzer; "index"/"query" force it.
    Expects FoldFilter(keep_ge=True) before it.
    """

    is_morph = True  # lets Whoosh skip it where it asks for unmorphed terms

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        forced = self.mode
        for t in tokens:
            if not getattr(t, "lemmatize", True):
                t.text = t.text.translate(_GE_TO_G)
                yield t
                continue
            query_term, index_terms = word_lemmas(t.text)
            if (forced or t.mode) == "query":
                t.text = query_term
                yield t
            else:
                # The same Token object is re-yielded with only .text changed: pos,
                # startchar and endchar stay those of the surface word, as Whoosh's
                # positions and highlighter need.
                for term in index_terms:
                    t.text = term
                    yield t


def _build(mode: str | None) -> Analyzer:
    composite: Analyzer = (
        UkrainianTokenizer() | NumeroFilter() | FoldFilter(keep_ge=True) | LemmaFilter(mode)
    )
    return composite


def analyzer() -> Analyzer:
    """The analyzer for schema fields: index or query behaviour by Whoosh's mode argument."""
    return _build(None)


def index_analyzer() -> Analyzer:
    """An analyzer that always emits every candidate lemma per position."""
    return _build("index")


def query_analyzer() -> Analyzer:
    """An analyzer that always emits exactly one lemma per position."""
    return _build("query")


class RefFoldFilter(Filter):  # type: ignore[misc]
    """Replace each token's text with fold_ref(text)."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = fold_ref(t.text)
            yield t


def ref_analyzer() -> Analyzer:
    """The analyzer of reference fields (fond:Р-123): the whole value is one folded term."""
    composite: Analyzer = IDTokenizer() | RefFoldFilter()
    return composite
