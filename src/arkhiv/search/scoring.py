"""Whoosh's posting lists read a list at a time: top hits of word queries, filter sets, lengths.

Whoosh 2.7.5 scores one posting per chain of Python calls (matcher -> scorer -> field-length
column), about 10 µs a posting: a word on 40 % of 100,000 pages cost 140 ms with its block
quality skipping, which skips little on page text (every block has a page that scores high)
and then counts the total in a second pass. Here the same BM25F formula runs over whole
posting lists as numpy arrays, the documents' length norms are computed once per segment,
and the exact total comes from the same pass.

Planned: Term, And, Or and Phrase on the text field (what the parser gives for words and
phrases, and what fuzzy words become once expanded); anything else (prefixes, NOT, ranges,
other fields) returns None and the caller asks Whoosh. The scores are Whoosh's: the same
expression in the same order on IEEE doubles (numpy's elementwise operations round each
step, as Python does), so hits and their order are the same, except that a sum of several
words may differ in the last bit and so order two pages of equal score differently.
Filters (Term, And, Or of any field) become document sets the same way (doc_set), and the
index writer reads each field's lengths once (lengths.py).

Posting lists of segments written by ArkhivCodec (codec.py) are read in one pass without
their positions; those of Whoosh's W3Codec segments (an index written before it) through
W3LeafMatcher's private _read_ids/_read_weights/_read_values of Whoosh 2.7.5, the version
pyproject pins; inlined postings (a ListMatcher) posting by posting.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Set
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from pickle import loads
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.query import And, Or, Phrase, Query, Term
from whoosh.scoring import BM25F
from whoosh.system import _INT_SIZE

from arkhiv.search.codec import ArkhivLeafMatcher, BulkPostings
from arkhiv.search.lengths import length_norms

__all__ = [
    "DocSet",
    "Plan",
    "TopDocs",
    "doc_set",
    "plan",
    "top_docs",
]

# A planned query: ("term", text, boost) | ("and", children) | ("or", children)
# | ("phrase", words, slop, boost).
Plan = tuple[Any, ...]

Ids = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
_NO_IDS: Ids = np.zeros(0, dtype=np.int64)
_NO_SCORES: Floats = np.zeros(0, dtype=np.float64)


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


class DocSet(set[int]):
    """A set of document numbers (what Whoosh's filter and mask take) that keeps, once made,
    its members as a boolean array over the searcher's documents: a filter is reused by many
    searches, and turning 40,000 numbers into an array costs ~2 ms each time. Not to be
    changed once used as a filter (the array would not follow)."""

    _mask: Mask | None = None

    def mask(self, size: int) -> Mask:
        found = self._mask
        if found is None or len(found) != size:
            found = _new_mask(self, size)
            self._mask = found
        return found


def _mask_of(docs: Set[int], size: int) -> Mask:
    return docs.mask(size) if isinstance(docs, DocSet) else _new_mask(docs, size)


def _new_mask(docs: Set[int], size: int) -> Mask:
    mask = np.zeros(size, dtype=np.bool_)
    if docs:
        found = np.fromiter(docs, dtype=np.int64, count=len(docs))
        mask[found[(found >= 0) & (found < size)]] = True
    return mask


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
    size = searcher.doc_count_all()
    allow_mask = _mask_of(allow, size) if allow is not None else None
    deny_mask = _mask_of(deny, size) if deny else None
    found_ids: list[Ids] = []
    found_scores: list[Floats] = []
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        keep = _keep(reader, offset, allow_mask, deny_mask)
        segment = _Segment(searcher, reader, fieldname, keep, weighting)
        ids, scores = _node_scores(segment, query)
        found_ids.append(ids + offset if offset else ids)
        found_scores.append(scores)
    ids = np.concatenate(found_ids) if found_ids else _NO_IDS
    scores = np.concatenate(found_scores) if found_scores else _NO_SCORES
    return TopDocs(len(ids), _best(ids, scores, limit))


def _keep(reader: Any, offset: int, allow: Mask | None, deny: Mask | None) -> Mask | None:
    """The segment's documents that may match: not deleted, allowed, not denied (None: all).
    A document's matching and score depend on its own postings only, so the postings of the
    others can be dropped as they are read, before intersections and phrase checks."""
    n = reader.doc_count_all()
    keep = _live(reader)
    if allow is not None:
        part = allow[offset : offset + n]
        keep = part if keep is None else keep & part
    if deny is not None:
        part = ~deny[offset : offset + n]
        keep = part if keep is None else keep & part
    return keep


def _live(reader: Any) -> Mask | None:
    """The segment's documents not deleted, or None if none is; once per reader (a reader's
    deleted_docs_set is fixed: Whoosh caches it too)."""
    if not reader.has_deletions():
        return None
    cached: Mask | None = getattr(reader, "_arkhiv_live", None)
    if cached is None:
        cached = np.ones(reader.doc_count_all(), dtype=np.bool_)
        deleted = reader.deleted_docs_set
        cached[np.fromiter(deleted, dtype=np.int64, count=len(deleted))] = False
        reader._arkhiv_live = cached
    return cached


def _best(ids: Ids, scores: Floats, limit: int) -> list[tuple[float, int]]:
    """The `limit` best (score, docnum): best score first, on equal scores the lower document
    number, as Whoosh's TopCollector orders them. The limit's score is found by a partition,
    and only the documents that reach it are ordered."""
    if limit <= 0 or not len(ids):
        return []
    if len(ids) > limit:
        threshold = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        reach = np.flatnonzero(scores >= threshold)
        ids, scores = ids[reach], scores[reach]
    order = np.lexsort((ids, -scores))[:limit]
    return list(zip(scores[order].tolist(), ids[order].tolist(), strict=True))


def doc_set(searcher: Any, q: Query) -> DocSet | None:
    """The documents a filter query matches (Term of any field, And, Or), as
    searcher.docs_for_query(q) gives them, from posting lists read in bulk: Whoosh's union
    matcher costs ~1 µs a posting in Python calls, 50 ms for a ten-year range of 100,000
    pages. None for any other query (the caller asks Whoosh)."""
    node = _filter_plan(q)
    if node is None:
        return None
    parts: list[Ids] = []
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        ids = _node_ids(reader, node)
        live = _live(reader)
        if live is not None:
            ids = ids[live[ids]]
        parts.append(ids + offset if offset else ids)
    found = np.concatenate(parts) if parts else _NO_IDS
    out = DocSet(found.tolist())
    mask = np.zeros(searcher.doc_count_all(), dtype=np.bool_)
    mask[found] = True
    out._mask = mask
    return out


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


def _node_ids(reader: Any, node: Plan) -> Ids:
    """The sorted segment docnums of a filter node (deleted ones included)."""
    if node[0] == "term":
        _kind, fieldname, text = node
        schema = reader.schema
        if fieldname not in schema:
            return _NO_IDS
        field = schema[fieldname]
        try:
            btext = field.to_bytes(text)
        except ValueError:
            return _NO_IDS
        if (fieldname, btext) not in reader:
            return _NO_IDS
        ids: Ids = _postings(reader, fieldname, btext, field.format).ids
        return ids
    parts = [_node_ids(reader, child) for child in node[1]]
    if node[0] == "and":
        found = parts[0]
        for part in parts[1:]:
            found = np.intersect1d(found, part, assume_unique=True)
        return found
    return np.unique(np.concatenate(parts))


def _postings(reader: Any, fieldname: str, btext: bytes, format_: Any) -> BulkPostings:
    """A term's whole posting list in one segment, deleted documents included."""
    matcher = reader._terms.matcher(fieldname, btext, format_)
    if isinstance(matcher, ArkhivLeafMatcher):
        return matcher.read_all()
    ids: list[int] = []
    weights: list[float] = []
    values: list[Any] = []
    if isinstance(matcher, W3LeafMatcher):
        # A posting block at a time: Whoosh 2.7.5's own block readers, without the
        # per-posting calls of id()/weight()/next(). Its values were unpickled with the ids.
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            matcher._read_values()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            values.extend(matcher._values)
            matcher._next_block()
    else:  # postings inlined in the term info (rare words): a ListMatcher
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            values.append(matcher.value())
            matcher.next()

    def values_at(indices: Ids) -> list[Any]:
        return [values[i] for i in indices.tolist()]

    return BulkPostings(
        np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64), values_at
    )


class _Segment:
    """What scoring one segment needs: the top searcher's statistics (BM25FScorer takes them
    from it), the segment's reader, its documents that may match and their length norms."""

    def __init__(
        self, top: Any, reader: Any, fieldname: str, keep: Mask | None, weighting: BM25F
    ) -> None:
        self.top = top
        self.reader = reader
        self.fieldname = fieldname
        self.field = top.schema[fieldname]
        self.keep = keep
        self.weighting = weighting
        self.k1_plus_1 = weighting.K1 + 1

    @cached_property
    def norms(self) -> Floats:
        """Read once a word is found (an empty index's reader has no lengths to read)."""
        avgfl = self.top.avg_field_length(self.fieldname) or 1
        B, K1 = self.weighting.B, self.weighting.K1
        return length_norms(self.reader, self.fieldname, B, K1, avgfl)

    def postings(self, text: str) -> tuple[bytes, BulkPostings] | None:
        btext = self.field.to_bytes(text)
        if (self.fieldname, btext) not in self.reader:
            return None
        return btext, _postings(self.reader, self.fieldname, btext, self.field.format)

    def bm25(self, btext: bytes, tf: Floats, ids: Ids) -> Floats:
        """whoosh.scoring.bm25, idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl /
        avgfl))), in the same order, so that the floats are the same; its length part is
        the same for every word and is computed once per document (lengths.length_norms)."""
        idf = self.top.idf(self.fieldname, btext)
        scores: Floats = idf * ((tf * self.k1_plus_1) / (tf + self.norms[ids]))
        return scores


def _node_scores(segment: _Segment, node: Plan) -> tuple[Ids, Floats]:
    """The segment's docnums (sorted) of one planned node and their scores."""
    if node[0] == "term":
        return _term_scores(segment, node[1], node[2])
    if node[0] == "phrase":
        return _phrase_scores(segment, node)
    parts = [_node_scores(segment, child) for child in node[1]]
    if node[0] == "and":
        # Whoosh's IntersectionMatcher adds its children's scores, first to last.
        common = parts[0][0]
        for ids, _scores in parts[1:]:
            common = np.intersect1d(common, ids, assume_unique=True)
        total = np.zeros(len(common), dtype=np.float64)
        for ids, scores in parts:
            total += scores[np.searchsorted(ids, common)]
        return common, total
    # "or": UnionMatcher adds the scores of the children that match, in their order
    everyone = np.unique(np.concatenate([ids for ids, _scores in parts]))
    total = np.zeros(len(everyone), dtype=np.float64)
    for ids, scores in parts:
        total[np.searchsorted(everyone, ids)] += scores
    return everyone, total


def _term_scores(segment: _Segment, text: str, boost: float) -> tuple[Ids, Floats]:
    found = segment.postings(text)
    if found is None:
        return _NO_IDS, _NO_SCORES
    btext, postings = found
    ids, tf = postings.ids, postings.weights
    if segment.keep is not None:
        kept = segment.keep[ids]
        ids, tf = ids[kept], tf[kept]
    scores = segment.bm25(btext, tf, ids)
    if boost != 1.0:  # Term.matcher wraps the matcher: its score times the boost
        scores = scores * boost
    return ids, scores


def _phrase_scores(segment: _Segment, node: Plan) -> tuple[Ids, Floats]:
    """Whoosh 2.7.5's Phrase: a SpanNear2 (ordered, mindist 1) over an IntersectionMatcher of
    its words, so a document that has the words in order within `slop` scores the sum of
    the words' scores. The positions are decoded for the documents with every word only."""
    _kind, words, slop, boost = node
    found = [segment.postings(w) for w in words]
    if any(f is None for f in found):
        return _NO_IDS, _NO_SCORES
    words_found = [f for f in found if f is not None]
    common = words_found[0][1].ids
    for _btext, postings in words_found[1:]:
        common = np.intersect1d(common, postings.ids, assume_unique=True)
    if segment.keep is not None:
        common = common[segment.keep[common]]
    if not len(common):
        return _NO_IDS, _NO_SCORES
    total = np.zeros(len(common), dtype=np.float64)
    gaps: list[Gaps] = []
    for btext, postings in words_found:
        at = np.searchsorted(postings.ids, common)
        total += segment.bm25(btext, postings.weights[at], common)
        gaps.append(_position_gaps(postings.values(at)))
    if slop == 1:
        matched = _adjacent_all(gaps, len(common))
    else:
        positions = [_split_positions(g) for g in gaps]
        matched = np.array(
            [_in_order([p[k] for p in positions], slop) for k in range(len(common))],
            dtype=np.bool_,
        )
    scores = total[matched]
    return common[matched], scores * boost if boost != 1.0 else scores


Gaps = tuple[Ids, Ids]  # per value: how many positions; all values' gaps, one after another

# Positions.encode of n positions (Whoosh 2.7.5): pack_uint(n) + pickle.dumps(gaps, 2), the
# list pickled as PROTO 2, EMPTY_LIST, BINPUT 0, then for n >= 2 MARK, the ints, APPENDS
# (a MARK and APPENDS more each 1000), for n == 1 the int, APPEND; then STOP.
_PROLOGUE = b"\x80\x02]q\x00"
_MARK, _APPENDS, _APPEND, _STOP = b"(", b"e", b"a", b"."
_HEAD = _INT_SIZE + len(_PROLOGUE)


def _position_gaps(values: list[bytes]) -> Gaps:
    """The gaps between positions of values of whoosh.formats.Positions, all at once: the
    values' list pickles, stripped in numpy of all but their ints, are unpickled as one list
    (one call, and one list instead of one a value: thousands of lists a query woke the
    garbage collector, tens of ms). Checked against the frequencies they start with; other
    values are decoded one by one."""
    n = len(values)
    if not n:
        return _NO_IDS, _NO_IDS
    data = np.frombuffer(b"".join(values), dtype=np.uint8)
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=n)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    if lengths.min() > _HEAD:
        head = data[starts[:, None] + np.arange(_HEAD)].astype(np.int64)
        counts = (head[:, 0] << 24) | (head[:, 1] << 16) | (head[:, 2] << 8) | head[:, 3]
        several, one = counts >= 2, counts == 1
        last = data[ends - 2]
        if (
            np.all(head[:, _INT_SIZE:] == np.frombuffer(_PROLOGUE, dtype=np.uint8))
            and np.all(data[ends - 1] == ord(_STOP))
            and np.all(data[np.minimum(starts + _HEAD, ends - 1)][several] == ord(_MARK))
            and np.all(last[several] == ord(_APPENDS))
            and np.all(last[one] == ord(_APPEND))
            and np.all(lengths[counts == 0] == _HEAD + 1)
        ):
            keep = np.ones(len(data), dtype=np.bool_)
            for i in range(_HEAD):
                keep[starts + i] = False
            keep[starts[several] + _HEAD] = False
            keep[ends - 1] = False
            keep[ends[counts > 0] - 2] = False
            found = loads(_PROLOGUE[:3] + _MARK + data[keep].tobytes() + _APPENDS + _STOP)
            if len(found) == int(counts.sum()):
                return counts, np.array(found, dtype=np.int64)
    lists = [_gaps(v) for v in values]
    counts = np.fromiter(map(len, lists), dtype=np.int64, count=n)
    flat = np.fromiter(chain.from_iterable(lists), dtype=np.int64, count=int(counts.sum()))
    return counts, flat


def _split_positions(gaps: Gaps) -> list[list[int]]:
    """Each value's positions, from _position_gaps."""
    counts, flat = gaps
    positions = _running_positions(counts, flat)
    return [p.tolist() for p in np.split(positions, np.cumsum(counts)[:-1])]


def _running_positions(counts: Ids, flat: Ids) -> Ids:
    """The running sums of the gaps of each value, restarting at each value."""
    running = np.cumsum(flat)
    first = np.concatenate(([0], running))[np.cumsum(counts) - counts]
    positions: Ids = running - np.repeat(first, counts)
    return positions


def _gaps(value: bytes) -> list[int]:
    """whoosh.formats.Positions.decode_positions (Whoosh 2.7.5) without the running sum."""
    if not value.endswith(b"."):
        value += b"."
    return list(loads(value[_INT_SIZE:]))


def _adjacent_all(words: list[Gaps], count: int) -> Mask:
    """Whether the words are at consecutive positions (a phrase with slop 1), for `count`
    documents at once, each word's positions as _position_gaps gives them: each (document,
    position) of a word is one number, document * 2**32 + position, and the phrases are the
    starts found at start + i in the i-th word's numbers, for every i."""
    starts: Ids | None = None
    for i, (counts, flat) in enumerate(words):
        positions = _running_positions(counts, flat)
        keys = (np.repeat(np.arange(count, dtype=np.int64), counts) << 32) + positions - i
        starts = np.unique(keys) if starts is None else np.intersect1d(starts, keys)
        if not len(starts):
            break
    matched = np.zeros(count, dtype=np.bool_)
    if starts is not None:
        matched[starts >> 32] = True
    return matched


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
