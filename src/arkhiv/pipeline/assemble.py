"""Assemble stage: a finished document's pages joined into its PDF/A, with its XMP metadata.

The PDF is made again only when a page was (re)done or the metadata it must carry changed;
pages come from the page cache (new OCR) or from the document's previous PDF. Once the PDF
is recorded, the pages' copies leave the page cache (they would double the archive's size).
"""

from __future__ import annotations

import errno
import uuid
from datetime import UTC, datetime

from arkhiv.catalog import PageRow
from arkhiv.fsutil import io_reason, sha256_file
from arkhiv.metadata.fields import DocumentMetadata
from arkhiv.models import PageReport
from arkhiv.pipeline import cache
from arkhiv.pipeline.context import BatchContext, DocState, DocumentPdf
from arkhiv.pipeline.describe import pdf_metadata, xmp_fields
from arkhiv.pipeline.pdf import assemble_document
from arkhiv.pipeline.plan import DOCUMENT_PDF, page_pdf_source

NO_PDF = DocumentPdf(None, None)


def document_pdf(ctx: BatchContext, state: DocState) -> DocumentPdf | None:
    """The document's PDF, made or remade when needed and recorded in the catalog; NO_PDF
    when no page could be read; None when it could not be written now (e.g. a full disk: it
    is made at the next run; the report says so)."""
    doc_id = state.doc_id
    pages = ctx.catalog.document_pages(doc_id)
    row = ctx.catalog.document(doc_id)
    doc_pdf = ctx.archive / state.folder / DOCUMENT_PDF
    ok_pages = [p for p in pages if p.status == "ok"]
    if not ok_pages:
        ctx.catalog.set_document_pdf(doc_id, None, None, "failed", "no page could be read")
        return NO_PDF
    current = (
        row is not None
        and row["pdf_path"]
        and doc_pdf.is_file()
        and row["pdf_metadata_sha"] == state.metadata_sha
    )
    if current and not state.changed:
        assert row is not None
        return DocumentPdf(DOCUMENT_PDF, row["pdf_sha256"])
    try:
        _write(ctx, state, ok_pages, row["created_at"] if row else None)
    except OSError as e:  # e.g. a full disk: this document waits for the next run
        reason = f"cannot write the document PDF: {io_reason(e)}"
        path, name = str(state.source.path), state.source.name
        ctx.report.failures.append((path, reason))
        ctx.report.pages.append(PageReport(path, name, 0, "failed", reason, transient=True))
        ctx.report.inputs_failed += 1
        ctx.catalog.set_document_pdf(doc_id, None, None, "pending", reason)
        return None
    ctx.catalog.set_pdf_pages(
        doc_id,
        [(p.number, i) for i, p in enumerate(ok_pages, start=1)]
        + [(p.number, None) for p in pages if p.status != "ok"],
    )
    failed = [p for p in pages if p.status == "failed"]
    pdf_sha = sha256_file(doc_pdf)
    ctx.catalog.set_document_pdf(
        doc_id,
        f"{state.folder}/{DOCUMENT_PDF}",
        pdf_sha,
        "partial" if failed else "ok",
        f"{len(failed)} page(s) failed" if failed else None,
        state.metadata_sha,
    )
    # The pages now live in the document PDF (committed above): drop their copies in the
    # page cache, unless another document of the batch still needs one. Text and records stay.
    for p in ok_pages:
        ctx.key_users[p.page_key] -= 1
        if ctx.key_users[p.page_key] <= 0:
            del ctx.key_users[p.page_key]
            cache.drop_pdf(ctx.cache_dir, p.page_key)
    return DocumentPdf(DOCUMENT_PDF, pdf_sha)


def _write(
    ctx: BatchContext, state: DocState, ok_pages: list[PageRow], created: str | None
) -> None:
    """Join the OK pages into the document PDF (atomically) with the document's XMP."""
    doc_pdf = ctx.archive / state.folder / DOCUMENT_PDF
    sources = [page_pdf_source(ctx.cache_dir, p, doc_pdf) for p in ok_pages]
    if any(s is None for s in sources):  # never expected: the cache lost a page's PDF
        raise FileNotFoundError(
            errno.ENOENT, "a page's PDF is missing from the page cache; run the same command again"
        )
    fields = xmp_fields(
        state.plan.metadata or DocumentMetadata(),
        name=state.source.name,
        ocr_languages=ctx.pipeline.ocr.languages,
        leaf_count=len({p.arkush for p in ok_pages if p.arkush}),
        created=_timestamp(created),
        modified=datetime.now(UTC).replace(microsecond=0),
        document_id=f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, state.source.path.as_uri())}",
    )
    assemble_document([s for s in sources if s is not None], doc_pdf, pdf_metadata(fields))


def _timestamp(text: str | None) -> datetime:
    """A catalog timestamp as an aware datetime (now when missing or unreadable)."""
    try:
        return datetime.fromisoformat(text) if text else datetime.now(UTC).replace(microsecond=0)
    except ValueError:
        return datetime.now(UTC).replace(microsecond=0)
