"""Whoosh index of pages: one entry per page, keyed by document and page number."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import collectors, fields, highlight, index
from whoosh.qparser import QueryParser
from whoosh.query import And, FuzzyTerm, NumericRange, Or, Query, Term

from arkhiv import __version__
from arkhiv.errors import QueryError, SearchIndexError
from arkhiv.metadata.fields import REF_FIELDS
from arkhiv.models import Hit
from arkhiv.search.analyzer import analyzer, ref_analyzer
from arkhiv.search.codec import ArkhivCodec
from arkhiv.search.generations import INDEX_DIR as INDEX_DIR
from arkhiv.search.generations import (
    INDEX_VERSION,
    drop_old_generations,
    new_generation,
    point_index_at,
    read_version,
    write_version,
)
from arkhiv.search.lengths import LengthsOnce
from arkhiv.search.normalize import fold_ref, fold_token
from arkhiv.search.scoring import DocSet, doc_set, plan, top_docs
from arkhiv.search.snippets import MarkFormatter
from arkhiv.search.snippets import snippet as make_snippet

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 1000
WRITER_TIMEOUT = 120.0  # seconds to wait for Whoosh's writer lock


@dataclass(frozen=True)
class PageRecord:
    """What the index stores for one page."""

    document_id: int
    number: int
    page_key: str  # content + settings hash: tells whether the indexed text is current
    document: str
    text: str
    pdf_path: str | None
    text_path: str | None
    pdf_page: int | None
    reference: Mapping[str, str] = field(default_factory=dict)  # archive, fond, opys, ...
    arkush: int | None = None
    verso: bool = False
    title: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    access: str = "open"


@dataclass(frozen=True)
class SearchFilters:
    """Restrictions on the archival reference and the years of the documents searched.

    Reference values are compared folded (fold_ref): `P-123` finds `Р-123`. A year range keeps
    documents whose dates overlap it; documents without dates are then left out.
    """

    repository: str | None = None
    fond: str | None = None
    opys: str | None = None
    sprava: str | None = None
    year_from: int | None = None
    year_to: int | None = None

    def is_empty(self) -> bool:
        return all(v is None for v in vars(self).values())

    def query(self) -> Query | None:
        terms: list[Query] = [
            Term(name, fold_ref(value))
            for name, value in (
                ("repository", self.repository),
                ("fond", self.fond),
                ("opys", self.opys),
                ("sprava", self.sprava),
            )
            if value
        ]
        if self.year_from is not None or self.year_to is not None:
            first = self.year_from if self.year_from is not None else MIN_YEAR
            last = self.year_to if self.year_to is not None else MAX_YEAR
            if last - first < YEAR_TERMS_SPAN:
                # Every year a document covers is a term of `years`: the documents that
                # overlap the range are those with any of its years, a few short posting
                # lists. (Two open numeric ranges each match half the archive: ~100 ms
                # at 10,000 pages, growing with the archive.)
                terms.append(Or([Term("years", str(y)) for y in range(first, last + 1)]))
            else:  # a wide range: two numeric bounds are cheaper than many terms
                if self.year_from is not None:  # ends in or after the first year asked
                    terms.append(NumericRange("year_to", self.year_from, None))
                if self.year_to is not None:  # and starts in or before the last
                    terms.append(NumericRange("year_from", None, self.year_to))
        return And(terms) if terms else None


MIN_YEAR, MAX_YEAR = 1000, 2100  # the dates arkhiv accepts (metadata/dates.py)
YEAR_TERMS_SPAN = 150  # a year filter up to this many years is resolved with year terms


def _years(year_from: int, year_to: int | None) -> str:
    """The `years` field of a document dated year_from..year_to: each year, space-separated."""
    last = year_to if year_to is not None else year_from
    return " ".join(str(y) for y in range(year_from, max(year_from, last) + 1))


def page_id(document_id: int, number: int) -> str:
    """The unique key of a page in the index: re-indexing a page replaces it."""
    return f"{document_id}:{number}"


def schema() -> fields.Schema:
    return fields.Schema(
        pid=fields.ID(unique=True, stored=True),
        page_key=fields.ID(stored=True),
        document_id=fields.NUMERIC(int, stored=True),
        page=fields.NUMERIC(int, stored=True),
        document=fields.STORED(),
        pdf_path=fields.STORED(),
        text_path=fields.STORED(),
        pdf_page=fields.STORED(),
        text=fields.TEXT(analyzer=analyzer(), stored=True, phrase=True),
        # Archival metadata (issue 6): reference parts as folded single terms, so that the
        # query syntax `fond:Р-123` and the filters match however the code was typed.
        repository=fields.ID(stored=True, analyzer=ref_analyzer()),
        fond=fields.ID(stored=True, analyzer=ref_analyzer()),
        opys=fields.ID(stored=True, analyzer=ref_analyzer()),
        sprava=fields.ID(stored=True, analyzer=ref_analyzer()),
        volume=fields.ID(stored=True, analyzer=ref_analyzer()),
        title=fields.TEXT(analyzer=analyzer(), stored=True),
        year_from=fields.NUMERIC(int, stored=True),
        year_to=fields.NUMERIC(int, stored=True),
        years=fields.KEYWORD(),  # every year from year_from to year_to, for range filters
        arkush=fields.STORED(),
        verso=fields.STORED(),
        access=fields.ID(stored=True),
    )


def _open_dir(path: Path, hint: str, attempts: int = 5) -> Any:
    """Whoosh's index at `path`, or None when there is none. A writer committing meanwhile may
    delete the table of contents Whoosh just chose (it keeps only the newest): the open is
    tried again then, and finds the new one."""
    for attempt in range(attempts):
        try:
            return index.open_dir(str(path)) if index.exists_in(str(path)) else None
        except Exception as e:
            if isinstance(e, FileNotFoundError) and attempt < attempts - 1:
                time.sleep(0.05 * (attempt + 1))
                continue
            raise SearchIndexError(
                f"{path}: the search index is damaged ({type(e).__name__}: {e})", hint=hint
            ) from e
    return None


class PageIndex:
    """The full-text index of one archive folder."""

    def __init__(self, ix: Any, path: Path, version: int | None = INDEX_VERSION) -> None:
        self._ix = ix
        self.path = path
        self.version = version  # of the index format (generations.py); None: not recorded

    @classmethod
    def open(cls, archive: Path, *, create: bool) -> PageIndex:
        """Open the archive's index; with `create`, make an empty one where there is none.

        `archive/index` is a symlink to the current generation (`index-N`), so a rebuild can
        replace it in one atomic rename while readers keep using the old one. An index
        written by a newer arkhiv (a higher INDEX_VERSION) is refused, never rebuilt down.
        """
        path = archive / INDEX_DIR
        hint = "rebuild it from the catalog: arkhiv reindex --archive " + str(archive)
        ix = _open_dir(path, hint)
        if ix is not None:
            found = read_version(path)
            if found is not None and found.version > INDEX_VERSION:
                by = f", {found.written_by}" if found.written_by else ""
                raise SearchIndexError(
                    f"{path}: the search index was written by a newer arkhiv (index version "
                    f"{found.version}{by}; this arkhiv {__version__} reads version "
                    f"{INDEX_VERSION})",
                    hint="upgrade arkhiv to use it, or rebuild it for this version: "
                    "arkhiv reindex --archive " + str(archive),
                )
            return cls(ix, path, found.version if found is not None else None)
        if not create:
            raise SearchIndexError(f"{path}: no search index", hint=hint)
        if path.is_dir() and not path.is_symlink() and any(path.iterdir()):
            raise SearchIndexError(f"{path}: not a search index", hint=hint)
        generation = new_generation(archive)
        ix = index.create_in(str(generation), schema())
        write_version(generation)
        point_index_at(archive, generation)
        return cls(ix, path)

    @classmethod
    def rebuild(cls, archive: Path, records: Iterable[PageRecord]) -> int:
        """Build a new index from `records` beside the current one, then switch to it
        atomically; searches use the old index until then. Returns the pages written."""
        generation = new_generation(archive)
        new = cls(index.create_in(str(generation), schema()), generation)
        count = new.write_pages(records)
        write_version(generation)
        point_index_at(archive, generation)
        drop_old_generations(archive, generation)
        return count

    def write_pages(self, records: Iterable[PageRecord]) -> int:
        """Add or replace pages in one commit; returns how many were written."""
        count = 0
        try:
            writer = self._ix.writer(timeout=WRITER_TIMEOUT, codec=ArkhivCodec())
        except index.LockError as e:
            raise SearchIndexError(
                f"{self.path}: the search index is locked by another writer "
                f"(waited {WRITER_TIMEOUT:g} s)",
                hint="another arkhiv process may be indexing; if none is running, remove "
                f"{self.path}/MAIN_WRITELOCK and run the same command again",
            ) from e
        per_document_reader = writer.per_document_reader
        writer.per_document_reader = lambda: LengthsOnce(per_document_reader())
        try:
            for r in records:
                writer.update_document(
                    pid=page_id(r.document_id, r.number),
                    page_key=r.page_key,
                    document_id=r.document_id,
                    page=r.number,
                    document=r.document,
                    pdf_path=r.pdf_path,
                    text_path=r.text_path,
                    pdf_page=r.pdf_page,
                    text=r.text,
                    arkush=r.arkush,
                    verso=r.verso,
                    access=r.access,
                    **{REF_FIELDS[k]: v for k, v in r.reference.items() if k in REF_FIELDS and v},
                    **({"title": r.title} if r.title else {}),
                    **({"year_from": r.year_from} if r.year_from is not None else {}),
                    **({"year_to": r.year_to} if r.year_to is not None else {}),
                    **({"years": _years(r.year_from, r.year_to)} if r.year_from else {}),
                )
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return count

    def is_current(self) -> bool:
        """False for an index written by an older arkhiv (another INDEX_VERSION, or none
        recorded): rebuild it from the catalog."""
        return self.version == INDEX_VERSION

    def doc_count(self) -> int:
        return int(self._ix.doc_count())

    def read_everything(self) -> int:
        """Read every posting of every term (for `arkhiv check`: a damaged segment fails
        here, not in a clerk's search); returns the postings read."""
        count = 0
        with self._ix.searcher() as s:
            reader = s.reader()
            for fieldname, text in reader.all_terms():
                count += len(list(reader.postings(fieldname, text).all_ids()))
        return count

    def indexed_keys(self) -> dict[str, str]:
        """pid -> page_key of every indexed page (for consistency checks)."""
        with self._ix.searcher() as s:
            return {f["pid"]: f["page_key"] for f in s.all_stored_fields()}

    def parse(self, query: str) -> Query:
        q = query.strip()
        if not q:
            raise QueryError("empty query", hint='type one or more words, e.g. "архівні дані"')
        if len(q) > MAX_QUERY_CHARS:
            raise QueryError(f"query too long ({len(q)} characters, at most {MAX_QUERY_CHARS})")
        parser = QueryParser("text", self._ix.schema)
        try:
            return parser.parse(q)
        except Exception as e:
            raise QueryError(f"cannot understand the query {q!r}: {e}") from e

    def search(
        self,
        query: str,
        limit: int = 10,
        filters: SearchFilters | None = None,
        *,
        page: int = 1,
        fuzzy: bool = False,
        include_restricted: bool = True,
        searcher: Any = None,
    ) -> SearchPage:
        """One page of hits (`limit` per page, `page` from 1) with snippets, and the total.

        `fuzzy` also matches words one edit away (OCR typos); without `include_restricted`
        documents marked restricted are masked out (they are neither counted nor shown). A
        query that finds nothing gets a "did you mean" suggestion from the index's terms.
        `searcher`: a Whoosh searcher to reuse (a server keeps one open); else one is opened.
        """
        parsed = self.parse(query)
        with contextlib.ExitStack() as stack:
            if searcher is None:
                searcher = stack.enter_context(self._ix.searcher())
            if fuzzy:
                parsed = _expand_fuzzy(parsed.accept(lambda q: _fuzzy(q, query)), searcher)
            restrict = _doc_set(searcher, filters.query() if filters is not None else None)
            mask = None if include_restricted else _doc_set(searcher, _RESTRICTED)
            if restrict is not None and not restrict:
                # Whoosh 2.7.5 reads an empty filter set as "no filter" (it is falsy in
                # FilterCollector): a filter that matches nothing is answered here.
                return SearchPage(0, [], None, searcher.doc_count())
            total, ranked = _ranked(searcher, parsed, max(page, 1) * limit, restrict, mask)
            words = _text_words(parsed, searcher)
            # A page number past the last gives no hits: a client paging until it gets
            # none must get none (Whoosh's search_page would show the last page again).
            hits = [
                _hit(searcher.stored_fields(docnum), score, words)
                for score, docnum in ranked[(max(page, 1) - 1) * limit :]
            ]
            suggestion = None
            if total == 0:
                suggestion = self._suggest(searcher, parsed, query)
                # Only a suggestion that finds something the asker may see: the index's
                # words include those of restricted documents, which must not leak.
                if suggestion is not None:
                    check = self.parse(suggestion)
                    found = searcher.search(check, limit=1, filter=restrict, mask=mask or None)
                    suggestion = None if found.is_empty() else suggestion
            return SearchPage(total, hits, suggestion, searcher.doc_count())

    def highlight_document(
        self, query: str, document_id: int, *, fuzzy: bool = False, searcher: Any = None
    ) -> dict[int, str]:
        """The whole text of each page of a document that matches `query`, hit words marked
        [[...]]; pages without a hit are left out."""
        parsed = self.parse(query)
        if fuzzy:
            parsed = parsed.accept(lambda q: _fuzzy(q, query))
        with contextlib.ExitStack() as stack:
            if searcher is None:
                searcher = stack.enter_context(self._ix.searcher())
            results = searcher.search(
                parsed, limit=None, terms=True, filter=Term("document_id", document_id)
            )
            results.fragmenter = highlight.WholeFragmenter(charlimit=None)
            results.formatter = MarkFormatter()
            return {hit["page"]: hit.highlights("text", top=1) or hit["text"] for hit in results}

    def searcher(self) -> Any:
        """A new Whoosh searcher (the caller closes it; `refresh()` picks up new commits)."""
        return self._ix.searcher()

    @staticmethod
    def _suggest(searcher: Any, parsed: Query, query: str) -> str | None:
        """The query with its unknown words replaced by the nearest indexed words, or None.

        Whoosh's own correct_query looks only at the query's lemma, which for an OCR or
        typing error is a guess (Ужгородь -> ужгородити); the word as typed is tried too.
        """
        try:
            reader = searcher.reader()
            corrector = searcher.corrector("text")
            out = query
            changed = False
            for term in sorted(_text_terms(parsed), key=lambda t: -t.startchar):
                typed = fold_token(query[term.startchar : term.endchar])
                if ("text", term.text) in reader or len(typed) < 3 or typed.isdigit():
                    continue
                for candidate in dict.fromkeys((typed, term.text)):
                    found = corrector.suggest(candidate, limit=1, maxdist=2, prefix=1)
                    if found:
                        out = out[: term.startchar] + found[0] + out[term.endchar :]
                        changed = True
                        break
            return out if changed else None
        except Exception as e:  # a suggestion is a nicety; never fail the search for it
            log.debug("no suggestion for %r: %s", query, e)
            return None


@dataclass(frozen=True)
class SearchPage:
    """One page of hits of a query."""

    total: int
    hits: list[Hit]
    suggestion: str | None = None  # "did you mean", when nothing was found
    indexed: int = 0  # the pages of the index searched (0: nothing is searchable yet)


def _text_terms(q: Query) -> list[Term]:
    """The plain words of the text field in a parsed query, with their place in the string."""
    return [
        t
        for t in q.leaves()
        if isinstance(t, Term)
        and t.fieldname == "text"
        and getattr(t, "startchar", None) is not None
    ]


_RESTRICTED = Term("access", "restricted")
_FILTER_CACHE_SIZE = 64
_MAX_FUZZY_TERMS = 64  # index terms one fuzzy word may expand to (the nearest first)


def _doc_set(searcher: Any, q: Query | None) -> set[int] | None:
    """The documents a filter query matches, computed once per searcher and filter: clerks
    repeat the same fond and year filters, and a year range costs ~100 ms at 10,000 pages.
    A searcher sees one fixed state of the index, so its cache never goes stale."""
    if q is None:
        return None
    cache: dict[Query, set[int]] | None = getattr(searcher, "_arkhiv_filters", None)
    if cache is None:
        cache = {}
        searcher._arkhiv_filters = cache
    found = cache.get(q)
    if found is None:
        found = doc_set(searcher, q)  # a set: Whoosh takes set, not frozenset
        if found is None:
            found = DocSet(searcher.docs_for_query(q))
        if len(cache) >= _FILTER_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[q] = found
    return found


def _expand_fuzzy(q: Query, searcher: Any) -> Query:
    """Fuzzy words replaced by the index terms they match, once: Whoosh would otherwise expand
    them again to count the hits and again for each snippet (~30 ms each at 10,000 pages)."""
    reader = searcher.reader()

    def expand(node: Query) -> Query:
        if not isinstance(node, FuzzyTerm):
            return node
        terms = [text for _field, text in node.existing_terms(reader, expand=True)]
        if not terms:
            # Nothing within reach, so not the word itself either: a plain Term of it keeps
            # the query well formed, matches nothing, and lets scoring.py take the query.
            return Term(node.fieldname, node.text, boost=node.boost)
        terms = sorted(terms, key=lambda t: (t != node.text, abs(len(t) - len(node.text))))
        plain = [
            Term(node.fieldname, t if isinstance(t, str) else t.decode("utf-8"), boost=node.boost)
            for t in terms[:_MAX_FUZZY_TERMS]
        ]
        return plain[0] if len(plain) == 1 else Or(plain)

    return q.accept(expand)


def _fuzzy(q: Query, query: str) -> Query:
    """A text word also matches index terms one or two edits away (two for words of six
    letters or more), first letter fixed, so that OCR's misread letters and typing errors
    match. The index holds lemmas, and the lemma of a misspelled word is a guess
    (Ужгородь -> ужгородити), so the word as typed is tried as well."""
    if not (isinstance(q, Term) and q.fieldname == "text" and len(q.text) > 3):
        return q

    def fuzzy(text: str) -> FuzzyTerm:
        dist = 2 if len(text) >= 6 else 1
        return FuzzyTerm(q.fieldname, text, boost=q.boost, maxdist=dist, prefixlength=1)

    start, end = getattr(q, "startchar", None), getattr(q, "endchar", None)
    typed = fold_token(query[start:end]) if start is not None and end is not None else q.text
    if typed == q.text or len(typed) <= 3:
        return fuzzy(q.text)
    return Or([fuzzy(q.text), fuzzy(typed)])


def _text_words(q: Query, searcher: Any) -> frozenset[str]:
    """The index terms of the text field a query looks for (prefixes and fuzzy words
    expanded): what Whoosh's highlighter marks without terms=True. Leaf by leaf: Whoosh
    2.7.5's Query.existing_terms(fieldname=None) loses the text words that follow a word of
    another field (its loop variable shadows the argument)."""
    reader = searcher.reader()
    return frozenset(
        text if isinstance(text, str) else text.decode("utf-8")
        for leaf in q.leaves()
        if leaf.field() == "text"
        for _field, text in leaf.existing_terms(reader, expand=True)
    )


def _ranked(
    searcher: Any, q: Query, limit: int, allow: set[int] | None, deny: set[int] | None
) -> tuple[int, list[tuple[float, int]]]:
    """The total and the best `limit` (score, docnum) of `q` among the allowed documents.

    Word queries are scored in bulk (scoring.py); the rest by Whoosh in one pass that counts
    as it goes. Whoosh 2.7.5's default collector skips blocks and then counts the total in a
    second pass over all the matches (TopCollector.count), which costs more than the
    skipping saves on page text; without skipping it must not replace its matchers either
    (replace=0), for a replaced union drops the words that cannot reach the top and they
    go uncounted. No TermsCollector (terms=True): it counts masked documents in the total.
    """
    limit = max(limit, 1)
    planned = plan(q)
    if planned is not None:
        found = top_docs(searcher, planned, limit, allow=allow, deny=deny or None)
        if found is not None:
            return found.total, found.top
    collector: Any = (
        collectors.UnlimitedCollector()
        if limit >= searcher.doc_count()
        else collectors.TopCollector(limit, usequality=False, replace=0)
    )
    if allow is not None or deny:
        collector = collectors.FilterCollector(collector, allow, deny or None)
    searcher.search_with_collector(q, collector)
    return int(collector.count()), list(collector.results().top_n)[:limit]


def _hit(hit: Mapping[str, Any], score: float, words: frozenset[str]) -> Hit:
    """A hit from its stored fields, its snippet marking `words` (else the page's start)."""
    text = hit.get("text") or ""
    snippet = make_snippet(text, words, top=2) or text[:200]
    return Hit(
        document_id=hit["document_id"],
        document=hit["document"],
        page=hit["page"],
        score=round(float(score), 3),
        snippet=" ".join(snippet.split()),
        pdf_path=hit.get("pdf_path"),
        pdf_page=hit.get("pdf_page"),
        text_path=hit.get("text_path"),
        reference={part: hit[name] for part, name in REF_FIELDS.items() if name in hit},
        arkush=hit.get("arkush"),
        verso=bool(hit.get("verso")),
        title=hit.get("title"),
        year_from=hit.get("year_from"),
        year_to=hit.get("year_to"),
        access=hit.get("access") or "open",
    )
