"""Hostile and odd inputs (tests/resources/bad): each bad file fails alone, the rest is OCRed.

The corpus is generated afresh into a temporary folder (make_bad.py) and ingested in one batch;
each file's outcome is then checked in the batch report and in the catalog. The two faults
that are not files (a file that cannot be read, a file deleted while the batch runs) are
injected.
"""

from __future__ import annotations

import errno
import importlib.util
import shutil
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from arkhiv import api
from arkhiv.cli import app
from arkhiv.config import Settings, load_pipeline, load_settings
from arkhiv.models import BatchReport, PageOcrResult, PageReport
from arkhiv.pipeline import ocr as ocr_stage
from arkhiv.pipeline import plan as plan_stage

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]

MAKE_BAD = Path(__file__).resolve().parents[1] / "resources" / "bad" / "make_bad.py"
EMPTY = "the file is empty (0 bytes); copy it again from the scanner"
NOT_AN_IMAGE = "not an image arkhiv can read (corrupt, or not really an image)"
DECODE = "cannot decode the image"
TOO_LARGE = "image too large to process safely"
DPI_WARNING = "no usable DPI in the file, assumed 300"
GONE = "the file disappeared before it could be read"
WORD = "Ужгород"  # on every rendered page


def _load_make_bad() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_bad", MAKE_BAD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_bad = _load_make_bad()


@dataclass(frozen=True)
class Expected:
    """What arkhiv must do with one page of one file of the corpus."""

    status: str  # ok | failed | skipped
    starts: str = ""  # the reason starts with this
    has: str = ""  # the reason contains this
    text: str | None = None  # the page's text contains this ("" : the text is empty)
    warning: str | None = None  # a batch warning "<file>: <warning>"


OK = Expected("ok", text=WORD)

# (file in the corpus, page of its document or None for a single page, expected outcome)
TABLE: list[tuple[str, int | None, Expected]] = [
    ("zero-bytes.png", None, Expected("failed", starts=EMPTY)),
    ("zero-bytes.pdf", None, Expected("failed", starts=EMPTY)),
    ("truncated.tif", None, Expected("failed", starts=DECODE)),
    ("truncated.jpg", None, Expected("failed", starts=DECODE)),
    ("truncated.png", None, Expected("failed", starts=DECODE)),
    # qpdf finds the page objects of the half file, but the image stream is cut: Ghostscript
    # then fails on it (pinned; see the README of tests/resources/bad).
    ("truncated.pdf", 1, Expected("failed", starts="OCR failed: Ghostscript")),
    ("text-named.tif", None, Expected("failed", starts=NOT_AN_IMAGE)),
    ("broken-xref.pdf", 1, OK),  # qpdf rebuilds the xref table
    ("encrypted.pdf", None, Expected("failed", has="encrypted")),
    ("born-digital.pdf", 1, Expected("ok", text="Архівні")),  # pdf_with_text = redo
    ("bomb-40000x40000.png", None, Expected("failed", TOO_LARGE, "max_image_megapixels")),
    ("tiny-1x1.png", None, Expected("failed", "image too small to be a scanned page (1 x 1 px)")),
    ("huge-20000x20000.png", None, Expected("failed", TOO_LARGE, "max_image_megapixels")),
    ("mode-1bit.png", None, OK),
    ("mode-16bit.png", None, OK),
    ("mode-cmyk.jpg", None, OK),
    ("mode-palette.png", None, OK),
    ("mode-alpha.png", None, OK),
    ("multipage-broken-frame2.tif", 1, OK),
    ("multipage-broken-frame2.tif", 2, Expected("failed", starts=f"{DECODE} (frame 2)")),
    ("multipage-broken-frame2.tif", 3, OK),
    ("dpi-absurd-1.png", None, Expected("ok", text=WORD, warning=DPI_WARNING)),
    ("dpi-missing.png", None, Expected("ok", text=WORD, warning=DPI_WARNING)),
    ("exif-rotated.jpg", None, OK),  # turned upright
    ("blank.png", None, Expected("ok", text="", warning="no text found")),
    ("noise.png", None, Expected("ok")),
    (make_bad.CYRILLIC_NAME, None, OK),
    (make_bad.SPACES_NAME, None, OK),
    (make_bad.QUOTES_NAME, None, OK),
    (make_bad.GUILLEMETS_NAME, None, OK),
    (make_bad.LONG_NAME, None, OK),
    (f"{make_bad.LONG_FOLDER}/{make_bad.LONG_FOLDER_PAGE}", None, OK),
]


ODD_NAME_IDS = {
    make_bad.CYRILLIC_NAME: "cyrillic-name",
    make_bad.SPACES_NAME: "spaces-name",
    make_bad.QUOTES_NAME: "quotes-name",
    make_bad.GUILLEMETS_NAME: "guillemets-name",
    make_bad.LONG_NAME: "long-name",
    f"{make_bad.LONG_FOLDER}/{make_bad.LONG_FOLDER_PAGE}": "long-folder-name",
}


def _test_id(name: str, page: int | None) -> str:
    return ODD_NAME_IDS.get(name, name) + (f"-page{page}" if page is not None else "")


def _settings(archive: Path, **ingest: object) -> Settings:
    return load_settings(
        env={}, overrides={"": {"archive": archive}, "ingest": {"jobs": 2, **ingest}}
    )


def _ingest(source: Path, archive: Path, **ingest: object) -> BatchReport:
    settings = _settings(archive, **ingest)
    return api.ingest(source, settings, load_pipeline("default", settings))


@dataclass(frozen=True)
class CatalogPage:
    status: str
    error: str | None
    text: str | None


def _catalog(archive: Path) -> dict[tuple[str, int | None], CatalogPage]:
    """The catalog's pages by (source file, frame)."""
    db = sqlite3.connect(archive / "catalog.sqlite")
    try:
        rows = db.execute("SELECT source_path, frame, status, error, text FROM pages").fetchall()
    finally:
        db.close()
    return {
        (src, frame): CatalogPage(status, error, text) for src, frame, status, error, text in rows
    }


def _records(report: BatchReport, path: Path, page: int | None) -> list[PageReport]:
    """The report's records of a file (of one page of it, for a PDF or multi-page TIFF)."""
    return [p for p in report.pages if p.source == str(path) and page in (None, p.page)]


def _label(path: Path, page: int | None) -> str:
    """How the report and the summary name a failed page."""
    return str(path) + (f" (page {page})" if page is not None else "")


def _one_line(reason: str | None) -> None:
    assert reason is not None and reason.strip()
    assert "\n" not in reason and "\r" not in reason, reason
    assert "Traceback" not in reason, reason


def _check_reason(reason: str | None, expected: Expected) -> None:
    _one_line(reason)
    assert reason is not None
    assert reason.startswith(expected.starts), reason
    assert expected.has in reason, reason


# --------------------------------------------------------------------------------------------
# The whole corpus in one batch
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    corpus: Path
    archive: Path
    report: BatchReport


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    make_bad.make_corpus(corpus, symlink_loop=True)
    archive = root / "archive"
    report = _ingest(corpus, archive)  # must not raise
    return Batch(corpus, archive, report)


def test_the_batch_finishes_as_partial(batch: Batch) -> None:
    report = batch.report
    assert not report.interrupted
    assert report.failed
    db = sqlite3.connect(batch.archive / "catalog.sqlite")
    try:
        status, finished = db.execute("SELECT status, finished_at FROM batches").fetchone()
    finally:
        db.close()
    assert (status, bool(finished)) == ("partial", True)
    for file, reason in report.failures:
        assert file.startswith(f"{batch.corpus}/"), file
        _one_line(reason)
    for page in report.pages:
        if page.reason is not None:
            _one_line(page.reason)


def test_every_file_is_accounted_for(batch: Batch) -> None:
    """Each file of the corpus has a record; nothing is dropped silently or found twice."""
    for name, count in Counter(name for name, _, _ in TABLE).items():
        records = _records(batch.report, batch.corpus / name, None)
        assert len(records) == count, (name, records)
    assert len(batch.report.pages) == len(TABLE)


@pytest.mark.parametrize(
    ("name", "page", "expected"),
    TABLE,
    ids=[_test_id(name, page) for name, page, _ in TABLE],
)
def test_outcome_per_file(batch: Batch, name: str, page: int | None, expected: Expected) -> None:
    path = batch.corpus / name
    records = _records(batch.report, path, page)
    assert len(records) == 1, records
    rec = records[0]
    assert rec.status == expected.status, rec
    if expected.status != "ok":
        _check_reason(rec.reason, expected)
    else:
        assert rec.text_path, rec
        if rec.reason is not None:  # a note on an OK page, e.g. "no text found"
            _one_line(rec.reason)
    if expected.warning is not None:
        assert f"{path}: {expected.warning}" in " | ".join(batch.report.warnings)
    if expected.status == "failed":
        assert (_label(path, page), rec.reason) in batch.report.failures

    # The catalog says the same.
    row = _catalog(batch.archive).get((str(path), None if page is None else page - 1))
    assert row is not None, f"no catalog record for {name}"
    assert row.status == expected.status, row
    if expected.status == "ok":
        assert row.text is not None
        if expected.text is not None:
            if expected.text:
                assert expected.text in row.text, row.text
            else:
                assert not row.text.strip(), row.text
    else:
        assert row.error == rec.reason


def test_dpi_is_assumed_only_where_missing(batch: Batch) -> None:
    assumed = {Path(p.source).name for p in batch.report.pages if p.dpi_assumed}
    assert assumed == {"dpi-absurd-1.png", "dpi-missing.png"}


def test_symlink_loop_is_not_followed(batch: Batch) -> None:
    link = batch.corpus / make_bad.SYMLINK_LOOP / "back-to-parent"
    assert link.is_symlink()
    assert not any("back-to-parent" in p.source for p in batch.report.pages)
    assert not any("back-to-parent" in f for f, _ in batch.report.failures)


def test_good_pages_are_searchable(batch: Batch) -> None:
    assert api.search(batch.archive, "Архівні дані").total >= 1  # the born-digital PDF
    ok_with_word = sum(1 for _, _, e in TABLE if e.status == "ok" and e.text == WORD)
    assert api.search(batch.archive, WORD, limit=100).total >= ok_with_word


def test_cli_reports_each_failure_without_traceback(batch: Batch, tmp_path: Path) -> None:
    """`arkhiv ingest` on the corpus: exit 1 (partial), one FAILED line per failure.

    It runs on a copy of the batch's archive, so the good pages are not OCRed again while the
    bad ones are tried again (failures are not cached) and reported again.
    """
    archive = tmp_path / "archive"
    shutil.copytree(batch.archive, archive, symlinks=True)
    result = CliRunner().invoke(
        app, ["ingest", str(batch.corpus), "--archive", str(archive), "-j", "2"]
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "internal error" not in result.output
    failed_lines = [ln for ln in result.output.splitlines() if ln.startswith("FAILED ")]
    for file, reason in batch.report.failures:
        assert f"FAILED {file}: {reason}" in failed_lines, (file, reason, failed_lines)
    assert len(failed_lines) == len(batch.report.failures)
    for name, page, expected in TABLE:
        if expected.status == "failed":
            label = _label(batch.corpus / name, page)
            assert any(ln.startswith(f"FAILED {label}: ") for ln in failed_lines), name


# --------------------------------------------------------------------------------------------
# Separate small batches
# --------------------------------------------------------------------------------------------


def test_pdf_with_text_skip(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    pdf = scans / "born-digital.pdf"
    pdf.write_bytes(make_bad.born_digital_pdf())
    archive = tmp_path / "archive"
    report = _ingest(scans, archive, pdf_with_text="skip")
    [rec] = report.pages
    assert rec.status == "skipped", rec
    _check_reason(rec.reason, Expected("skipped", has="already has a text layer"))
    row = _catalog(archive)[(str(pdf), 0)]
    assert (row.status, row.error) == ("skipped", rec.reason)


def _two_pages(folder: Path) -> tuple[Path, Path]:
    folder.mkdir()
    good, bad = folder / "1.png", folder / "2.png"
    good.write_bytes(make_bad.png_bytes(make_bad.label(81)))
    bad.write_bytes(make_bad.png_bytes(make_bad.label(82)))
    return good, bad


def _assert_one_failed(archive: Path, report: BatchReport, good: Path, bad: Path) -> str:
    """`bad` failed with a one-line reason (returned), `good` is OK, in report and catalog."""
    by_file = {p.source: p for p in report.pages}
    assert by_file[str(good)].status == "ok"
    assert by_file[str(bad)].status == "failed"
    reason = by_file[str(bad)].reason
    _one_line(reason)
    assert reason is not None
    assert [f for f, _ in report.failures] == [str(bad)]
    catalog = _catalog(archive)
    assert catalog[(str(good), None)].status == "ok"
    assert WORD in (catalog[(str(good), None)].text or "")
    assert (catalog[(str(bad), None)].status, catalog[(str(bad), None)].error) == (
        "failed",
        reason,
    )
    return reason


def test_unreadable_file_fails_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that cannot be read for permissions (chmod 000 does not stop root, and CI runs as
    root, so the error is injected where arkhiv first reads the file)."""
    good, bad = _two_pages(tmp_path / "scans")
    real = plan_stage.sha256_file

    def sha256_file(path: Path, *args: int) -> str:
        if path == bad:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args)

    monkeypatch.setattr(plan_stage, "sha256_file", sha256_file)
    report = _ingest(tmp_path / "scans", tmp_path / "archive")
    reason = _assert_one_failed(tmp_path / "archive", report, good, bad)
    assert "permission denied" in reason.lower() or "cannot read the file" in reason


def test_file_deleted_during_the_batch_fails_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is deleted after it was hashed and planned, before its worker reads it."""
    good, bad = _two_pages(tmp_path / "scans")
    settings = _settings(tmp_path / "archive")
    pipeline = load_pipeline("default", settings)
    bad_key = plan_stage.page_key(plan_stage.sha256_file(bad), None, pipeline)
    real: Callable[[Path, str], PageOcrResult | None] = ocr_stage.load_cached
    deleted: list[Path] = []

    def load_cached(cache_dir: Path, page_key: str) -> PageOcrResult | None:
        if page_key == bad_key and not deleted:
            bad.unlink()
            deleted.append(bad)
            return None
        return real(cache_dir, page_key)

    monkeypatch.setattr(ocr_stage, "load_cached", load_cached)
    report = api.ingest(tmp_path / "scans", settings, pipeline)
    assert deleted == [bad]
    reason = _assert_one_failed(tmp_path / "archive", report, good, bad)
    assert reason == GONE
