"""The web page and its JSON API (`arkhiv serve`) over a small archive built without OCR.

Page images are rendered by a stand-in for `render_page` (no Poppler in unit tests).
"""

from __future__ import annotations

import base64
import functools
import re
import shutil
import sqlite3
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from PIL import Image

from arkhiv.catalog import CATALOG_NAME
from arkhiv.errors import ArchiveNotFoundError, ToolError
from arkhiv.web import auth, thumbs
from arkhiv.web.app import create_app
from arkhiv.web.auth import UsersFile, hash_password, new_token, set_password
from tests.web_archive import (
    HOSTILE,
    HOSTILE_TITLE,
    PROTOCOLS,
    SECRET_FOND,
    SECRET_WORD,
    WebArchive,
    build_archive,
    build_empty_archive,
)

with warnings.catch_warnings():  # Starlette 1.x: "install httpx2"; the TestClient still works
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

FAST = 2**10  # scrypt n: the default 2**14 costs 20-200 ms per check
OLENA, OLENA_PW = "олена", "пароль-ґанок-2026"  # may see restricted documents
PETRO, PETRO_PW = "петро", "інший-пароль-99"  # may not
ARCHIVE_QUERY = "архівних даних"  # matches "Архівні дані" on 3 open pages and 1 restricted
JPEG = b"\xff\xd8\xff"


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> WebArchive:
    return build_archive(tmp_path_factory.mktemp("web") / "archive")


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """Two users and two tokens; returns the file and the tokens (restricted, open)."""
    path = tmp_path_factory.mktemp("users") / "users.toml"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "hash_password", functools.partial(hash_password, n=FAST))
        set_password(path, OLENA, OLENA_PW, True)
        set_password(path, PETRO, PETRO_PW, False)
    return path, new_token(path, "reading-room", True), new_token(path, "kiosk", False)


@pytest.fixture(scope="module")
def app(web: WebArchive) -> Any:
    return create_app(web.path)


@pytest.fixture(scope="module")
def auth_app(web: WebArchive, users_file: tuple[Path, str, str]) -> Any:
    return create_app(web.path, users=UsersFile.load(users_file[0]))


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    """A new client per test: cookies (lang) are not shared between tests."""
    with TestClient(app) as c:
        yield c


@pytest.fixture
def auth_client(auth_app: Any) -> Iterator[TestClient]:
    with TestClient(auth_app) as c:
        yield c


@pytest.fixture
def own(web: WebArchive, tmp_path: Path) -> WebArchive:
    """A copy of the archive this test may change (catalog rows, image cache)."""
    path = tmp_path / "archive"
    shutil.copytree(web.path, path, symlinks=True)  # `index` is a relative symlink
    return WebArchive(path, web.personnel, web.minutes, web.secret)


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, int, int]]:
    """render_page replaced by a blank image of the asked width; each call is recorded.
    A second rendering of the same image fails: it must come from the cache."""
    calls: list[tuple[Path, int, int]] = []

    def render(pdf: Path, page: int, width: int) -> Image.Image:
        if (pdf, page, width) in calls:
            raise ToolError("pdftoppm", 1, "", "rendered twice: the cache was not used")
        calls.append((pdf, page, width))
        return Image.new("RGBA", (width, width * 4 // 3), "white")  # RGBA: JPEG needs RGB

    monkeypatch.setattr(thumbs, "render_page", render)
    return calls


# --- helpers -------------------------------------------------------------------------------------


def basic(name: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def main(body: str) -> str:
    """The <main> of a page (the form and header are left out)."""
    found = re.search(r"<main>(.*)</main>", body, re.S)
    assert found, body[:500]
    return found.group(1)


def count(body: str) -> int | None:
    """N of "Знайдено сторінок: N" (or the English "N page(s) found"); None if absent."""
    found = re.search(r'<p class="count" id="count">\D*(\d+)', body)
    return int(found.group(1)) if found else None


def citations(body: str) -> list[str]:
    """The citation links of the hits, in order."""
    return re.findall(r'<div class="cite">\s*<a href="[^"]*">([^<]*)</a>', body)


def snippets(body: str) -> list[str]:
    return re.findall(r'<p class="snippet">(.*?)</p>', body, re.S)


def error_text(body: str) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', body, re.S)
    return found.group(1) if found else ""


def api_total(client: TestClient, q: str, **params: Any) -> int:
    r = client.get("/api/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return int(r.json()["total"])


# --- the search page -----------------------------------------------------------------------------


def test_front_page_is_a_ukrainian_search_form(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="uk">' in r.text
    assert '<form class="search" method="get" action="/" role="search">' in r.text
    assert '<input id="q" name="q" type="search" value="" maxlength="500"' in r.text
    assert ">Шукати</button>" in r.text
    assert "Слова знаходяться в будь-якій формі" in r.text  # the hint, no search yet
    assert count(r.text) is None


def test_search_finds_pages_with_citations_and_marks(client: TestClient, web: WebArchive) -> None:
    r = client.get("/", params={"q": ARCHIVE_QUERY})
    assert r.status_code == 200
    assert "Знайдено сторінок: 3" in r.text
    assert sorted(citations(r.text)) == [
        "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 1",
        "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 1 зв.",
        "ДАЗО, ф. Р-200, оп. 1, спр. 7, арк. 1",
    ]
    assert "сторінка 2 · арк. 1 зв." in r.text
    # the inflected query marks the words as written on the page
    for snippet in snippets(r.text):
        assert re.search(r"<mark>[Аа]рхівні</mark> <mark>дані</mark>", snippet), snippet
    # a hit links to its page of the document, keeping the query for the marks there
    q = quote(ARCHIVE_QUERY).replace("%20", "+")
    assert f'href="/document/{web.personnel}?q={q}#page-2"' in r.text


@pytest.mark.parametrize(
    ("query", "total"),
    [
        ("архівні дані", 3),
        ("архівних даних", 3),
        ("Архівними", 3),
        ("протоколами", PROTOCOLS),
        ("протоколу", PROTOCOLS),
        ("колгоспів", PROTOCOLS),  # "колгоспу" on page 1, "Колгосп" on the others
        ('"дані про стаж"', 1),
        ('"стаж про дані"', 0),
    ],
)
def test_words_match_in_any_form(client: TestClient, query: str, total: int) -> None:
    assert api_total(client, query) == total
    r = client.get("/", params={"q": query})
    assert count(r.text) == (total or None)


def test_pagination_over_twenty_hits(client: TestClient) -> None:
    first = client.get("/", params={"q": "протокол"})
    assert count(first.text) == PROTOCOLS
    assert len(citations(first.text)) == 20
    assert "Сторінка 1 з 2" in first.text
    assert 'rel="prev"' not in first.text
    assert re.search(r'<a rel="next" href="/\?q=%D0%BF[^"]*&amp;page=2">Наступні →</a>', first.text)

    second = client.get("/", params={"q": "протокол", "page": 2})
    assert count(second.text) == PROTOCOLS
    assert len(citations(second.text)) == PROTOCOLS - 20
    assert '<ol class="hits" start="21">' in second.text
    assert "Сторінка 2 з 2" in second.text
    assert 'rel="next"' not in second.text
    assert re.search(r'<a rel="prev" href="/\?q=[^"]*&amp;page=1">← Попередні</a>', second.text)
    assert set(citations(first.text)).isdisjoint(citations(second.text))


def test_english_labels_and_lang_cookie(client: TestClient) -> None:
    r = client.get("/", params={"q": ARCHIVE_QUERY, "lang": "en"})
    assert '<html lang="en">' in r.text
    assert "3 page(s) found" in r.text
    assert ">Search</button>" in r.text
    assert "Знайдено" not in r.text
    assert r.cookies.get("lang") == "en"
    assert "lang=en" in r.headers["set-cookie"]
    # the switch back keeps the query
    assert re.search(r'<a class="lang" href="\?q=[^"]+&amp;lang=uk" hreflang="uk">', r.text)

    later = client.get("/", params={"q": ARCHIVE_QUERY})  # the cookie remembers the choice
    assert "3 page(s) found" in later.text
    back = client.get("/", params={"q": ARCHIVE_QUERY, "lang": "uk"})
    assert "Знайдено сторінок: 3" in back.text


def test_unknown_language_falls_back_to_ukrainian(client: TestClient) -> None:
    r = client.get("/", params={"lang": "<script>"})
    assert '<html lang="uk">' in r.text
    assert "set-cookie" not in r.headers


def test_filter_values_are_offered(client: TestClient) -> None:
    r = client.get("/")
    fonds = re.search(r'<select name="fond" class="autosubmit">(.*?)</select>', r.text, re.S)
    assert fonds
    assert re.findall(r'<option value="([^"]*)"', fonds.group(1)) == ["", "Р-123", "Р-200"]
    assert 'placeholder="1937"' in r.text and 'placeholder="1950"' in r.text  # the year span


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"fond": "Р-123"}, 2),
        ({"fond": "P-123"}, 2),  # typed with a Latin P
        ({"fond": "Р-200"}, 1),
        ({"fond": "Р-404"}, 0),
        ({"from": 1940}, 1),
        ({"to": 1940}, 2),
        ({"from": 1937, "to": 1937}, 2),
        ({"from": 1951}, 0),
        ({"fond": "Р-123", "from": 1940}, 0),
    ],
)
def test_filters_narrow_the_results(
    client: TestClient, params: dict[str, Any], expected: int
) -> None:
    assert api_total(client, ARCHIVE_QUERY) == 3
    r = client.get("/", params={"q": ARCHIVE_QUERY, **params})
    assert r.status_code == 200
    assert count(r.text) == (expected or None)
    api = client.get("/api/search", params={"q": ARCHIVE_QUERY, **params}).json()
    assert len(api["hits"]) == expected
    if expected:  # see test_api_total_of_a_filter_that_matches_no_document
        assert api["total"] == expected


@pytest.mark.parametrize("params", [{"fond": "Р-404"}, {"from": 1951}, {"to": 1900}])
def test_api_total_of_a_filter_that_matches_no_document(
    client: TestClient, params: dict[str, Any]
) -> None:
    r = client.get("/api/search", params={"q": ARCHIVE_QUERY, **params})
    assert r.json()["hits"] == []
    assert (r.json()["total"], r.json()["pages"]) == (0, 1)


def test_selected_filter_is_kept_in_the_form(client: TestClient) -> None:
    r = client.get("/", params={"q": ARCHIVE_QUERY, "fond": "Р-123", "from": 1930})
    assert '<option value="Р-123" selected>Р-123</option>' in r.text
    assert 'name="from" type="number" inputmode="numeric" min="1000" max="2100" value="1930"' in (
        r.text
    )


def test_form_submission_with_empty_fields_searches(client: TestClient) -> None:
    # exactly what a browser sends for the form as rendered, nothing changed but the words
    r = client.get(
        "/?q=%D0%B0%D1%80%D1%85%D1%96%D0%B2%D0%BD%D0%B8%D1%85+%D0%B4%D0%B0%D0%BD%D0%B8%D1%85"
        "&repository=&fond=&opys=&sprava=&from=&to="
    )
    assert r.status_code == 200
    assert count(r.text) == 3
    assert count(client.get("/", params={"q": ARCHIVE_QUERY, "from": " 1940 "}).text) == 1


@pytest.mark.parametrize("bad", ["abc", "999", "2101", "١٩٣٧", "19.37"])
def test_a_bad_year_is_explained_on_the_page(client: TestClient, bad: str) -> None:
    for params in ({"from": bad}, {"to": bad}, {"from": "1937", "to": bad}):
        r = client.get("/", params={"q": ARCHIVE_QUERY, **params})
        assert r.status_code == 200
        message = error_text(r.text)
        assert message.startswith("<strong>Запит не зрозумілий:</strong> ")
        assert "рік — це чотири цифри, від 1000 до 2100" in message
        assert count(r.text) is None
    english = client.get("/", params={"q": ARCHIVE_QUERY, "to": bad, "lang": "en"})
    assert "a year is four digits, 1000 to 2100" in error_text(english.text)


def test_a_long_year_is_explained_on_the_page(client: TestClient) -> None:
    r = client.get("/", params={"q": ARCHIVE_QUERY, "from": "12345678901"})
    assert r.status_code == 200
    assert "рік — це чотири цифри" in error_text(r.text)


def test_nothing_found_suggests_a_spelling(client: TestClient) -> None:
    r = client.get("/", params={"q": "колгасп"})
    assert r.status_code == 200
    assert "Нічого не знайдено." in r.text
    assert count(r.text) is None
    link = "/?q=" + quote("колгосп")
    assert f'Можливо, ви мали на увазі: <a href="{link}">колгосп</a>' in r.text
    assert f'<a href="/?q={quote("колгасп")}&amp;fuzzy=1">Спробувати нечіткий пошук</a>' in r.text
    # following the link finds the pages
    assert count(client.get(link).text) == PROTOCOLS
    assert client.get("/api/search", params={"q": "колгасп"}).json()["suggestion"] == "колгосп"


def test_fuzzy_search_finds_a_misspelled_word(client: TestClient) -> None:
    assert api_total(client, "колгасп") == 0
    r = client.get("/", params={"q": "колгасп", "fuzzy": 1})
    assert count(r.text) == PROTOCOLS
    assert '<input type="checkbox" name="fuzzy" value="1" checked>' in r.text
    assert "<mark>Колгосп</mark>" in r.text
    assert "Спробувати нечіткий пошук" not in r.text
    assert api_total(client, "колгасп", fuzzy=1) == PROTOCOLS


@pytest.mark.parametrize("query", ['"unclosed', "AND OR", "(", "NOT", ":", "text:", "[a TO"])
def test_odd_query_syntax_gives_a_page_not_an_error(client: TestClient, query: str) -> None:
    r = client.get("/", params={"q": query})
    assert r.status_code == 200
    assert "Нічого не знайдено." in r.text
    assert client.get("/api/search", params={"q": query}).status_code == 200


def test_unclosed_quote_still_finds_the_words(client: TestClient) -> None:
    assert api_total(client, '"архівні дані') == 3


def test_too_long_query_is_explained_on_the_page(client: TestClient) -> None:
    r = client.get("/", params={"q": "архів " * 100})
    assert r.status_code == 200
    message = error_text(r.text)
    assert message.startswith("<strong>Запит не зрозумілий:</strong> ")
    assert "задовгий" in message and "600" in message and "500" in message
    assert count(r.text) is None
    english = client.get("/", params={"q": "архів " * 100, "lang": "en"})
    assert "too long" in error_text(english.text)
    assert "600" in error_text(english.text)


def test_api_refuses_bad_queries_with_json(client: TestClient) -> None:
    long = client.get("/api/search", params={"q": "а" * 600})
    assert long.status_code == 422
    assert long.headers["content-type"] == "application/json"
    assert long.json()["detail"][0]["type"] == "string_too_long"

    blank = client.get("/api/search", params={"q": "   "})
    assert blank.status_code == 400
    assert blank.json()["detail"] == "empty query"

    missing = client.get("/api/search")
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["query", "q"]


def test_empty_archive_says_there_is_nothing_to_search(tmp_path: Path) -> None:
    archive = build_empty_archive(tmp_path / "archive")
    with TestClient(create_app(archive)) as c:
        assert "<fieldset" not in c.get("/").text  # no filters without documents
        r = c.get("/", params={"q": "архів"})  # one search: see the next test
        assert r.status_code == 200
        assert '<p class="hint">В архіві ще немає сторінок для пошуку.</p>' in r.text
        assert "Нічого не знайдено" not in r.text


def test_empty_archive_can_be_searched_more_than_once(tmp_path: Path) -> None:
    archive = build_empty_archive(tmp_path / "archive")
    with TestClient(create_app(archive), raise_server_exceptions=False) as c:
        for _ in range(3):
            r = c.get("/", params={"q": "архів"})
            assert r.status_code == 200
            assert "В архіві ще немає сторінок для пошуку." in r.text
        api = c.get("/api/search", params={"q": "архів"})
        assert api.status_code == 200
        assert api.json()["total"] == 0


def test_no_archive_at_all(tmp_path: Path) -> None:
    with pytest.raises(ArchiveNotFoundError, match="no arkhiv archive here"):
        create_app(tmp_path / "nowhere")


# --- escaping ------------------------------------------------------------------------------------


def assert_no_markup_injected(body: str) -> None:
    assert "<script>alert" not in body
    assert "</script> <img" not in body
    assert "<img src=x" not in body
    assert "onerror=alert(1)>" not in body


def test_hostile_ocr_text_is_escaped_in_search_snippets(client: TestClient) -> None:
    r = client.get("/", params={"q": ARCHIVE_QUERY})
    assert_no_markup_injected(r.text)
    hostile = [s for s in snippets(r.text) if "alert" in s]
    assert len(hostile) == 1
    # the snippet starts at the first word ("script"), so the first "<" is cut off
    assert "&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;" in hostile[0]
    assert hostile[0].endswith("<mark>архівні</mark> <mark>дані</mark>")


def test_hostile_ocr_text_is_escaped_on_the_document_page(
    client: TestClient, web: WebArchive
) -> None:
    for params in ({}, {"q": ARCHIVE_QUERY}):
        r = client.get(f"/document/{web.personnel}", params=params)
        assert r.status_code == 200
        assert_no_markup_injected(r.text)
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in r.text
        assert "&lt;img src=x onerror=alert(1)&gt;" in r.text
    # a hit inside the hostile text: marks and escaping together
    r = client.get(f"/document/{web.personnel}", params={"q": "alert onerror"})
    assert_no_markup_injected(r.text)
    assert (
        "&lt;script&gt;<mark>alert</mark>(&#39;x&#39;)&lt;/script&gt; "
        "&lt;img src=x <mark>onerror</mark>=<mark>alert</mark>(1)&gt;"
    ) in r.text


def test_metadata_title_is_escaped(client: TestClient, web: WebArchive) -> None:
    escaped = "&lt;b&gt;Заголовок&lt;/b&gt; &amp; &#34;лапки&#34;"
    page = client.get(f"/document/{web.minutes}").text
    assert "<b>Заголовок</b>" not in page
    assert f'<p class="doc-title">{escaped}</p>' in page
    assert f"<dt>Заголовок</dt><dd>{escaped}</dd>" in page
    results = client.get("/", params={"q": "правління"}).text
    assert f'<div class="doc-title">{escaped}</div>' in results
    assert "<b>Заголовок</b>" not in results


def test_query_is_escaped_where_it_is_shown_again(client: TestClient, web: WebArchive) -> None:
    q = '"><script>alert(1)</script>'
    for r in (
        client.get("/", params={"q": q}),
        client.get(f"/document/{web.personnel}", params={"q": q}),
    ):
        assert r.status_code == 200
        assert "<script>alert(1)" not in r.text
    assert (
        'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'
        in client.get("/", params={"q": q}).text
    )


def test_json_api_returns_the_raw_text(client: TestClient, web: WebArchive) -> None:
    r = client.get(f"/api/documents/{web.personnel}/pages/2")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json()["text"] == HOSTILE
    hits = client.get("/api/search", params={"q": "onerror"}).json()["hits"]
    assert [h["citation"] for h in hits] == ["ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 1 зв."]
    assert "<img src=x [[onerror]]=alert(1)>" in hits[0]["snippet"]
    doc = client.get(f"/api/documents/{web.minutes}").json()
    assert doc["metadata"]["title"] == HOSTILE_TITLE


# --- the document page, its images and PDF -------------------------------------------------------


def test_document_page_shows_metadata_pages_and_marks(client: TestClient, web: WebArchive) -> None:
    r = client.get(f"/document/{web.personnel}", params={"q": ARCHIVE_QUERY})
    assert r.status_code == 200
    body = main(r.text)
    assert '<h1 class="doc-head">ДАЗО, ф. Р-123, оп. 4, спр. 56</h1>' in body
    dl = re.search(r"<dl>(.*?)</dl>", body, re.S)
    assert dl
    assert dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", dl.group(1))) == {
        "Архівний шифр": "ДАЗО, ф. Р-123, оп. 4, спр. 56",
        "Заголовок": "Особові справи робітників",
        "Дата": "1937",
        "Фондоутворювач": "Ужгородський завод",
        "Мова": "uk",
        "Кількість аркушів": "2",
    }
    for n in (1, 2, 3):
        assert f'<img src="/document/{web.personnel}/page/{n}/thumb.jpg"' in body
        assert f'<a class="thumb" href="/document/{web.personnel}/page/{n}/view.jpg">' in body
        assert f'href="/document/{web.personnel}/pdf#page={n}"' in body
    assert f'href="/document/{web.personnel}/pdf?download=1" download>Завантажити PDF</a>' in body
    # pages with a hit are marked and selected; the others are not
    assert re.findall(r'<article class="page( selected)?" id="page-(\d)">', body) == [
        (" selected", "1"),
        (" selected", "2"),
        ("", "3"),
    ]
    assert "<mark>Архівні</mark> <mark>дані</mark> про стаж" in body
    assert "<mark>" not in body.split('id="page-3"')[1]
    assert "<h3>сторінка 2 · арк. 1 зв.</h3>" in body
    assert '<span class="cite">ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 1 зв.</span>' in body
    back = quote(ARCHIVE_QUERY).replace("%20", "+")
    assert f'<a href="/?q={back}">← До результатів</a>' in body


def test_document_page_without_a_query_has_no_marks(client: TestClient, web: WebArchive) -> None:
    body = main(client.get(f"/document/{web.personnel}").text)
    assert "<mark>" not in body
    assert "selected" not in body
    assert '<a href="/">← До результатів</a>' in body


def test_thumbnail_is_a_jpeg_rendered_once_then_cached(
    own: WebArchive, renders: list[tuple[Path, int, int]]
) -> None:
    with TestClient(create_app(own.path)) as c:
        first = c.get(f"/document/{own.personnel}/page/2/thumb.jpg")
        assert first.status_code == 200, first.text
        assert first.headers["content-type"] == "image/jpeg"
        assert first.content.startswith(JPEG)
        pdf = own.path / f"documents/{own.personnel:06d}-ДАЗО_ф.Р-123_оп.4_спр.56/document.pdf"
        assert renders == [(pdf.resolve(), 2, thumbs.SIZES["thumb"])]
        cached = list((own.path / "cache" / "thumbs").rglob("*.jpg"))
        assert [p.name.endswith("-2-240.jpg") for p in cached] == [True]

        second = c.get(f"/document/{own.personnel}/page/2/thumb.jpg")  # a re-render would fail
        assert second.status_code == 200, second.text
        assert second.content == first.content == cached[0].read_bytes()
        assert len(renders) == 1

        view = c.get(f"/document/{own.personnel}/page/2/view.jpg")
        assert view.status_code == 200
        assert view.content.startswith(JPEG)
        assert renders[-1] == (pdf.resolve(), 2, thumbs.SIZES["view"])
        with Image.open(cached[0]) as image:
            assert image.size == (240, 320)


def test_image_of_a_page_that_cannot_be_rendered(
    own: WebArchive, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(pdf: Path, page: int, width: int) -> Image.Image:
        raise ToolError("pdftoppm", 1, "Syntax Error", f"cannot render {pdf} page {page}")

    monkeypatch.setattr(thumbs, "render_page", broken)
    with TestClient(create_app(own.path)) as c:
        r = c.get(f"/document/{own.personnel}/page/1/thumb.jpg")
    assert r.status_code == 500
    assert r.text.startswith("cannot render the page: cannot render ")
    assert not list((own.path / "cache" / "thumbs").rglob("*.jpg"))


@pytest.mark.parametrize(
    "path",
    [
        "/document/1/page/1/huge.jpg",
        "/document/1/page/1/THUMB.jpg",
        "/document/1/page/1/thumb.png",
        "/document/1/page/9/thumb.jpg",  # no such page
        "/document/99999/page/1/thumb.jpg",
    ],
)
def test_other_images_are_404(
    client: TestClient, renders: list[tuple[Path, int, int]], path: str
) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/plain")
    assert renders == []


def test_pdf_inline_and_as_download(client: TestClient, web: WebArchive) -> None:
    pdf = web.path / f"documents/{web.personnel:06d}-ДАЗО_ф.Р-123_оп.4_спр.56/document.pdf"
    r = client.get(f"/document/{web.personnel}/pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content == pdf.read_bytes()
    assert r.content.startswith(b"%PDF-")
    filename = quote("ДАЗО, ф. Р-123, оп. 4, спр. 56.pdf")
    assert r.headers["content-disposition"] == f"inline; filename*=utf-8''{filename}"

    download = client.get(f"/document/{web.personnel}/pdf", params={"download": 1})
    assert download.headers["content-disposition"] == f"attachment; filename*=utf-8''{filename}"
    assert download.content == r.content


def test_missing_document_is_a_friendly_ukrainian_page(client: TestClient) -> None:
    r = client.get("/document/99999")
    assert r.status_code == 404
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="uk">' in r.text
    assert "<h1>Такої справи або сторінки немає.</h1>" in r.text
    assert '<a href="/">← До результатів</a>' in r.text
    assert "detail" not in r.text
    english = client.get("/document/99999", params={"lang": "en"})
    assert "<h1>No such document or page.</h1>" in english.text
    assert client.get("/no/such/page").status_code == 404


# --- path traversal ------------------------------------------------------------------------------


def set_pdf_path(archive: Path, doc_id: int, pdf_path: str) -> None:
    db = sqlite3.connect(archive / CATALOG_NAME)
    try:
        with db:
            db.execute("UPDATE documents SET pdf_path=? WHERE id=?", (pdf_path, doc_id))
    finally:
        db.close()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "outside-secret.pdf"
    path.write_bytes(b"%PDF-1.4 SECRET-OUTSIDE-THE-ARCHIVE")
    return path


@pytest.mark.parametrize(
    "where",
    [
        "../outside-secret.pdf",
        "documents/../../outside-secret.pdf",
        "ABSOLUTE",
        "../../../../../../../../etc/passwd",
        "/etc/passwd",
        "",
        "documents",  # a folder, not a file
    ],
)
def test_pdf_path_outside_the_archive_is_404(
    own: WebArchive,
    outside: Path,
    renders: list[tuple[Path, int, int]],
    where: str,
) -> None:
    set_pdf_path(own.path, own.personnel, str(outside) if where == "ABSOLUTE" else where)
    with TestClient(create_app(own.path)) as c:
        for url in (
            f"/document/{own.personnel}/pdf",
            f"/document/{own.personnel}/pdf?download=1",
            f"/document/{own.personnel}/page/1/thumb.jpg",
        ):
            r = c.get(url)
            assert r.status_code == 404, url
            assert b"SECRET-OUTSIDE" not in r.content
            assert b"root:" not in r.content
    assert renders == []


def test_pdf_symlink_out_of_the_archive_is_404(
    own: WebArchive, outside: Path, renders: list[tuple[Path, int, int]]
) -> None:
    link = own.path / "documents" / "link.pdf"
    link.symlink_to(outside)
    set_pdf_path(own.path, own.personnel, "documents/link.pdf")
    with TestClient(create_app(own.path)) as c:
        for url in (f"/document/{own.personnel}/pdf", f"/document/{own.personnel}/page/1/view.jpg"):
            r = c.get(url)
            assert r.status_code == 404
            assert b"SECRET-OUTSIDE" not in r.content
    assert renders == []


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2fapp.py",
        "/static/..%2f..%2fweb%2fapp.py",
        "/static/%2e%2e/%2e%2e/catalog.py",
        "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/static/..%5capp.py",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/document/1/page/1/..%2f..%2f..%2fcatalog.sqlite",
        "/document/1/page/1/..%2fthumb.jpg",
        "/document/1/page/1/%2e%2e%2f%2e%2e%2fpdf",
        "/document/..%2f..%2fcatalog.sqlite/pdf",
        "/document/1%2f..%2f..%2fcatalog.sqlite",
    ],
)
def test_encoded_traversal_never_serves_a_file(
    client: TestClient, renders: list[tuple[Path, int, int]], path: str
) -> None:
    r = client.get(path)
    assert r.status_code in (400, 404, 422), (path, r.status_code)
    for leaked in (b"create_app", b"SQLite format", b"root:", b"[project]", b"%PDF"):
        assert leaked not in r.content, path
    assert renders == []


def test_static_files_are_served(client: TestClient) -> None:
    r = client.get("/static/style.css")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/css")


# --- restricted documents ------------------------------------------------------------------------


def test_restricted_document_is_invisible_without_auth(
    client: TestClient, web: WebArchive, renders: list[tuple[Path, int, int]]
) -> None:
    assert api_total(client, SECRET_WORD) == 0
    assert api_total(client, ARCHIVE_QUERY) == 3
    for q in (f"fond:{SECRET_FOND}", "access:restricted", f"{SECRET_WORD[:5]}*", "слідства"):
        assert api_total(client, q) == 0, q
    assert api_total(client, "*") == 3 + PROTOCOLS  # every open page, not the secret one
    page = client.get("/", params={"q": SECRET_WORD})
    assert "Нічого не знайдено." in page.text
    assert SECRET_FOND not in client.get("/").text  # not among the filter values
    missing = client.get("/document/99999")
    for url in (
        f"/document/{web.secret}",
        f"/document/{web.secret}?q={SECRET_WORD}",
        f"/document/{web.secret}/pdf",
        f"/document/{web.secret}/page/1/thumb.jpg",
        f"/api/documents/{web.secret}",
        f"/api/documents/{web.secret}/pages/1",
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert SECRET_WORD not in r.text and "Слідча" not in r.text
    # it looks exactly like a document that does not exist
    assert client.get(f"/document/{web.secret}").text == missing.text
    assert renders == []


def test_restricted_document_is_invisible_in_the_auth_app_too(
    auth_client: TestClient, web: WebArchive
) -> None:
    assert api_total(auth_client, SECRET_WORD) == 0
    assert auth_client.get(f"/document/{web.secret}").status_code == 404
    page = auth_client.get("/").text
    assert '<a href="/login">Увійти</a>' in page
    assert "Документи з обмеженим доступом показано лише користувачам з дозволом." in page


def test_did_you_mean_does_not_reveal_restricted_words(client: TestClient) -> None:
    r = client.get("/api/search", params={"q": "таємнеця"})
    assert r.json()["total"] == 0
    assert r.json()["suggestion"] is None
    assert SECRET_WORD not in client.get("/", params={"q": "таємнеця"}).text


def test_did_you_mean_offers_restricted_words_to_those_allowed(
    auth_client: TestClient,
) -> None:
    r = auth_client.get("/api/search", params={"q": "таємнеця"}, headers=basic(OLENA, OLENA_PW))
    assert r.json()["suggestion"] == SECRET_WORD


def test_user_allowed_restricted_sees_it(auth_client: TestClient, web: WebArchive) -> None:
    who = basic(OLENA, OLENA_PW)
    assert api_total(auth_client, ARCHIVE_QUERY) == 3
    r = auth_client.get("/", params={"q": SECRET_WORD}, headers=who)
    assert count(r.text) == 1
    assert citations(r.text) == [f"ДАЗО, ф. {SECRET_FOND}, оп. 2, спр. 3, арк. 1"]
    assert '<span class="badge">обмежений</span>' in r.text
    assert "Ви увійшли як олена" in r.text
    assert count(auth_client.get("/", params={"q": ARCHIVE_QUERY}, headers=who).text) == 4
    assert f'<option value="{SECRET_FOND}" >' in r.text  # among the filter values

    doc = auth_client.get(f"/document/{web.secret}", headers=who)
    assert doc.status_code == 200
    assert "<dt>Доступ</dt><dd>обмежений</dd>" in doc.text
    assert "Таємниця слідства" in doc.text
    api = auth_client.get(f"/api/documents/{web.secret}", headers=who)
    assert api.status_code == 200
    assert api.json()["access"] == "restricted"
    pdf = auth_client.get(f"/document/{web.secret}/pdf", headers=who)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    hits = auth_client.get("/api/search", params={"q": SECRET_WORD}, headers=who).json()
    assert hits["total"] == 1 and hits["hits"][0]["document_id"] == web.secret


def test_user_not_allowed_restricted_does_not_see_it(
    auth_client: TestClient, web: WebArchive
) -> None:
    who = basic(PETRO, PETRO_PW)
    r = auth_client.get("/", params={"q": SECRET_WORD}, headers=who)
    assert r.status_code == 200
    assert "Ви увійшли як петро" in r.text
    assert "Нічого не знайдено." in r.text
    assert count(auth_client.get("/", params={"q": ARCHIVE_QUERY}, headers=who).text) == 3
    for url in (f"/document/{web.secret}", f"/api/documents/{web.secret}"):
        assert auth_client.get(url, headers=who).status_code == 404
    assert auth_client.get(f"/document/{web.personnel}", headers=who).status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        basic(OLENA, "wrong-password-1"),
        basic("nobody", OLENA_PW),
        basic(OLENA, ""),
        bearer("not-a-token"),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": 'Digest username="olena"'},
    ],
)
def test_wrong_credentials_are_401_asking_again(
    auth_client: TestClient, web: WebArchive, header: dict[str, str]
) -> None:
    for url in ("/", f"/document/{web.secret}", "/api/search?q=дані", "/login"):
        r = auth_client.get(url, headers=header)
        assert r.status_code == 401, url
        assert r.headers["www-authenticate"] == 'Basic realm="arkhiv", charset="UTF-8"'
        assert SECRET_WORD not in r.text


def test_bearer_tokens(
    auth_client: TestClient, web: WebArchive, users_file: tuple[Path, str, str]
) -> None:
    _, allowed, kiosk = users_file
    r = auth_client.get("/api/search", params={"q": SECRET_WORD}, headers=bearer(allowed))
    assert r.status_code == 200
    assert [h["document_id"] for h in r.json()["hits"]] == [web.secret]
    assert api_total(auth_client, ARCHIVE_QUERY) == 3
    r = auth_client.get("/api/search", params={"q": ARCHIVE_QUERY}, headers=bearer(allowed))
    assert r.json()["total"] == 4
    assert auth_client.get(f"/api/documents/{web.secret}", headers=bearer(kiosk)).status_code == 404
    r = auth_client.get("/api/search", params={"q": SECRET_WORD}, headers=bearer(kiosk))
    assert r.json()["total"] == 0


def test_login(auth_client: TestClient, client: TestClient) -> None:
    r = auth_client.get("/login", follow_redirects=False)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Basic realm="arkhiv", charset="UTF-8"'
    r = auth_client.get("/login", headers=basic(OLENA, OLENA_PW), follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    # without --auth there is nothing to sign in to
    assert client.get("/login").status_code == 404
    assert "/login" not in client.get("/").text


# --- the JSON API --------------------------------------------------------------------------------


def test_api_search_response(client: TestClient, web: WebArchive) -> None:
    r = client.get("/api/search", params={"q": ARCHIVE_QUERY, "fond": "Р-123", "per_page": 1})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert {k: body[k] for k in ("query", "total", "page", "per_page", "pages", "suggestion")} == {
        "query": ARCHIVE_QUERY,
        "total": 2,
        "page": 1,
        "per_page": 1,
        "pages": 2,
        "suggestion": None,
    }
    second = client.get(
        "/api/search", params={"q": ARCHIVE_QUERY, "fond": "Р-123", "per_page": 1, "page": 2}
    ).json()
    hits = {h["page"]: h for h in body["hits"] + second["hits"]}
    assert sorted(hits) == [1, 2]
    hit = hits[2]
    assert hit["document_id"] == web.personnel
    assert hit["document"] == "ДАЗО_ф.Р-123_оп.4_спр.56"
    assert hit["title"] == "Особові справи робітників"
    assert hit["citation"] == "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 1 зв."
    assert (hit["arkush"], hit["verso"]) == (1, True)
    assert (hit["year_from"], hit["year_to"]) == (1937, 1937)
    assert hit["snippet"].endswith("[[архівні]] [[дані]]")
    assert hits[1]["snippet"] == (
        "Трудова книжка робітника Ужгородського заводу. [[Архівні]] [[дані]] про стаж за 1937 рік"
    )
    assert hit["document_url"] == f"/document/{web.personnel}#page-2"
    assert hit["pdf_url"] == f"/document/{web.personnel}/pdf#page=2"
    assert hit["image_url"] == f"/document/{web.personnel}/page/2/view.jpg"
    assert hit["score"] > 0


def test_api_page_size_limits(client: TestClient) -> None:
    ok = client.get("/api/search", params={"q": "протокол", "per_page": 50})
    assert ok.status_code == 200
    assert len(ok.json()["hits"]) == PROTOCOLS
    for params in ({"per_page": 51}, {"per_page": 0}, {"page": 0}, {"page": 1001}):
        r = client.get("/api/search", params={"q": "протокол", **params})
        assert r.status_code == 422, params
    assert (
        client.get("/", params={"q": "протокол", "page": 0}).status_code == 400
    )  # a friendly page, not JSON


def test_api_page_past_the_last_has_no_hits(client: TestClient) -> None:
    params = {"q": "протокол", "per_page": 20}
    last = client.get("/api/search", params={**params, "page": 2}).json()
    assert len(last["hits"]) == PROTOCOLS - 20
    past = client.get("/api/search", params={**params, "page": 3}).json()
    assert (past["total"], past["pages"]) == (PROTOCOLS, 2)
    assert past["hits"] == []


def test_api_document_and_page(client: TestClient, web: WebArchive) -> None:
    r = client.get(f"/api/documents/{web.personnel}")
    assert r.status_code == 200
    doc = r.json()
    assert doc["id"] == web.personnel
    assert doc["citation"] == "ДАЗО, ф. Р-123, оп. 4, спр. 56"
    assert doc["access"] == "open"
    assert doc["pdf_url"] == f"/document/{web.personnel}/pdf"
    assert doc["metadata"]["reference"] == {
        "archive": "ДАЗО",
        "fond": "Р-123",
        "opys": "4",
        "sprava": "56",
    }
    assert doc["metadata"]["date"]["year_from"] == 1937
    assert [(p["number"], p["arkush"], p["verso"]) for p in doc["pages"]] == [
        (1, 1, False),
        (2, 1, True),
        (3, 2, False),
    ]
    assert doc["pages"][2] == {
        "number": 3,
        "arkush": 2,
        "verso": False,
        "citation": "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 2",
        "status": "ok",
        "error": None,
        "confidence": 90.0,
        "text_url": f"/api/documents/{web.personnel}/pages/3",
        "image_url": f"/document/{web.personnel}/page/3/view.jpg",
        "pdf_url": f"/document/{web.personnel}/pdf#page=3",
    }
    page = client.get(doc["pages"][0]["text_url"]).json()
    assert page["document_id"] == web.personnel
    assert page["citation"] == "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 1"
    assert page["text"].startswith("Трудова книжка робітника")
    for url in (
        "/api/documents/99999",
        f"/api/documents/{web.personnel}/pages/4",
        f"/api/documents/{web.personnel}/pages/0",
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert r.headers["content-type"] == "application/json"


def test_openapi_describes_the_three_endpoints(client: TestClient) -> None:
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    paths = spec["paths"]
    assert set(paths) == {
        "/api/search",
        "/api/documents/{doc_id}",
        "/api/documents/{doc_id}/pages/{number}",
    }
    assert paths["/api/search"]["get"]["description"].startswith("Pages matching the query")
    assert paths["/api/documents/{doc_id}"]["get"]["description"] == (
        "A document's metadata and its pages."
    )
    assert "OCR text" in paths["/api/documents/{doc_id}/pages/{number}"]["get"]["description"]
    q = next(p for p in paths["/api/search"]["get"]["parameters"] if p["name"] == "q")
    assert q["description"] == 'Words in any form; "a phrase"; field:value'
    assert "[[" in spec["components"]["schemas"]["HitModel"]["properties"]["snippet"]["description"]
    assert client.get("/docs").status_code == 404  # no Swagger UI from a CDN


# --- headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",
        f"/?q={ARCHIVE_QUERY}",
        "/document/1?q=дані",
        "/document/99999",
        "/api/search?q=дані",
        "/static/app.js",
    ],
)
def test_security_headers(client: TestClient, url: str) -> None:
    r = client.get(url)
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["base-uri"] == "'none'"
    assert "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "SAMEORIGIN"
    assert r.headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_script(client: TestClient, web: WebArchive) -> None:
    """script-src 'self' would block an inline script: the page must not need one."""
    for url in ("/", f"/?q={ARCHIVE_QUERY}", f"/document/{web.personnel}"):
        body = client.get(url).text
        assert re.findall(r"<script[^>]*>", body) == ['<script src="/static/app.js" defer>']
        assert " onclick=" not in body and " onload=" not in body and 'style="' not in body


@pytest.mark.parametrize(
    ("year_from", "year_to", "expected"),
    [
        (1936, 1938, {"personnel"}),  # year terms (a narrow range)
        (1937, 1937, {"personnel"}),
        (1938, 1949, set()),
        (1946, None, {"minutes"}),  # open-ended: up to 2100, numeric bounds
        (None, 1940, {"personnel"}),
        (1000, 2100, {"personnel", "minutes"}),  # the widest range
        (1900, 1999, {"personnel", "minutes"}),  # under YEAR_TERMS_SPAN: year terms
    ],
)
def test_year_filter_by_terms_and_by_numeric_bounds_agree(
    web: WebArchive, year_from: int | None, year_to: int | None, expected: set[str]
) -> None:
    """Narrow ranges use the `years` terms, wide ones two numeric bounds: same answers."""
    from arkhiv.reader import ArchiveReader
    from arkhiv.search import SearchFilters

    reader = ArchiveReader(web.path)
    names = {web.personnel: "personnel", web.minutes: "minutes", web.secret: "secret"}
    found = reader.search(
        "архівні OR протокол OR наказ",
        limit=50,
        filters=SearchFilters(year_from=year_from, year_to=year_to),
        include_restricted=False,
    )
    assert {names[h.document_id] for h in found.hits} == expected


# --- pages that need review ---------------------------------------------------------------------


def test_signed_in_staff_see_the_pages_that_need_review(
    own: WebArchive, users_file: tuple[Path, str, str]
) -> None:
    import json
    import sqlite3

    db = sqlite3.connect(own.path / "catalog.sqlite")
    rows = db.execute(
        "SELECT p.id, d.access FROM pages p JOIN documents d ON d.id = p.document_id"
    ).fetchall()
    open_page = next(pid for pid, access in rows if access != "restricted")
    secret_page = next(pid for pid, access in rows if access == "restricted")
    for pid, reason in (
        (open_page, "text-missed: 38% of the ink unread"),
        (secret_page, "low-confidence: 64"),
    ):
        db.execute("UPDATE pages SET review = ? WHERE id = ?", (json.dumps([reason]), pid))
    db.commit()
    db.close()
    with TestClient(create_app(own.path)) as anonymous_lan:  # no --auth: no staff
        assert anonymous_lan.get("/review").status_code == 404
    with TestClient(create_app(own.path, users=UsersFile.load(users_file[0]))) as c:
        assert c.get("/review").status_code == 401
        petro = main(c.get("/review", headers=basic(PETRO, PETRO_PW)).text)
        assert "text-missed: 38% of the ink unread" in petro
        assert "low-confidence: 64" not in petro  # a restricted document's page: not for him
        olena = c.get("/review", headers=basic(OLENA, OLENA_PW))
        assert olena.status_code == 200 and "low-confidence: 64" in olena.text
        assert 'href="/review"' in c.get("/", headers=basic(OLENA, OLENA_PW)).text
        assert 'href="/review"' not in c.get("/").text


BIG = str(2**63)  # past SQLite's integers


@pytest.mark.parametrize(
    "path",
    [f"/document/{BIG}", f"/api/documents/{BIG}", f"/document/{BIG}/pdf",
     f"/document/{BIG}/page/1/thumb.jpg", f"/api/documents/{BIG}/pages/1"],
)  # fmt: skip
def test_a_document_number_past_sqlites_range_is_not_found(client: TestClient, path: str) -> None:
    """Issue 15, item 17: OverflowError, answered 500."""
    r = client.get(path)
    assert r.status_code == 404
    if path.startswith("/api/"):
        assert r.json() == {"detail": "no such document"}


def test_an_archive_whose_catalog_is_gone_answers_404_not_500(own: WebArchive) -> None:
    app = create_app(own.path)
    (own.path / "catalog.sqlite").unlink()
    with TestClient(app) as c:
        r = c.get("/api/documents/1")
        assert r.status_code == 404 and "no arkhiv archive here" in r.json()["detail"]
        assert c.get("/document/1").status_code == 404


def test_where_metadata_came_from_is_only_for_signed_in_users(
    auth_client: TestClient, web: WebArchive
) -> None:
    """Issue 15, item 17: /api/documents/N gave anonymous users absolute server paths."""
    anonymous = auth_client.get("/api/documents/1").json()
    assert "origin" not in anonymous["metadata"] and anonymous["metadata"]
    signed_in = auth_client.get("/api/documents/1", headers=basic(PETRO, PETRO_PW)).json()
    assert "origin" in signed_in["metadata"]
