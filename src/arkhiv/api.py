"""Library entry points: ingest, search, reindex, doctor; the CLI and other front ends call them."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

from arkhiv import doctor as doctor_mod
from arkhiv.catalog import Catalog, PageRow
from arkhiv.config import Pipeline, Settings, ocr_key_material
from arkhiv.errors import ArkhivError, CatalogError, MissingDependencyError, UsageError
from arkhiv.fsutil import archive_lock, atomic_write_text, remove_stale_temps, sha256_file
from arkhiv.metadata.fields import REF_FIELDS, DocumentMetadata
from arkhiv.metadata.ref import CitationStyle, Leaf
from arkhiv.metadata.sources import DocumentPlan, MetadataRequest, resolve
from arkhiv.models import (
    BatchReport,
    DocumentSource,
    PageOcrResult,
    PageReport,
    SkippedInput,
    SourceKind,
    SourcePage,
)
from arkhiv.pipeline import discover as discover_stage
from arkhiv.pipeline.describe import DOCUMENT_JSON, document_record, pdf_metadata, xmp_fields
from arkhiv.pipeline.ocr import PageTask, cache_paths, load_cached, ocr_page, worker_init
from arkhiv.pipeline.pdf import assemble_document
from arkhiv.reader import ArchiveReader, DocumentView, SearchResult, document_view
from arkhiv.search import PageIndex, PageRecord, SearchFilters

if TYPE_CHECKING:
    from arkhiv.fixity import CheckReport
    from arkhiv.watch.loop import WatchSummary

log = logging.getLogger(__name__)

CACHE_DIR = "cache/pages"
DOCUMENT_PDF = "document.pdf"
TMP_DIR = "tmp"  # work folders of running batches, removed at the next start
ProgressFn = Callable[[str, dict[str, object]], None]


def _noop(event: str, info: dict[str, object]) -> None:
    return None


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


@dataclass
class _Planned:
    """A page of this batch and what must happen to it."""

    doc_id: int
    page: SourcePage
    sha: str
    key: str
    leaf: Leaf | None


@dataclass
class _DocState:
    source: DocumentSource
    doc_id: int
    folder: str
    remaining: int
    plan: DocumentPlan
    changed: bool = False
    finished: bool = False
    metadata_sha: str | None = None  # of the metadata and leaves the PDF's XMP must carry

    def leaf(self, page: SourcePage) -> Leaf | None:
        index = page.number - 1
        return self.plan.leaves[index] if index < len(self.plan.leaves) else None


def ingest(
    source: Path | Sequence[Path],
    settings: Settings,
    pipeline: Pipeline,
    *,
    force: bool = False,
    progress: ProgressFn = _noop,
    stop: Callable[[], bool] = lambda: False,
    known_sha256: Mapping[Path, str] | None = None,
    metadata: MetadataRequest | None = None,
) -> BatchReport:
    """OCR a folder tree (or one file) of scans into the archive: PDFs, texts, catalog, index.

    Safe to run again at any time: pages already done with the same content and settings are
    skipped, work interrupted by a crash is completed, nothing is indexed twice. When `stop()`
    becomes true, no new page is started; pages in progress finish and are recorded.
    `known_sha256`: content hashes the caller already computed (absolute paths), not redone.
    `metadata`: layout template, manifest and --set values; sidecars are always read. A
    document whose metadata is invalid is reported and not ingested at all.
    """
    sources = [source] if isinstance(source, Path) else list(source)
    for src in sources:
        if not src.exists():
            raise UsageError(f"{src}: no such file or folder", hint="give the folder of scans")
    doctor_mod.require_ocr(pipeline.ocr.all_languages())
    sources = [s.absolute() for s in sources]  # the catalog records absolute paths
    start = time.monotonic()
    # Found and resolved before anything is written: a bad manifest or layout stops the batch
    # here (exit 2) without creating an archive; a document with bad metadata is left out
    # whole, never half-ingested.
    batch = _plan_batch(sources, settings, metadata)
    archive = settings.archive
    with archive_lock(archive):
        try:
            return _ingest_locked(
                batch,
                settings,
                pipeline,
                force,
                progress,
                stop,
                start,
                dict(known_sha256 or {}),
            )
        except OSError as e:  # the archive's disk is full or not writable
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
class _Batch:
    """A batch's documents and their metadata, planned before the archive is touched."""

    sources: list[Path]
    request: MetadataRequest
    docs: list[DocumentSource]
    skipped: list[SkippedInput]
    plans: dict[Path, DocumentPlan]
    problems: list[str]  # manifest rows that describe no document


def _plan_batch(
    sources: list[Path], settings: Settings, metadata: MetadataRequest | None
) -> _Batch:
    request = metadata or MetadataRequest(layout=settings.metadata.layout)
    if request.manifest is not None:  # absolute: it is recorded as where values came from
        request = replace(request, manifest=request.manifest.absolute())
    docs, skipped = _discover(sources)
    plans, problems = resolve(docs, sources, request, settings.metadata.required)
    return _Batch(sources, request, docs, skipped, plans, problems)


def _ingest_locked(
    batch: _Batch,
    settings: Settings,
    pipeline: Pipeline,
    force: bool,
    progress: ProgressFn,
    stop: Callable[[], bool],
    start: float,
    known_sha256: dict[Path, str],
) -> BatchReport:
    archive = settings.archive
    catalog = Catalog.open(archive, create=True)
    try:
        # A new index only for an archive that never had one: a deleted or damaged index of
        # an archive with pages is reported (run `arkhiv reindex`), never silently replaced.
        index = PageIndex.open(archive, create=not catalog.has_indexed_pages())
        if not index.is_current():  # written by an older arkhiv: rebuilt from the catalog
            _rebuild_index(archive, catalog)
            index = PageIndex.open(archive, create=False)
        # Leftovers of a killed run: temp files (never visible as outputs) and work folders.
        remove_stale_temps(archive)
        shutil.rmtree(archive / TMP_DIR, ignore_errors=True)
        docs, skipped, plans = batch.docs, batch.skipped, batch.plans
        batch_id = catalog.start_batch(
            batch.sources, pipeline.name, {"pipeline": asdict(pipeline), "force": force}
        )
        report = BatchReport(batch_id=batch_id, archive=str(archive))
        report.documents = len(docs)
        for s in skipped:
            report.inputs_failed += 1
            report.failures.append((str(s.path), s.reason))
            report.pages.append(PageReport(str(s.path), "", 0, "failed", s.reason))
        for problem in batch.problems:
            _report_input_failure(report, str(batch.request.manifest), "", problem)
        usable = []
        for doc in docs:
            plan = plans[doc.path]
            report.warnings.extend(f"{doc.path}: {w}" for w in plan.warnings)
            if plan.ok:
                usable.append(doc)
            else:
                reason = "invalid metadata: " + "; ".join(plan.errors)
                _report_input_failure(report, str(doc.path), doc.name, reason)
        runner = _BatchRunner(catalog, index, settings, pipeline, report, progress, batch_id)
        runner.hashes.update(known_sha256)
        runner.plans = plans
        runner.record_unusable(skipped)
        runner.run(usable, force=force, stop=stop)
        report.seconds = round(time.monotonic() - start, 2)
        summary: dict[str, object] = {**report.counts(), "failures": report.failures[:1000]}
        status = "interrupted" if report.interrupted else "partial" if report.failed else "ok"
        catalog.finish_batch(batch_id, status, summary)
        return report
    finally:
        catalog.close()


def _discover(sources: Sequence[Path]) -> tuple[list[DocumentSource], list[SkippedInput]]:
    docs: list[DocumentSource] = []
    skipped: list[SkippedInput] = []
    for src in sources:
        found, unusable = discover_stage.discover(src)
        docs.extend(found)
        skipped.extend(unusable)
    return docs, skipped


def _report_input_failure(report: BatchReport, path: str, document: str, reason: str) -> None:
    report.inputs_failed += 1
    report.failures.append((path, reason))
    report.pages.append(PageReport(path, document, 0, "failed", reason))


class _BatchRunner:
    """Plans the pages of a batch, runs OCR in worker processes, records and indexes results."""

    def __init__(
        self,
        catalog: Catalog,
        index: PageIndex,
        settings: Settings,
        pipeline: Pipeline,
        report: BatchReport,
        progress: ProgressFn,
        batch_id: int,
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.settings = settings
        self.pipeline = pipeline
        self.report = report
        self.progress = progress
        self.batch_id = batch_id
        self.archive = settings.archive
        self.cache_dir = self.archive / CACHE_DIR
        self.docs: dict[int, _DocState] = {}
        self.unfinished: set[int] = set()  # documents planned whose PDF is not made yet
        self.hashes: dict[Path, str] = {}  # sha256 of each source file, computed once
        self.plans: dict[Path, DocumentPlan] = {}  # resolved metadata of each document

    def record_unusable(self, inputs: list[SkippedInput]) -> None:
        """Files discovery could not use at all get a failed document and page in the catalog,
        so the failure is on record (and `arkhiv check` and the watcher see it)."""
        for item in inputs:
            kind = SourceKind.PDF if item.path.suffix.lower() == ".pdf" else SourceKind.IMAGE
            page = SourcePage(item.path, None, 1)
            doc_id, _ = self.catalog.upsert_document(
                DocumentSource(item.path, item.path.name, kind, (page,)), self.batch_id
            )
            try:
                sha = sha256_file(item.path)
            except OSError:
                sha = ""
            self.catalog.save_page(
                doc_id, page, sha, "", _failure("", item.reason), None, self.batch_id
            )
            self.catalog.set_document_pdf(doc_id, None, None, "failed", item.reason)

    # planning
    def _plan(self, docs: list[DocumentSource], force: bool) -> Iterator[_Planned]:
        for doc in docs:
            doc_id, folder = self.catalog.upsert_document(doc, self.batch_id)
            plan = self.plans.get(doc.path) or DocumentPlan(DocumentMetadata())
            state = _DocState(doc, doc_id, folder, remaining=len(doc.pages), plan=plan)
            self.docs[doc_id] = state
            self.unfinished.add(doc_id)
            # New or changed metadata (or leaves): the index entries of the document are
            # queued again here; its PDF's XMP and document.json are redone when it is
            # finished (even with no page to OCR, and after a crash in between).
            meta = plan.metadata or DocumentMetadata()
            leaves = [
                (p.number, leaf.number, leaf.verso)
                for p, leaf in zip(doc.pages, plan.leaves, strict=False)
            ]
            state.metadata_sha = self.catalog.set_document_metadata(doc_id, meta.to_json(), leaves)
            doc_pdf = self.archive / folder / DOCUMENT_PDF
            for page in doc.pages:
                try:
                    sha = self.hashes.get(page.path) or sha256_file(page.path)
                except OSError as e:
                    transient = not isinstance(e, FileNotFoundError)
                    failure = _failure("", f"cannot read the file: {e}", transient)
                    self._record(state, page, "", "", failure)
                    continue
                self.hashes[page.path] = sha
                key = page_key(sha, page.frame, self.pipeline)
                existing = self.catalog.page(doc_id, page.number)
                done_before = (
                    existing is not None
                    and existing.status == "ok"
                    and existing.page_key == key
                    and existing.text_path is not None
                    and (self.archive / existing.text_path).is_file()
                    and self._page_pdf_source(existing, doc_pdf) is not None
                )
                if done_before and not force:
                    self.report.pages_skipped += 1
                    self.report.pages.append(
                        PageReport(
                            str(page.path),
                            doc.name,
                            page.number,
                            "skipped",
                            "already in the catalog (same content and settings)",
                            existing.confidence if existing else None,
                            existing.text_path if existing else None,
                        )
                    )
                    state.remaining -= 1
                    self.progress("page", {"status": "skipped"})
                    continue
                yield _Planned(doc_id, page, sha, key, state.leaf(page))
            if state.remaining == 0:
                self._finish_document(state)

    def run(self, docs: list[DocumentSource], force: bool, stop: Callable[[], bool]) -> None:
        total = sum(len(d.pages) for d in docs)
        self.progress("start", {"pages": total, "documents": len(docs)})
        jobs = self.settings.ingest.jobs or os.cpu_count() or 1
        planned = self._plan(docs, force)
        (self.archive / TMP_DIR).mkdir(parents=True, exist_ok=True)
        tmp_root = Path(tempfile.mkdtemp(prefix="batch-", dir=self.archive / TMP_DIR))
        pool = ProcessPoolExecutor(
            jobs,
            mp_context=get_context("spawn"),
            initializer=worker_init,
            initargs=(str(tmp_root),),  # OCRmyPDF's work folders too: removed at the next start
        )
        inflight: dict[Future[PageOcrResult], list[_Planned]] = {}
        by_key: dict[str, Future[PageOcrResult]] = {}
        closing: threading.Thread | None = None
        try:
            for item in planned:
                if stop():
                    self.report.interrupted = True
                    break
                if item.key in by_key:  # the same content twice in a batch: OCRed once
                    inflight[by_key[item.key]].append(item)
                    continue
                cached = None if force else load_cached(self.cache_dir, item.key)
                if cached is not None:
                    self._record_planned(item, cached)
                    continue
                while len(inflight) >= 2 * jobs:
                    self._drain(inflight, by_key)
                task = PageTask(
                    item.key,
                    item.page.path,
                    item.page.frame,
                    self.cache_dir,
                    self.pipeline.ocr,
                    self.pipeline.pdf,
                    self.settings.ingest,
                )
                fut = pool.submit(ocr_page, task, tmp_root)
                inflight[fut] = [item]
                by_key[item.key] = fut
            while inflight:
                if len(inflight) < jobs:
                    # The last pages are running and a core is idle: index the pages done
                    # meanwhile, so that little is left for after the last page.
                    self._flush_index()
                self._drain(inflight, by_key)
            # Every page is done: the workers exit (~0.5 s) while the last pages are indexed.
            # A thread waits for them, so that they are reaped (and their CPU time counted)
            # before the batch ends; shutdown(wait=False) would leave that to nobody.
            closing = threading.Thread(target=pool.shutdown, name="arkhiv-workers-exit")
            closing.start()
            self._flush_index()
        finally:
            if closing is not None:
                closing.join()
            else:
                pool.shutdown(wait=True, cancel_futures=True)
            shutil.rmtree(tmp_root, ignore_errors=True)
        self.progress("finish", {})

    def _drain(
        self,
        inflight: dict[Future[PageOcrResult], list[_Planned]],
        by_key: dict[str, Future[PageOcrResult]],
    ) -> None:
        """Wait for at least one page to finish and record it (and its same-content twins)."""
        done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
        for fut in done:
            items = inflight.pop(fut)
            key = items[0].key
            by_key.pop(key, None)
            try:
                result = fut.result()
            except MissingDependencyError:
                raise
            except BrokenProcessPool as e:
                result = _failure(key, f"the OCR worker process died ({e})", True)
            except Exception as e:
                result = _failure(key, f"OCR failed on this page ({type(e).__name__}: {e})")
            for item in items:
                self._record_planned(item, result)

    # recording
    def _record_planned(self, item: _Planned, result: PageOcrResult) -> None:
        self._record(self.docs[item.doc_id], item.page, item.sha, item.key, result)

    def _record(
        self, state: _DocState, page: SourcePage, sha: str, key: str, result: PageOcrResult
    ) -> None:
        text_rel: str | None = None
        reason = result.error
        status = "ok" if result.ok else "skipped" if result.skipped else "failed"
        if result.ok:
            text_rel = f"{state.folder}/pages/{page.number:04d}.txt"
            atomic_write_text(self.archive / text_rel, result.text)
            self.report.pages_ok += 1
            if result.word_count == 0:
                reason = "no text found (a blank page?)"
                self.report.warnings.append(f"{_page_label(page)}: {reason}")
        elif result.skipped:
            self.report.pages_excluded += 1
            self.report.warnings.append(f"{_page_label(page)}: {reason}")
        else:
            self.report.pages_failed += 1
            self.report.failures.append((_page_label(page), result.error or "unknown error"))
        leaf = state.leaf(page)
        self.catalog.save_page(
            state.doc_id,
            page,
            sha,
            key,
            result,
            text_rel,
            self.batch_id,
            (leaf.number, leaf.verso) if leaf else None,
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
        )
        if result.dpi_assumed:
            self.report.warnings.append(
                f"{_page_label(page)}: no usable DPI in the file, assumed "
                f"{self.settings.ingest.default_dpi}"
            )
        if result.retry_error:
            self.report.warnings.append(
                f"{_page_label(page)}: the second reading of this poor page failed, the first "
                f"was kept ({result.retry_error})"
            )
        self.report.pages.append(entry)
        state.changed = True
        state.remaining -= 1
        self.progress("page", {"status": entry.status, "report": entry})
        if state.remaining == 0:
            self._finish_document(state)

    def _finish_document(self, state: _DocState) -> None:
        """Assemble the document PDF from its OK pages (when something changed) and index it."""
        if state.finished:  # its last page may be recorded while the plan is still running
            return
        state.finished = True
        self.unfinished.discard(state.doc_id)
        doc_id = state.doc_id
        pages = self.catalog.document_pages(doc_id)
        row = self.catalog.document(doc_id)
        pdf_rel = f"{state.folder}/{DOCUMENT_PDF}"
        doc_pdf = self.archive / pdf_rel
        ok_pages = [p for p in pages if p.status == "ok"]
        failed = [p for p in pages if p.status == "failed"]
        pdf_current = (
            row is not None
            and row["pdf_path"]
            and doc_pdf.is_file()
            and row["pdf_metadata_sha"] == state.metadata_sha
        )
        if ok_pages and (state.changed or not pdf_current):
            sources = [self._page_pdf_source(p, doc_pdf) for p in ok_pages]
            fields = xmp_fields(
                state.plan.metadata or DocumentMetadata(),
                name=state.source.name,
                ocr_languages=self.pipeline.ocr.languages,
                leaf_count=len({p.arkush for p in ok_pages if p.arkush}),
                created=_timestamp(row["created_at"] if row else None),
                modified=datetime.now(UTC).replace(microsecond=0),
                document_id=f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, state.source.path.as_uri())}",
            )
            try:
                assemble_document(
                    [s for s in sources if s is not None], doc_pdf, pdf_metadata(fields)
                )
            except OSError as e:  # e.g. a full disk: this document waits for the next run
                reason = f"cannot write the document PDF: {io_reason(e)}"
                self.report.failures.append((str(state.source.path), reason))
                self.report.pages.append(
                    PageReport(
                        str(state.source.path),
                        state.source.name,
                        0,
                        "failed",
                        reason,
                        transient=True,
                    )
                )
                self.report.inputs_failed += 1
                self.catalog.set_document_pdf(doc_id, None, None, "pending", reason)
                return
            self.catalog.set_pdf_pages(
                doc_id,
                [(p.number, i) for i, p in enumerate(ok_pages, start=1)]
                + [(p.number, None) for p in pages if p.status != "ok"],
            )
            status = "partial" if failed else "ok"
            error = f"{len(failed)} page(s) failed" if failed else None
            pdf_sha = sha256_file(doc_pdf)
            self.catalog.set_document_pdf(
                doc_id, pdf_rel, pdf_sha, status, error, state.metadata_sha
            )
            self._write_document_json(state, DOCUMENT_PDF, pdf_sha)
            # The pages now live in the document PDF (committed above): drop their copies in
            # the page cache, which would double the archive's size. Text and stats stay.
            for p in ok_pages:
                cache_paths(self.cache_dir, p.page_key)[0].unlink(missing_ok=True)
        elif not ok_pages:
            self.catalog.set_document_pdf(doc_id, None, None, "failed", "no page could be read")
            self._write_document_json(state, None, None)
        elif row is not None:  # PDF current; document.json may be missing after a crash
            self._write_document_json(state, DOCUMENT_PDF, row["pdf_sha256"])
        self._flush_index(only_if_at_least=self.settings.ingest.index_batch_pages)
        self.progress("document", {"name": state.source.name})

    def _write_document_json(self, state: _DocState, pdf: str | None, sha: str | None) -> None:
        record = document_record(
            doc_id=state.doc_id,
            name=state.source.name,
            source=str(state.source.path),
            meta=state.plan.metadata or DocumentMetadata(),
            pages=self.catalog.document_pages(state.doc_id),
            pdf=pdf,
            pdf_sha256=sha,
            style=self.settings.metadata.citation_style,
        )
        text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
        target = self.archive / state.folder / DOCUMENT_JSON
        with contextlib.suppress(OSError):
            if target.read_text(encoding="utf-8") == text:
                return
        atomic_write_text(self.archive / state.folder / DOCUMENT_JSON, text)

    def _page_pdf_source(self, page: PageRow, doc_pdf: Path) -> tuple[Path, int] | None:
        """Where the page's searchable PDF page is: the page cache (new OCR) or its page in
        the document PDF assembled earlier. None when it is in neither."""
        cached = cache_paths(self.cache_dir, page.page_key)[0]
        if cached.is_file():
            return cached, 0
        if page.pdf_page is not None and doc_pdf.is_file():
            return doc_pdf, page.pdf_page - 1
        return None

    def _flush_index(self, only_if_at_least: int = 0) -> None:
        """Index the OK pages whose current text is not in the index, in batches; not those
        of documents still in progress (their PDF, which the index points into, is not made)."""
        batch = self.settings.ingest.index_batch_pages
        rows = self.catalog.pages_to_index(limit=batch, except_documents=self.unfinished)
        if len(rows) < only_if_at_least:
            return
        while rows:
            self.index.write_pages(_index_record(r) for r in rows)
            # After the index commit: a crash in between re-indexes these pages next run,
            # replacing (not duplicating) them, since the index key is unique per page.
            self.catalog.mark_indexed([(r["id"], r["page_key"]) for r in rows])
            rows = self.catalog.pages_to_index(limit=batch, except_documents=self.unfinished)


def _index_record(row: sqlite3.Row) -> PageRecord:
    """What the index stores for a catalog page row."""
    return PageRecord(
        document_id=row["document_id"],
        number=row["number"],
        page_key=row["page_key"],
        document=row["document"],
        text=row["text"] or "",
        pdf_path=row["pdf_path"],
        text_path=row["text_path"],
        pdf_page=row["pdf_page"],
        reference={
            part: row[column] for part, column in REF_FIELDS.items() if row[column] is not None
        },
        arkush=row["arkush"],
        verso=bool(row["verso"]),
        title=row["title"],
        year_from=row["year_from"],
        year_to=row["year_to"],
        access=row["access"] or "open",
    )


def _timestamp(text: str | None) -> datetime:
    """A catalog timestamp as an aware datetime (now when missing or unreadable)."""
    try:
        return datetime.fromisoformat(text) if text else datetime.now(UTC).replace(microsecond=0)
    except ValueError:
        return datetime.now(UTC).replace(microsecond=0)


def io_reason(e: OSError) -> str:
    """An I/O error in words, the full disk named plainly."""
    if e.errno == errno.ENOSPC:
        return "the disk is full (No space left on device)"
    return e.strerror or str(e)


def _failure(key: str, reason: str, transient: bool = False) -> PageOcrResult:
    return PageOcrResult(page_key=key, ok=False, error=reason, transient=transient)


def _page_label(page: SourcePage) -> str:
    return f"{page.path}" + (f" (page {page.frame + 1})" if page.frame is not None else "")


def search(
    archive: Path,
    query: str,
    *,
    limit: int = 10,
    page: int = 1,
    filters: SearchFilters | None = None,
    fuzzy: bool = False,
    style: CitationStyle = CitationStyle.LEGEND,
) -> SearchResult:
    """Search the archive's pages; words match in any grammatical form. `filters` restrict
    the archival reference and years; the query may also name fields (`fond:Р-123`)."""
    reader = ArchiveReader(archive, style)
    return reader.search(query, limit=limit, page=page, filters=filters, fuzzy=fuzzy)


def reindex(archive: Path) -> int:
    """Rebuild the full-text index from the catalog alone; returns the number of pages."""
    Catalog.open(archive, create=False).close()  # a clear message when there is no archive
    with archive_lock(archive):
        return _reindex_locked(archive)


def _reindex_locked(archive: Path) -> int:
    catalog = Catalog.open(archive, create=False)
    try:
        return _rebuild_index(archive, catalog)
    finally:
        catalog.close()


def _rebuild_index(archive: Path, catalog: Catalog) -> int:
    written: list[tuple[int, str]] = []

    def records() -> Iterator[PageRecord]:  # streamed: page texts are not all held at once
        for row in catalog.all_ok_pages():
            written.append((row["id"], row["page_key"]))
            yield _index_record(row)

    count = PageIndex.rebuild(archive, records())
    catalog.mark_indexed(written)
    return count


doctor = doctor_mod.run_checks


def check(archive: Path, *, progress: ProgressFn = _noop) -> CheckReport:
    """Fixity and consistency: originals and outputs re-hashed, catalog, files and index agree."""
    from arkhiv.fixity import check_archive

    return check_archive(archive, progress)


def watch(
    inbox: Path,
    settings: Settings,
    pipeline: Pipeline,
    *,
    once: bool,
    poll: bool = False,
    on_event: Callable[[str, dict[str, object]], None] = _noop,
    stop: threading.Event | None = None,
) -> WatchSummary:
    """Take complete drops from `inbox` into the archive until `stop` is set (or one pass)."""
    from arkhiv.watch.loop import InboxWatcher

    doctor_mod.require_ocr(pipeline.ocr.all_languages())
    watcher = InboxWatcher(
        inbox, settings, pipeline, on_event=on_event, stop=stop or threading.Event()
    )
    return watcher.run(once=once, poll=poll)


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


def check_batch(
    source: Path | Sequence[Path], settings: Settings, metadata: MetadataRequest | None = None
) -> BatchCheck:
    """Validate a batch without OCR and without touching the archive: discovery, metadata
    (layout, sidecars, manifest, --set), leaves."""
    sources = [source] if isinstance(source, Path) else list(source)
    for src in sources:
        if not src.exists():
            raise UsageError(f"{src}: no such file or folder", hint="give the folder of scans")
    batch = _plan_batch([s.absolute() for s in sources], settings, metadata)
    found = [(str(s.path), s.reason) for s in batch.skipped]
    found += [(str(batch.request.manifest), p) for p in batch.problems]
    return BatchCheck([CheckedDocument(d, batch.plans[d.path]) for d in batch.docs], found)


def find_documents(
    archive: Path, ref: str, style: CitationStyle = CitationStyle.LEGEND
) -> list[DocumentView]:
    """Documents named by `ref`: a document id, a citation (any form; parts not given match
    anything, "арк. 7" picks a leaf) or a document name. UsageError when nothing matches."""
    from arkhiv.metadata.ref import parse_citation
    from arkhiv.search.normalize import fold_ref

    catalog = Catalog.open(archive, create=False)
    try:
        text = ref.strip()
        leaf: Leaf | None = None
        if text.isdigit():
            rows = catalog.documents("id = ?", [int(text)])
        else:
            try:
                wanted, leaf = parse_citation(text)
            except ValueError:
                wanted = None
            if (
                wanted is not None
                and not wanted.is_empty()
                and (wanted.fond or wanted.opys or wanted.sprava)
            ):
                parts = {k: v for k, v in wanted.parts().items() if k != "archive"}
                where = " AND ".join(f"{REF_FIELDS[k]} = ?" for k in parts)
                rows = [
                    r
                    for r in catalog.documents(where, list(parts.values()))
                    if wanted.archive is None
                    or fold_ref(r["repository"] or "") == fold_ref(wanted.archive)
                ]
            else:
                rows = catalog.documents("name = ?", [text])
        if not rows:
            raise UsageError(
                f"no document matches {ref!r}",
                hint='give a document id, a citation such as "ф. Р-123, оп. 4, спр. 56" or a '
                "document's folder name; `arkhiv export --format csv` lists them all",
            )
        views = [replace(document_view(catalog, row, style), leaf=leaf) for row in rows]
        return views
    finally:
        catalog.close()


def export(
    archive: Path,
    fmt: str,
    *,
    per: str = "document",
    style: CitationStyle = CitationStyle.LEGEND,
    include_restricted: bool = False,
) -> Iterator[str]:
    """The catalog as CSV, JSON or Dublin Core XML text chunks, per document or per page.
    Documents marked restricted are left out unless `include_restricted`."""
    from arkhiv.export import ExportFormat, ExportUnit
    from arkhiv.export import export as run_export

    catalog = Catalog.open(archive, create=False)
    try:
        yield from run_export(
            catalog, ExportFormat(fmt), ExportUnit(per), style, include_restricted
        )
    finally:
        catalog.close()
