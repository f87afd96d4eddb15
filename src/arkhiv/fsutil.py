"""Crash-safe file writes: temp file in the same folder, fsync, rename; and content hashing."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

TEMP_PREFIX = ".arkhiv-tmp-"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks (scans can be hundreds of MB)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success fsync it and rename it over `target`.

    Readers see either the old file or the complete new one, never a half-written file; on
    error the temporary file is removed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_text(target: Path, text: str) -> None:
    """Write UTF-8 text to `target` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def remove_stale_temps(folder: Path) -> int:
    """Delete temp files a killed run left behind under `folder` (only arkhiv's own)."""
    count = 0
    if not folder.is_dir():
        return 0
    for p in folder.rglob(TEMP_PREFIX + "*"):
        with contextlib.suppress(OSError):
            p.unlink()
            count += 1
    return count


@contextlib.contextmanager
def archive_lock(archive: Path) -> Iterator[None]:
    """Hold the archive's writer lock: one ingest (one catalog and index writer) at a time.

    flock is released by the kernel when the holder dies, so a killed run leaves no stale lock.
    """
    import fcntl

    from arkhiv.errors import ArkhivError

    archive.mkdir(parents=True, exist_ok=True)
    path = archive / ".lock"
    with path.open("a+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            raise ArkhivError(
                f"{archive}: another arkhiv process (pid {holder}) is writing to this archive",
                hint="wait for it to finish, or stop it; searching works meanwhile",
            ) from e
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
