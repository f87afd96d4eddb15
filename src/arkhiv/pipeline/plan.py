"""Plan stage: each document of the batch in the catalog, and which of its pages need OCR.

A page is done before when the catalog has it with the same page key (content hash + the
settings that change OCR), its text file and its page PDF (in the page cache or the document
PDF); it is skipped then, unless `force`. Pages whose file cannot even be hashed are planned
with their failure, so that it is recorded like any other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from arkhiv import identity
from arkhiv.catalog import PageRow
from arkhiv.config import Pipeline, ocr_key_material
from arkhiv.fsutil import sha256_file
from arkhiv.metadata.fields import DocumentMetadata
from arkhiv.metadata.ref import Leaf
from arkhiv.metadata.sources import DocumentPlan
from arkhiv.models import DocumentSource, PageOcrResult, PageReport, SourcePage
from arkhiv.pipeline.cache import cache_paths
from arkhiv.pipeline.context import BatchContext, DocState

DOCUMENT_PDF = "document.pdf"


def page_key(sha: str, frame: int | None, pipeline: Pipeline) -> str:
    """Content hash + the settings that change OCR output: equal keys give equal results."""
    material = json.dumps(
        {
            "sha256": sha,
            "frame": frame,
            "ocr": ocr_key_material(pipeline.ocr),
            "pdf": asdict(pipeline.pdf),
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True)
class PlannedPage:
    """A page of this batch and what must happen to it."""

    doc_id: int
    page: SourcePage
    sha: str  # "" when the file could not be read
    key: str  # "" when the file could not be read
    leaf: Leaf | None
    failure: PageOcrResult | None = None  # already failed: record it, no OCR


def page_pdf_source(cache_dir: Path, page: PageRow, doc_pdf: Path) -> tuple[Path, int] | None:
    """Where the page's searchable PDF page is: the page cache (new OCR) or its page in the
    document PDF assembled earlier. None when it is in neither."""
    cached = cache_paths(cache_dir, page.page_key)[0]
    if cached.is_file():
        return cached, 0
    if page.pdf_page is not None and doc_pdf.is_file():
        return doc_pdf, page.pdf_page - 1
    return None


def plan_pages(
    ctx: BatchContext, docs: list[DocumentSource], plans: dict[Path, DocumentPlan], force: bool
) -> Iterator[PlannedPage]:
    """The pages to OCR (or to record as failed), document by document, lazily. A document
    with nothing left to do goes straight to `ctx.complete`."""
    for doc in docs:
        shas = _content(ctx, doc)
        if shas is not None and _known_elsewhere(ctx, doc, shas):
            continue
        state = _start_document(ctx, doc, plans.get(doc.path) or DocumentPlan(DocumentMetadata()))
        if shas is not None:
            identity.record_content(ctx.catalog, state.doc_id, shas)
        doc_pdf = ctx.archive / state.folder / DOCUMENT_PDF
        for page in doc.pages:
            planned = _plan_page(ctx, state, page, doc_pdf, force)
            if planned is not None:
                ctx.key_users[planned.key] += 1
                yield planned
        if state.remaining == 0:
            ctx.complete.append(state)


def _content(ctx: BatchContext, doc: DocumentSource) -> list[str] | None:
    """The content hashes of the document's pages (each file hashed once per batch); None
    when a file cannot be read (its page then fails with the reason when it is planned)."""
    shas = []
    for page in doc.pages:
        try:
            sha = ctx.hashes.get(page.path) or sha256_file(page.path)
        except OSError:
            return None
        ctx.hashes[page.path] = sha
        shas.append(sha)
    return shas


def _known_elsewhere(ctx: BatchContext, doc: DocumentSource, shas: list[str]) -> bool:
    """Whether the archive holds this document's content under another path (issue 15): a
    moved original is followed (the document's path updated, nothing read again); a copy, a
    symlinked path or a single scan of a known document is not added again. Documents of this
    batch do not count (the same scan in two folders gives both their page)."""
    known = identity.known_content(ctx.catalog, doc, shas)
    if known is None or known.doc_id in ctx.docs:
        return False
    if known.moved and known.page is None:
        identity.move(ctx.catalog, known.doc_id, doc)
        ctx.report.warnings.append(
            f"{doc.path}: the same scans as {known.recorded_path}, which is gone: the "
            "archive's document now points here (moved)"
        )
        return False  # planned as usual: its pages are found done, nothing is read again
    what = f"page {known.page} of {known.recorded_path}" if known.page else known.recorded_path
    ctx.report.warnings.append(
        f"{doc.path}: already in the archive (the same content as {what}); not added again"
    )
    ctx.report.pages_skipped += len(doc.pages)
    for _ in doc.pages:
        ctx.progress("page", {"status": "skipped"})
    return True


def _start_document(ctx: BatchContext, doc: DocumentSource, plan: DocumentPlan) -> DocState:
    """The document in the catalog, with its metadata and leaves as planned."""
    doc_id, folder = ctx.catalog.upsert_document(doc, ctx.batch_id)
    state = DocState(doc, doc_id, folder, remaining=len(doc.pages), plan=plan)
    ctx.docs[doc_id] = state
    ctx.unfinished.add(doc_id)
    # New or changed metadata (or leaves): the index entries of the document are queued again
    # here; its PDF's XMP and document.json are redone when it is finished (even with no page
    # to OCR, and after a crash in between).
    meta = plan.metadata or DocumentMetadata()
    leaves = [
        (p.number, leaf.number, leaf.verso) for p, leaf in zip(doc.pages, plan.leaves, strict=False)
    ]
    state.metadata_sha = ctx.catalog.set_document_metadata(doc_id, meta.to_json(), leaves)
    return state


def _plan_page(
    ctx: BatchContext, state: DocState, page: SourcePage, doc_pdf: Path, force: bool
) -> PlannedPage | None:
    """The page to OCR, or None when it is done already (recorded as skipped here)."""
    try:
        sha = ctx.hashes.get(page.path) or sha256_file(page.path)
    except OSError as e:
        transient = not isinstance(e, FileNotFoundError)
        failure = PageOcrResult(
            page_key="", ok=False, error=f"cannot read the file: {e}", transient=transient
        )
        return PlannedPage(state.doc_id, page, "", "", state.leaf(page), failure)
    ctx.hashes[page.path] = sha
    key = page_key(sha, page.frame, ctx.pipeline)
    existing = ctx.catalog.page(state.doc_id, page.number)
    done_before = (
        existing is not None
        and existing.status == "ok"
        and existing.page_key == key
        and existing.text_path is not None
        and (ctx.archive / existing.text_path).is_file()
        and page_pdf_source(ctx.cache_dir, existing, doc_pdf) is not None
    )
    if not done_before or force:
        return PlannedPage(state.doc_id, page, sha, key, state.leaf(page))
    assert existing is not None
    ctx.report.pages_skipped += 1
    ctx.report.pages.append(
        PageReport(
            str(page.path),
            state.source.name,
            page.number,
            "skipped",
            "already in the catalog (same content and settings)",
            existing.confidence,
            existing.text_path,
        )
    )
    state.remaining -= 1
    ctx.progress("page", {"status": "skipped"})
    return None
