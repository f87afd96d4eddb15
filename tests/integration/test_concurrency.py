"""Readers and writers at the same time: search during an ingest, two ingests, a locked index.

Polling with short sleeps is used throughout: these tests watch other processes (and a timer
thread) reach a state, which has no event to wait on.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import whoosh.index

from arkhiv import api
from arkhiv.config import Settings, load_pipeline, load_settings
from arkhiv.errors import SearchIndexError
from arkhiv.models import BatchReport
from arkhiv.search import PageIndex
from tests.conftest import SAMPLES, SPRAVA

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]

WORD = "Ужгород"
RELEASE_AFTER = 2.0  # seconds the test holds the Whoosh writer lock before letting go


def _settings(archive: Path) -> Settings:
    return load_settings(env={}, overrides={"": {"archive": archive}, "ingest": {"jobs": 2}})


def _ingest(
    source: Path,
    archive: Path,
    progress: Callable[[str, dict[str, object]], None] | None = None,
) -> BatchReport:
    settings = _settings(archive)
    pipeline = load_pipeline("default", settings)
    if progress is None:
        return api.ingest(source, settings, pipeline)
    return api.ingest(source, settings, pipeline, progress=progress)


def _start_ingest(scans: Path, archive: Path, cwd: Path, **env: str) -> subprocess.Popen[str]:
    """`arkhiv ingest` in its own process group, with only the ARKHIV_* settings given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ARKHIV_")}
    command = [sys.executable, "-m", "arkhiv.cli", "ingest", str(scans)]
    return subprocess.Popen(
        [*command, "--archive", str(archive), "-j", "2", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**clean, **env},
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen[str]) -> None:
    """Kill a still-running `arkhiv ingest` with its OCR workers (its own process group)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        time.sleep(0.05)


def _catalog_pages(archive: Path) -> dict[str, tuple[str, str | None, str]]:
    """pid -> (page_key, indexed_key, status) of every catalog page; checks the database."""
    db = sqlite3.connect(archive / "catalog.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT document_id, number, page_key, indexed_key, status FROM pages")
        return {f"{d}:{n}": (key, indexed, status) for d, n, key, indexed, status in rows}
    finally:
        db.close()


def _assert_index_matches_catalog(archive: Path, pages: int) -> None:
    catalog = _catalog_pages(archive)
    assert len(catalog) == pages
    assert {status for _, _, status in catalog.values()} == {"ok"}
    assert all(indexed == key for key, indexed, _ in catalog.values())
    keys = PageIndex.open(archive, create=False).indexed_keys()
    assert keys == {pid: key for pid, (key, _, _) in catalog.items()}


def _pages_with_word(archive: Path) -> int:
    db = sqlite3.connect(archive / "catalog.sqlite")
    try:
        texts = [t for (t,) in db.execute("SELECT text FROM pages WHERE status = 'ok'")]
    finally:
        db.close()
    return sum(WORD.lower() in t.lower() for t in texts)


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    folder = tmp_path / "scans"
    shutil.copytree(SAMPLES, folder)
    return folder


@pytest.fixture
def indexed_sprava(tmp_path: Path) -> Path:
    """An archive holding the three-page case file, indexed."""
    archive = tmp_path / "archive"
    shutil.copytree(SPRAVA, tmp_path / SPRAVA.name)
    assert _ingest(tmp_path / SPRAVA.name, archive).pages_ok == 3
    return archive


# (a) searching while the index is written


def test_search_while_an_ingest_is_writing(tmp_path: Path, scans: Path) -> None:
    archive = tmp_path / "archive"
    first = _ingest(scans / SPRAVA.name, archive)  # one document already searchable
    assert first.pages_ok == 3
    before = api.search(archive, WORD).total
    assert before > 0

    # One page per index commit: the index changes several times while we search.
    proc = _start_ingest(scans, archive, tmp_path, ARKHIV_INGEST_INDEX_BATCH_PAGES="1")
    totals = [before]
    searches = 0
    deadline = time.monotonic() + 120
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            result = api.search(archive, WORD)
            searches += 1
            assert result.total >= totals[-1], f"total went down: {totals[-1]} -> {result.total}"
            for hit in result.hits:
                assert hit.text_path is not None
                assert (archive / hit.text_path).is_file(), hit.text_path
            if result.total != totals[-1]:
                totals.append(result.total)
            time.sleep(0.02)  # leave the CPU to the OCR workers between searches
    finally:
        _stop(proc)
        _, stderr = proc.communicate(timeout=30)
    print(f"\n{searches} searches during the ingest; totals seen: {totals}")
    assert proc.returncode == 0, stderr
    final = api.search(archive, WORD)
    assert final.total >= totals[-1]
    assert final.total == _pages_with_word(archive) > before
    _assert_index_matches_catalog(archive, 6)


REINDEX_LOOP = """
import sys, time
from pathlib import Path
from arkhiv import api
end, count = time.monotonic() + float(sys.argv[2]), 0
while time.monotonic() < end:
    api.reindex(Path(sys.argv[1]))
    count += 1
print(count)
"""


def test_search_while_the_index_is_rebuilt_again_and_again(
    indexed_sprava: Path, tmp_path: Path
) -> None:
    archive = indexed_sprava
    expected = _pages_with_word(archive)
    assert expected > 0
    proc = subprocess.Popen(
        [sys.executable, "-c", REINDEX_LOOP, str(archive), "8"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    searches = 0
    deadline = time.monotonic() + 60
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            result = api.search(archive, WORD)  # no sleep: as many reads as possible
            searches += 1
            assert result.total == expected
            for hit in result.hits:
                assert hit.text_path is not None
                assert (archive / hit.text_path).is_file(), hit.text_path
    finally:
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate(timeout=30)
    print(f"\n{searches} searches during {out.strip()} rebuilds of the index")
    assert proc.returncode == 0, err
    assert int(out) > 1
    _assert_index_matches_catalog(archive, 3)


# (b) a second ingest on the same archive


def test_a_second_ingest_is_refused_while_one_runs(tmp_path: Path, scans: Path) -> None:
    archive = tmp_path / "archive"
    first = _start_ingest(scans, archive, tmp_path)
    try:
        # The catalog is created under the lock: once it exists, the lock is held.
        _wait_for(
            lambda: (archive / ".lock").is_file() and (archive / "catalog.sqlite").is_file(),
            60,
            "the first ingest to take the archive lock",
        )
        start = time.monotonic()
        second = _start_ingest(scans, archive, tmp_path)
        try:
            _, second_err = second.communicate(timeout=60)
        finally:
            _stop(second)
        seconds = time.monotonic() - start
        first_still_running = first.poll() is None
        print(f"\nsecond ingest: exit code {second.returncode} after {seconds:.1f} s")
        print(second_err)
        assert first_still_running, "the first ingest ended before the second one tried"
        assert second.returncode == 5  # busy (issue 15, item 21): try again later
        assert f"another arkhiv process (pid {first.pid}) is writing to this archive" in second_err
        assert "Traceback" not in second_err
        assert "internal error" not in second_err
    finally:
        try:
            _, first_err = first.communicate(timeout=180)
        finally:
            _stop(first)
    assert first.returncode == 0, first_err
    _assert_index_matches_catalog(archive, 6)
    assert PageIndex.open(archive, create=False).doc_count() == 6
    db = sqlite3.connect(archive / "catalog.sqlite")
    try:
        assert db.execute("SELECT count(*) FROM batches").fetchone()[0] == 1  # refused: no trace
    finally:
        db.close()


# (c) Whoosh's own writer lock, held by someone else


class HeldWriter:
    """A Whoosh writer on archive/index, holding its lock, with an uncommitted stray page."""

    def __init__(self, archive: Path) -> None:
        self.writer: Any = whoosh.index.open_dir(str(archive / "index")).writer()
        self.writer.update_document(pid="999:1", page_key="stray", document="stray", text=WORD)
        self.released_at: float | None = None
        self.cancel_error: Exception | None = None
        self._lock = threading.Lock()

    def release(self) -> None:
        """Cancel the writer (its stray page is dropped) and so unlock the index; once."""
        with self._lock:
            if self.released_at is not None:
                return
            try:
                self.writer.cancel()
            except Exception as e:  # its files moved away under it: still let go of the lock
                self.cancel_error = e
                with contextlib.suppress(Exception):
                    self.writer.writelock.release()
            self.released_at = time.monotonic()

    def release_later(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self.release)
        timer.daemon = True
        timer.start()
        return timer


@pytest.fixture
def held_writer(indexed_sprava: Path) -> Iterator[HeldWriter]:
    held = HeldWriter(indexed_sprava)
    try:
        yield held
    finally:
        held.release()


def _forget_indexing(archive: Path) -> None:
    """The state a crash between the index commit and the catalog's record of it leaves:
    the next ingest must write these pages to the index again (and nothing else)."""
    db = sqlite3.connect(archive / "catalog.sqlite")
    try:
        with db:
            db.execute("UPDATE pages SET indexed_key = NULL")
    finally:
        db.close()


def test_reindex_while_a_whoosh_writer_holds_the_index(
    indexed_sprava: Path, held_writer: HeldWriter
) -> None:
    archive = indexed_sprava
    timer = held_writer.release_later(RELEASE_AFTER)
    start = time.monotonic()
    count = api.reindex(archive)
    seconds = time.monotonic() - start
    waited = held_writer.released_at is not None and held_writer.released_at - start < seconds
    print(f"\nreindex with the Whoosh lock held: {count} pages in {seconds:.2f} s")
    print("it waited for the lock" if waited else "it did not need the held lock")
    timer.join(RELEASE_AFTER + 5)
    if held_writer.cancel_error is not None:
        error = held_writer.cancel_error
        print(f"the held writer broke when cancelled: {type(error).__name__}: {error}")
    assert count == 3
    _assert_index_matches_catalog(archive, 3)
    assert "999:1" not in PageIndex.open(archive, create=False).indexed_keys()
    assert api.search(archive, WORD).total == _pages_with_word(archive)


def test_ingest_waits_for_a_held_whoosh_lock_then_indexes(
    indexed_sprava: Path, held_writer: HeldWriter, tmp_path: Path
) -> None:
    archive = indexed_sprava
    _forget_indexing(archive)
    timers: list[threading.Timer] = []

    def progress(event: str, info: dict[str, object]) -> None:
        if event == "start":  # nothing to OCR: the index write comes right after this
            timers.append(held_writer.release_later(RELEASE_AFTER))

    start = time.monotonic()
    report = _ingest(tmp_path / SPRAVA.name, archive, progress)
    seconds = time.monotonic() - start
    print(f"\ningest with the Whoosh lock held: finished in {seconds:.2f} s")
    for t in timers:
        t.join(RELEASE_AFTER + 5)
    assert report.failures == []
    assert report.pages_skipped == 3
    assert held_writer.released_at is not None
    assert held_writer.released_at - start < seconds  # it returned only after the release
    _assert_index_matches_catalog(archive, 3)
    assert "999:1" not in PageIndex.open(archive, create=False).indexed_keys()


@pytest.fixture
def short_whoosh_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """arkhiv waits up to 120 s for Whoosh's lock; what happens after is the same after
    0.5 s, so the wait is cut short here."""
    original = whoosh.index.FileIndex.writer

    def writer(self: Any, procs: int = 1, **kwargs: Any) -> Any:
        kwargs["timeout"] = min(float(kwargs.get("timeout", 0.0)), 0.5)
        return original(self, procs, **kwargs)

    monkeypatch.setattr(whoosh.index.FileIndex, "writer", writer)


def _ingest_with_index_locked_too_long(archive: Path, source: Path) -> Exception | None:
    _forget_indexing(archive)
    try:
        _ingest(source, archive)
    except Exception as e:
        print(f"\nindex locked too long: {type(e).__module__}.{type(e).__name__}: {e!r}")
        return e
    return None


def test_index_locked_too_long_corrupts_nothing(
    indexed_sprava: Path, held_writer: HeldWriter, short_whoosh_timeout: None, tmp_path: Path
) -> None:
    archive = indexed_sprava
    error = _ingest_with_index_locked_too_long(archive, tmp_path / SPRAVA.name)
    assert error is not None, "the ingest wrote to an index whose lock someone else held"
    catalog = _catalog_pages(archive)
    assert all(indexed is None for _, indexed, _ in catalog.values())  # still to be indexed
    held_writer.release()
    report = _ingest(tmp_path / SPRAVA.name, archive)
    assert report.failures == []
    _assert_index_matches_catalog(archive, 3)
    assert "999:1" not in PageIndex.open(archive, create=False).indexed_keys()


def test_index_locked_too_long_is_a_search_index_error(
    indexed_sprava: Path, held_writer: HeldWriter, short_whoosh_timeout: None, tmp_path: Path
) -> None:
    error = _ingest_with_index_locked_too_long(indexed_sprava, tmp_path / SPRAVA.name)
    if error is None:
        pytest.fail("the ingest wrote to an index whose lock someone else held")
    assert isinstance(error, SearchIndexError), repr(error)
    assert "lock" in error.message.lower() or "busy" in error.message.lower(), error.message
