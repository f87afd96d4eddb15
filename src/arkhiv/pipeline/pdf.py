"""PDF stage: join the pages' searchable PDFs into one PDF/A per document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from arkhiv.fsutil import atomic_path


def assemble_document(
    pages: Sequence[tuple[Path, int]],
    target: Path,
    metadata: tuple[str, Mapping[str, str]] | None = None,
) -> None:
    """Write the pages, in order, as one PDF at `target` (atomically), with `metadata` (an XMP
    packet and the matching document information entries) replacing OCRmyPDF's.

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
        if metadata is not None:
            write_metadata(base, *metadata)
        with atomic_path(target) as tmp:
            # Our XMP packet is stored as built (pikepdf would otherwise re-serialize it).
            base.save(tmp, fix_metadata_version=metadata is None)


def write_metadata(pdf: Any, xmp: str, docinfo: Mapping[str, str]) -> None:
    """Replace the XMP stream and the document information dictionary of an open pikepdf.Pdf.

    Both are replaced as a whole: PDF/A requires them to agree (ISO 19005-2, 6.6.2.3.1), and
    the XMP carries the PDF/A identification that OCRmyPDF wrote (the caller's fields keep it).
    """
    import pikepdf

    pdf.Root.Metadata = pdf.make_stream(
        xmp.encode("utf-8"), Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML
    )
    info = pikepdf.Dictionary({key: pikepdf.String(value) for key, value in docinfo.items()})
    pdf.trailer.Info = pdf.make_indirect(info)
