"""PDF stage: join the pages' searchable PDFs into one PDF/A per document."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from arkhiv.fsutil import atomic_path


def assemble_document(page_pdfs: Sequence[Path], target: Path) -> None:
    """Write the pages, in order, as one PDF at `target` (atomically).

    Every page PDF comes from the same OCRmyPDF settings, so the first page's PDF/A
    identification, XMP and output intent describe the whole document. The sources stay open
    until the save: qpdf copies foreign page streams lazily.
    """
    import pikepdf

    if not page_pdfs:
        raise ValueError("a document needs at least one page")
    with ExitStack() as stack:
        doc = stack.enter_context(pikepdf.open(page_pdfs[0]))
        for path in page_pdfs[1:]:
            doc.pages.extend(stack.enter_context(pikepdf.open(path)).pages)
        with atomic_path(target) as tmp:
            doc.save(tmp)
