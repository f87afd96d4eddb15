"""`arkhiv watch`: take complete drops from an inbox, ingest them, move originals with a record.

A drop is a file or a folder put at the top of the inbox. Once complete (watch/stability.py
decides), it is moved to processed/ (the move is journaled in the catalog first, so a crash at
any moment is resumed), ingested there by the same batch engine as `arkhiv ingest`, and its
failed files are moved on to failed/ with NAME.error.txt. Nothing is ever deleted or overwritten.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from arkhiv.catalog import Catalog
from arkhiv.config import Pipeline, Settings
from arkhiv.errors import ArkhivError, MissingDependencyError, UsageError
from arkhiv.fsutil import atomic_write_text, exclusive_lock, move_original, sha256_file, unique_path
from arkhiv.pipeline import batch as engine
from arkhiv.pipeline.batch import BatchOptions
from arkhiv.pipeline.discover import (
    IMAGE_SUFFIXES,
    NOT_UTF8,
    PDF_SUFFIXES,
    is_archive,
    shown,
    utf8_name,
)
from arkhiv.watch.stability import Clock, Drop, StabilityTracker, is_ready, scan_inbox

log = logging.getLogger(__name__)

EventFn = Callable[[str, dict[str, object]], None]
PROCESSED, FAILED = "processed", "failed"
SCAN_SUFFIXES = IMAGE_SUFFIXES | PDF_SUFFIXES


@dataclass(frozen=True)
class _Queued:
    """A drop in processed/ waiting to be ingested."""

    drop_id: int
    location: Path
    attempts: int  # tries so far
    sha256: tuple[tuple[Path, str], ...] = ()  # scans hashed when taken (paths after the move)


@dataclass
class WatchSummary:
    """What one `arkhiv watch` run did."""

    taken: int = 0
    done: int = 0
    failed: int = 0
    duplicates: int = 0
    retries: int = 0
    failed_files: list[str] = field(default_factory=list)


def _check_apart(inbox: Path, archive: Path) -> None:
    """The archive and the inbox must not contain one another: the watcher takes what is in
    the inbox, and would take the archive apart."""
    a, i = archive.resolve(), inbox.resolve()
    if a == i or a.is_relative_to(i) or i.is_relative_to(a):
        where = "is" if a == i else "is inside" if a.is_relative_to(i) else "contains"
        raise UsageError(
            f"the archive {archive} {where} the inbox {inbox}: the watcher would take the "
            "archive's own files as scans",
            hint="keep them apart, e.g. /srv/scans/inbox and /srv/arkhiv",
        )


def _scans(drop: Drop) -> list[Path]:
    """The files of a drop that are scans (side files such as .txt are carried along)."""
    return [p for p in drop.files if p.suffix.lower() in SCAN_SUFFIXES]


def _decodes(path: Path) -> bool:
    """Whether a complete-looking file also opens and decodes (a paused copy may not)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".pdf":
            import pikepdf

            with pikepdf.open(path):
                return True
        from PIL import Image

        with Image.open(path) as im:
            im.verify()
        return True
    except Exception:
        return False


class InboxWatcher:
    """Watches one inbox for one archive. One watcher per inbox and per archive (locks)."""

    def __init__(
        self,
        inbox: Path,
        settings: Settings,
        pipeline: Pipeline,
        *,
        on_event: EventFn,
        stop: threading.Event,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
    ) -> None:
        self.inbox = inbox.absolute()
        self.settings = settings
        self.pipeline = pipeline
        self.cfg = settings.watch
        self.on_event = on_event
        self.stop = stop
        self.clock = clock
        self.processed = (self.cfg.processed_dir or self.inbox / PROCESSED).absolute()
        self.failed = (self.cfg.failed_dir or self.inbox / FAILED).absolute()
        self.marker = self.cfg.marker or None
        self.tracker = StabilityTracker(self.cfg.quiet_seconds, clock, wall)
        self.retry_at: dict[int, float] = {}
        self.summary = WatchSummary()
        self.catalog: Catalog | None = None
        self.archives_seen: set[Path] = set()  # drops never taken (archives...), said once

    # the loop
    def run(self, *, once: bool, poll: bool = False) -> WatchSummary:
        if not self.inbox.is_dir():
            raise UsageError(
                f"{self.inbox}: the inbox folder does not exist", hint="create it or fix the path"
            )
        archive = self.settings.archive
        _check_apart(self.inbox, archive)
        with (
            exclusive_lock(self.inbox / ".arkhiv-watch.lock", "watching this inbox"),
            exclusive_lock(archive / ".watch.lock", "watching into this archive"),
        ):
            self.catalog = Catalog.open(archive, create=True)
            try:
                self._resume()
                self._pass(retry_all=once)
                if not once:
                    self._loop(poll)
            finally:
                self.catalog.close()
        return self.summary

    def _loop(self, poll: bool) -> None:
        import watchfiles

        # Wake on file-system events, and at least every half quiet period: a file that
        # stopped changing sends no more events but becomes stable later. `rescan_seconds`
        # caps the wait for folders (network shares) that send no events at all.
        wake_ms = int(1000 * max(0.2, min(self.cfg.rescan_seconds, self.cfg.quiet_seconds / 2)))
        try:
            for _changes in watchfiles.watch(
                self.inbox,
                stop_event=self.stop,
                rust_timeout=wake_ms,
                yield_on_timeout=True,
                force_polling=poll or None,
                poll_delay_ms=wake_ms,
                debounce=min(1600, wake_ms),
                raise_interrupt=False,
                ignore_permission_denied=True,
            ):
                if self.stop.is_set():
                    return
                self._pass(retry_all=False)
        except Exception as e:  # e.g. a file name that is not UTF-8 (WatchfilesRustInternalError)
            if self.stop.is_set():
                return
            self._event("polling", file=str(self.inbox), reason=f"file events failed: {e}")
        # Without file events the inbox is still looked at, every wake period.
        while not self.stop.wait(wake_ms / 1000):
            self._pass(retry_all=False)

    def _pass(self, *, retry_all: bool) -> None:
        """One look at the inbox: take what is ready, retry what is due, in one batch."""
        drops = scan_inbox(self.inbox, skip=[self.processed, self.failed], marker=self.marker)
        self.tracker.observe({f: sig for d in drops for f, sig in d.files.items()})
        batch: list[_Queued] = []
        taken_now: set[str] = set()  # contents taken in this pass: a second copy is a duplicate
        for drop in drops:
            if self.stop.is_set():
                return
            if drop.path.is_dir() and is_archive(drop.path):  # never taken apart
                self._skip_once(drop.path, "an arkhiv archive")
                continue
            if not all(utf8_name(p) for p in (drop.path, *drop.files)):
                self._skip_once(drop.path, NOT_UTF8)  # cannot be recorded: left where it is
                continue
            if is_ready(drop, self.tracker, self.marker) and self._readable(drop):
                queued = self._take(drop, taken_now)
                if queued is not None:
                    batch.append(queued)
        assert self.catalog is not None
        for row in self.catalog.open_drops(self.inbox):
            due = self.retry_at.get(row["id"], 0.0) <= self.clock()
            if row["state"] == "retry" and (retry_all or due):
                batch.append(_Queued(row["id"], Path(row["location"]), row["attempts"]))
        self._process(batch)

    def _skip_once(self, path: Path, reason: str) -> None:
        """A drop that is never taken, said once per run."""
        if path not in self.archives_seen:
            self.archives_seen.add(path)
            self._event("skipped", file=str(shown(path)), reason=reason)

    def _readable(self, drop: Drop) -> bool:
        """All files decode, or the ones that do not have been unchanged for the grace period
        (a paused copy resumes within it; a corrupt file is then taken and fails with its
        reason)."""
        grace = self.cfg.undecodable_grace_seconds
        return all(self.tracker.unchanged_for(p) >= grace or _decodes(p) for p in _scans(drop))

    # one drop
    def _event(self, kind: str, **info: object) -> None:
        self.on_event(kind, info)

    def _resume(self) -> None:
        """Finish what a stopped or killed watcher left: journaled moves, unfinished drops."""
        assert self.catalog is not None
        batch: list[_Queued] = []
        for row in self.catalog.open_drops(self.inbox):
            original, location = Path(row["original"]), Path(row["location"])
            if row["state"] == "retry":
                continue  # waiting for its next try: _pass takes it when due
            if row["state"] == "moving":
                if location.exists():
                    self.catalog.record_move(original, location, "taken", row["id"])
                    self.catalog.set_drop(row["id"], "queued")
                else:  # the move never happened: the drop is still in the inbox
                    self.catalog.set_drop(row["id"], "abandoned", error="moved again later")
                    continue
            self._event("resumed", file=str(location))
            batch.append(_Queued(row["id"], location, row["attempts"]))
        self._process(batch)

    def _take(self, drop: Drop, taken_now: set[str]) -> _Queued | None:
        """Move a complete drop to processed/ (journaled first); queue it unless a duplicate."""
        assert self.catalog is not None
        rel = drop.path.relative_to(self.inbox)
        scans = _scans(drop)
        shas = [sha256_file(f) for f in scans]
        duplicate = bool(shas) and all(
            sha in taken_now or self.catalog.has_ok_page_with_sha(sha) for sha in shas
        )
        taken_now.update(shas)
        dest = unique_path(self.processed / rel)
        drop_id = self.catalog.add_drop(self.inbox, drop.path, dest, "moving")
        try:
            move_original(drop.path, dest)
        except OSError as e:  # e.g. locked or vanished: the drop stays, tried again later
            self.catalog.set_drop(drop_id, "abandoned", error=f"cannot move: {e}")
            self._event("skipped", file=str(drop.path), reason=f"cannot move it yet: {e}")
            return None
        self.tracker.forget(drop.files)
        reason = "duplicate" if duplicate else "taken"
        self.catalog.record_move(drop.path, dest, reason, drop_id)
        self.summary.taken += 1
        if duplicate:
            self.catalog.set_drop(drop_id, "duplicate")
            self.summary.duplicates += 1
            self._event("duplicate", file=str(drop.path), to=str(dest))
            return None
        self.catalog.set_drop(drop_id, "queued")
        self._event("taken", file=str(drop.path), to=str(dest), files=len(drop.files))
        moved = tuple(
            (dest / f.relative_to(drop.path) if f != drop.path else dest, h)
            for f, h in zip(scans, shas, strict=True)
        )
        return _Queued(drop_id, dest, 0, moved)

    def _process(self, batch: list[_Queued]) -> None:
        """Ingest the queued drops in one batch (one pool of OCR workers), then settle each."""
        if not batch:
            return
        assert self.catalog is not None
        present = [q for q in batch if q.location.exists()]
        for q in batch:
            if q not in present:
                self._retry_or_fail(q, {str(q.location): ("it is no longer there", False)})
        if not present:
            return
        try:
            report = engine.ingest(
                [q.location for q in present],
                self.settings,
                self.pipeline,
                BatchOptions(
                    stop=self.stop.is_set,
                    known_sha256={p: h for q in present for p, h in q.sha256},
                ),
            )
        except MissingDependencyError:
            raise
        except ArkhivError as e:  # e.g. an `arkhiv ingest` holds the archive: try again later
            for q in present:
                self._retry_or_fail(q, {str(q.location): (e.message, True)})
            return
        if report.interrupted:
            for q in present:
                self._event("stopped", file=str(q.location), reason="resumed at restart")
            return
        failures: dict[str, tuple[str, bool]] = {}
        for page in report.pages:
            if page.status == "failed":
                reason, transient = failures.get(page.source, ("", False))
                why = page.reason or "unknown error"
                if page.page:
                    why = f"page {page.page}: {why}"
                failures[page.source] = (
                    "; ".join(filter(None, [reason, why])),
                    transient or page.transient,
                )
        for q in present:
            mine = {f: r for f, r in failures.items() if Path(f).is_relative_to(q.location)}
            if mine:
                self._retry_or_fail(q, mine)
                continue
            self.catalog.set_drop(q.drop_id, "done", attempts=q.attempts + 1)
            self.summary.done += 1
            pages = sum(
                1 for p in report.pages if p.source and Path(p.source).is_relative_to(q.location)
            )
            self._event("done", file=str(q.location), pages=pages)

    def _retry_or_fail(self, q: _Queued, failures: dict[str, tuple[str, bool]]) -> None:
        """A transient failure is tried again later (with back-off) a limited number of times;
        otherwise the failed files go to failed/ with NAME.error.txt."""
        assert self.catalog is not None
        drop_id, location, attempts = q.drop_id, q.location, q.attempts + 1
        summary = "; ".join(f"{Path(f).name}: {r}" for f, (r, _) in failures.items())
        if any(t for _, t in failures.values()) and attempts < self.cfg.max_attempts:
            wait = self.cfg.retry_seconds * 2 ** (attempts - 1)
            self.retry_at[drop_id] = self.clock() + wait
            self.catalog.set_drop(drop_id, "retry", attempts=attempts, error=summary)
            self.summary.retries += 1
            self._event("retry", file=str(location), attempt=attempts, wait_s=wait, reason=summary)
            return
        for file, (reason, _) in failures.items():
            src = Path(file)
            if not src.exists() or not src.is_relative_to(self.processed):
                continue
            dest = unique_path(self.failed / src.relative_to(self.processed))
            move_original(src, dest)
            self.catalog.record_move(src, dest, "failed", drop_id)
            atomic_write_text(
                dest.with_name(dest.name + ".error.txt"),
                f"{dest.name}: {reason}\n(after {attempts} attempt(s); moved from {src})\n",
            )
            self.summary.failed_files.append(str(dest))
            self._event("failed", file=str(src), to=str(dest), reason=reason)
        self.catalog.set_drop(drop_id, "failed", attempts=attempts, error=summary)
        self.summary.failed += 1
