"""Watching an inbox: a pure file-stability tracker (injected clock) and the inbox scan.

The loop that moves and ingests what is ready lives in watch/loop.py; this module decides *when* a
drop (a file or a folder put into the inbox) is complete enough to take.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from arkhiv.errors import ArkhivError
from arkhiv.pipeline.discover import is_temporary_name

Clock = Callable[[], float]
_RSYNC_TEMP = re.compile(r"^\..+\.[A-Za-z0-9]{6}$")
# (size, mtime in ns) of a file: it changes while a scanner or copy tool is still writing.
Signature = tuple[int, int]


@dataclass
class _Seen:
    signature: Signature
    since: float  # clock time when this signature was first seen


@dataclass
class StabilityTracker:
    """Remembers each file's size and mtime; a file is stable once they have not changed for
    `quiet_seconds`. Pure: the caller supplies the observations and the clock."""

    quiet_seconds: float
    clock: Clock  # monotonic seconds
    wall: Clock  # wall-clock seconds, to compare with file modification times
    _seen: dict[Path, _Seen] = field(default_factory=dict)
    _first_scan: bool = True

    def observe(self, files: Mapping[Path, Signature]) -> None:
        """Record one scan of the inbox: every file present now, with its signature.

        In the first scan a file counts as unchanged since its modification time, so files
        already complete in the inbox at start-up (or in a one-off --once pass) need not wait
        another quiet period. Later, a new file always waits the quiet period: copies that
        keep the original mtimes (cp -p, rsync -a) would otherwise look complete at once.
        """
        now = self.clock()
        for path, sig in files.items():
            seen = self._seen.get(path)
            if seen is None:
                age = max(0.0, self.wall() - sig[1] / 1e9) if self._first_scan else 0.0
                self._seen[path] = _Seen(sig, now - age)
            elif seen.signature != sig:
                self._seen[path] = _Seen(sig, now)
        for gone in set(self._seen) - set(files):
            del self._seen[gone]
        self._first_scan = False

    def unchanged_for(self, path: Path) -> float:
        """Seconds the file has kept its size and mtime (0 for a file not seen)."""
        seen = self._seen.get(path)
        return 0.0 if seen is None else max(0.0, self.clock() - seen.since)

    def is_stable(self, path: Path) -> bool:
        return path in self._seen and self.unchanged_for(path) >= self.quiet_seconds

    def all_stable(self, paths: Iterable[Path]) -> bool:
        paths = list(paths)
        return bool(paths) and all(self.is_stable(p) for p in paths)

    def forget(self, paths: Iterable[Path]) -> None:
        for p in paths:
            self._seen.pop(p, None)


@dataclass(frozen=True)
class Drop:
    """Something put into the inbox: a file at its top level, or a top-level folder (a tree)."""

    path: Path
    files: dict[Path, Signature]  # every file of the drop, temporary names excluded
    pending: bool  # it still holds temporary names (.part, ~$...): a copy is in progress
    has_marker: bool


def signature(path: Path) -> Signature | None:
    try:
        st = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):  # a pipe, socket or device: never opened (it may block)
        return None
    return st.st_size, st.st_mtime_ns


def scan_inbox(inbox: Path, skip: Iterable[Path], marker: str | None) -> list[Drop]:
    """The drops in the inbox now, in name order. `skip`: folders inside it not to look into
    (processed/, failed/). Symlinked folders are not followed."""
    skipped = {p.resolve() for p in skip}
    drops: list[Drop] = []
    try:
        entries = sorted(os.scandir(inbox), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    except OSError as e:
        raise ArkhivError(f"{inbox}: cannot read the inbox: {e}") from e
    for entry in entries:
        path = Path(entry.path)
        if path.resolve() in skipped or entry.name.startswith(".arkhiv"):
            continue
        if entry.is_file(follow_symlinks=False):
            if is_temporary_name(entry.name):
                continue
            sig = signature(path)
            if sig is not None:
                drops.append(Drop(path, {path: sig}, pending=False, has_marker=False))
        elif entry.is_dir(follow_symlinks=False):
            if is_temporary_name(entry.name):
                continue
            files: dict[Path, Signature] = {}
            unreadable: list[OSError] = []
            pending = False
            has_marker = False
            for dirpath, dirnames, filenames in os.walk(
                path, followlinks=False, onerror=unreadable.append
            ):
                # Like discovery: dot and temporary folders are not part of the document.
                dirnames[:] = sorted(d for d in dirnames if not is_temporary_name(d))
                for name in filenames:
                    if marker and name == marker:
                        has_marker = True
                        continue
                    if is_temporary_name(name):
                        # A dot file (.DS_Store) is not a copy in progress, but rsync's
                        # temporary ".NAME.XXXXXX" is.
                        pending = (
                            pending or not name.startswith(".") or bool(_RSYNC_TEMP.match(name))
                        )
                        continue
                    p = Path(dirpath) / name
                    sig = signature(p)
                    if sig is not None:
                        files[p] = sig
            # A subfolder that cannot be read: its files are unknown, so the drop is not taken.
            drops.append(Drop(path, files, pending or bool(unreadable), has_marker))
    return drops


def is_ready(drop: Drop, tracker: StabilityTracker, marker: str | None) -> bool:
    """A drop is taken once all its files are stable, nothing is still being copied, and (when
    a marker file is configured) the marker is there."""
    if drop.pending or (marker and drop.path.is_dir() and not drop.has_marker):
        return False
    return tracker.all_stable(drop.files)
