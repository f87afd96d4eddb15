"""PDF stage: join the pages' searchable PDFs into one PDF/A per document."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from arkhiv.fsutil import atomic_path


def assemble_document(pages: Sequence[tuple[Path, int]], target: Path) -> None:
    """Write the pages, in order, as one PDF at `target` (atomically).

    Each page is (PDF file, 0-based page index): a single-page PDF from the page cache, or a
    page of the document's previous PDF (which may be `target` itself: it is replaced only by
    the final rename). Every page comes from the same OCRmyPDF settings, so the first file's
    PDF/A identification, XMP and output intent describe the whole document. The sources
    stay open until the save: qpdf copies foreign page streams lazily.
    """
    import pikepdf

    if not pages:
        raise ValueError("a document needs at least one page")
    with ExitStack() as stack:
        opened: dict[Path, pikepdf.Pdf] = {}

        def source(path: Path) -> pikepdf.Pdf:
            if path not in opened:
                opened[path] = stack.enter_context(pikepdf.open(path))
            return opened[path]

        # The first source, opened once more, is the base: its catalog keeps the PDF/A
        # identity (XMP metadata, output intent). Its own pages are dropped; qpdf writes only
        # objects still reachable, so they do not survive in the output.
        base = stack.enter_context(pikepdf.open(pages[0][0]))
        del base.pages[:]
        for path, index in pages:
            base.pages.append(source(path).pages[index])
        with atomic_path(target) as tmp:
            base.save(tmp)
