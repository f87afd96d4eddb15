"""kill -9 `arkhiv ingest` at random moments (once or twice), then finish: the archive is whole.

Each seed draws the kill delays from `random.Random(seed)`; where the run had got when it
died (pages OCRed into the cache, catalog rows, PDFs, index) is printed, so a failure names
the crash point that was hit. Run with `-s` to see the table.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest

from arkhiv import api
from arkhiv.config import load_pipeline, load_settings
from arkhiv.fsutil import TEMP_PREFIX
from arkhiv.search import PageIndex
from tests.conftest import SAMPLES

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]

# The seeds were picked for their draws: an early, a middle and a late kill, and two runs
# killed twice in a row (early then middle; late, then near the end of the restarted run,
# where it assembles the last PDF and commits the index, or just after).
SEEDS = [
    pytest.param(14, id="seed14-early"),
    pytest.param(11, id="seed11-middle"),
    pytest.param(2, id="seed2-late"),
    pytest.param(28, id="seed28-twice"),
    pytest.param(15, id="seed15-twice"),
]
DELAY = (0.3, 9.0)  # seconds after the start; a whole batch of the samples takes ~12 s
SECOND_KILL_CHANCE = 0.5


@dataclass(frozen=True)
class KillPlan:
    """The kill delays of one seed: one or two interrupted runs before the final one."""

    seed: int
    delays: tuple[float, ...]

    @classmethod
    def draw(cls, seed: int) -> KillPlan:
        rng = random.Random(seed)
        delays = [rng.uniform(*DELAY)]
        if rng.random() < SECOND_KILL_CHANCE:
            delays.append(rng.uniform(*DELAY))
        return cls(seed, tuple(round(d, 2) for d in delays))


@dataclass(frozen=True)
class Snapshot:
    """How far an interrupted run had got, read from the archive it left."""

    killed_at: float  # seconds after the start
    exited_before_kill: bool
    cache_results: int  # finished OCR results (.json) in the page cache
    pages: int | str  # catalog rows, or why the catalog could not be read
    pages_ok: int
    pages_indexed: int
    documents_with_pdf: int
    pdf_files: int
    temp_files: int

    def line(self) -> str:
        state = "had already exited" if self.exited_before_kill else "killed"
        return (
            f"{state} at {self.killed_at:5.2f} s: {self.cache_results} OCR results in the "
            f"cache, catalog pages={self.pages} ok={self.pages_ok} "
            f"indexed={self.pages_indexed}, documents with a PDF={self.documents_with_pdf}, "
            f"document.pdf files={self.pdf_files}, temp files={self.temp_files}"
        )


def _env(**extra: str) -> dict[str, str]:
    """This environment without ARKHIV_* settings (the flags alone decide), plus `extra`."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("ARKHIV_")}, **extra}


def _command(scans: Path, archive: Path) -> list[str]:
    return [sys.executable, "-m", "arkhiv.cli", "ingest", str(scans), "--archive", str(archive)]


def _group_alive(pgid: int) -> bool:
    """True while a process of the group is still running (zombies do not count: in a
    container, orphaned workers may never be reaped)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _snapshot(archive: Path, killed_at: float, exited: bool) -> Snapshot:
    pages: int | str = 0
    ok = indexed = with_pdf = 0
    catalog = archive / "catalog.sqlite"
    if catalog.is_file():
        try:
            # Read-only, so that looking does not checkpoint the WAL the killed run left.
            db = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)
            try:
                pages, ok, indexed, with_pdf = db.execute(
                    """SELECT (SELECT count(*) FROM pages),
                              (SELECT count(*) FROM pages WHERE status = 'ok'),
                              (SELECT count(*) FROM pages WHERE indexed_key = page_key),
                              (SELECT count(*) FROM documents WHERE pdf_path IS NOT NULL)"""
                ).fetchone()
            finally:
                db.close()
        except sqlite3.Error as e:  # e.g. killed before the first migration committed
            pages = f"unreadable ({e})"
    else:
        pages = "no catalog yet"
    return Snapshot(
        killed_at=killed_at,
        exited_before_kill=exited,
        cache_results=len(list((archive / "cache").rglob("*.json"))),
        pages=pages,
        pages_ok=ok,
        pages_indexed=indexed,
        documents_with_pdf=with_pdf,
        pdf_files=len(list(archive.glob("documents/*/document.pdf"))),
        temp_files=len(list(archive.rglob(f"*{TEMP_PREFIX}*"))),
    )


def _run_and_kill(scans: Path, archive: Path, delay: float, cwd: Path) -> Snapshot:
    """Start `arkhiv ingest` and SIGKILL its whole process group after `delay` seconds."""
    start = time.monotonic()
    proc = subprocess.Popen(
        [*_command(scans, archive), "-j", "2", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env=_env(),
        start_new_session=True,  # its own process group: the kill takes the OCR workers too
    )
    exited = True
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        exited = False
    killed_at = time.monotonic() - start
    with contextlib.suppress(ProcessLookupError):  # it may have finished on its own
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    # Polling: the workers die asynchronously, and must be gone before anything looks at
    # (or writes to) the archive again.
    deadline = time.monotonic() + 10
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _group_alive(proc.pid), "OCR workers survived SIGKILL of their process group"
    return _snapshot(archive, killed_at, exited)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _unexpected_files(archive: Path) -> list[str]:
    """Files among the catalog, the documents and the page cache that are none of the
    archive's outputs: leftovers of an interrupted write. The index folders are Whoosh's."""
    top = {".lock", ".index-previous", "catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"}
    odd = [p.name for p in archive.iterdir() if p.is_file() and p.name not in top]
    for p in archive.glob("documents/**/*"):
        rel = p.relative_to(archive).parts
        if p.is_file() and not (
            (len(rel) == 3 and p.name in ("document.pdf", "document.json"))
            or (len(rel) == 4 and rel[2] == "pages" and p.name.endswith((".txt", ".alto.xml")))
        ):
            odd.append("/".join(rel))
    for p in archive.glob("cache/**/*"):
        if p.is_file() and (
            p.name.startswith(".") or p.suffix not in (".json", ".txt", ".pdf", ".xml")
        ):
            odd.append("/".join(p.relative_to(archive).parts))
    # e.g. pikepdf's own temp file (".pikepdf.<name>...") beside a document being saved
    odd += [str(p.relative_to(archive)) for p in archive.rglob(".pikepdf.*")]
    return sorted(set(odd))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_kills_then_finish(tmp_path: Path, seed: int) -> None:
    test_start = time.monotonic()
    plan = KillPlan.draw(seed)
    scans = tmp_path / "scans"
    shutil.copytree(SAMPLES, scans)
    originals = {p: _sha(p) for p in scans.rglob("*") if p.is_file()}
    archive = tmp_path / "archive"

    snapshots = [_run_and_kill(scans, archive, delay, tmp_path) for delay in plan.delays]
    print(f"\nseed {seed}, kill delays {plan.delays} s:")
    for i, snap in enumerate(snapshots, start=1):
        print(f"  run {i}: {snap.line()}")

    settings = load_settings(env={}, overrides={"": {"archive": archive}, "ingest": {"jobs": 2}})
    report = api.ingest(scans, settings, load_pipeline("default", settings))
    print(
        f"  final run: {report.pages_ok} page(s) OCRed, {report.pages_skipped} already done, "
        f"{report.pages_failed} failed in {report.seconds} s"
    )
    assert report.failures == []
    assert report.pages_ok + report.pages_skipped == 6

    # Every page in the catalog exactly once, all OK.
    db = sqlite3.connect(archive / "catalog.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        pages = db.execute(
            "SELECT document_id, number, status, page_key, indexed_key FROM pages"
        ).fetchall()
        documents = db.execute(
            "SELECT id, pdf_path, pdf_sha256, page_count, status FROM documents"
        ).fetchall()
    finally:
        db.close()
    assert len(pages) == 6
    assert len({(d, n) for d, n, *_ in pages}) == 6
    assert {status for _, _, status, _, _ in pages} == {"ok"}

    # Every page in the index exactly once, with its current text.
    keys = PageIndex.open(archive, create=False).indexed_keys()
    assert len(keys) == 6
    assert keys == {f"{d}:{n}": key for d, n, _, key, _ in pages}
    assert all(indexed == key for *_, key, indexed in pages)

    # Each document's PDF complete, PDF/A-2b, and the one the catalog recorded.
    assert len(documents) == 3
    assert sum(count for *_, count, _ in documents) == 6
    for doc_id, pdf_path, pdf_sha, page_count, status in documents:
        assert status == "ok", doc_id
        assert pdf_path is not None, doc_id
        pdf_file = archive / pdf_path
        with pikepdf.open(pdf_file) as pdf:
            assert len(pdf.pages) == page_count
            assert pdf.open_metadata().pdfa_status == "2B"
        assert _sha(pdf_file) == pdf_sha

    # No leftovers of the killed runs; the originals untouched.
    assert not list(archive.rglob(f"{TEMP_PREFIX}*"))
    assert _unexpected_files(archive) == []
    for doc_json in archive.glob("documents/*/document.json"):  # complete, and current
        record = json.loads(doc_json.read_text(encoding="utf-8"))
        assert record["pdf_sha256"] == _sha(doc_json.parent / "document.pdf")
    assert len(list(archive.glob("documents/*/document.json"))) == 3
    assert not list((archive / "tmp").iterdir())
    assert {p: _sha(p) for p in originals} == originals

    elapsed = time.monotonic() - test_start
    print(f"  whole test: {elapsed:.1f} s")  # reported, not asserted: no timing assertions


def test_a_killed_run_leaves_no_ocr_work_in_the_system_temp_folder(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    shutil.copytree(SAMPLES, scans)
    archive = tmp_path / "archive"
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    env = _env(TMPDIR=str(system_tmp))
    proc = subprocess.Popen(
        [*_command(scans, archive), "-j", "2", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
        env=env,
        start_new_session=True,
    )
    try:
        # Polling: kill once OCRmyPDF has made its work folder (there is no event for that).
        # arkhiv points the workers' temp folder into the archive's batch folder.
        deadline = time.monotonic() + 60
        while not list((archive / "tmp").rglob("ocrmypdf.io.*")):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("OCRmyPDF made no work folder in archive/tmp: nothing to test")
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling: the workers die asynchronously
    left_by_kill = sorted(p.name for p in system_tmp.iterdir())
    print(f"\nleft in $TMPDIR by the killed run: {left_by_kill}")

    again = subprocess.run(
        [*_command(scans, archive), "-j", "2", "-q"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
        check=False,
    )
    if again.returncode != 0:
        pytest.fail(f"the run after the kill failed: {again.stderr}")
    left = sorted(p.name for p in system_tmp.glob("ocrmypdf.io.*"))
    print(f"left in $TMPDIR after the next complete run: {left}")
    assert left == []
    assert left_by_kill == []  # never there in the first place
    assert not list((archive / "tmp").iterdir())  # the killed run's work is gone too
