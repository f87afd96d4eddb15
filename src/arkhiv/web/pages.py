"""The HTML pages: the search form and its results, a document, its PDF and page images,
sign-in."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from arkhiv.errors import ArkhivError, QueryError
from arkhiv.models import Hit
from arkhiv.reader import SearchResult
from arkhiv.review import flagged
from arkhiv.search import SearchFilters
from arkhiv.web.context import MAX_PAGE, MAX_QUERY, PER_PAGE, REALM, Web, Who, lang_of
from arkhiv.web.i18n import translator
from arkhiv.web.thumbs import SIZES

router = APIRouter(include_in_schema=False)


def _year(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and 1000 <= int(text) <= 2100 else None


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    web: Web,
    who: Who,
    q: str = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    fuzzy: bool = False,
    repository: str = "",
    fond: str = "",
    opys: str = "",
    sprava: str = "",
    from_text: Annotated[str, Query(alias="from")] = "",
    to_text: Annotated[str, Query(alias="to")] = "",
) -> Response:
    # The form sends empty year boxes as "": not an error, just no bound.
    year_from, year_to = _year(from_text), _year(to_text)
    filters = SearchFilters(
        repository or None, fond or None, opys or None, sprava or None, year_from, year_to
    )
    result: SearchResult | None = None
    error = None
    t = translator(lang_of(request))
    if (from_text.strip() and year_from is None) or (to_text.strip() and year_to is None):
        error = t["bad_year"]
    elif len(q) > MAX_QUERY:
        error = t["too_long"].format(n=len(q), max=MAX_QUERY)
    elif q.strip():
        try:
            result = web.search(q, page, PER_PAGE, fuzzy, filters, who)
        except QueryError as e:
            error = e.message
    base = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page",)]

    def page_url(n: int) -> str:
        return "/?" + urlencode([*base, ("page", str(n))])

    def hit_url(hit: Hit) -> str:
        extra = {"q": q, **({"fuzzy": "1"} if fuzzy else {})}
        return f"/document/{hit.document_id}?{urlencode(extra)}#page-{hit.page}"

    suggestion = result.suggestion if result else None
    return web.render(
        request,
        "search.html",
        who,
        q=q,
        fuzzy=fuzzy,
        result=result,
        error=error,
        filters={
            "repository": repository,
            "fond": fond,
            "opys": opys,
            "sprava": sprava,
            "year_from": year_from,
            "year_to": year_to,
        },
        facets=web.reader.facets(include_restricted=who.restricted),
        max_query=MAX_QUERY,
        page_url=page_url,
        hit_url=hit_url,
        suggestion_url="/?"
        + urlencode([(k, v) for k, v in base if k != "q"] + [("q", suggestion or "")]),
        fuzzy_url="/?" + urlencode([*base, ("fuzzy", "1")]),
    )


@router.get("/document/{doc_id}", response_class=HTMLResponse)
def document_page(
    request: Request, web: Web, who: Who, doc_id: int, q: str = "", fuzzy: bool = False
) -> Response:
    doc = web.document_or_404(doc_id, who)
    marked: dict[int, str] = {}
    if q.strip() and len(q) <= MAX_QUERY:
        try:
            marked = web.reader.highlights(q, doc_id, fuzzy=fuzzy)
        except QueryError:
            marked = {}
    meta = doc.metadata
    t = translator(lang_of(request))
    date = meta.get("date") or {}
    rows = [
        (t["citation"], doc.citation),
        (t["doc_title"], meta.get("title")),
        (t["date"], date.get("text")),
        (t["creator"], "; ".join(meta.get("creator") or [])),
        (t["language"], "; ".join(meta.get("language") or [])),
        (t["subject"], "; ".join(meta.get("subject") or [])),
        (t["description"], meta.get("description")),
        (t["leaves"], meta.get("leaves")),
        (t["access"], t["restricted"] if doc.access == "restricted" else None),
    ]
    pages = [
        {
            "number": p.number,
            "leaf": f"{p.arkush}{' зв.' if p.verso else ''}" if p.arkush else None,
            "citation": doc.page_citation(p, web.style),
            "ok": p.status == "ok",
            "error": p.error,
            "text": marked.get(p.number, p.text or ""),
            "pdf_page": p.pdf_page,
            "selected": p.number in marked,
        }
        for p in doc.pages
    ]
    back = "/?" + urlencode({"q": q, **({"fuzzy": "1"} if fuzzy else {})}) if q else "/"
    return web.render(
        request, "document.html", who, doc=doc, meta=meta, rows=rows, pages=pages, back_url=back
    )


@router.get("/document/{doc_id}/pdf")
def document_pdf(web: Web, who: Who, doc_id: int, download: bool = False) -> Response:
    doc = web.document_or_404(doc_id, who)
    path = web.inside_archive(doc.pdf_path)
    name = f"{doc.citation or doc.name}.pdf".replace("/", "_")
    return FileResponse(
        path,
        media_type="application/pdf",
        filename=name,
        content_disposition_type="attachment" if download else "inline",
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.get("/document/{doc_id}/page/{number}/{size}.jpg")
def page_image(web: Web, who: Who, doc_id: int, number: int, size: str) -> Response:
    if size not in SIZES:
        raise HTTPException(404, "no such image size")
    doc = web.document_or_404(doc_id, who)
    page = next((p for p in doc.pages if p.number == number), None)
    if page is None or page.pdf_page is None or not doc.pdf_sha256:
        raise HTTPException(404, "no image of this page")
    pdf = web.inside_archive(doc.pdf_path)
    try:
        path = web.images.path(pdf, doc.pdf_sha256, page.pdf_page, size)
    except ValueError as e:  # the catalog's hash is not one: nothing to show
        raise HTTPException(404, "no image of this page") from e
    except ArkhivError as e:
        raise HTTPException(500, f"cannot render the page: {e.message}") from e
    return FileResponse(
        path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"}
    )


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request, web: Web, who: Who) -> Response:
    """The pages flagged for review, for signed-in staff (restricted documents only for those
    who may see them)."""
    if web.auth is None:
        raise HTTPException(404, "sign-in is not enabled (arkhiv serve --auth FILE)")
    if not who.name:
        raise HTTPException(401, "sign in", {"WWW-Authenticate": REALM})
    with web.reader.catalog() as catalog:
        items = flagged(catalog, web.style, include_restricted=who.restricted)
    return web.render(request, "review.html", who, items=items)


@router.get("/login")
def login(web: Web, who: Who) -> Response:
    if web.auth is None:
        raise HTTPException(404, "sign-in is not enabled (arkhiv serve --auth FILE)")
    if not who.name:
        raise HTTPException(401, "sign in", {"WWW-Authenticate": REALM})
    return Response(status_code=303, headers={"Location": "/"})
