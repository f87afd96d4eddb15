"""Crash-safe file writes: temp file in the same folder, fsync, rename; and content hashing."""

from __future__ import annotations

import contextlib
import errno
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


def _umask() -> int:
    """The process umask, read without changing it (os.umask would, briefly, for all threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


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
        # mkstemp creates 0600; the result should have the mode of any new file (0644 with
        # the usual umask), or a replaced file's mode, as a plain `> file` would.
        try:
            mode = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
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
def exclusive_lock(path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive lock on `path` (flock) for as long as the block runs.

    The kernel releases it when the holder dies, so a killed process leaves no stale lock; the
    file only keeps the last holder's pid for the message.
    """
    import fcntl

    from arkhiv.errors import ArchiveBusyError, ArkhivError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as e:  # a read-only folder or medium: reading commands still work
        raise ArkhivError(
            f"{path.parent}: the folder is not writable ({io_reason(e)})",
            hint="searching, show, export and check work on a read-only archive; to change "
            "it, use a writable copy",
        ) from e
    with handle as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            raise ArchiveBusyError(
                f"{path.parent}: another arkhiv process (pid {holder}) is {what}",
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


def archive_lock(archive: Path) -> contextlib.AbstractContextManager[None]:
    """The archive's writer lock: one ingest (one catalog and index writer) at a time."""
    return exclusive_lock(archive / ".lock", "writing to this archive")


def unique_path(target: Path) -> Path:
    """`target`, or `NAME (2).EXT`, `NAME (3).EXT`, ... : the first name not taken yet."""
    if not target.exists() and not target.is_symlink():
        return target
    stem, suffix = (target.stem, target.suffix) if target.is_file() else (target.name, "")
    n = 2
    while True:
        candidate = target.with_name(f"{stem} ({n}){suffix}")
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
        n += 1


def move_original(src: Path, dst: Path) -> None:
    """Move a file or folder to `dst` (which must not exist), durably.

    A rename on the same file system; across file systems a copy whose content is verified
    before the original is removed.
    """
    import errno
    import shutil

    if dst.exists():
        raise FileExistsError(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(src, dst)
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
        if src.is_dir():
            shutil.copytree(src, dst, symlinks=True)
            pairs = [(p, dst / p.relative_to(src)) for p in src.rglob("*") if p.is_file()]
        else:
            shutil.copy2(src, dst)
            pairs = [(src, dst)]
        for a, b in pairs:
            if sha256_file(a) != sha256_file(b):
                raise OSError(f"copy of {a} to {b} differs; the original is kept") from e
        shutil.rmtree(src) if src.is_dir() else src.unlink()
    fsync_dir(dst.parent)


def io_reason(e: OSError) -> str:
    """An I/O error in words, the full disk named plainly."""
    if e.errno == errno.ENOSPC:
        return "the disk is full (No space left on device)"
    return e.strerror or str(e)
