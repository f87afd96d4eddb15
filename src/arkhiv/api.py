"""Library entry points, each a thin front door: settings in, one call, a result out.

The CLI, the watcher and the web page call these (or the engines behind them); the batch
engine with its stages in order is `arkhiv.pipeline.batch`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from arkhiv import doctor as doctor_mod
from arkhiv import identity, reader
from arkhiv import review as review_mod
from arkhiv.catalog import Catalog
from arkhiv.config import Pipeline, Settings
from arkhiv.fsutil import archive_lock
from arkhiv.metadata.ref import CitationStyle
from arkhiv.metadata.sources import MetadataRequest
from arkhiv.models import BatchReport
from arkhiv.pipeline import batch, indexing
from arkhiv.pipeline.batch import BatchCheck, BatchOptions, CheckedDocument
from arkhiv.pipeline.context import ProgressFn, no_progress
from arkhiv.reader import ArchiveReader, DocumentView, SearchResult
from arkhiv.search import SearchFilters

if TYPE_CHECKING:
    from arkhiv.fixity import CheckReport
    from arkhiv.watch.loop import WatchSummary

__all__ = ["BatchCheck", "CheckedDocument", "ProgressFn"]

_noop = no_progress


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
    options = BatchOptions(force, progress, stop, known_sha256, metadata)
    return batch.ingest(sources, settings, pipeline, options)


def check_batch(
    source: Path | Sequence[Path],
    settings: Settings,
    metadata: MetadataRequest | None = None,
    *,
    pipeline: Pipeline | None = None,
) -> BatchCheck:
    """Validate a batch without OCR and without touching the archive: discovery, metadata
    (layout, sidecars, manifest, --set), leaves; with `pipeline`, that its languages are
    installed, as the ingest would."""
    sources = [source] if isinstance(source, Path) else list(source)
    if pipeline is not None:
        doctor_mod.require_ocr(pipeline.ocr.all_languages())
    return batch.check(sources, settings, metadata)


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
    return indexing.reindex(archive)


doctor = doctor_mod.run_checks


def check(archive: Path, *, progress: ProgressFn = _noop, repair: bool = False) -> CheckReport:
    """Fixity and consistency: originals and outputs re-hashed, catalog, files and index agree.
    With `repair`, derived files are first made again from the catalog (see arkhiv.repair)."""
    from arkhiv.fixity import check_archive
    from arkhiv.repair import repair_archive

    repaired = repair_archive(archive) if repair else []
    report = check_archive(archive, progress)
    report.repaired = repaired
    return report


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


def find_documents(
    archive: Path, ref: str, style: CitationStyle = CitationStyle.LEGEND
) -> list[DocumentView]:
    """Documents named by `ref`: a document id, a citation (any form; parts not given match
    anything, "арк. 7" picks a leaf) or a document name. UsageError when nothing matches."""
    catalog = Catalog.open(archive, create=False, readonly=True)
    try:
        return reader.find_documents(catalog, ref, style)
    finally:
        catalog.close()


def review(
    archive: Path, style: CitationStyle = CitationStyle.LEGEND
) -> list[review_mod.ReviewItem]:
    """The pages whose text is doubtful (text missed, low confidence, no text on an inked
    page), each with its reasons, for an archivist to check."""
    catalog = Catalog.open(archive, create=False, readonly=True)
    try:
        return review_mod.flagged(catalog, style)
    finally:
        catalog.close()


def resolve_review(
    archive: Path,
    ref: str,
    *,
    page: int | None = None,
    note: str = "",
    style: CitationStyle = CitationStyle.LEGEND,
) -> list[review_mod.ReviewItem]:
    """Clear the review of a page an archivist has checked (named by a citation with its
    leaf, or a document and `page`); returns the pages cleared."""
    catalog = Catalog.open(archive, create=False)
    try:
        return review_mod.resolve(catalog, ref, page, note, style)
    finally:
        catalog.close()


def relocate(
    archive: Path, old_prefix: Path, new_prefix: Path, *, dry_run: bool = False
) -> identity.Relocation:
    """Follow originals moved on disk from under `old_prefix` to `new_prefix`, each checked by
    its recorded sha256 (arkhiv.identity.relocate); under the archive lock."""
    Catalog.open(archive, create=False, readonly=True).close()  # no archive: a clear message
    with archive_lock(archive):
        catalog = Catalog.open(archive, create=False)
        try:
            return identity.relocate(catalog, old_prefix, new_prefix, dry_run=dry_run)
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

    catalog = Catalog.open(archive, create=False, readonly=True)
    try:
        yield from run_export(
            catalog, ExportFormat(fmt), ExportUnit(per), style, include_restricted
        )
    finally:
        catalog.close()
