"""The index's generations on disk: folders `index-N` and the `index` symlink switched between
them atomically."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from arkhiv.fsutil import fsync_dir

INDEX_DIR = "index"

_PREVIOUS = ".index-previous"


def current_generation(archive: Path) -> str:
    """What `archive/index` points at now: it changes when a rebuild switches generations."""
    link = archive / INDEX_DIR
    return os.readlink(link) if link.is_symlink() else str(link)


def new_generation(archive: Path) -> Path:
    """A new, empty folder `index-N` for an index generation."""
    numbers = [
        int(p.name.rsplit("-", 1)[1])
        for p in archive.glob(f"{INDEX_DIR}-*")
        if p.name.rsplit("-", 1)[1].isdigit()
    ]
    path = archive / f"{INDEX_DIR}-{max(numbers, default=0) + 1}"
    path.mkdir(parents=True)
    return path


def _previous_target(archive: Path) -> str:
    try:
        return (archive / _PREVIOUS).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def point_index_at(archive: Path, generation: Path) -> None:
    """Make `archive/index` point at `generation` in one atomic rename."""
    link = archive / INDEX_DIR
    if link.is_symlink():
        (archive / _PREVIOUS).write_text(os.readlink(link), encoding="utf-8")
    elif link.is_dir():  # the first layout kept the index in the folder itself
        os.rename(link, archive / f"{INDEX_DIR}-0")
    tmp = archive / f".{INDEX_DIR}-link-tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(generation.name)
    os.replace(tmp, link)
    fsync_dir(archive)


def drop_old_generations(archive: Path, current: Path) -> None:
    """Remove the generations older than the previous one (a search may still be reading
    that one)."""
    keep = {current.name, _previous_target(archive)}
    for old in archive.glob(f"{INDEX_DIR}-*"):
        if old.name not in keep and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
