"""Page images for the web page: rendered once from the document PDF, then served from a cache."""

from __future__ import annotations

import logging
import re
import tempfile
import threading
from pathlib import Path

from arkhiv.fsutil import atomic_path
from arkhiv.tools.poppler import render_page

log = logging.getLogger(__name__)

SIZES = {"thumb": 240, "view": 1100}  # widths in pixels; nothing else is rendered
CACHE_DIR = "cache/thumbs"


class PageImages:
    """JPEG renderings of document pages, cached by the PDF's content hash (a rebuilt PDF
    gets new images; the old ones are never served for it)."""

    def __init__(self, archive: Path) -> None:
        self.root = archive / CACHE_DIR
        self._locks: dict[Path, threading.Lock] = {}
        self._guard = threading.Lock()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".write-test"
            probe.touch()
            probe.unlink()
        except OSError as e:  # a read-only archive (e.g. a mounted copy): cache elsewhere
            self.root = Path(tempfile.mkdtemp(prefix="arkhiv-thumbs-"))
            log.warning("archive not writable (%s); page images cached in %s", e, self.root)

    def path(self, pdf: Path, pdf_sha256: str, page: int, size: str) -> Path:
        """The cached image of one PDF page, rendered now if it is not cached yet."""
        if not re.fullmatch(r"[0-9a-f]{64}", pdf_sha256):  # it names a file: only a hash
            raise ValueError(f"not a sha256: {pdf_sha256!r}")
        width = SIZES[size]
        target = self.root / pdf_sha256[:2] / f"{pdf_sha256[:24]}-{page}-{width}.jpg"
        if target.is_file():
            return target
        with self._guard:  # two requests for the same image render it once
            lock = self._locks.setdefault(target, threading.Lock())
        with lock:
            if not target.is_file():
                image = render_page(pdf, page, width)
                if image.mode not in ("L", "RGB"):
                    image = image.convert("RGB")
                with atomic_path(target) as tmp:
                    image.save(tmp, "JPEG", quality=80, optimize=True)
        return target
