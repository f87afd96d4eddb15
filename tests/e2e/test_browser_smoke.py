"""Smoke test: Chromium opens a page served by uvicorn, submits a form, shows Ukrainian text."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from tests.e2e.conftest import free_port, serve_app

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser]

QUERY = "архівних даних ґанок"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def echo_app() -> FastAPI:
    """A search page that echoes its query. GET, because request.form() needs python-multipart."""
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    def search(q: str = "") -> str:
        echo = f'<p id="echo">Ви шукали: {html.escape(q)}</p>' if q else ""
        return f"""<!doctype html>
<html lang="uk"><head><meta charset="utf-8"><title>Пошук в архіві</title></head>
<body>
  <h1>Державний архів Закарпатської області</h1>
  <form method="get" action="/">
    <label for="q">Пошук архівних даних</label>
    <input id="q" name="q" value="">
    <button type="submit">Шукати</button>
  </form>
  {echo}
</body></html>"""

    return app


def test_form_echoes_ukrainian(page: Page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with serve_app(echo_app(), free_port()) as base_url:
        page.goto(base_url + "/")
        expect(page).to_have_title("Пошук в архіві")
        page.get_by_label("Пошук архівних даних").fill(QUERY)
        page.get_by_role("button", name="Шукати").click()
        expect(page.locator("#echo")).to_have_text(f"Ви шукали: {QUERY}")
        assert page.get_by_label("Пошук архівних даних").input_value() == ""
        shot = tmp_path / "echo.png"
        page.screenshot(path=shot, full_page=True)

    assert shot.is_file()
    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 1024
