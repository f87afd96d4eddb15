"""Find the documents in a folder tree of scans: folders of images, PDFs, multi-page TIFFs."""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from PIL import Image

from arkhiv.models import DocumentSource, SkippedInput, SourceKind, SourcePage

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".tif", ".tiff", ".png", ".jpg", ".jpeg", ".jp2", ".bmp", ".gif"})
PDF_SUFFIXES = frozenset({".pdf"})
# Files that commonly sit beside scans and are not pages: ignored without a warning.
QUIET_SUFFIXES = frozenset(
    {".txt", ".md", ".json", ".yaml", ".yml", ".csv", ".toml", ".xml", ".py", ".db", ".ini"}
)
# Names that scanners and copy tools use while a file is still being written.
_TEMP_NAME = re.compile(r"(^\.|^~\$|\.(part|filepart|partial|crdownload|tmp)$)", re.IGNORECASE)
_DIGITS = re.compile(r"(\d+)")
EMPTY_REASON = "the file is empty (0 bytes); copy it again from the scanner"


def _is_empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:
        return False  # the page stage reports why it cannot be read


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts `2.tif` before `10.tif` (and `арк2` before `арк10`)."""
    parts = _DIGITS.split(name.casefold())
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p != "")


NOT_UTF8 = (
    "the file or folder name is not valid UTF-8 (shown with \\x escapes); rename it "
    "(e.g. convmv -f cp1251 -t utf8 --notest NAME) and ingest it again"
)


def is_temporary_name(name: str) -> bool:
    """True for dot files and names scanners use while still writing (`.part`, `~$x`)."""
    return bool(_TEMP_NAME.search(name))


def frame_count(path: Path) -> int:
    """Frames in an image (pages of a TIFF, frames of a GIF or an animated PNG, whatever its
    name says it is); 1 when it cannot be read (the OCR stage then reports why)."""
    try:
        with Image.open(path) as im:
            return int(getattr(im, "n_frames", 1))
    except Exception as e:
        log.debug("cannot count frames of %s: %s", path, e)
        return 1


def pdf_page_count(path: Path) -> int | None:
    """Pages in a PDF, or None when it cannot be opened."""
    import pikepdf

    try:
        with pikepdf.open(path) as pdf:
            return len(pdf.pages)
    except Exception as e:
        log.debug("cannot open PDF %s: %s", path, e)
        return None


def _pdf_error(path: Path) -> str:
    import pikepdf

    try:
        with pikepdf.open(path):
            return "unknown error"
    except pikepdf.PasswordError:
        return "the PDF is encrypted (password protected); decrypt it first, e.g. with qpdf"
    except Exception as e:
        return f"not a readable PDF ({type(e).__name__}: {e}); re-export or re-scan it"


ARCHIVE_MARK = "catalog.sqlite"  # a folder holding one is an arkhiv archive


def shown(path: Path) -> Path:
    """The path as it can be shown and stored: bytes that are not UTF-8 (a name from another
    system's encoding) escaped as \\xNN."""
    return Path(os.fsencode(path).decode("utf-8", "backslashreplace"))


def utf8_name(path: Path) -> bool:
    """Whether the path is valid UTF-8 (else it cannot be stored or shown as it is)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_regular_file(path: Path) -> bool:
    """A regular file (a symlink to one too): not a folder, pipe, socket or device."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def is_archive(folder: Path) -> bool:
    """Whether the folder is an arkhiv archive (its own outputs are never scans to ingest)."""
    return (folder / ARCHIVE_MARK).is_file()


def _walk(
    root: Path, notes: list[str], unreadable: list[OSError]
) -> Iterator[tuple[Path, list[str]]]:
    """Folders under root (root first) in natural order, with their file names; arkhiv
    archives are left out (with a note); folders that cannot be read go to `unreadable`.

    Symlinked folders are not followed (no loops).
    """
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unreadable.append):
        here = Path(dirpath)
        if is_archive(here):
            notes.append(f"{here}: an arkhiv archive, left out (its files are not scans)")
            dirnames[:] = []
            continue
        dirnames[:] = sorted((d for d in dirnames if not is_temporary_name(d)), key=natural_key)
        yield here, sorted(filenames, key=natural_key)


def discover(
    root: Path, notes: list[str] | None = None
) -> tuple[list[DocumentSource], list[SkippedInput]]:
    """Group the scans under `root` (a folder or one file) into documents, in natural order.

    A folder's single-page images form one document; each PDF and each multi-page TIFF is a
    document of its own. Folders that are arkhiv archives are left out, with a line in `notes`.
    """
    notes = [] if notes is None else notes
    docs: list[DocumentSource] = []
    skipped: list[SkippedInput] = []
    if root.is_file():
        if _is_empty(root):
            return [], [SkippedInput(root, EMPTY_REASON)]
        doc, skip = _file_document(root)
        docs.extend([doc] if doc else [])
        skipped.extend([skip] if skip else [])
        return docs, skipped
    unreadable: list[OSError] = []
    for folder, names in _walk(root, notes, unreadable):
        images: list[Path] = []
        for name in names:
            path = folder / name
            suffix = path.suffix.lower()
            if not utf8_name(path) and not is_temporary_name(name):
                skipped.append(SkippedInput(shown(path), NOT_UTF8))
                continue
            if is_temporary_name(name) or suffix in QUIET_SUFFIXES or not path.exists():
                continue
            if not is_regular_file(path):  # reading a pipe or a device may block for ever
                if not path.is_dir():
                    notes.append(f"{path}: not a regular file (a pipe, socket or device), left out")
                continue
            if _is_empty(path):
                skipped.append(SkippedInput(path, EMPTY_REASON))
                continue
            if suffix in IMAGE_SUFFIXES and frame_count(path) > 1:  # every frame is a page
                doc, skip = _file_document(path)
            elif suffix in IMAGE_SUFFIXES:
                images.append(path)
                continue
            elif suffix in PDF_SUFFIXES:
                doc, skip = _file_document(path)
            else:
                doc, skip = (
                    None,
                    SkippedInput(
                        path,
                        f"unsupported file type {suffix or '(no extension)'!r}; arkhiv reads "
                        "TIFF, PNG, JPEG, JPEG 2000, BMP, GIF and PDF scans",
                    ),
                )
            docs.extend([doc] if doc else [])
            skipped.extend([skip] if skip else [])
        if images:
            pages = tuple(SourcePage(p, None, i) for i, p in enumerate(images, start=1))
            docs.append(DocumentSource(folder, folder.name, SourceKind.FOLDER, pages))
    for e in unreadable:  # its scans are unknown: a failure, never a silent gap
        where = Path(e.filename) if e.filename else root
        reason = f"cannot read the folder ({e.strerror or e}); make it readable and run again"
        skipped.append(SkippedInput(shown(where), reason))
    return docs, skipped


def _file_document(path: Path) -> tuple[DocumentSource | None, SkippedInput | None]:
    """A document made of one file: a PDF, a multi-page TIFF or a single image."""
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        count = pdf_page_count(path)
        if count is None:
            return None, SkippedInput(path, _pdf_error(path))
        if count == 0:
            return None, SkippedInput(path, "the PDF has no pages")
        pages = tuple(SourcePage(path, i, i + 1) for i in range(count))
        return DocumentSource(path, path.name, SourceKind.PDF, pages), None
    if suffix in IMAGE_SUFFIXES:
        count = frame_count(path)
        if count > 1:
            pages = tuple(SourcePage(path, i, i + 1) for i in range(count))
            return DocumentSource(path, path.name, SourceKind.TIFF, pages), None
    if suffix in IMAGE_SUFFIXES:
        return DocumentSource(path, path.name, SourceKind.IMAGE, (SourcePage(path, None, 1),)), None
    return None, SkippedInput(path, f"unsupported file type {suffix!r}")
