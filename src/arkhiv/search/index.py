"""Whoosh index of pages: one entry per page, keyed by document and page number."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import fields, highlight, index
from whoosh.qparser import QueryParser
from whoosh.query import Query

from arkhiv.errors import QueryError, SearchIndexError
from arkhiv.models import Hit
from arkhiv.search.analyzer import analyzer

log = logging.getLogger(__name__)

INDEX_DIR = "index"
MAX_QUERY_CHARS = 1000


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
    )


class _MarkFormatter(highlight.Formatter):  # type: ignore[misc]
    """Marks hit words as [[word]]; the CLI and the web page render the marks."""

    between = " … "

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f"[[{highlight.get_text(text, token, replace)}]]"


class PageIndex:
    """The full-text index of one archive folder."""

    def __init__(self, ix: Any, path: Path) -> None:
        self._ix = ix
        self.path = path

    @classmethod
    def open(cls, archive: Path, *, create: bool) -> PageIndex:
        path = archive / INDEX_DIR
        try:
            if index.exists_in(str(path)):
                return cls(index.open_dir(str(path)), path)
        except Exception as e:
            raise SearchIndexError(
                f"{path}: the search index is damaged ({type(e).__name__}: {e})",
                hint="rebuild it from the catalog: arkhiv reindex --archive " + str(archive),
            ) from e
        if not create:
            raise SearchIndexError(
                f"{path}: no search index",
                hint="rebuild it from the catalog: arkhiv reindex --archive " + str(archive),
            )
        path.mkdir(parents=True, exist_ok=True)
        return cls(index.create_in(str(path), schema()), path)

    def write_pages(self, records: Iterable[PageRecord]) -> int:
        """Add or replace pages in one commit; returns how many were written."""
        count = 0
        writer = self._ix.writer(timeout=120.0)
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
                )
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return count

    def doc_count(self) -> int:
        return int(self._ix.doc_count())

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

    def search(self, query: str, limit: int = 10) -> tuple[int, list[Hit]]:
        """Total number of matching pages and the best `limit` hits with snippets."""
        parsed = self.parse(query)
        with self._ix.searcher() as searcher:
            results = searcher.search(parsed, limit=limit, terms=True)
            results.fragmenter = highlight.ContextFragmenter(maxchars=240, surround=70)
            results.formatter = _MarkFormatter()
            hits = []
            for hit in results:
                snippet = hit.highlights("text", top=2) or hit["text"][:200]
                hits.append(
                    Hit(
                        document_id=hit["document_id"],
                        document=hit["document"],
                        page=hit["page"],
                        score=round(float(hit.score), 3),
                        snippet=" ".join(snippet.split()),
                        pdf_path=hit.get("pdf_path"),
                        pdf_page=hit.get("pdf_page"),
                        text_path=hit.get("text_path"),
                    )
                )
            return len(results), hits
