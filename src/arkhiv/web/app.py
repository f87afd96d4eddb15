"""The search page and its JSON API: FastAPI routes over arkhiv's read-only library calls."""

import hashlib
import time
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException as StarletteHTTPException

from arkhiv import __version__
from arkhiv.errors import ArkhivError, QueryError
from arkhiv.metadata.ref import CitationStyle
from arkhiv.models import Hit
from arkhiv.reader import ArchiveReader, DocumentView, SearchResult
from arkhiv.search import SearchFilters
from arkhiv.web import schemas
from arkhiv.web.auth import ANONYMOUS, Principal, UsersFile
from arkhiv.web.i18n import LANGUAGES, translator
from arkhiv.web.thumbs import SIZES, PageImages

HERE = Path(__file__).parent
MAX_QUERY = 500  # characters; longer text is refused with a message
MAX_PER_PAGE = 50
MAX_PAGE = 1000
PER_PAGE = 20
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
)
REALM = 'Basic realm="arkhiv", charset="UTF-8"'


def _year(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and 1000 <= int(text) <= 2100 else None


def marks(text: str) -> Markup:
    """Escape OCR text (it may contain `<script>`), then turn [[hit]] into <mark>hit</mark>."""
    safe = str(escape(text))
    return Markup(safe.replace("[[", "<mark>").replace("]]", "</mark>"))


class _AuthCache:
    """Successful logins for a few minutes: scrypt costs tens of ms, and a page with
    thumbnails makes a dozen requests."""

    def __init__(self, users: UsersFile, ttl: float = 300.0, size: int = 256) -> None:
        self.users = users
        self.ttl = ttl
        self.size = size
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def principal(self, header: str) -> Principal | None:
        key = hashlib.sha256(header.encode("utf-8", "surrogatepass")).hexdigest()
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached and now - cached[0] < self.ttl:
            return cached[1]
        found = self.users.authenticate(header)
        if found is not None:
            self._cache[key] = (now, found)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return found


def create_app(
    archive: Path,
    *,
    users: UsersFile | None = None,
    style: CitationStyle = CitationStyle.LEGEND,
) -> FastAPI:
    """The web application over one archive folder (read-only)."""
    reader = ArchiveReader(archive, style)
    images = PageImages(archive)
    auth = _AuthCache(users) if users is not None else None
    archive_root = archive.resolve()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True  # every value is HTML-escaped unless marked safe
    templates.env.filters["marks"] = marks
    app = FastAPI(
        title="arkhiv",
        version=__version__,
        description="Full-text search of an archive of OCRed pages (read-only).",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI loads scripts from a CDN; the LAN may have no internet
        redoc_url=None,
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response

    def principal(request: Request) -> Principal:
        header = request.headers.get("authorization")
        if auth is None or not header:
            return ANONYMOUS
        found = auth.principal(header)
        if found is None:  # wrong credentials: ask again rather than silently downgrade
            raise HTTPException(
                401, "wrong user name, password or token", {"WWW-Authenticate": REALM}
            )
        return found

    Who = Annotated[Principal, Depends(principal)]

    def lang_of(request: Request) -> str:
        lang = request.query_params.get("lang") or request.cookies.get("lang") or "uk"
        return lang if lang in LANGUAGES else "uk"

    def render(
        request: Request, name: str, who: Principal, status: int = 200, **ctx: Any
    ) -> Response:
        lang = lang_of(request)
        other = "en" if lang == "uk" else "uk"
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        response = templates.TemplateResponse(
            request,
            name,
            {
                "t": translator(lang),
                "lang": lang,
                "other_lang": other,
                "lang_query": urlencode([*params, ("lang", other)]),
                "principal": who,
                "auth_enabled": auth is not None,
                **ctx,
            },
            status_code=status,
        )
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
        return response

    def document_or_404(doc_id: int, who: Principal) -> DocumentView:
        doc = reader.document(doc_id, include_restricted=who.restricted)
        if doc is None:  # restricted looks like missing: its existence is not revealed
            raise HTTPException(404, "no such document")
        return doc

    def inside_archive(relative: str | None) -> Path:
        """A file of the archive named by the catalog, never one outside it."""
        if not relative:
            raise HTTPException(404, "no such file")
        path = (archive_root / relative).resolve()
        if not path.is_relative_to(archive_root) or not path.is_file():
            raise HTTPException(404, "no such file")
        return path

    def run_search(
        q: str, page: int, per_page: int, fuzzy: bool, filters: SearchFilters, who: Principal
    ) -> SearchResult:
        if len(q) > MAX_QUERY:
            raise QueryError(f"the query is too long ({len(q)} characters, at most {MAX_QUERY})")
        return reader.search(
            q,
            limit=per_page,
            page=page,
            filters=None if filters.is_empty() else filters,
            fuzzy=fuzzy,
            include_restricted=who.restricted,
        )

    # pages
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(
        request: Request,
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
                result = run_search(q, page, PER_PAGE, fuzzy, filters, who)
            except QueryError as e:
                error = e.message
        base = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page",)]

        def page_url(n: int) -> str:
            return "/?" + urlencode([*base, ("page", str(n))])

        def hit_url(hit: Hit) -> str:
            extra = {"q": q, **({"fuzzy": "1"} if fuzzy else {})}
            return f"/document/{hit.document_id}?{urlencode(extra)}#page-{hit.page}"

        suggestion = result.suggestion if result else None
        return render(
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
            facets=reader.facets(include_restricted=who.restricted),
            max_query=MAX_QUERY,
            page_url=page_url,
            hit_url=hit_url,
            suggestion_url="/?"
            + urlencode([(k, v) for k, v in base if k != "q"] + [("q", suggestion or "")]),
            fuzzy_url="/?" + urlencode([*base, ("fuzzy", "1")]),
        )

    @app.get("/document/{doc_id}", response_class=HTMLResponse, include_in_schema=False)
    def document_page(
        request: Request, who: Who, doc_id: int, q: str = "", fuzzy: bool = False
    ) -> Response:
        doc = document_or_404(doc_id, who)
        marked: dict[int, str] = {}
        if q.strip() and len(q) <= MAX_QUERY:
            try:
                marked = reader.highlights(q, doc_id, fuzzy=fuzzy)
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
                "citation": doc.page_citation(p, style),
                "ok": p.status == "ok",
                "error": p.error,
                "text": marked.get(p.number, p.text or ""),
                "pdf_page": p.pdf_page,
                "selected": p.number in marked,
            }
            for p in doc.pages
        ]
        back = "/?" + urlencode({"q": q, **({"fuzzy": "1"} if fuzzy else {})}) if q else "/"
        return render(
            request, "document.html", who, doc=doc, meta=meta, rows=rows, pages=pages, back_url=back
        )

    @app.get("/document/{doc_id}/pdf", include_in_schema=False)
    def document_pdf(who: Who, doc_id: int, download: bool = False) -> Response:
        doc = document_or_404(doc_id, who)
        path = inside_archive(doc.pdf_path)
        name = f"{doc.citation or doc.name}.pdf".replace("/", "_")
        return FileResponse(
            path,
            media_type="application/pdf",
            filename=name,
            content_disposition_type="attachment" if download else "inline",
            headers={"Cache-Control": "private, max-age=3600"},
        )

    @app.get("/document/{doc_id}/page/{number}/{size}.jpg", include_in_schema=False)
    def page_image(who: Who, doc_id: int, number: int, size: str) -> Response:
        if size not in SIZES:
            raise HTTPException(404, "no such image size")
        doc = document_or_404(doc_id, who)
        page = next((p for p in doc.pages if p.number == number), None)
        if page is None or page.pdf_page is None or not doc.pdf_sha256:
            raise HTTPException(404, "no image of this page")
        pdf = inside_archive(doc.pdf_path)
        try:
            path = images.path(pdf, doc.pdf_sha256, page.pdf_page, size)
        except ValueError as e:  # the catalog's hash is not one: nothing to show
            raise HTTPException(404, "no image of this page") from e
        except ArkhivError as e:
            raise HTTPException(500, f"cannot render the page: {e.message}") from e
        return FileResponse(
            path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"}
        )

    @app.get("/login", include_in_schema=False)
    def login(request: Request, who: Who) -> Response:
        if auth is None:
            raise HTTPException(404, "sign-in is not enabled (arkhiv serve --auth FILE)")
        if not who.name:
            raise HTTPException(401, "sign in", {"WWW-Authenticate": REALM})
        return Response(status_code=303, headers={"Location": "/"})

    # JSON API
    @app.get("/api/search", response_model=schemas.SearchResponse, tags=["api"])
    def api_search(
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
        result = run_search(q, page, per_page, fuzzy, filters, who)
        return schemas.search_response(result)

    @app.get("/api/documents/{doc_id}", response_model=schemas.DocumentResponse, tags=["api"])
    def api_document(who: Who, doc_id: int) -> Any:
        """A document's metadata and its pages."""
        return schemas.document_response(document_or_404(doc_id, who), style)

    @app.get(
        "/api/documents/{doc_id}/pages/{number}", response_model=schemas.PageResponse, tags=["api"]
    )
    def api_page(who: Who, doc_id: int, number: int) -> Any:
        """One page: its leaf, citation, status and OCR text."""
        doc = document_or_404(doc_id, who)
        page = next((p for p in doc.pages if p.number == number), None)
        if page is None:
            raise HTTPException(404, "no such page")
        return schemas.page_response(doc, page, style)

    # errors: a friendly page for people, JSON for the API
    @app.exception_handler(QueryError)
    async def query_error(request: Request, exc: QueryError) -> Response:
        return JSONResponse({"detail": exc.message, "hint": exc.hint}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        """A malformed address (/document/abc, ?page=0): JSON for the API, a page for people."""
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
        t = translator(lang_of(request))
        return render(request, "error.html", ANONYMOUS, status=400, heading=t["not_found"])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if request.url.path.startswith("/api/") or exc.status_code == 401:
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=headers
            )
        path = request.url.path
        if path.startswith("/static/") or (path.startswith("/document/") and path.count("/") > 2):
            # a file (image, PDF): no page around it
            return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=headers)
        t = translator(lang_of(request))
        heading = t["not_found"] if exc.status_code == 404 else f"{exc.status_code}: {exc.detail}"
        return render(request, "error.html", ANONYMOUS, status=exc.status_code, heading=heading)

    return app
