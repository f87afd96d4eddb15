"""A document that gains a page: only the new page is OCRed, the PDF is rebuilt with all pages."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pikepdf
import pytest

from arkhiv import api
from arkhiv.config import load_pipeline, load_settings
from arkhiv.search import PageIndex
from tests.conftest import SPRAVA

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]


def _page_text(pdf: Path, number: int) -> str:
    out = subprocess.run(
        ["pdftotext", "-f", str(number), "-l", str(number), str(pdf), "-"],
        capture_output=True,
        check=True,
    )
    return out.stdout.decode("utf-8")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_added_page_is_the_only_one_ocred(tmp_path: Path) -> None:
    scans = tmp_path / "справа"
    scans.mkdir()
    shutil.copy(SPRAVA / "1.png", scans / "1.png")
    shutil.copy(SPRAVA / "2.png", scans / "2.png")
    archive = tmp_path / "archive"
    settings = load_settings(env={}, overrides={"": {"archive": archive}, "ingest": {"jobs": 2}})
    pipeline = load_pipeline("default", settings)
    first = api.ingest(scans, settings, pipeline)
    assert first.pages_ok == 2
    # The page PDFs now live in the document PDF only: no second copy in the cache.
    assert not list((archive / "cache").rglob("*.pdf"))

    shutil.copy(SPRAVA / "10.png", scans / "10.png")
    second = api.ingest(scans, settings, pipeline)
    assert (second.pages_ok, second.pages_skipped, second.pages_failed) == (1, 2, 0)

    db = sqlite3.connect(archive / "catalog.sqlite")
    (pdf_rel,) = db.execute("SELECT pdf_path FROM documents").fetchone()
    pdf = archive / pdf_rel
    with pikepdf.open(pdf) as p:
        assert len(p.pages) == 3
        assert p.open_metadata().pdfa_status == "2B"
    assert "Ужгороді" in _page_text(pdf, 1)  # from the previous PDF
    assert "комісії" in _page_text(pdf, 2)
    assert "м'ясо" in _page_text(pdf, 3)  # the new page
    rows = db.execute("SELECT number, pdf_page FROM pages ORDER BY number").fetchall()
    assert rows == [(1, 1), (2, 2), (3, 3)]
    assert PageIndex.open(archive, create=False).doc_count() == 3


def test_pages_are_indexed_with_their_place_in_the_document_pdf(tmp_path: Path) -> None:
    """A page is indexed only once its document PDF exists: with two workers the first pages
    of a document are done while its last one still runs, and an index flush meanwhile (the
    idle core indexes what is done, or another document reaches index_batch_pages) must not
    store them without their PDF and page number, for they are not indexed again."""
    scans = tmp_path / "справа"
    scans.mkdir()
    for name in ("1.png", "2.png", "10.png"):
        shutil.copy(SPRAVA / name, scans / name)
    archive = tmp_path / "archive"
    settings = load_settings(
        env={},
        overrides={"": {"archive": archive}, "ingest": {"jobs": 2, "index_batch_pages": 1}},
    )
    report = api.ingest(scans, settings, load_pipeline("fast", settings))
    assert report.pages_ok == 3
    db = sqlite3.connect(archive / "catalog.sqlite")
    (pdf_rel,) = db.execute("SELECT pdf_path FROM documents").fetchone()
    catalog_pages = dict(db.execute("SELECT number, pdf_page FROM pages").fetchall())
    assert catalog_pages == {1: 1, 2: 2, 3: 3}
    with PageIndex.open(archive, create=False).searcher() as s:
        indexed = {f["page"]: (f.get("pdf_path"), f.get("pdf_page")) for f in s.all_stored_fields()}
    assert indexed == {n: (pdf_rel, p) for n, p in catalog_pages.items()}
