"""What the web routes share: the archive opened for reading, the signed-in user, the language,
the templates; one WebContext per application, reached through FastAPI dependencies."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, cast
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from arkhiv.errors import QueryError
from arkhiv.metadata.ref import CitationStyle
from arkhiv.reader import ArchiveReader, DocumentView, SearchResult
from arkhiv.search import SearchFilters
from arkhiv.web.auth import ANONYMOUS, Principal, UsersFile
from arkhiv.web.i18n import LANGUAGES, translator
from arkhiv.web.thumbs import PageImages

HERE = Path(__file__).parent
MAX_QUERY = 500  # characters; longer text is refused with a message
MAX_PER_PAGE = 50
MAX_PAGE = 1000
PER_PAGE = 20
REALM = 'Basic realm="arkhiv", charset="UTF-8"'


def marks(text: str) -> Markup:
    """Escape OCR text (it may contain `<script>`), then turn [[hit]] into <mark>hit</mark>."""
    safe = str(escape(text))
    return Markup(safe.replace("[[", "<mark>").replace("]]", "</mark>"))


class AuthCache:
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


SQLITE_MAX_INT = 2**63 - 1


def lang_of(request: Request) -> str:
    """The page's language: ?lang=, else the cookie a previous choice set, else Ukrainian."""
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "uk"
    return lang if lang in LANGUAGES else "uk"


@dataclass(frozen=True)
class WebContext:
    """One archive served: its reader, page images, sign-in and templates (read-only)."""

    reader: ArchiveReader
    images: PageImages
    auth: AuthCache | None
    archive_root: Path  # resolved: files named by the catalog must lie inside it
    templates: Jinja2Templates
    style: CitationStyle

    @classmethod
    def create(cls, archive: Path, users: UsersFile | None, style: CitationStyle) -> WebContext:
        templates = Jinja2Templates(directory=str(HERE / "templates"))
        templates.env.autoescape = True  # every value is HTML-escaped unless marked safe
        templates.env.filters["marks"] = marks
        return cls(
            reader=ArchiveReader(archive, style),
            images=PageImages(archive),
            auth=AuthCache(users) if users is not None else None,
            archive_root=archive.resolve(),
            templates=templates,
            style=style,
        )

    def render(
        self, request: Request, name: str, who: Principal, status: int = 200, **values: Any
    ) -> Response:
        """A page of `name` in the request's language; ?lang= also sets the cookie."""
        lang = lang_of(request)
        other = "en" if lang == "uk" else "uk"
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        response = self.templates.TemplateResponse(
            request,
            name,
            {
                "t": translator(lang),
                "lang": lang,
                "other_lang": other,
                "lang_query": urlencode([*params, ("lang", other)]),
                "principal": who,
                "auth_enabled": self.auth is not None,
                **values,
            },
            status_code=status,
        )
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
        return response

    def document_or_404(self, doc_id: int, who: Principal) -> DocumentView:
        if not 1 <= doc_id <= SQLITE_MAX_INT:  # SQLite cannot even be asked (OverflowError)
            raise HTTPException(404, "no such document")
        doc = self.reader.document(doc_id, include_restricted=who.restricted)
        if doc is None:  # restricted looks like missing: its existence is not revealed
            raise HTTPException(404, "no such document")
        return doc

    def inside_archive(self, relative: str | None) -> Path:
        """A file of the archive named by the catalog, never one outside it."""
        if not relative:
            raise HTTPException(404, "no such file")
        path = (self.archive_root / relative).resolve()
        if not path.is_relative_to(self.archive_root) or not path.is_file():
            raise HTTPException(404, "no such file")
        return path

    def search(
        self, q: str, page: int, per_page: int, fuzzy: bool, filters: SearchFilters, who: Principal
    ) -> SearchResult:
        if len(q) > MAX_QUERY:
            raise QueryError(f"the query is too long ({len(q)} characters, at most {MAX_QUERY})")
        return self.reader.search(
            q,
            limit=per_page,
            page=page,
            filters=None if filters.is_empty() else filters,
            fuzzy=fuzzy,
            include_restricted=who.restricted,
        )


def web_context(request: Request) -> WebContext:
    """The application's WebContext (create_app puts it on app.state)."""
    return cast(WebContext, request.app.state.web)


Web = Annotated[WebContext, Depends(web_context)]


def principal(request: Request, web: Web) -> Principal:
    """Who asks: anonymous without credentials; wrong credentials are asked again (401)."""
    header = request.headers.get("authorization")
    if web.auth is None or not header:
        return ANONYMOUS
    found = web.auth.principal(header)
    if found is None:  # wrong credentials: ask again rather than silently downgrade
        raise HTTPException(401, "wrong user name, password or token", {"WWW-Authenticate": REALM})
    return found


Who = Annotated[Principal, Depends(principal)]
