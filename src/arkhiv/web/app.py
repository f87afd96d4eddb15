"""The search page and its JSON API: one FastAPI application over an archive folder, read-only.

create_app only wires: the shared WebContext, static files, security headers, error pages and
the routers (pages.py for people, json_api.py for programs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from arkhiv import __version__
from arkhiv.errors import ArchiveNotFoundError, ArkhivError, QueryError
from arkhiv.metadata.ref import CitationStyle
from arkhiv.web import json_api, pages
from arkhiv.web.auth import ANONYMOUS, UsersFile
from arkhiv.web.context import HERE, PER_PAGE, WebContext, lang_of, web_context
from arkhiv.web.i18n import translator

__all__ = ["PER_PAGE", "create_app"]  # PER_PAGE: the results page's hits (benchmarks read it)

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
)


def create_app(
    archive: Path,
    *,
    users: UsersFile | None = None,
    style: CitationStyle = CitationStyle.LEGEND,
) -> FastAPI:
    """The web application over one archive folder (read-only)."""
    context = WebContext.create(archive, users, style)
    app = FastAPI(
        title="arkhiv",
        version=__version__,
        description="Full-text search of an archive of OCRed pages (read-only).",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI loads scripts from a CDN; the LAN may have no internet
        redoc_url=None,
        exception_handlers={
            ArkhivError: arkhiv_error,
            QueryError: query_error,
            RequestValidationError: bad_request,
            StarletteHTTPException: http_error,
        },
    )
    app.state.web = context
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.middleware("http")(security_headers)
    app.include_router(pages.router)
    app.include_router(json_api.router)
    return app


async def security_headers(request: Request, call_next: Any) -> Response:
    response: Response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


# errors: a friendly page for people, JSON for the API


async def arkhiv_error(request: Request, exc: ArkhivError) -> Response:
    """The archive itself gone (its catalog deleted) or unusable (a damaged index): 404 or 503
    with arkhiv's message, never a 500 with a traceback."""
    status = 404 if isinstance(exc, ArchiveNotFoundError) else 503
    return await http_error(request, StarletteHTTPException(status, exc.message))


async def query_error(request: Request, exc: QueryError) -> Response:
    return JSONResponse({"detail": exc.message, "hint": exc.hint}, status_code=400)


async def bad_request(request: Request, exc: RequestValidationError) -> Response:
    """A malformed address (/document/abc, ?page=0): JSON for the API, a page for people."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
    t = translator(lang_of(request))
    return web_context(request).render(
        request, "error.html", ANONYMOUS, status=400, heading=t["not_found"]
    )


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    headers = getattr(exc, "headers", None)
    if request.url.path.startswith("/api/") or exc.status_code == 401:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
    path = request.url.path
    if path.startswith("/static/") or (path.startswith("/document/") and path.count("/") > 2):
        # a file (image, PDF): no page around it
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=headers)
    t = translator(lang_of(request))
    heading = t["not_found"] if exc.status_code == 404 else f"{exc.status_code}: {exc.detail}"
    return web_context(request).render(
        request, "error.html", ANONYMOUS, status=exc.status_code, heading=heading
    )
