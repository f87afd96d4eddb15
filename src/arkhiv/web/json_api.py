"""The JSON API under /api: search, a document, a page (described at /api/openapi.json)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from arkhiv.search import SearchFilters
from arkhiv.web import schemas
from arkhiv.web.context import MAX_PAGE, MAX_PER_PAGE, MAX_QUERY, Web, Who

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/search", response_model=schemas.SearchResponse)
def api_search(
    web: Web,
    who: Who,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY,
            description='Words in any form; "a phrase"; field:value',
        ),
    ],
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 10,
    fuzzy: bool = False,
    repository: str | None = None,
    fond: str | None = None,
    opys: str | None = None,
    sprava: str | None = None,
    year_from: Annotated[int | None, Query(alias="from", ge=1000, le=2100)] = None,
    year_to: Annotated[int | None, Query(alias="to", ge=1000, le=2100)] = None,
) -> Any:
    """Pages matching the query, best first, with highlighted snippets ([[hit]])."""
    filters = SearchFilters(repository, fond, opys, sprava, year_from, year_to)
    result = web.search(q, page, per_page, fuzzy, filters, who)
    return schemas.search_response(result)


@router.get("/documents/{doc_id}", response_model=schemas.DocumentResponse)
def api_document(web: Web, who: Who, doc_id: int) -> Any:
    """A document's metadata and its pages."""
    doc = web.document_or_404(doc_id, who)
    return schemas.document_response(doc, web.style, signed_in=bool(who.name))


@router.get("/documents/{doc_id}/pages/{number}", response_model=schemas.PageResponse)
def api_page(web: Web, who: Who, doc_id: int, number: int) -> Any:
    """One page: its leaf, citation, status and OCR text."""
    doc = web.document_or_404(doc_id, who)
    page = next((p for p in doc.pages if p.number == number), None)
    if page is None:
        raise HTTPException(404, "no such page")
    return schemas.page_response(doc, page, web.style)
