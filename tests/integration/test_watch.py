"""`arkhiv watch` with the real tools: half-written files, bursts, failures, kill -9."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from arkhiv import api
from arkhiv.cli import app
from arkhiv.config import OcrSettings, Pipeline, Settings, WatchSettings, load_settings
from arkhiv.search import PageIndex
from tests.conftest import SAMPLES, SPRAVA

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]

# Pages of this test need no orientation or deskew: leave those passes out to keep it quick.
FAST = Pipeline(name="fast", ocr=OcrSettings(rotate_pages=False, deskew=False))


def _settings(archive: Path, **watch: object) -> Settings:
    base = load_settings(env={}, overrides={"": {"archive": archive}, "ingest": {"jobs": 2}})
    cfg = replace(WatchSettings(), quiet_seconds=1.0, rescan_seconds=1.0, **watch)  # type: ignore[arg-type]
    return replace(base, watch=cfg)


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)  # polling the watcher thread's results, not timing our own code
    return predicate()


@contextmanager
def _watcher(inbox: Path, settings: Settings, pipeline: Pipeline = FAST) -> Iterator[list[str]]:
    """Run `arkhiv watch` (continuous) in a thread; stop it (as SIGTERM would) at the end."""
    stop = threading.Event()
    events: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            api.watch(
                inbox,
                settings,
                pipeline,
                once=False,
                on_event=lambda kind, info: events.append(f"{kind} {info.get('file')}"),
                stop=stop,
            )
        except BaseException as e:  # surfaced in the test below
            errors.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield events
    finally:
        stop.set()
        thread.join(timeout=120)
        assert not thread.is_alive()
        assert errors == []


def _drops(archive: Path) -> list[tuple[str, str]]:
    if not (archive / "catalog.sqlite").exists():
        return []
    db = sqlite3.connect(archive / "catalog.sqlite")
    try:
        return [(Path(o).name, s) for o, s in db.execute("SELECT original, state FROM drops")]
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def _settled(archive: Path, count: int) -> Callable[[], bool]:
    final = {"done", "failed", "duplicate"}
    return lambda: len([s for _, s in _drops(archive) if s in final]) >= count


def test_slowly_written_file_is_never_taken_half_written(tmp_path: Path) -> None:
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    data = (SPRAVA / "10.png").read_bytes()
    with _watcher(inbox, _settings(archive)) as events:
        target = inbox / "повільний.png"
        with target.open("wb") as f:  # a scanner writing over about four seconds
            step = len(data) // 8 + 1
            for i in range(0, len(data), step):
                f.write(data[i : i + step])
                f.flush()
                time.sleep(0.5)  # the slow writer itself; the watcher must wait it out
        assert _wait_for(_settled(archive, 1), 120), events
    assert _drops(archive) == [("повільний.png", "done")]
    db = sqlite3.connect(archive / "catalog.sqlite")
    (sha, status) = db.execute("SELECT sha256, status FROM pages").fetchone()
    assert (sha, status) == (hashlib.sha256(data).hexdigest(), "ok")
    assert (inbox / "processed" / "повільний.png").read_bytes() == data


def _numbered_page(path: Path, n: int) -> None:
    im = Image.new("L", (600, 120), 255)
    ImageDraw.Draw(im).text((20, 40), f"Аркуш {n} справи", fill=0)
    im.save(path, dpi=(300, 300))


def test_burst_of_200_files_is_processed_exactly_once(tmp_path: Path) -> None:
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    staging = tmp_path / "staging"
    staging.mkdir()
    for n in range(200):
        _numbered_page(staging / f"скан_{n:03d}.png", n)
    with _watcher(inbox, _settings(archive)) as events:
        for p in sorted(staging.iterdir()):
            os.rename(p, inbox / p.name)  # the burst: 200 complete files at once
        assert _wait_for(_settled(archive, 200), 600), events[-5:]
    drops = _drops(archive)
    assert len(drops) == 200 == len({name for name, _ in drops})
    assert {state for _, state in drops} == {"done"}
    db = sqlite3.connect(archive / "catalog.sqlite")
    assert db.execute("SELECT count(*), count(DISTINCT sha256) FROM pages").fetchone() == (200, 200)
    assert PageIndex.open(archive, create=False).doc_count() == 200
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == sorted(
        f"скан_{n:03d}.png" for n in range(200)
    )
    assert [p.name for p in inbox.iterdir() if not p.name.startswith(".")] == ["processed"]


def test_files_present_at_start_and_a_corrupt_one(tmp_path: Path) -> None:
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    shutil.copytree(SPRAVA, inbox / "справа 56")
    shutil.copy(SAMPLES / "наказ_1937.tif", inbox / "наказ_1937.tif")
    (inbox / "зіпсований.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    old = time.time() - 600
    for p in inbox.rglob("*"):
        os.utime(p, (old, old))
    with _watcher(inbox, _settings(archive, undecodable_grace_seconds=0.0)) as events:
        assert _wait_for(_settled(archive, 3), 180), events
    assert sorted(_drops(archive)) == [
        ("зіпсований.jpg", "failed"),
        ("наказ_1937.tif", "done"),
        ("справа 56", "done"),
    ]
    failed = inbox / "failed" / "зіпсований.jpg"
    assert failed.is_file()
    reason = (inbox / "failed" / "зіпсований.jpg.error.txt").read_text("utf-8")
    assert "page 1: cannot decode the image" in reason
    assert (inbox / "processed" / "справа 56" / "10.png").is_file()
    assert api.search(archive, "Київ").total >= 1
    db = sqlite3.connect(archive / "catalog.sqlite")
    # The record follows the file: the failed page now points at failed/.
    (source,) = db.execute("SELECT source_path FROM pages WHERE status='failed'").fetchone()
    assert Path(source) == failed
    moves = db.execute("SELECT reason FROM moves ORDER BY id").fetchall()
    assert [r for (r,) in moves].count("failed") == 1


def test_duplicate_is_recorded_and_not_processed_again(tmp_path: Path) -> None:
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    old = (time.time() - 600,) * 2
    shutil.copy(SPRAVA / "10.png", inbox / "перший.png")
    os.utime(inbox / "перший.png", old)
    settings = _settings(archive)
    assert api.watch(inbox, settings, FAST, once=True).done == 1
    shutil.copy(SPRAVA / "10.png", inbox / "другий.png")
    shutil.copy(SPRAVA / "10.png", inbox / "третій.png")  # twice in one pass
    os.utime(inbox / "другий.png", old)
    os.utime(inbox / "третій.png", old)
    summary = api.watch(inbox, settings, FAST, once=True)
    assert (summary.duplicates, summary.done) == (2, 0)
    assert sorted(_drops(archive)) == [
        ("другий.png", "duplicate"),
        ("перший.png", "done"),
        ("третій.png", "duplicate"),
    ]
    db = sqlite3.connect(archive / "catalog.sqlite")
    assert db.execute("SELECT count(*) FROM pages").fetchone() == (1,)
    assert (inbox / "processed" / "другий.png").is_file()


def test_second_watcher_on_the_same_inbox_is_refused(tmp_path: Path) -> None:
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    with _watcher(inbox, _settings(archive)):
        assert _wait_for(lambda: (inbox / ".arkhiv-watch.lock").exists(), 30)
        time.sleep(0.5)  # let the first watcher take its locks
        result = CliRunner().invoke(
            app, ["watch", str(inbox), "--archive", str(tmp_path / "other"), "--once"]
        )
    assert result.exit_code == 5  # busy: its own code (issue 15, item 21), not a fatal 4
    assert f"another arkhiv process (pid {os.getpid()}) is watching this inbox" in result.output


def test_watcher_killed_with_sigkill_loses_nothing(tmp_path: Path) -> None:
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    shutil.copytree(SPRAVA, inbox / "справа 56")
    shutil.copy(SAMPLES / "наказ_1937.tif", inbox / "наказ_1937.tif")
    shutil.copy(SAMPLES / "газета_1950.jpg", inbox / "газета_1950.jpg")
    originals = {
        p.relative_to(inbox): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in inbox.rglob("*")
        if p.is_file()
    }
    old = time.time() - 600
    for p in inbox.rglob("*"):
        os.utime(p, (old, old))
    cmd = [sys.executable, "-m", "arkhiv.cli", "watch", str(inbox), "--archive", str(archive)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    _wait_for(lambda: any((archive / "cache").rglob("*.json")), 120)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    done = subprocess.run([*cmd, "--once"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(_drops(archive)) == [
        ("газета_1950.jpg", "done"),
        ("наказ_1937.tif", "done"),
        ("справа 56", "done"),
    ]
    db = sqlite3.connect(archive / "catalog.sqlite")
    rows = db.execute("SELECT document_id, number, status FROM pages").fetchall()
    assert len(rows) == 6 == len({(d, n) for d, n, _ in rows})
    assert {s for _, _, s in rows} == {"ok"}
    assert PageIndex.open(archive, create=False).doc_count() == 6
    moved = {
        p.relative_to(inbox / "processed"): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (inbox / "processed").rglob("*")
        if p.is_file()
    }
    assert moved == originals
