"""The batch engine: a batch of scans through the ingest stages, in this order (`run`):

1. discover  the documents and pages of the sources, and their archival metadata
             (`discover`, `metadata.sources`), before the archive is touched;
2. plan      each document in the catalog; which pages need OCR (`plan`);
3. OCR       page jobs on an executor, results as they finish, via the page cache (`ocr`,
             `executor`; the job itself: `page`);
4. record    each page's text file and catalog row (`record`);
5. assemble  each finished document's PDF/A with its XMP metadata (`assemble`);
6. describe  its document.json (`describe`);
7. index     its pages into the full-text index (`indexing`).

Safe to run again at any time: pages already done with the same content and settings are
skipped, work interrupted by a crash is completed, nothing is indexed twice. The coordinator
(this process) alone writes the cache, the catalog, the PDFs and the index.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from arkhiv import doctor
from arkhiv.catalog import CATALOG_NAME, Catalog
from arkhiv.config import Pipeline, Settings
from arkhiv.errors import ArkhivError, CatalogError, UsageError
from arkhiv.fsutil import archive_lock, io_reason, remove_stale_temps
from arkhiv.metadata.sources import DocumentPlan, MetadataRequest, resolve
from arkhiv.models import BatchReport, DocumentSource, PageJob, PageReport, SkippedInput
from arkhiv.pipeline import cache, discover
from arkhiv.pipeline.assemble import document_pdf
from arkhiv.pipeline.context import BatchContext, DocState, ProgressFn, no_progress
from arkhiv.pipeline.describe import write_document_json
from arkhiv.pipeline.executor import LocalProcessExecutor, PageExecutor
from arkhiv.pipeline.indexing import index_pages, rebuild_index
from arkhiv.pipeline.ocr import ocr_pages
from arkhiv.pipeline.plan import PlannedPage, plan_pages
from arkhiv.pipeline.record import record_page, record_unusable, report_input_failure
from arkhiv.search import PageIndex

TMP_DIR = "tmp"  # work folders of running batches, removed at the next start


@dataclass(frozen=True)
class BatchOptions:
    """How `ingest` runs a batch, beyond the settings."""

    force: bool = False  # OCR again pages already done
    progress: ProgressFn = no_progress  # events: start, page, document, finish
    stop: Callable[[], bool] = lambda: False  # true: start no new page, finish and record
    known_sha256: Mapping[Path, str] | None = None  # content hashes the caller computed
    metadata: MetadataRequest | None = None  # layout, manifest, --set; sidecars always read


@dataclass(frozen=True)
class PlannedBatch:
    """A batch's documents and their metadata, planned before the archive is touched."""

    sources: list[Path]
    request: MetadataRequest
    docs: list[DocumentSource]
    skipped: list[SkippedInput]
    plans: dict[Path, DocumentPlan]
    problems: list[str]  # manifest rows that describe no document
    notes: list[str]  # what discovery left out on purpose (arkhiv archives)


def ingest(
    sources: Sequence[Path], settings: Settings, pipeline: Pipeline, options: BatchOptions
) -> BatchReport:
    """OCR the sources (folders of scans or files) into the archive; see the module docstring.

    A bad manifest or layout stops the batch before anything is written (UsageError and
    friends); a document whose metadata is invalid is reported and not ingested at all.
    """
    _check_sources(sources)
    _check_archive(settings.archive)
    doctor.require_ocr(pipeline.ocr.all_languages())
    start = time.monotonic()
    batch = plan_batch([s.absolute() for s in sources], settings, options.metadata)  # 1. discover
    archive = settings.archive
    with archive_lock(archive), _archive_errors(archive):
        catalog = Catalog.open(archive, create=True)
        try:
            ctx = _open_batch(catalog, batch, settings, pipeline, options)
            run(ctx, batch, options)
            ctx.report.seconds = round(time.monotonic() - start, 2)
            _close_batch(ctx)
            return ctx.report
        finally:
            catalog.close()


def run(ctx: BatchContext, batch: PlannedBatch, options: BatchOptions) -> None:
    """The stages, in order. Pages stream through them: each page is recorded as soon as its
    OCR is done, and each document is assembled, described and indexed once its last page is."""
    docs = _admit(ctx, batch)
    total = sum(len(d.pages) for d in docs)
    ctx.progress("start", {"pages": total, "documents": len(docs)})
    planned = plan_pages(ctx, docs, batch.plans, options.force)  # 2. plan
    with _executor(ctx) as executor:
        for page, result in ocr_pages(  # 3. OCR
            _until(options.stop, planned, ctx.report),
            executor,
            _job_maker(ctx),
            ctx.cache_dir,
            force=options.force,
            while_waiting=lambda: _index(ctx),
        ):
            record_page(ctx, page, result)  # 4. record
            _finish_documents(ctx)  # 5.-7. per finished document
        _finish_documents(ctx)
        _index(ctx)  # 7. index whatever is left
    ctx.progress("finish", {})


def finish_document(ctx: BatchContext, state: DocState) -> None:
    """A document whose pages are all recorded: its PDF/A, its document.json, its index entries."""
    if state.finished:
        return
    state.finished = True
    ctx.unfinished.discard(state.doc_id)
    pdf = document_pdf(ctx, state)  # 5. assemble
    if pdf is not None:
        write_document_json(ctx, state, pdf)  # 6. describe
    _index(ctx, at_least=ctx.settings.ingest.index_batch_pages)  # 7. index
    ctx.progress("document", {"name": state.source.name})


def _finish_documents(ctx: BatchContext) -> None:
    for state in ctx.take_complete():
        finish_document(ctx, state)


def _index(ctx: BatchContext, at_least: int = 0) -> None:
    index_pages(
        ctx.catalog,
        ctx.index,
        per_commit=ctx.settings.ingest.index_batch_pages,
        except_documents=ctx.unfinished,
        at_least=at_least,
    )


def _until(
    stop: Callable[[], bool], pages: Iterable[PlannedPage], report: BatchReport
) -> Iterator[PlannedPage]:
    """The planned pages until `stop()` says to start no more (the batch is 'interrupted')."""
    for page in pages:
        if stop():
            report.interrupted = True
            return
        yield page


def _job_maker(ctx: BatchContext) -> Callable[[PlannedPage], PageJob]:
    ocr, pdf, ingest_cfg = ctx.pipeline.ocr, ctx.pipeline.pdf, ctx.settings.ingest

    def make(page: PlannedPage) -> PageJob:
        return PageJob(
            page.key, page.page.path, page.page.frame, ocr, pdf, ingest_cfg, sha256=page.sha
        )

    return make


def _executor(ctx: BatchContext) -> PageExecutor:
    """Where this batch's page jobs run: worker processes of this machine."""
    workers = ctx.settings.ingest.jobs or os.cpu_count() or 1
    work_root = ctx.archive / TMP_DIR
    work_root.mkdir(parents=True, exist_ok=True)
    return LocalProcessExecutor(workers, work_root)


# before and after the stages


def plan_batch(
    sources: list[Path], settings: Settings, metadata: MetadataRequest | None
) -> PlannedBatch:
    """Stage 1, discover: documents, unusable files and resolved metadata of the sources."""
    request = metadata or MetadataRequest(layout=settings.metadata.layout)
    if request.manifest is not None:  # absolute: it is recorded as where values came from
        request = replace(request, manifest=request.manifest.absolute())
    docs: list[DocumentSource] = []
    skipped: list[SkippedInput] = []
    notes: list[str] = []
    for src in sources:
        found, unusable = discover.discover(src, notes)
        docs.extend(found)
        skipped.extend(unusable)
    recorded = _recorded_metadata(settings.archive, docs)
    plans, problems = resolve(docs, sources, request, settings.metadata.required, recorded)
    return PlannedBatch(sources, request, docs, skipped, plans, problems, notes)


def _recorded_metadata(
    archive: Path, docs: Sequence[DocumentSource]
) -> dict[Path, dict[str, object]]:
    """The metadata the catalog holds for these documents (read-only: nothing is written
    before the archive lock), so that a re-ingest never replaces it with less."""
    path = archive / CATALOG_NAME
    if not path.is_file() or not docs:
        return {}
    wanted = {str(d.path) for d in docs}
    found: dict[Path, dict[str, object]] = {}
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            for source, record in db.execute("SELECT source_path, metadata FROM documents"):
                if source in wanted and record:
                    found[Path(source)] = json.loads(record)
        finally:
            db.close()
    except (sqlite3.Error, ValueError):  # an unreadable catalog: the ingest says so itself
        return {}
    return found


def _check_sources(sources: Sequence[Path]) -> None:
    for src in sources:
        if not src.exists():
            raise UsageError(f"{src}: no such file or folder", hint="give the folder of scans")
        if not (src.is_dir() or discover.is_regular_file(src)):
            raise UsageError(
                f"{src}: not a file or folder of scans (a pipe, socket or device)",
                hint="give the folder of scans",
            )


def _check_archive(archive: Path) -> None:
    """The archive is a folder, or nothing yet (it is made): never a file."""
    if archive.exists() and not archive.is_dir():
        raise UsageError(
            f"{archive}: not a folder; the archive is a folder arkhiv keeps its catalog, "
            "documents and index in",
            hint="give --archive a folder (a new one is made) or an existing archive",
        )


def _open_batch(
    catalog: Catalog,
    batch: PlannedBatch,
    settings: Settings,
    pipeline: Pipeline,
    options: BatchOptions,
) -> BatchContext:
    """The batch started in the catalog, with the index open and a killed run's leftovers
    removed."""
    archive = settings.archive
    # A new index only for an archive that never had one: a deleted or damaged index of an
    # archive with pages is reported (run `arkhiv reindex`), never silently replaced.
    index = PageIndex.open(archive, create=not catalog.has_indexed_pages())
    if not index.is_current():  # written by an older arkhiv: rebuilt from the catalog
        rebuild_index(archive, catalog)
        index = PageIndex.open(archive, create=False)
    # Leftovers of a killed run: temp files (never visible as outputs) and work folders.
    remove_stale_temps(archive)
    shutil.rmtree(archive / TMP_DIR, ignore_errors=True)
    catalog.close_stale_batches()
    cache.sweep(archive / cache.CACHE_DIR, catalog)
    batch_id = catalog.start_batch(
        batch.sources, pipeline.name, {"pipeline": asdict(pipeline), "force": options.force}
    )
    report = BatchReport(batch_id=batch_id, archive=str(archive))
    ctx = BatchContext(
        archive, catalog, index, settings, pipeline, report, batch_id, options.progress
    )
    ctx.hashes.update(options.known_sha256 or {})
    return ctx


def _admit(ctx: BatchContext, batch: PlannedBatch) -> list[DocumentSource]:
    """The documents whose metadata is valid; everything else reported (and the unusable
    files recorded in the catalog)."""
    report = ctx.report
    report.documents = len(batch.docs)
    report.warnings.extend(batch.notes)
    for s in batch.skipped:
        report.inputs_failed += 1
        report.failures.append((str(s.path), s.reason))
        report.pages.append(PageReport(str(s.path), "", 0, "failed", s.reason))
    for problem in batch.problems:
        report_input_failure(report, str(batch.request.manifest), "", problem)
    usable = []
    for doc in batch.docs:
        plan = batch.plans[doc.path]
        report.warnings.extend(f"{doc.path}: {w}" for w in plan.warnings)
        if plan.ok:
            usable.append(doc)
        else:
            reason = "invalid metadata: " + "; ".join(plan.errors)
            report_input_failure(report, str(doc.path), doc.name, reason)
    record_unusable(ctx, batch.skipped)
    return usable


def _close_batch(ctx: BatchContext) -> None:
    report = ctx.report
    summary: dict[str, object] = {**report.counts(), "failures": report.failures[:1000]}
    status = "interrupted" if report.interrupted else "partial" if report.failed else "ok"
    ctx.catalog.finish_batch(ctx.batch_id, status, summary)


@contextlib.contextmanager
def _archive_errors(archive: Path) -> Iterator[None]:
    """A full or read-only disk, or a locked catalog, as a clear error to act on."""
    try:
        yield
    except OSError as e:
        raise ArkhivError(
            f"{archive}: cannot write to the archive: {io_reason(e)}",
            hint="free some space (or fix the permissions) and run the same command again; "
            "the pages already done are kept",
        ) from e
    except sqlite3.OperationalError as e:  # "database or disk is full", "locked"
        raise CatalogError(
            f"{archive}: cannot write the catalog: {e}",
            hint="free some space and run the same command again; nothing is lost",
        ) from e


@dataclass(frozen=True)
class CheckedDocument:
    """A document of a batch as `arkhiv ingest --check` sees it: its metadata plan."""

    source: DocumentSource
    plan: DocumentPlan


@dataclass(frozen=True)
class BatchCheck:
    """What `ingest --check` found: every document's metadata and leaves, and the problems."""

    documents: list[CheckedDocument]
    problems: list[tuple[str, str]]  # (file, reason): unusable inputs, manifest rows

    @property
    def ok(self) -> bool:
        return not self.problems and all(d.plan.ok for d in self.documents)


def check(
    sources: Sequence[Path], settings: Settings, metadata: MetadataRequest | None = None
) -> BatchCheck:
    """Stage 1 alone: discovery and metadata (layout, sidecars, manifest, --set, leaves),
    without OCR and without touching the archive."""
    _check_sources(sources)
    _check_archive(settings.archive)
    batch = plan_batch([s.absolute() for s in sources], settings, metadata)
    found = [(str(s.path), s.reason) for s in batch.skipped]
    found += [(str(batch.request.manifest), p) for p in batch.problems]
    limit = settings.ingest.max_image_megapixels
    found += [problem for d in batch.docs for problem in _undecodable(d, limit)]
    return BatchCheck([CheckedDocument(d, batch.plans[d.path]) for d in batch.docs], found)


def _undecodable(doc: DocumentSource, megapixels: float) -> list[tuple[str, str]]:
    """The document's images that do not decode (a truncated TIFF, a corrupt frame), as the
    page job would find them: `--check` decodes every image, it does not only list them.
    Images above the size limit are not decoded (the ingest refuses them, and says so)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # the limit is arkhiv's setting, checked below
    problems = []
    for page in doc.pages:
        if page.path.suffix.lower() in discover.PDF_SUFFIXES:
            continue
        try:
            with Image.open(page.path) as im:
                if page.frame is not None:
                    im.seek(page.frame)
                if im.size[0] * im.size[1] > megapixels * 1e6:
                    continue  # refused by the ingest with its own reason, never decoded
                im.load()
        except Exception as e:  # Pillow raises many kinds for a corrupt file
            where = f" (frame {page.frame + 1})" if page.frame is not None else ""
            problems.append((str(page.path), f"cannot decode the image{where}: {e}"))
    return problems
