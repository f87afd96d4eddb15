"""A disk that fills up in the middle of a batch: a clear message, a consistent archive, a resume.

The archive folder is a small tmpfs (root only; skipped where mounting is not permitted). Its
size is tuned to the samples: the catalog, the index and all six pages' OCR results fit, but
the last document's PDF (~1.6 MB) does not, since its pages' copies are still in the page
cache while it is written.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest

from arkhiv import api
from arkhiv.config import Settings, load_pipeline, load_settings
from arkhiv.errors import ArkhivError
from arkhiv.fsutil import TEMP_PREFIX
from arkhiv.models import BatchReport
from arkhiv.search import PageIndex
from tests.conftest import SAMPLES

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]

SMALL_MB = 3
BIG_MB = 64
FULL_DISK_WORDS = ("no space left", "disk is full", "disk full", "full disk")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False)


def _mount_tmpfs(folder: Path, size_mb: int) -> None:
    if shutil.which("mount") is None:
        pytest.skip("no `mount` program: cannot make a small file system for the archive")
    folder.mkdir(parents=True, exist_ok=True)
    done = _run("mount", "-t", "tmpfs", "-o", f"size={size_mb}M", "tmpfs", str(folder))
    if done.returncode != 0:
        reason = done.stderr.strip() or f"exit code {done.returncode}"
        denied = ("permission denied", "not permitted", "only root", "must be superuser")
        if os.geteuid() != 0 or any(w in reason.lower() for w in denied):
            pytest.skip(f"mounting a tmpfs is not permitted here ({reason}); needs root")
        pytest.fail(f"mount -t tmpfs failed: {reason}")


def _unmount(folder: Path) -> None:
    if _run("umount", str(folder)).returncode != 0:
        _run("umount", "-l", str(folder))  # still busy (a stray worker): detach it anyway


@pytest.fixture
def small_archive(tmp_path: Path) -> Iterator[Path]:
    """An archive folder on a SMALL_MB tmpfs, unmounted afterwards even when the test fails."""
    archive = tmp_path / "archive"
    _mount_tmpfs(archive, SMALL_MB)
    try:
        yield archive
    finally:
        _unmount(archive)


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    folder = tmp_path / "scans"
    shutil.copytree(SAMPLES, folder)
    return folder


def _settings(archive: Path) -> Settings:
    return load_settings(env={}, overrides={"": {"archive": archive}, "ingest": {"jobs": 2}})


def _ingest(scans: Path, archive: Path) -> tuple[BatchReport | None, Exception | None]:
    """Ingest, returning the report or the exception it raised (whatever its type)."""
    settings = _settings(archive)
    try:
        return api.ingest(scans, settings, load_pipeline("default", settings)), None
    except Exception as e:
        return None, e


def _describe(report: BatchReport | None, error: Exception | None) -> str:
    if error is not None:
        return f"raised {type(error).__module__}.{type(error).__name__}: {error}"
    assert report is not None
    return f"finished: {report.pages_ok} ok, {report.pages_failed} failed: {report.failures}"


def _mentions_full_disk(text: str) -> bool:
    return any(w in text.lower() for w in FULL_DISK_WORDS)


def _catalog(archive: Path) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
    """The pages and documents of the catalog, after checking the database itself."""
    db = sqlite3.connect(archive / "catalog.sqlite")
    db.row_factory = sqlite3.Row
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        pages = db.execute("SELECT * FROM pages").fetchall()
        return pages, db.execute("SELECT * FROM documents").fetchall()
    finally:
        db.close()


def _check_consistent(archive: Path) -> None:
    """What must hold after any run, finished or not."""
    pages, documents = _catalog(archive)

    # The catalog and the index agree.
    in_catalog = {f"{p['document_id']}:{p['number']}": p for p in pages}
    keys = PageIndex.open(archive, create=False).indexed_keys()
    for pid, page in in_catalog.items():
        if page["indexed_key"] is not None:
            assert keys.get(pid) == page["indexed_key"], f"page {pid} marked indexed but is not"
    assert set(keys) <= set(in_catalog), "the index has pages the catalog lacks"

    # No half-written output is visible: every PDF and text there is whole and as recorded.
    by_folder = {row["folder"]: row for row in documents}
    for pdf_file in archive.glob("documents/*/document.pdf"):
        with pikepdf.open(pdf_file) as pdf:
            assert len(pdf.pages) >= 1
        row = by_folder.get(f"documents/{pdf_file.parent.name}")
        if row is not None and row["pdf_sha256"]:
            assert hashlib.sha256(pdf_file.read_bytes()).hexdigest() == row["pdf_sha256"]
    for page in pages:
        if page["text_path"] and page["status"] == "ok":
            text = (archive / page["text_path"]).read_text(encoding="utf-8")
            assert text == page["text"], page["text_path"]

    # No temporary file left behind (ours, or pikepdf's own beside a PDF being saved).
    leftovers = [*archive.rglob(f"*{TEMP_PREFIX}*"), *archive.rglob(".pikepdf.*")]
    assert leftovers == []
    work = archive / "tmp"
    assert not work.is_dir() or not any(work.iterdir())


def test_full_disk_leaves_a_consistent_archive_that_a_rerun_completes(
    small_archive: Path, scans: Path
) -> None:
    report, error = _ingest(scans, small_archive)
    print(f"\non a {SMALL_MB} MB tmpfs, ingest {_describe(report, error)}")
    disk_full = error is not None or (report is not None and bool(report.failures))
    assert disk_full, f"the {SMALL_MB} MB tmpfs did not fill up: make SMALL_MB smaller"

    # More room, same content: the state the failed run left is checked, then completed.
    remount = _run("mount", "-o", f"remount,size={BIG_MB}M", str(small_archive))
    assert remount.returncode == 0, remount.stderr
    _check_consistent(small_archive)

    report, error = _ingest(scans, small_archive)
    assert error is None, _describe(report, error)
    assert report is not None
    assert report.failures == []
    assert report.pages_ok + report.pages_skipped == 6
    _check_consistent(small_archive)
    pages, documents = _catalog(small_archive)
    assert [p["status"] for p in pages] == ["ok"] * 6
    assert all(p["indexed_key"] == p["page_key"] for p in pages)
    assert len(documents) == 3
    for doc in documents:
        assert doc["status"] == "ok"
        with pikepdf.open(small_archive / doc["pdf_path"]) as pdf:
            assert len(pdf.pages) == doc["page_count"]
    assert len(PageIndex.open(small_archive, create=False).indexed_keys()) == 6


def test_full_disk_is_reported_as_an_arkhiv_error_or_failed_pages(
    small_archive: Path, scans: Path
) -> None:
    report, error = _ingest(scans, small_archive)
    print(f"\non a {SMALL_MB} MB tmpfs, ingest {_describe(report, error)}")
    if error is not None:
        assert isinstance(error, ArkhivError), _describe(report, error)
        assert _mentions_full_disk(error.message), error.message
    else:
        assert report is not None
        if not report.failures:
            pytest.fail(f"the {SMALL_MB} MB tmpfs did not fill up: make SMALL_MB smaller")
        assert all(_mentions_full_disk(reason) for _, reason in report.failures), report.failures


def test_full_disk_cli_message_is_a_user_error(
    small_archive: Path, scans: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKHIV_")}
    command = [sys.executable, "-m", "arkhiv.cli", "ingest", str(scans)]
    done = subprocess.run(
        [*command, "--archive", str(small_archive), "-j", "2", "-q"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
        check=False,
    )
    print(f"\nexit code {done.returncode}; stderr:\n{done.stderr}")
    assert done.returncode in (1, 4)
    assert "Traceback" not in done.stderr
    assert _mentions_full_disk(done.stderr)
    assert "internal error" not in done.stderr
    assert "please report it" not in done.stderr
