"""Describe stage: what goes into each document's PDF (XMP, info) and its document.json."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from arkhiv import __version__
from arkhiv.catalog import PageRow
from arkhiv.fsutil import atomic_write_text
from arkhiv.metadata.fields import Access, DocumentMetadata
from arkhiv.metadata.ref import CitationStyle, Leaf
from arkhiv.metadata.xmp import XmpFields, build_docinfo, build_xmp, tesseract_to_bcp47
from arkhiv.pipeline.context import BatchContext, DocState, DocumentPdf

DOCUMENT_JSON = "document.json"


def xmp_fields(
    meta: DocumentMetadata,
    *,
    name: str,
    ocr_languages: Sequence[str],
    leaf_count: int,
    created: datetime,
    modified: datetime,
    document_id: str,
) -> XmpFields:
    """The XMP/Dublin Core fields of a document: its metadata, else what arkhiv knows.

    dc:title falls back to the document's name and dc:language to the OCR languages, so that
    every PDF says what it is; dc:identifier is the citation when there is a reference.
    """
    languages = meta.language or tuple(dict.fromkeys(tesseract_to_bcp47(c) for c in ocr_languages))
    ref = dict(meta.ref.parts())
    if meta.archive_id:
        ref["archive_id"] = meta.archive_id
    if leaf_count:
        ref["leaves"] = str(meta.leaves or leaf_count)
    rights = meta.rights or ("restricted access" if meta.access is Access.RESTRICTED else None)
    return XmpFields(
        title=meta.title or name,
        creators=meta.creator,
        description=meta.description,
        subjects=meta.subject,
        languages=languages,
        identifier=meta.ref.citation() or None,
        dates=tuple(meta.date.xmp_dates()) if meta.date else (),
        date_text=meta.date.edtf if meta.date else None,
        rights=rights,
        ref=ref,
        producer=f"arkhiv {__version__} (OCRmyPDF, Tesseract)",
        creator_tool=f"arkhiv {__version__}",
        create_date=created,
        modify_date=modified,
        document_id=document_id,
    )


def pdf_metadata(fields: XmpFields) -> tuple[str, dict[str, str]]:
    """The XMP packet and the matching document information dictionary."""
    return build_xmp(fields), build_docinfo(fields)


def page_leaf(page: PageRow) -> Leaf | None:
    return Leaf(page.arkush, bool(page.verso)) if page.arkush else None


def document_record(
    *,
    doc_id: int,
    name: str,
    source: str,
    meta: DocumentMetadata,
    pages: Sequence[PageRow],
    pdf: str | None,
    pdf_sha256: str | None,
    style: CitationStyle = CitationStyle.LEGEND,
) -> dict[str, Any]:
    """document.json: the document's metadata and pages, paths relative to its folder."""
    entries = []
    for p in pages:
        leaf = page_leaf(p)
        text = p.text_path.split("/", 2)[2] if p.text_path else None  # documents/D/pages/N
        entries.append(
            {
                "number": p.number,
                "arkush": p.arkush,
                "verso": bool(p.verso),
                "citation": meta.ref.citation(leaf, style) if leaf else None,
                "source": p.source_path,
                "status": p.status,
                "error": p.error,
                "confidence": p.confidence,
                "text": text,
                "pdf_page": p.pdf_page,
            }
        )
    return {
        "id": doc_id,
        "name": name,
        "source": source,
        "citation": meta.ref.citation(style=style) or None,
        "metadata": meta.to_json(),
        "pdf": pdf,
        "pdf_sha256": pdf_sha256,
        "pages": entries,
    }


def write_document_json(ctx: BatchContext, state: DocState, pdf: DocumentPdf) -> None:
    """The document's document.json, rewritten only when its content changed."""
    record = document_record(
        doc_id=state.doc_id,
        name=state.source.name,
        source=str(state.source.path),
        meta=state.plan.metadata or DocumentMetadata(),
        pages=ctx.catalog.document_pages(state.doc_id),
        pdf=pdf.name,
        pdf_sha256=pdf.sha256,
        style=ctx.settings.metadata.citation_style,
    )
    text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
    target = ctx.archive / state.folder / DOCUMENT_JSON
    with contextlib.suppress(OSError):
        if target.read_text(encoding="utf-8") == text:
            return
    atomic_write_text(target, text)
