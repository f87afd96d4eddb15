"""Ingest samples/ with the real Tesseract, OCRmyPDF, SQLite and Whoosh, then search it."""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import subprocess
import unicodedata
from pathlib import Path

import pikepdf
import pytest
from rapidfuzz.distance import Levenshtein

from arkhiv import api
from arkhiv.config import Settings, load_pipeline, load_settings
from arkhiv.models import BatchReport
from arkhiv.search import PageIndex
from tests.conftest import SAMPLES, SPRAVA

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]


def _settings(archive: Path) -> Settings:
    return load_settings(env={}, overrides={"": {"archive": archive}, "ingest": {"jobs": 2}})


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BatchReport, dict[str, str]]:
    before = _hashes(SAMPLES)
    archive = tmp_path_factory.mktemp("archive")
    settings = _settings(archive)
    report = api.ingest(SAMPLES, settings, load_pipeline("default", settings))
    return archive, report, before


def _db(archive: Path) -> sqlite3.Connection:
    db = sqlite3.connect(archive / "catalog.sqlite")
    db.row_factory = sqlite3.Row
    return db


def _cer(text: str, gt: str) -> float:
    norm = lambda s: " ".join(unicodedata.normalize("NFC", s).split())  # noqa: E731
    return Levenshtein.distance(norm(text), norm(gt)) / max(1, len(norm(gt)))


def test_every_sample_page_is_ocred(ingested: tuple[Path, BatchReport, dict[str, str]]) -> None:
    archive, report, _ = ingested
    assert report.failures == []
    assert (report.documents, report.pages_ok, report.pages_failed) == (3, 6, 0)
    rows = _db(archive).execute("SELECT status, confidence, word_count FROM pages").fetchall()
    assert len(rows) == 6
    assert all(r["status"] == "ok" for r in rows)
    assert all(r["confidence"] is not None and 50 < r["confidence"] <= 100 for r in rows)
    assert all(r["word_count"] > 20 for r in rows)


def test_originals_are_untouched(ingested: tuple[Path, BatchReport, dict[str, str]]) -> None:
    _, _, before = ingested
    assert _hashes(SAMPLES) == before


def test_pages_in_natural_order_and_text_matches_ground_truth(
    ingested: tuple[Path, BatchReport, dict[str, str]],
) -> None:
    archive, _, _ = ingested
    db = _db(archive)
    doc = db.execute("SELECT id FROM documents WHERE name=?", (SPRAVA.name,)).fetchone()
    pages = db.execute(
        "SELECT number, source_path, text, text_path FROM pages"
        " WHERE document_id=? ORDER BY number",
        (doc["id"],),
    ).fetchall()
    assert [Path(p["source_path"]).name for p in pages] == ["1.png", "2.png", "10.png"]
    for p in pages:
        gt = (SPRAVA / Path(p["source_path"]).with_suffix(".gt.txt").name).read_text("utf-8")
        stored = (archive / p["text_path"]).read_text("utf-8")
        assert stored == p["text"]
        assert unicodedata.is_normalized("NFC", stored)
        assert _cer(stored, gt) < 0.08


def test_upside_down_tiff_page_is_turned_and_read(
    ingested: tuple[Path, BatchReport, dict[str, str]],
) -> None:
    archive, _, _ = ingested
    db = _db(archive)
    row = db.execute(
        "SELECT p.text FROM pages p JOIN documents d ON d.id=p.document_id "
        "WHERE d.name='наказ_1937.tif' AND p.number=2"
    ).fetchone()
    gt = (SAMPLES / "наказ_1937.p2.gt.txt").read_text("utf-8")
    assert _cer(row["text"], gt) < 0.08
    # Shown upright: the PDF page is turned (/Rotate), the scan itself is not resampled.
    pdf_path = db.execute("SELECT pdf_path FROM documents WHERE name='наказ_1937.tif'").fetchone()
    with pikepdf.open(archive / pdf_path[0]) as pdf:
        assert [int(p.obj.get("/Rotate", 0)) for p in pdf.pages] == [0, 180]
        image = next(iter(pdf.pages[1].get_images().values()))
        assert (int(image.Width), int(image.Height)) == (1748, 2480)


def test_missing_dpi_is_reported(ingested: tuple[Path, BatchReport, dict[str, str]]) -> None:
    _, report, _ = ingested
    assumed = [p for p in report.pages if p.dpi_assumed]
    assert [Path(p.source).name for p in assumed] == ["газета_1950.jpg"]
    assert any(
        "газета_1950.jpg: no usable DPI in the file, assumed 300" in w for w in report.warnings
    )


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_is_pdfa_with_ukrainian_text_layer(
    ingested: tuple[Path, BatchReport, dict[str, str]],
) -> None:
    archive, _, _ = ingested
    db = _db(archive)
    docs = db.execute("SELECT name, pdf_path, pdf_sha256, page_count FROM documents").fetchall()
    assert len(docs) == 3
    texts = {}
    for d in docs:
        pdf = archive / d["pdf_path"]
        assert hashlib.sha256(pdf.read_bytes()).hexdigest() == d["pdf_sha256"]
        with pikepdf.open(pdf) as p:
            assert len(p.pages) == d["page_count"]
            assert p.open_metadata().pdfa_status == "2B"
        out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True)
        texts[d["name"]] = out.stdout.decode("utf-8")
    sprava = texts[SPRAVA.name]
    for word in ("Ужгороді", "архівних", "даних", "їхній", "п'ять", "м'ясо"):
        assert word in sprava, word
    assert "Європа" in texts["samples"]
    assert "Києва" in texts["наказ_1937.tif"]
    # No half-written or temporary file is left in the archive.
    assert not list(archive.rglob(".arkhiv-tmp-*"))


# The only findings pikepdf's PDF/A validator may have on arkhiv's document PDFs: it does not
# read XMP extension schemas (ISO 19005-2, 6.6.2.3.3), so the arkhiv properties they declare
# and the schema description itself are "not permitted" to it. Anything else is a defect.
_XMP_EXTENSION = re.compile(
    r"XMP (namespace (arkhiv|pdfaExtension|pdfaSchema|pdfaProperty)=\S+"
    r"|property (arkhiv:\w+|pdfaExtension:schemas)) is not permitted$"
)


def test_document_pdfs_pass_a_pdfa_validator(
    ingested: tuple[Path, BatchReport, dict[str, str]],
) -> None:
    """pikepdf's PDF/A-2b validator (the one OCRmyPDF checks its pages with) on the assembled
    documents: fonts, colour, content streams, structure, output intent and XMP."""
    from pikepdf.pdfa import Flavour, validate_written

    archive, _, _ = ingested
    pdfs = [
        archive / row["pdf_path"] for row in _db(archive).execute("SELECT pdf_path FROM documents")
    ]
    assert len(pdfs) == 3
    for pdf in pdfs:
        report = validate_written(pdf, Flavour.PDFA_2B)
        assert not report.unsupported, report.summary()
        other = [f for f in report.violations if not _XMP_EXTENSION.search(f.message)]
        assert not other, report.summary()
        # The extension findings are there: the validator did read the arkhiv XMP packet.
        assert any("arkhiv:" in f.message for f in report.violations), report.summary()


@pytest.mark.parametrize(
    ("query", "expected_word"),
    [
        ("архівні дані", "архівних"),  # inflected form, both words
        ('"архівні дані"', "архівних"),  # as a phrase
        ("Ужгород", "Ужгороді"),
        ("рік", "року"),
        ("село", "сіл"),
        ("мʼясо", "м'ясо"),  # another apostrophe
    ],
)
def test_search_finds_inflected_forms(
    ingested: tuple[Path, BatchReport, dict[str, str]], query: str, expected_word: str
) -> None:
    archive, _, _ = ingested
    result = api.search(archive, query, limit=10)
    assert result.total >= 1
    snippets = " ".join(h.snippet for h in result.hits)
    assert f"[[{expected_word}]]" in snippets or f"[[{expected_word.capitalize()}]]" in snippets


def test_hit_points_at_the_right_page(ingested: tuple[Path, BatchReport, dict[str, str]]) -> None:
    archive, _, _ = ingested
    result = api.search(archive, '"районна архівна комісія"', limit=5)
    top = result.hits[0]
    assert (top.document, top.page, top.pdf_page) == (SPRAVA.name, 2, 2)
    assert top.text_path and (archive / top.text_path).is_file()


def test_second_ingest_does_no_ocr_and_adds_nothing(
    ingested: tuple[Path, BatchReport, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    archive, _, _ = ingested
    db = _db(archive)
    before = db.execute("SELECT count(*) FROM pages").fetchone()[0]
    docs_before = PageIndex.open(archive, create=False).doc_count()

    def no_ocr(*args: object, **kwargs: object) -> None:
        raise AssertionError("a page was sent to OCR again")

    monkeypatch.setattr("arkhiv.pipeline.executor.ProcessPoolExecutor.submit", no_ocr)
    settings = _settings(archive)
    again = api.ingest(SAMPLES, settings, load_pipeline("default", settings))
    assert (again.pages_ok, again.pages_skipped, again.pages_failed) == (0, 6, 0)
    assert db.execute("SELECT count(*) FROM pages").fetchone()[0] == before
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 3
    assert PageIndex.open(archive, create=False).doc_count() == docs_before == 6
