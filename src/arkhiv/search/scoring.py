"""Whoosh's posting lists read a block at a time: top hits of word queries, filter sets, lengths.

Whoosh 2.7.5 scores one posting per chain of Python calls (matcher -> scorer -> field-length
column), about 10 µs a posting: a word on 40 % of 100,000 pages cost 140 ms with its block
quality skipping, which skips little on page text (every block has a page that scores high)
and then counts the total in a second pass. Here the same BM25F formula runs over whole
posting blocks, the documents' field lengths are read once per segment, and the exact total
comes from the same pass.

Planned: Term, And, Or and Phrase on the text field (what the parser gives for words and
phrases, and what fuzzy words become once expanded); anything else (prefixes, NOT, ranges,
other fields) returns None and the caller asks Whoosh. The scores are Whoosh's: the same
expression in the same order, so hits and their order are the same, except that a sum of
several words may differ in the last bit and so order two pages of equal score differently.
Filters (Term, And, Or of any field) become document sets the same way (doc_set), and the
index writer reads each field's lengths once (LengthsOnce). These read Whoosh 2.7.5's
W3LeafMatcher blocks through its private _read_ids/_read_weights/_read_values, the version
pyproject pins; any other matcher is read posting by posting.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Set
from dataclasses import dataclass
from itertools import accumulate
from pickle import loads
from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.query import And, Or, Phrase, Query, Term
from whoosh.scoring import BM25F
from whoosh.system import _INT_SIZE
from whoosh.util.numeric import byte_to_length

__all__ = ["LengthsOnce", "Plan", "TopDocs", "doc_set", "plan", "read_lengths", "top_docs"]

# A planned query: ("term", text, boost) | ("and", children) | ("or", children)
# | ("phrase", words, slop, boost).
Plan = tuple[Any, ...]


def plan(q: Query, fieldname: str = "text") -> Plan | None:
    """The query as a tree of word sets to score in bulk, or None if it is anything else."""
    kind = type(q)  # exact types: FuzzyTerm, Ordered, DisjunctionMax... are not plain sets
    if kind is Term:
        if q.fieldname != fieldname or not isinstance(q.text, str):
            return None
        return ("term", q.text, float(q.boost))
    if kind is Phrase:
        if q.fieldname != fieldname or not q.words or not all(isinstance(w, str) for w in q.words):
            return None
        return ("phrase", tuple(q.words), int(q.slop), float(q.boost))
    if kind in (And, Or) and q.boost == 1.0 and q.subqueries:
        if kind is Or and (q.minmatch or q.scale):
            return None
        children = [plan(sub, fieldname) for sub in q.subqueries]
        if any(child is None for child in children):
            return None
        return ("and" if kind is And else "or", children)
    return None


@dataclass(frozen=True)
class TopDocs:
    """The best `limit` (score, docnum) pairs, best first, and how many documents matched."""

    total: int
    top: list[tuple[float, int]]


def top_docs(
    searcher: Any,
    query: Plan,
    limit: int,
    *,
    allow: Set[int] | None = None,
    deny: Set[int] | None = None,
    fieldname: str = "text",
) -> TopDocs | None:
    """Score `query` on every document it matches; keep those in `allow` (if given) and not in
    `deny`. None when the searcher's weighting is not plain BM25F (the caller asks Whoosh)."""
    weighting = searcher.weighting
    if type(weighting) is not BM25F or fieldname in weighting._field_B:
        return None
    scores: dict[int, float] = {}
    for sub, offset in searcher.leaf_searchers():
        scores.update(_node_scores(searcher, sub, offset, query, weighting, fieldname))
    if allow is not None:  # walk the smaller of the filter and the matches
        if len(allow) < len(scores):
            scores = {d: scores[d] for d in allow if d in scores}
        else:
            scores = {d: s for d, s in scores.items() if d in allow}
    if deny:  # the mask (restricted documents) is small: remove its members
        for d in deny:
            scores.pop(d, None)
    return TopDocs(len(scores), _best(scores, limit))


def _best(scores: dict[int, float], limit: int) -> list[tuple[float, int]]:
    """The `limit` best (score, docnum): best score first, on equal scores the lower document
    number, as Whoosh's TopCollector orders them. The limit's score is found by a sort of
    the bare floats (in C), and only the documents that reach it are ordered."""
    if limit <= 0 or not scores:
        return []
    kept: Iterable[tuple[int, float]] = scores.items()
    if len(scores) > limit:
        threshold = sorted(scores.values(), reverse=True)[limit - 1]
        kept = [(d, s) for d, s in scores.items() if s >= threshold]
    return [(-neg, d) for neg, d in sorted((-s, d) for d, s in kept)[:limit]]


def doc_set(searcher: Any, q: Query) -> set[int] | None:
    """The documents a filter query matches (Term of any field, And, Or), as
    searcher.docs_for_query(q) gives them, from posting blocks read in bulk: Whoosh's union
    matcher costs ~1 µs a posting in Python calls, 50 ms for a ten-year range of 100,000
    pages. None for any other query (the caller asks Whoosh)."""
    node = _filter_plan(q)
    if node is None:
        return None
    found: set[int] = set()
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        ids = _node_ids(reader, node)
        if reader.has_deletions():
            ids -= reader.deleted_docs_set
        found.update((d + offset for d in ids) if offset else ids)
    return found


def _filter_plan(q: Query) -> Plan | None:
    kind = type(q)
    if kind is Term:
        return ("term", q.fieldname, q.text)
    if kind in (And, Or) and q.subqueries:
        if kind is Or and (q.minmatch or q.scale):
            return None
        children = [_filter_plan(sub) for sub in q.subqueries]
        if any(child is None for child in children):
            return None
        return ("and" if kind is And else "or", children)
    return None


def _node_ids(reader: Any, node: Plan) -> set[int]:
    if node[0] == "term":
        _kind, fieldname, text = node
        schema = reader.schema
        if fieldname not in schema:
            return set()
        field = schema[fieldname]
        try:
            btext = field.to_bytes(text)
        except ValueError:
            return set()
        if (fieldname, btext) not in reader:
            return set()
        ids: set[int] = set()
        matcher = reader._terms.matcher(fieldname, btext, field.format)
        if isinstance(matcher, W3LeafMatcher):
            while matcher.is_active():
                matcher._read_ids()
                ids.update(matcher._ids)
                matcher._next_block()
        else:
            while matcher.is_active():
                ids.add(matcher.id())
                matcher.next()
        return ids
    parts = [_node_ids(reader, child) for child in node[1]]
    return set.intersection(*parts) if node[0] == "and" else set.union(*parts)


def _node_scores(
    top: Any, sub: Any, offset: int, node: Plan, weighting: BM25F, fieldname: str
) -> dict[int, float]:
    """Global docnum -> score of one planned node in one segment."""
    if node[0] == "term":
        return _term_scores(top, sub, offset, node[1], node[2], weighting, fieldname)
    if node[0] == "phrase":
        return _phrase_scores(top, sub, offset, node, weighting, fieldname)
    parts = [_node_scores(top, sub, offset, child, weighting, fieldname) for child in node[1]]
    if node[0] == "and":
        # Whoosh's IntersectionMatcher adds its children's scores, first to last.
        common = set(parts[0]).intersection(*parts[1:])
        out = dict.fromkeys(common, 0.0)
        for part in parts:
            for d in common:
                out[d] += part[d]
        return out
    out = dict(parts[0])  # "or": UnionMatcher adds the scores of the children that match
    for part in parts[1:]:
        for d, s in part.items():
            out[d] = out[d] + s if d in out else s
    return out


def _term_scores(
    top: Any,
    sub: Any,
    offset: int,
    text: str,
    boost: float,
    weighting: BM25F,
    fieldname: str,
) -> dict[int, float]:
    scores, _values = _scored_postings(top, sub, offset, text, weighting, fieldname, False)
    if boost != 1.0:  # Term.matcher wraps the matcher: its score times the boost
        scores = {d: s * boost for d, s in scores.items()}
    return scores


def _scored_postings(
    top: Any,
    sub: Any,
    offset: int,
    text: str,
    weighting: BM25F,
    fieldname: str,
    with_values: bool,
) -> tuple[dict[int, float], dict[int, bytes]]:
    """Global docnum -> BM25F score of one word in one segment, and (with_values) docnum ->
    the posting's value (its encoded positions)."""
    reader = sub.reader()
    field = top.schema[fieldname]
    btext = field.to_bytes(text)
    if (fieldname, btext) not in reader:
        return {}, {}
    # Global statistics, as BM25FScorer takes them from the top searcher.
    idf = top.idf(fieldname, btext)
    avgfl = top.avg_field_length(fieldname) or 1
    B, K1 = weighting.B, weighting.K1
    lengths = _field_lengths(reader, fieldname)
    ids: list[int] = []
    weights: list[float] = []
    values: list[bytes] = []
    matcher = reader._terms.matcher(fieldname, btext, field.format)  # no deletion filter
    if isinstance(matcher, W3LeafMatcher):
        # A posting block at a time: Whoosh 2.7.5's own block readers, without the
        # per-posting calls of id()/weight()/next().
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            if with_values:
                matcher._read_values()
                values.extend(matcher._values)
            matcher._next_block()
    else:  # postings inlined in the term info (rare words): a ListMatcher
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            if with_values:
                values.append(matcher.value())
            matcher.next()
    # The expression of whoosh.scoring.bm25, idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B)
    # + B * fl / avgfl))), in the same order, so that the floats are the same; its length
    # part is the same for every word and is computed once per document (_length_norms).
    norms = _length_norms(reader, fieldname, lengths, B, K1, avgfl)
    k1_plus_1 = K1 + 1
    scores = {
        offset + d: idf * ((tf * k1_plus_1) / (tf + norms[d]))
        for d, tf in zip(ids, weights, strict=True)
    }
    deleted = reader.deleted_docs_set if reader.has_deletions() else ()
    for d in deleted:
        scores.pop(offset + d, None)
    by_doc = {offset + d: v for d, v in zip(ids, values, strict=True)} if with_values else {}
    return scores, by_doc


def _phrase_scores(
    top: Any, sub: Any, offset: int, node: Plan, weighting: BM25F, fieldname: str
) -> dict[int, float]:
    """Whoosh 2.7.5's Phrase: a SpanNear2 (ordered, mindist 1) over an IntersectionMatcher of
    its words, so a document that has the words in order within `slop` scores the sum of
    the words' scores."""
    _kind, words, slop, boost = node
    parts = [_scored_postings(top, sub, offset, w, weighting, fieldname, True) for w in words]
    if any(not scores for scores, _ in parts):
        return {}
    common = set(parts[0][0]).intersection(*(scores for scores, _ in parts[1:]))
    out: dict[int, float] = {}
    for d in sorted(common):
        positions = [_positions(values[d]) for _, values in parts]
        if _adjacent(positions) if slop == 1 else _in_order(positions, slop):
            score = 0.0
            for scores, _ in parts:
                score += scores[d]
            out[d] = score * boost if boost != 1.0 else score
    return out


def _positions(value: bytes) -> list[int]:
    """whoosh.formats.Positions.decode_positions (Whoosh 2.7.5): a 4-byte frequency, then the
    pickled gaps between positions; the running sum done in C."""
    if not value.endswith(b"."):
        value += b"."
    return list(accumulate(loads(value[_INT_SIZE:])))


def _adjacent(positions: list[list[int]]) -> bool:
    """_in_order with slop 1, the parser's phrase: the words at consecutive positions."""
    starts = set(positions[0])
    for i, following in enumerate(positions[1:], 1):
        present = set(following)
        starts = {p for p in starts if p + i in present}
        if not starts:
            return False
    return True


def _in_order(positions: list[list[int]], slop: int) -> bool:
    """SpanNear2Matcher._get_spans(ordered=True, mindist=1) of Whoosh 2.7.5 on (start, end)
    pairs: whether the words occur in this order, each within `slop` of the one before."""
    aspans = [(p, p) for p in positions[0]]
    for bpositions in positions[1:]:
        bspans = [(p, p) for p in bpositions]
        found: set[tuple[int, int]] = set()
        for astart, aend in aspans:
            j = bisect_left(bpositions, astart)  # bisect_spans: first span starting >= start
            while j < len(bspans):
                bstart, bend = bspans[j]
                j += 1
                if bend < astart - slop or astart > bstart:
                    continue
                if bstart > aend + slop:
                    break
                if astart <= bend and bstart <= aend:  # Span.overlaps, for start <= end spans
                    dist = 0
                elif aend < bstart:
                    dist = bstart - aend
                else:
                    dist = astart - bend
                if 1 <= dist <= slop:
                    found.add((min(astart, bstart), max(aend, bend)))
        aspans = sorted(found)
        if not aspans:
            return False
    return True


def _field_lengths(reader: Any, fieldname: str) -> list[int | None]:
    """Each document's length of `fieldname` as Whoosh's scorer sees it (one byte, decoded),
    read once per segment reader: a reader sees one fixed segment."""
    cache: dict[str, list[int | None]] | None = getattr(reader, "_arkhiv_lengths", None)
    if cache is None:
        cache = {}
        reader._arkhiv_lengths = cache
    found = cache.get(fieldname)
    if found is None:
        found = read_lengths(reader._perdoc, fieldname, 1)
        cache[fieldname] = found
    return found


def _length_norms(
    reader: Any, fieldname: str, lengths: list[int | None], B: float, K1: float, avgfl: float
) -> list[float]:
    """K1 * ((1 - B) + B * fl / avgfl) of every document, once per segment reader and global
    average length (the top searcher's, fixed while the reader is)."""
    key = (fieldname, B, K1, avgfl)
    cached: tuple[Any, list[float]] | None = getattr(reader, "_arkhiv_norms", None)
    if cached is None or cached[0] != key:
        # (None, the byte 0, is a document without the field: no posting refers to it)
        norms = [K1 * ((1 - B) + B * (fl or 0) / avgfl) for fl in lengths]
        cached = (key, norms)
        reader._arkhiv_norms = cached
    return cached[1]


# byte -> length as W3PerDocReader.doc_field_length gives it: None for the byte 0.
_LENGTHS: list[int | None] = [None, *(byte_to_length(b) for b in range(1, 256))]


def read_lengths(perdoc: Any, fieldname: str, default: int) -> list[int | None]:
    """What perdoc.doc_field_length(d, fieldname, default) gives for every document d of a
    segment's per-document reader, at once: Whoosh 2.7.5 keeps the lengths in a column of
    one byte per document and reads it a byte per call."""
    n = perdoc.doc_count_all()
    try:
        column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if column is None:  # a field without lengths (not scorable)
            return [default] * n
        raw = column._dbfile.get(column._basepos, column._count) if column._fixedlen == 1 else None
    except AttributeError:
        raw = None
    if raw is None:  # another codec: one call per document
        return [perdoc.doc_field_length(d, fieldname, default) for d in range(n)]
    found = [_LENGTHS[b] for b in bytes(raw)]
    found.extend([None] * (n - len(found)))  # past the column's end: the default byte 0
    return found


class LengthsOnce:
    """A segment's per-document reader whose doc_field_length reads each field's lengths once.

    Whoosh 2.7.5's writer asks the new segment's length of every posting it writes
    (FieldWriter.add_postings, for each block's shortest and longest document): a call and a
    file read per posting, a fifth of `arkhiv reindex`. The lengths are the same; only
    how they are read changes."""

    def __init__(self, perdoc: Any) -> None:
        self._perdoc = perdoc
        self._lengths: dict[tuple[str, int], list[int | None]] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        found = self._lengths.get((fieldname, default))
        if found is None:
            found = read_lengths(self._perdoc, fieldname, default)
            self._lengths[(fieldname, default)] = found
        return found[docnum]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._perdoc, name)
