"""Snippets of hit pages: the query's words marked [[...]] in context, Whoosh's way, faster.

Whoosh 2.7.5 highlights a hit by running the field's analyzer over the stored text again
(tokenize, fold, lemmatize) and passing each Token through three generators (match, merge,
fragment): ~1.5-2 ms a page of 250 words on a quiet machine. The fragments depend only on
each token's characters and lemmas, so here the tokens are replayed from the tokenizer's
pattern and a cache of surface word -> index lemmas, and merged and cut into fragments by a
line-for-line port of Whoosh's code over plain tuples; Whoosh's own fragment scorer and
formatter finish. The snippet is the same string (tests/unit/test_snippets.py compares them).
"""

from __future__ import annotations

import re
from collections import deque
from functools import lru_cache
from typing import Any

from whoosh import highlight
from whoosh.analysis import Token

from arkhiv.search.analyzer import LEMMA_CACHE_SIZE, TOKEN_PATTERN, word_lemmas
from arkhiv.search.normalize import fold_token

__all__ = ["MarkFormatter", "snippet"]

_TOKEN = re.compile(TOKEN_PATTERN)


class MarkFormatter(highlight.Formatter):  # type: ignore[misc]
    """Marks hit words as [[word]]; the CLI and the web page render the marks."""

    between = " … "

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f"[[{highlight.get_text(text, token, replace)}]]"


_MAXCHARS, _SURROUND = 240, 70
_FRAGMENTER = highlight.ContextFragmenter(maxchars=_MAXCHARS, surround=_SURROUND)
_SCORER = highlight.BasicFragmentScorer()
_FORMATTER = MarkFormatter()


@lru_cache(maxsize=LEMMA_CACHE_SIZE)
def _index_terms(surface: str) -> tuple[str, ...]:
    """The terms the analyzer indexes at one token, in its order (index mode)."""
    return word_lemmas(fold_token(surface, keep_ge=True))[1]


def _tokens(text: str, words: frozenset[str]) -> list[tuple[int, int, bool, str]]:
    """(startchar, endchar, matched, text) of what analyzer()(text, chars=True, mode="index")
    | set_matched_filter(words) | Highlighter._merge_matched_tokens yields (Whoosh 2.7.5):
    every index term of a word at the word's characters, a run of matched terms merged
    into one token, quirks included (a matched term right after a merged token that ended
    before it is passed on alone)."""
    out: list[tuple[int, int, bool, str]] = []
    append = out.append
    terms_of, no_hit = _index_terms, words.isdisjoint  # ~1 µs a word: every lookup counts
    pending: list[Any] | None = None  # [startchar, endchar, text] of the merged token
    for match in _TOKEN.finditer(text):
        terms = terms_of(match.group())
        start, end = match.span()
        if pending is None and no_hit(terms):  # the common case: no hit here
            if len(terms) == 1:
                append((start, end, False, terms[0]))
            else:
                for term in terms:
                    append((start, end, False, term))
            continue
        for term in terms:
            if term not in words:
                if pending is not None:
                    append((pending[0], pending[1], True, pending[2]))
                    pending = None
                append((start, end, False, term))
            elif pending is None:
                pending = [start, end, term]
            elif start <= pending[1]:
                if end > pending[1]:
                    pending[2] += term[pending[1] - end :]
                    pending[1] = end
            else:
                append((pending[0], pending[1], True, pending[2]))
                pending = None
                append((start, end, True, term))
    if pending is not None:
        append((pending[0], pending[1], True, pending[2]))
    return out


def _fragments(text: str, tokens: list[tuple[int, int, bool, str]]) -> list[Any]:
    """ContextFragmenter(maxchars=240, surround=70).fragment_tokens of Whoosh 2.7.5, line
    for line, over plain tuples instead of Token objects."""
    maxchars, surround, charlimit = _MAXCHARS, _SURROUND, _FRAGMENTER.charlimit
    out: list[Any] = []
    first: int | None = None
    firsts: deque[int] = deque()
    countdown = -1
    tks: list[Token] = []
    endchar = 0
    currentlen = 0
    for startchar, endchar, matched, term in tokens:
        tlength = endchar - startchar
        if charlimit and endchar > charlimit:
            break
        if countdown < 0 and not matched:
            firsts.append(startchar)
            while firsts and endchar - firsts[0] > surround:
                firsts.popleft()
        elif currentlen + tlength > maxchars:
            countdown = 0
        elif matched:
            countdown = surround
            if first is None:
                if firsts:
                    first = firsts[0]
                else:
                    first = startchar
                    countdown += surround
            tks.append(Token(text=term, startchar=startchar, endchar=endchar, boost=1.0))
        if countdown >= 0:
            currentlen += tlength
            countdown -= tlength
            if countdown <= 0:
                out.append(highlight.mkfrag(text, tks, startchar=first, endchar=endchar))
                tks = []
                firsts = deque()
                first = None
                currentlen = 0
    if tks:
        out.append(highlight.mkfrag(text, tks, startchar=first, endchar=endchar))
    return out


def snippet(text: str, words: frozenset[str], top: int = 2) -> str:
    """The `top` best fragments of `text` with `words` (index terms) marked, as Whoosh's
    Highlighter (ContextFragmenter(maxchars=240, surround=70), BasicFragmentScorer, order
    FIRST, minscore 1) makes them; "" when no word occurs."""
    if not words:
        return ""
    fragments = _fragments(text, _tokens(text, words))
    best = highlight.top_fragments(fragments, top, _SCORER, highlight.FIRST, minscore=1)
    return str(_FORMATTER.format(best))
