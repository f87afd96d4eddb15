"""Watcher decisions without OCR (the batch engine faked): retries with back-off, then failed/."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from arkhiv.config import Pipeline, WatchSettings, load_settings
from arkhiv.models import BatchReport, PageReport
from arkhiv.watch import loop as inbox_mod
from arkhiv.watch.loop import InboxWatcher


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _watcher(tmp_path: Path, clock: Clock) -> InboxWatcher:
    settings = load_settings(env={}, overrides={"": {"archive": tmp_path / "archive"}})
    settings = replace(settings, watch=replace(WatchSettings(), max_attempts=3, retry_seconds=10.0))
    return InboxWatcher(
        tmp_path / "inbox",
        settings,
        Pipeline(),
        on_event=lambda k, i: None,
        stop=threading.Event(),
        clock=clock,
    )


def _recording_watcher(
    tmp_path: Path,
) -> tuple[InboxWatcher, list[tuple[str, dict[str, object]]]]:
    """A watcher of tmp_path/inbox with the default settings, and the events it reports."""
    events: list[tuple[str, dict[str, object]]] = []
    settings = load_settings(env={}, overrides={"": {"archive": tmp_path / "archive"}})
    watcher = InboxWatcher(
        tmp_path / "inbox",
        settings,
        Pipeline(),
        on_event=lambda k, i: events.append((k, i)),
        stop=threading.Event(),
        clock=Clock(),
    )
    return watcher, events


def _fake_ingest(transient: bool, calls: list[list[Path]]):  # type: ignore[no-untyped-def]
    def ingest(sources: list[Path], *args: object, **kwargs: object) -> BatchReport:
        calls.append(list(sources))
        report = BatchReport(batch_id=1, archive="a")
        for src in sources:
            report.pages.append(
                PageReport(
                    str(src), src.name, 1, "failed", "tesseract crashed", transient=transient
                )
            )
            report.pages_failed += 1
        return report

    return ingest


def _drop_file(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    f = inbox / "скан.png"
    f.write_bytes(b"\x89PNG not decodable")
    old = time.time() - 3600
    os.utime(f, (old, old))
    return f


def test_transient_failure_is_retried_with_backoff_then_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _drop_file(tmp_path)
    calls: list[list[Path]] = []
    monkeypatch.setattr(inbox_mod.engine, "ingest", _fake_ingest(True, calls))
    clock = Clock()
    w = _watcher(tmp_path, clock)
    w.run(once=True)  # attempt 1 -> retry in 10 s
    assert len(calls) == 1
    assert w.summary.retries == 1
    processed = tmp_path / "inbox" / "processed" / "скан.png"
    assert processed.is_file()

    w = _watcher(tmp_path, clock)  # --once runs retry whatever the back-off (cron spaces them)
    w.run(once=True)
    assert len(calls) == 2 and w.summary.retries == 1
    w = _watcher(tmp_path, clock)
    w.run(once=True)  # attempt 3 of 3: gives up
    assert len(calls) == 3 and w.summary.failed == 1
    failed = tmp_path / "inbox" / "failed" / "скан.png"
    assert failed.is_file() and not processed.exists()
    text = (tmp_path / "inbox" / "failed" / "скан.png.error.txt").read_text("utf-8")
    assert "page 1: tesseract crashed" in text and "after 3 attempt(s)" in text


def test_continuous_mode_waits_for_the_backoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _drop_file(tmp_path)
    calls: list[list[Path]] = []
    monkeypatch.setattr(inbox_mod.engine, "ingest", _fake_ingest(True, calls))
    clock = Clock()
    w = _watcher(tmp_path, clock)
    from arkhiv.catalog import Catalog

    w.catalog = Catalog.open(tmp_path / "archive", create=True)
    w._pass(retry_all=False)
    assert len(calls) == 1
    clock.now += 5  # back-off is 10 s for the second attempt
    w._pass(retry_all=False)
    assert len(calls) == 1
    clock.now += 6
    w._pass(retry_all=False)
    assert len(calls) == 2
    clock.now += 15  # 20 s before the third
    w._pass(retry_all=False)
    assert len(calls) == 2
    clock.now += 6
    w._pass(retry_all=False)
    assert len(calls) == 3
    assert (tmp_path / "inbox" / "failed" / "скан.png").is_file()
    w.catalog.close()


def test_permanent_failure_goes_to_failed_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _drop_file(tmp_path)
    calls: list[list[Path]] = []
    monkeypatch.setattr(inbox_mod.engine, "ingest", _fake_ingest(False, calls))
    w = _watcher(tmp_path, Clock())
    w.run(once=True)
    assert len(calls) == 1 and w.summary.failed == 1 and w.summary.retries == 0
    assert (tmp_path / "inbox" / "failed" / "скан.png").is_file()


def test_name_collision_in_failed_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _drop_file(tmp_path)
    earlier = tmp_path / "inbox" / "failed" / "скан.png"
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b"an earlier failure")
    monkeypatch.setattr(inbox_mod.engine, "ingest", _fake_ingest(False, []))
    _watcher(tmp_path, Clock()).run(once=True)
    assert earlier.read_bytes() == b"an earlier failure"
    assert (tmp_path / "inbox" / "failed" / "скан (2).png").is_file()
    assert (tmp_path / "inbox" / "failed" / "скан (2).png.error.txt").is_file()


@pytest.mark.parametrize("where", ["same", "inside", "contains"])
def test_an_archive_and_an_inbox_that_contain_one_another_are_refused(
    tmp_path: Path, where: str
) -> None:
    """Issue 15, 1: an archive inside the watched inbox was taken apart as a drop."""
    from arkhiv.errors import UsageError

    inbox = tmp_path / "inbox"
    archive = {"same": inbox, "inside": inbox / "archive", "contains": tmp_path}[where]
    inbox.mkdir()
    settings = load_settings(env={}, overrides={"": {"archive": archive}})
    w = InboxWatcher(
        inbox, settings, Pipeline(), on_event=lambda k, i: None, stop=threading.Event()
    )
    with pytest.raises(UsageError, match="the watcher would take the archive's own files"):
        w.run(once=True)
    assert not (inbox / "processed").exists()


def test_an_archive_dropped_into_the_inbox_is_never_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    dropped = inbox / "старий архів"
    dropped.mkdir(parents=True)
    (dropped / "catalog.sqlite").write_bytes(b"SQLite format 3\x00")
    old = time.time() - 3600
    os.utime(dropped / "catalog.sqlite", (old, old))
    calls: list[list[Path]] = []
    monkeypatch.setattr(inbox_mod.engine, "ingest", _fake_ingest(False, calls))
    w, events = _recording_watcher(tmp_path)
    w.run(once=True)
    assert calls == [] and (dropped / "catalog.sqlite").is_file()
    assert ("skipped", {"file": str(dropped), "reason": "an arkhiv archive"}) in events


def test_a_pipe_in_a_drop_does_not_hang_the_watcher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15, item 11: `watch --once` hung for ever (SIGTERM did not stop it) on a FIFO."""
    drop = tmp_path / "inbox" / "справа"
    drop.mkdir(parents=True)
    (drop / "1.png").write_bytes(b"\x89PNG not decodable")
    os.mkfifo(drop / "2.png")
    old = time.time() - 3600
    os.utime(drop / "1.png", (old, old))
    calls: list[list[Path]] = []
    monkeypatch.setattr(inbox_mod.engine, "ingest", _fake_ingest(False, calls))
    w = _watcher(tmp_path, Clock())
    done = threading.Thread(target=w.run, kwargs={"once": True}, daemon=True)
    done.start()
    done.join(timeout=20)
    assert not done.is_alive()
    assert len(calls) == 1  # the drop was taken; the pipe went along, never opened


def test_a_drop_whose_name_is_not_utf8_is_left_and_the_rest_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15, item 5: the watcher died on such a name and blocked the whole inbox."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    bad = Path(os.fsdecode(os.fsencode(inbox) + b"/\xcf\xf0\xee.png"))  # cp1251 "Про"
    good = inbox / "добре.png"
    for f in (bad, good):
        f.write_bytes(b"\x89PNG not decodable")
        os.utime(f, (time.time() - 3600,) * 2)
    calls: list[list[Path]] = []
    monkeypatch.setattr(inbox_mod.engine, "ingest", _fake_ingest(False, calls))
    w, events = _recording_watcher(tmp_path)
    w.run(once=True)
    assert [p.name for batch in calls for p in batch] == ["добре.png"]
    assert bad.exists()
    skipped = [i for k, i in events if k == "skipped"]
    assert skipped and str(skipped[0]["file"]).endswith("\\xcf\\xf0\\xee.png")
