"""The search page in a real browser: `arkhiv serve` over an archive ingested from samples/."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from arkhiv import api
from arkhiv.config import load_pipeline, load_settings
from arkhiv.metadata.sources import MetadataRequest
from tests.conftest import REPO, SAMPLES, needs_tesseract
from tests.e2e.conftest import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.tesseract, pytest.mark.slow, needs_tesseract()]

# Set README_SCREENSHOT=docs/search-page.png to refresh the README's picture.
README_SCREENSHOT = os.environ.get("README_SCREENSHOT")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """samples/ (copied) ingested with real OCR and its metadata (3 documents, 6 pages)."""
    root = tmp_path_factory.mktemp("e2e")
    scans = root / "samples"
    shutil.copytree(SAMPLES, scans)
    archive = root / "archive"
    settings = load_settings(env={}, overrides={"": {"archive": archive}, "ingest": {"jobs": 2}})
    report = api.ingest(
        scans,
        settings,
        load_pipeline("default", settings),
        metadata=MetadataRequest(manifest=scans / "manifest.csv"),
    )
    assert report.failures == [] and report.pages_ok == 6
    return archive


@pytest.fixture(scope="module")
def server(archive: Path) -> Iterator[str]:
    """`arkhiv serve` as a user starts it, on a free localhost port; its base URL."""
    port = free_port()
    arkhiv = Path(sys.executable).with_name("arkhiv")
    proc = subprocess.Popen(
        [str(arkhiv), "serve", "--archive", str(archive), "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read() if proc.stdout else ""
                    pytest.fail(f"arkhiv serve did not start: {output}")
                time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_search_inflected_form_open_document_see_page(
    page: Page, server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page.goto(server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    box = page.get_by_label("Слова для пошуку")
    # An inflected form of words the pages contain in other forms (архівні дані, архівної...).
    box.press_sequentially("архівних даних")
    page.get_by_role("button", name="Шукати").click()

    expect(page.locator("#count")).to_contain_text("Знайдено сторінок: 3")
    # The hit words are highlighted, whatever their form on the page.
    marks = [m.lower() for m in page.locator("li.hit mark").all_inner_texts()]
    assert {"архівні", "дані", "архівних", "даних"} & set(marks), marks
    citations = page.locator("li.hit .cite a").all_inner_texts()
    assert "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 2" in citations, citations
    assert all(", арк. " in c for c in citations), citations
    page.screenshot(path=tmp_path / "search.png", full_page=True)
    if README_SCREENSHOT:
        page.screenshot(path=README_SCREENSHOT, full_page=False)

    # Open the справа's hit: the document view shows its metadata and the page.
    page.locator("li.hit .cite a", has_text="спр. 56, арк. 2").click()
    expect(page.locator("h1")).to_have_text("ДАЗО, ф. Р-123, оп. 4, спр. 56")
    expect(page.locator(".metadata")).to_contain_text("Довідки, протоколи та списки сіл")
    target = page.locator("#page-2")
    expect(target).to_have_class("page selected")
    expect(target.locator("mark").first).to_be_visible()
    image = target.locator("img")
    image.scroll_into_view_if_needed()
    expect(image).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 100", arg=image.element_handle()
    )
    assert page.url.endswith("#page-2")
    page.screenshot(path=tmp_path / "document.png", full_page=True)
    assert (tmp_path / "search.png").stat().st_size > 10_000
    assert (tmp_path / "document.png").stat().st_size > 10_000

    # The page image opens; the PDF link points at the page in the document PDF.
    pdf_link = target.get_by_role("link", name="Відкрити PDF на цій сторінці")
    assert pdf_link.get_attribute("href", timeout=1000).endswith("/pdf#page=2")


def test_nothing_found_offers_a_correction_and_english(page: Page, server: str) -> None:
    from playwright.sync_api import expect

    page.goto(server + "/?q=Ужгородь")
    expect(page.locator(".nothing")).to_have_text("Нічого не знайдено.")
    page.get_by_role("link", name="ужгород").click()
    expect(page.locator("#count")).to_contain_text("Знайдено сторінок:")
    page.get_by_role("link", name="English").click()
    expect(page.locator("#count")).to_contain_text("page(s) found")
    expect(page.get_by_role("button", name="Search")).to_be_visible()


def test_restricted_document_is_not_shown_without_sign_in(page: Page, server: str) -> None:
    from playwright.sync_api import expect

    # The newspaper clipping is marked restricted in samples/manifest.csv.
    page.goto(server + "/?q=фруктовий сад")  # only in the clipping
    expect(page.locator(".nothing")).to_be_visible()
    page.goto(server + "/?q=Ужгород")
    expect(page.locator("#count")).to_be_visible()
    assert "спр. 15а" not in page.content()
