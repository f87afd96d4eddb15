"""The JSON API's response models (they make its OpenAPI description) and their builders."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from arkhiv.catalog import PageRow
from arkhiv.metadata.ref import CitationStyle
from arkhiv.reader import DocumentView, SearchResult


class HitModel(BaseModel):
    document_id: int
    document: str = Field(description="the document's folder or file name")
    title: str | None = None
    citation: str = Field(description='e.g. "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 7 зв."')
    page: int = Field(description="page number within the document, from 1")
    arkush: int | None = Field(None, description="leaf (аркуш) number")
    verso: bool = False
    score: float
    snippet: str = Field(description="plain text; hit words marked [[like this]]")
    year_from: int | None = None
    year_to: int | None = None
    document_url: str
    pdf_url: str | None = Field(None, description="the document PDF opened at this page")
    image_url: str


class SearchResponse(BaseModel):
    query: str
    total: int = Field(description="matching pages in all")
    page: int
    per_page: int
    pages: int
    suggestion: str | None = Field(None, description='"did you mean", when nothing was found')
    hits: list[HitModel]


class PageModel(BaseModel):
    number: int
    arkush: int | None = None
    verso: bool = False
    citation: str
    status: str = Field(description="ok, failed or skipped")
    error: str | None = None
    confidence: float | None = Field(None, description="mean OCR word confidence, 0-100")
    text_url: str
    image_url: str | None = None
    pdf_url: str | None = None


class PageResponse(PageModel):
    document_id: int
    text: str


class DocumentResponse(BaseModel):
    id: int
    name: str
    citation: str
    access: str
    metadata: dict[str, Any] = Field(description="the document.json metadata record")
    pdf_url: str | None = None
    pages: list[PageModel]


def _pdf_url(doc_id: int, pdf_page: int | None) -> str | None:
    return f"/document/{doc_id}/pdf#page={pdf_page}" if pdf_page else None


def search_response(result: SearchResult) -> SearchResponse:
    return SearchResponse(
        query=result.query,
        total=result.total,
        page=result.page,
        per_page=result.per_page,
        pages=result.pages,
        suggestion=result.suggestion,
        hits=[
            HitModel(
                document_id=h.document_id,
                document=h.document,
                title=h.title,
                citation=h.citation,
                page=h.page,
                arkush=h.arkush,
                verso=h.verso,
                score=h.score,
                snippet=h.snippet,
                year_from=h.year_from,
                year_to=h.year_to,
                document_url=f"/document/{h.document_id}#page-{h.page}",
                pdf_url=_pdf_url(h.document_id, h.pdf_page),
                image_url=f"/document/{h.document_id}/page/{h.page}/view.jpg",
            )
            for h in result.hits
        ],
    )


def _page_model(doc: DocumentView, page: PageRow, style: CitationStyle) -> dict[str, Any]:
    return {
        "number": page.number,
        "arkush": page.arkush,
        "verso": bool(page.verso),
        "citation": doc.page_citation(page, style),
        "status": page.status,
        "error": page.error,
        "confidence": page.confidence,
        "text_url": f"/api/documents/{doc.id}/pages/{page.number}",
        "image_url": f"/document/{doc.id}/page/{page.number}/view.jpg" if page.pdf_page else None,
        "pdf_url": _pdf_url(doc.id, page.pdf_page),
    }


def document_response(
    doc: DocumentView, style: CitationStyle, *, signed_in: bool = False
) -> DocumentResponse:
    """The document as the API gives it. Where each value came from (`origin`: sidecar and
    manifest paths on the server) only to signed-in users."""
    metadata = (
        doc.metadata if signed_in else {k: v for k, v in doc.metadata.items() if k != "origin"}
    )
    return DocumentResponse(
        id=doc.id,
        name=doc.name,
        citation=doc.citation,
        access=doc.access,
        metadata=metadata,
        pdf_url=f"/document/{doc.id}/pdf" if doc.pdf_path else None,
        pages=[PageModel(**_page_model(doc, p, style)) for p in doc.pages],
    )


def page_response(doc: DocumentView, page: PageRow, style: CitationStyle) -> PageResponse:
    return PageResponse(document_id=doc.id, text=page.text or "", **_page_model(doc, page, style))
