"""Record stage: a page's result into the archive: its text file, its catalog row (one
transaction), its line in the batch report. Files discovery could not use are recorded too."""

from __future__ import annotations

from arkhiv.fsutil import atomic_write_text, sha256_file
from arkhiv.models import (
    BatchReport,
    DocumentSource,
    PageOcrResult,
    PageReport,
    SkippedInput,
    SourceKind,
    SourcePage,
)
from arkhiv.pipeline.context import BatchContext
from arkhiv.pipeline.plan import PlannedPage


def page_label(page: SourcePage) -> str:
    """The page as a person finds it: the file, and the page inside a multi-page file."""
    return f"{page.path}" + (f" (page {page.frame + 1})" if page.frame is not None else "")


def record_page(ctx: BatchContext, planned: PlannedPage, result: PageOcrResult) -> PageReport:
    """Store the page's text and catalog row and report it; a document whose last page this
    was goes to `ctx.complete`."""
    state = ctx.docs[planned.doc_id]
    page, report = planned.page, ctx.report
    text_rel: str | None = None
    alto_rel: str | None = None
    reason = result.error
    status = "ok" if result.ok else "skipped" if result.skipped else "failed"
    if result.ok:
        text_rel = f"{state.folder}/pages/{page.number:04d}.txt"
        atomic_write_text(ctx.archive / text_rel, result.text)
        if result.alto is not None:
            alto_rel = f"{state.folder}/pages/{page.number:04d}.alto.xml"
            atomic_write_text(ctx.archive / alto_rel, result.alto)
        report.pages_ok += 1
        if result.word_count == 0:
            reason = "no text found (a blank page?)"
            report.warnings.append(f"{page_label(page)}: {reason}")
    elif result.skipped:
        report.pages_excluded += 1
        report.warnings.append(f"{page_label(page)}: {reason}")
    else:
        report.pages_failed += 1
        report.failures.append((page_label(page), result.error or "unknown error"))
    leaf = planned.leaf
    ctx.catalog.save_page(
        state.doc_id,
        page,
        planned.sha,
        planned.key,
        result,
        text_rel,
        ctx.batch_id,
        (leaf.number, leaf.verso) if leaf else None,
        alto_rel,
    )
    entry = PageReport(
        str(page.path),
        state.source.name,
        page.number,
        status,
        reason,
        result.confidence,
        text_rel,
        result.dpi_assumed,
        result.transient,
        result.rotation,
        result.variant if result.ok else None,
        list(result.review) if result.ok else [],
    )
    _notes(ctx, page, result)
    report.pages.append(entry)
    state.changed = True
    state.remaining -= 1
    ctx.progress("page", {"status": entry.status, "report": entry})
    if state.remaining == 0:
        ctx.complete.append(state)
    return entry


def _notes(ctx: BatchContext, page: SourcePage, result: PageOcrResult) -> None:
    if result.dpi_assumed:
        ctx.report.warnings.append(
            f"{page_label(page)}: no usable DPI in the file, assumed "
            f"{ctx.settings.ingest.default_dpi}"
        )
    if result.retry_error:
        ctx.report.warnings.append(
            f"{page_label(page)}: the second reading of this poor page failed, the first "
            f"was kept ({result.retry_error})"
        )


def report_input_failure(report: BatchReport, path: str, document: str, reason: str) -> None:
    """A file or manifest row that is not ingested at all, in the report."""
    report.inputs_failed += 1
    report.failures.append((path, reason))
    report.pages.append(PageReport(path, document, 0, "failed", reason))


def record_unusable(ctx: BatchContext, inputs: list[SkippedInput]) -> None:
    """Files discovery could not use at all get a failed document and page in the catalog, so
    the failure is on record (and `arkhiv check` and the watcher see it)."""
    for item in inputs:
        kind = SourceKind.PDF if item.path.suffix.lower() == ".pdf" else SourceKind.IMAGE
        page = SourcePage(item.path, None, 1)
        doc_id, _ = ctx.catalog.upsert_document(
            DocumentSource(item.path, item.path.name, kind, (page,)), ctx.batch_id
        )
        try:
            sha = sha256_file(item.path)
        except OSError:
            sha = ""
        failure = PageOcrResult(page_key="", ok=False, error=item.reason)
        ctx.catalog.save_page(doc_id, page, sha, "", failure, None, ctx.batch_id)
        ctx.catalog.set_document_pdf(doc_id, None, None, "failed", item.reason)
