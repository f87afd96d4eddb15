"""The index's generations on disk: folders `index-N`, the `index` symlink switched between
them atomically, and the version of the index format each generation records."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from arkhiv import __version__
from arkhiv.fsutil import atomic_write_text, fsync_dir

log = logging.getLogger(__name__)

INDEX_DIR = "index"

# The version of what an index generation holds and how: the schema (fields, their types and
# analyzers), the analyzer (tokenizer, lemmas, stop words), the posting codec (codec.py) and
# the folding of terms (normalize.py). RAISE IT WITH EVERY CHANGE TO ANY OF THESE that makes
# an existing index answer differently from a new one: an index of a lower version is then
# rebuilt from the catalog by the next ingest (the search page asks for `arkhiv reindex`), and
# an index of a higher version is refused by older arkhivs instead of being rebuilt downwards.
INDEX_VERSION = 2  # 2: a look-alike of № before a number is not indexed (issue 14)
VERSION_FILE = "arkhiv-index.json"  # in the generation folder; Whoosh leaves other files alone

_PREVIOUS = ".index-previous"


@dataclass(frozen=True)
class IndexVersion:
    """The version a generation records, and the arkhiv that wrote it."""

    version: int
    written_by: str = ""


def write_version(generation: Path) -> None:
    """Record this arkhiv's INDEX_VERSION in a new generation, before `index` points at it."""
    record = {"version": INDEX_VERSION, "written_by": f"arkhiv {__version__}"}
    atomic_write_text(generation / VERSION_FILE, json.dumps(record) + "\n")


def read_version(folder: Path) -> IndexVersion | None:
    """The version a generation records; None when it records none (an index written before
    arkhiv recorded versions) or an unreadable one: either way, one to rebuild."""
    try:
        record = json.loads((folder / VERSION_FILE).read_text(encoding="utf-8"))
        version = record["version"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError(f"version {version!r} is not a number")
        return IndexVersion(version, str(record.get("written_by") or ""))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError) as e:
        log.warning("%s: unreadable index version (%s); taken as an older index", folder, e)
        return None


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
