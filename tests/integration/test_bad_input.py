"""A corrupt or unsupported file fails alone, with its reason; the rest of the batch is done."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from arkhiv import api
from arkhiv.config import load_pipeline, load_settings
from tests.conftest import SPRAVA

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]


def test_corrupt_files_fail_alone(tmp_path: Path) -> None:
    scans = tmp_path / "скани" / "справа 7"
    scans.mkdir(parents=True)
    shutil.copy(SPRAVA / "1.png", scans / "1.png")
    (scans / "2.png").write_bytes(b"this is text, not a PNG")
    good = (SPRAVA / "10.png").read_bytes()
    (scans / "3.png").write_bytes(good[: len(good) // 3])  # truncated
    (tmp_path / "скани" / "зламаний.pdf").write_bytes(b"%PDF-1.4 broken")
    archive = tmp_path / "archive"
    settings = load_settings(env={}, overrides={"": {"archive": archive}, "ingest": {"jobs": 2}})
    report = api.ingest(tmp_path / "скани", settings, load_pipeline("default", settings))

    assert report.failed
    assert (report.pages_ok, report.pages_failed, report.inputs_failed) == (1, 2, 1)
    reasons = {Path(f).name: r for f, r in report.failures}
    assert reasons["2.png"] == "not an image arkhiv can read (corrupt, or not really an image)"
    assert reasons["3.png"].startswith("cannot decode the image")
    assert reasons["зламаний.pdf"].startswith("not a readable PDF")

    db = sqlite3.connect(archive / "catalog.sqlite")
    rows = db.execute(
        "SELECT p.number, p.status, p.error FROM pages p JOIN documents d ON d.id = p.document_id"
        " WHERE d.name = 'справа 7' ORDER BY p.number"
    ).fetchall()
    assert [(n, s) for n, s, _ in rows] == [(1, "ok"), (2, "failed"), (3, "failed")]
    doc = db.execute(
        "SELECT status, error, pdf_path FROM documents WHERE name='справа 7'"
    ).fetchone()
    assert doc[0] == "partial" and doc[1] == "2 page(s) failed" and doc[2]
    # The PDF that could not be opened at all is on record too.
    broken = db.execute(
        "SELECT d.status, p.status, p.error FROM documents d JOIN pages p ON p.document_id = d.id"
        " WHERE d.name = 'зламаний.pdf'"
    ).fetchone()
    assert broken[0] == "failed" and broken[1] == "failed"
    assert broken[2].startswith("not a readable PDF")
    batch = db.execute("SELECT status FROM batches").fetchone()
    assert batch[0] == "partial"
    # The good page is searchable.
    assert api.search(archive, "Ужгород").total == 1


def test_force_ocrs_again(tmp_path: Path) -> None:
    scans = tmp_path / "in"
    scans.mkdir()
    shutil.copy(SPRAVA / "10.png", scans / "10.png")
    settings = load_settings(
        env={}, overrides={"": {"archive": tmp_path / "a"}, "ingest": {"jobs": 1}}
    )
    pipeline = load_pipeline("default", settings)
    assert api.ingest(scans, settings, pipeline).pages_ok == 1
    assert api.ingest(scans, settings, pipeline).pages_skipped == 1
    forced = api.ingest(scans, settings, pipeline, force=True)
    assert (forced.pages_ok, forced.pages_skipped) == (1, 0)
    db = sqlite3.connect(tmp_path / "a" / "catalog.sqlite")
    assert db.execute("SELECT count(*) FROM pages").fetchone()[0] == 1
    assert api.search(tmp_path / "a", "село").total == 1


def test_same_content_twice_in_a_batch(tmp_path: Path) -> None:
    scans = tmp_path / "in"
    scans.mkdir()
    for name in ("1.png", "2.png", "3.png"):
        shutil.copy(SPRAVA / "10.png", scans / name)  # one page scanned three times
    settings = load_settings(
        env={}, overrides={"": {"archive": tmp_path / "a"}, "ingest": {"jobs": 2}}
    )
    report = api.ingest(scans, settings, load_pipeline("default", settings))
    assert report.failures == []
    assert report.pages_ok == 3
    db = sqlite3.connect(tmp_path / "a" / "catalog.sqlite")
    rows = db.execute("SELECT status, text FROM pages ORDER BY number").fetchall()
    assert [s for s, _ in rows] == ["ok", "ok", "ok"]
    assert len({t for _, t in rows}) == 1
