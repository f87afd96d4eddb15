"""Read-only access to an archive: search, documents, pages; shared by the CLI and the web page."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from arkhiv.catalog import CATALOG_NAME, Catalog, PageRow
from arkhiv.errors import ArchiveNotFoundError, UsageError
from arkhiv.metadata.fields import REF_FIELDS
from arkhiv.metadata.ref import ArchivalRef, CitationStyle, Leaf, parse_citation
from arkhiv.models import Hit
from arkhiv.search import SearchFilters, SharedIndex
from arkhiv.search.normalize import fold_ref


@dataclass(frozen=True)
class SearchResult:
    """Hits of one query (one page of them)."""

    query: str
    total: int
    hits: list[Hit]
    indexed_pages: int  # 0: the archive has no searchable page yet
    page: int = 1
    per_page: int = 10
    suggestion: str | None = None  # "did you mean", when nothing was found

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class DocumentView:
    """One document: its catalog row, metadata record and pages."""

    id: int
    name: str
    source: str
    citation: str
    status: str
    pdf_path: str | None
    pdf_sha256: str | None
    access: str
    metadata: dict[str, Any]
    pages: list[PageRow]
    leaf: Leaf | None = None  # the leaf a citation asked for, if any
    reference: dict[str, str] = field(default_factory=dict)

    def page_citation(self, page: PageRow, style: CitationStyle = CitationStyle.LEGEND) -> str:
        return page_citation(self.reference, page.arkush, bool(page.verso), style)


def page_citation(
    reference: Mapping[str, str],
    arkush: int | None,
    verso: bool,
    style: CitationStyle = CitationStyle.LEGEND,
) -> str:
    """The citation of a page, e.g. "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 7 зв."; "" when the
    document has no reference."""
    ref = ArchivalRef(**{k: v for k, v in reference.items() if k in REF_FIELDS and v})
    if ref.is_empty():
        return ""
    return ref.citation(Leaf(arkush, verso) if arkush else None, style)


def document_view(catalog: Catalog, row: sqlite3.Row, style: CitationStyle) -> DocumentView:
    record = json.loads(row["metadata"]) if row["metadata"] else {}
    reference = {k: str(v) for k, v in (record.get("reference") or {}).items()}
    return DocumentView(
        id=row["id"],
        name=row["name"],
        source=row["source_path"],
        citation=page_citation(reference, None, False, style),
        status=row["status"],
        pdf_path=row["pdf_path"],
        pdf_sha256=row["pdf_sha256"],
        access=row["access"] or "open",
        metadata=record,
        pages=catalog.document_pages(row["id"]),
        reference=reference,
    )


class ArchiveReader:
    """An archive opened for reading. Thread-safe: each call opens its own catalog
    connection, and the index is shared (search.SharedIndex) and follows its rebuilds."""

    def __init__(self, archive: Path, style: CitationStyle = CitationStyle.LEGEND) -> None:
        if not (archive / CATALOG_NAME).is_file():
            raise ArchiveNotFoundError(
                f"{archive}: no arkhiv archive here (no {CATALOG_NAME})",
                hint="ingest scans first: arkhiv ingest SCANS_DIR --archive " + str(archive),
            )
        self.archive = archive
        self.style = style
        self._index = SharedIndex(archive)  # a clear message now when it is missing or damaged

    @contextmanager
    def catalog(self) -> Iterator[Catalog]:
        catalog = Catalog.open(self.archive, create=False, readonly=True)
        try:
            yield catalog
        finally:
            catalog.close()

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        page: int = 1,
        filters: SearchFilters | None = None,
        fuzzy: bool = False,
        include_restricted: bool = True,
    ) -> SearchResult:
        """Pages matching `query` (words in any grammatical form), best first."""
        found = self._index.search(
            query,
            limit=limit,
            page=page,
            filters=filters,
            fuzzy=fuzzy,
            include_restricted=include_restricted,
        )
        hits = [
            replace(h, citation=page_citation(h.reference, h.arkush, h.verso, self.style))
            for h in found.hits
        ]
        return SearchResult(
            query,
            found.total,
            hits,
            found.indexed,
            page=page,
            per_page=limit,
            suggestion=found.suggestion,
        )

    def highlights(self, query: str, doc_id: int, *, fuzzy: bool = False) -> dict[int, str]:
        """Page number -> the page's text with the query's hits marked [[...]]."""
        return self._index.highlight_document(query, doc_id, fuzzy=fuzzy)

    def document(self, doc_id: int, *, include_restricted: bool = True) -> DocumentView | None:
        """A document by id; None when there is none or it may not be shown."""
        with self.catalog() as catalog:
            rows = catalog.documents("id = ?", [doc_id])
            if not rows or (rows[0]["access"] == "restricted" and not include_restricted):
                return None
            return document_view(catalog, rows[0], self.style)

    def facets(self, *, include_restricted: bool = True) -> dict[str, Any]:
        """What the filters can offer: the distinct reference parts and the year span."""
        where = "" if include_restricted else " WHERE access != 'restricted'"
        out: dict[str, Any] = {}
        with self.catalog() as catalog:
            for column in ("repository", "fond", "opys", "sprava"):
                rows = catalog.db.execute(
                    f"SELECT DISTINCT {column} FROM documents{where}"
                    f"{' AND' if where else ' WHERE'} {column} IS NOT NULL ORDER BY {column}"
                ).fetchall()
                out[column] = [r[0] for r in rows][:500]
            row = catalog.db.execute(
                f"SELECT min(year_from), max(year_to) FROM documents{where}"
            ).fetchone()
            out["years"] = (row[0], row[1]) if row[0] is not None else None
        return out


def find_documents(catalog: Catalog, ref: str, style: CitationStyle) -> list[DocumentView]:
    """Documents named by `ref`: a document id, a citation (any form; parts not given match
    anything, "арк. 7" picks a leaf) or a document name. UsageError when nothing matches."""
    text = ref.strip()
    leaf: Leaf | None = None
    if text.isdigit():
        rows = catalog.documents("id = ?", [int(text)])
    else:
        try:
            wanted, leaf = parse_citation(text)
        except ValueError:
            wanted = None
        if (
            wanted is not None
            and not wanted.is_empty()
            and (wanted.fond or wanted.opys or wanted.sprava)
        ):
            parts = {k: v for k, v in wanted.parts().items() if k != "archive"}
            where = " AND ".join(f"{REF_FIELDS[k]} = ?" for k in parts)
            rows = [
                r
                for r in catalog.documents(where, list(parts.values()))
                if wanted.archive is None
                or fold_ref(r["repository"] or "") == fold_ref(wanted.archive)
            ]
        else:
            rows = catalog.documents("name = ?", [text])
    if not rows:
        raise UsageError(
            f"no document matches {ref!r}",
            hint='give a document id, a citation such as "ф. Р-123, оп. 4, спр. 56" or a '
            "document's folder name; `arkhiv export --format csv` lists them all",
        )
    views = [replace(document_view(catalog, row, style), leaf=leaf) for row in rows]
    return views
