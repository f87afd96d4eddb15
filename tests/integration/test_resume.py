"""kill -9 in the middle of an ingest, then run it again: no page lost, none indexed twice."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pikepdf
import pytest

from arkhiv import api
from arkhiv.config import load_pipeline, load_settings
from arkhiv.errors import ArkhivError
from arkhiv.fsutil import archive_lock
from arkhiv.search import PageIndex
from tests.conftest import SAMPLES

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]


def _start(scans: Path, archive: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "arkhiv.cli",
            "ingest",
            str(scans),
            "--archive",
            str(archive),
            "-j",
            "2",
            "-q",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill takes the workers too
    )


def _wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)  # polling another process, not waiting for time to pass in our code


@pytest.mark.parametrize("moment", ["early", "after-first-page", "after-first-document"])
def test_kill_9_then_resume(tmp_path: Path, moment: str) -> None:
    scans = tmp_path / "scans"
    shutil.copytree(SAMPLES, scans)
    originals = {
        p: hashlib.sha256(p.read_bytes()).hexdigest() for p in scans.rglob("*") if p.is_file()
    }
    archive = tmp_path / "archive"
    proc = _start(scans, archive)
    if moment == "early":
        time.sleep(1.0)
    elif moment == "after-first-page":
        _wait_for(lambda: any((archive / "cache").rglob("*.json")), 120)
    else:
        _wait_for(lambda: any(archive.glob("documents/*/document.pdf")), 120)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    settings = load_settings(env={}, overrides={"": {"archive": archive}, "ingest": {"jobs": 2}})
    report = api.ingest(scans, settings, load_pipeline("default", settings))
    assert report.failures == []
    assert report.pages_ok + report.pages_skipped == 6

    db = sqlite3.connect(archive / "catalog.sqlite")
    pages = db.execute("SELECT document_id, number, status FROM pages").fetchall()
    assert len(pages) == 6 == len(set((d, n) for d, n, _ in pages))
    assert {s for _, _, s in pages} == {"ok"}
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 3
    keys = PageIndex.open(archive, create=False).indexed_keys()
    assert len(keys) == 6
    assert db.execute("SELECT count(*) FROM pages WHERE indexed_key = page_key").fetchone()[0] == 6
    for pdf_path, count in db.execute("SELECT pdf_path, page_count FROM documents"):
        with pikepdf.open(archive / pdf_path) as pdf:
            assert len(pdf.pages) == count
    assert not list(archive.rglob(".arkhiv-tmp-*"))
    assert not list((archive / "tmp").glob("*"))
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in originals} == originals
    with_word = [t for (t,) in db.execute("SELECT text FROM pages") if "ужгород" in t.lower()]
    assert api.search(archive, "Ужгород").total == len(with_word) > 0


def test_second_writer_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with archive_lock(tmp_path):
        with pytest.raises(ArkhivError) as info, archive_lock(tmp_path):
            pass
        assert f"pid {os.getpid()}" in info.value.message
        assert "another arkhiv process" in info.value.message
    with archive_lock(tmp_path):  # released: can be taken again
        pass
