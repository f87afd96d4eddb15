"""Plain data passed between the stages: sources found, page jobs and their results, reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from arkhiv.config import IngestSettings, OcrSettings, PdfSettings


class SourceKind(StrEnum):
    """What a document was made from."""

    FOLDER = "folder"  # a folder of single-page images
    PDF = "pdf"  # a (scanned) PDF
    TIFF = "tiff"  # a multi-page TIFF (or another image with several frames: GIF, APNG)
    IMAGE = "image"  # one image file on its own


class PageStatus(StrEnum):
    """State of one page in the catalog."""

    PENDING = "pending"
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # deliberately not OCRed (e.g. a PDF page with text, by setting)


@dataclass(frozen=True)
class SourcePage:
    """One page to OCR: a file, or a frame/page inside a multi-page file."""

    path: Path
    frame: int | None  # 0-based frame in a multi-page TIFF or page in a PDF; None: whole file
    number: int  # 1-based page number in the document


@dataclass(frozen=True)
class DocumentSource:
    """One document (an archival file, справа) found by discovery."""

    path: Path  # the folder or the file
    name: str  # display name: the folder or file name
    kind: SourceKind
    pages: tuple[SourcePage, ...]


@dataclass(frozen=True)
class SkippedInput:
    """A file discovery could not use at all, with the reason."""

    path: Path
    reason: str


@dataclass(frozen=True)
class PageJob:
    """One page's OCR as an executor runs it: plain, picklable data, no open files.

    A worker reads the page from `source`, or from `data` (the file's bytes) when it cannot see
    the coordinator's files (a cluster without a shared filesystem). It writes nothing into the
    archive: the result carries the page PDF back to the coordinator.
    """

    key: str  # the page key: content hash + the settings below (pipeline.plan.page_key)
    source: Path
    frame: int | None  # 0-based frame of a multi-page TIFF or page of a PDF; None: whole file
    ocr: OcrSettings
    pdf: PdfSettings
    ingest: IngestSettings  # DPI fallback, size limits, what to do with PDF text
    data: bytes | None = field(default=None, repr=False)
    sha256: str = ""  # the file's content as planned: a file replaced since is not read


@dataclass(frozen=True)
class PageOcrResult:
    """What a page job returns (produced in a worker process); failures are results too."""

    page_key: str
    ok: bool
    text: str = ""
    confidence: float | None = None  # mean word confidence 0-100
    word_count: int = 0
    dpi: float | None = None
    dpi_assumed: bool = False
    seconds: float = 0.0
    error: str | None = None
    transient: bool = False  # a failure that may pass on a retry (tool crash, timeout, I/O)
    skipped: bool = False  # not OCRed on purpose; `error` says why
    rotation: int = 0  # degrees the page was turned clockwise to be upright
    variant: str = "original"  # the image the kept reading came from (arkhiv.pipeline.preprocess)
    retries: int = 0  # extra readings of preprocessed copies
    retry_error: str | None = None  # why the second reading failed (the first was kept)
    pdf: bytes | None = field(default=None, repr=False)  # the page's searchable PDF (ok only)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step of the job
    # Why an archivist should look at this page (empty: its text is believed complete), e.g.
    # "text-missed: 38% of the ink unread"; and the evidence the reading was chosen on.
    review: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)
    alto: str | None = field(default=None, repr=False)  # the words with their boxes (ALTO 4)


@dataclass
class PageReport:
    """One line of the batch report."""

    source: str
    document: str
    page: int
    status: str
    reason: str | None = None
    confidence: float | None = None
    text_path: str | None = None
    dpi_assumed: bool = False
    transient: bool = False
    rotation: int = 0  # degrees the page was turned clockwise to be upright
    ocr_variant: str | None = None  # the image the kept reading came from; None: not OCRed now
    review: list[str] = field(default_factory=list)  # reasons to check the page; [] = fine


@dataclass
class BatchReport:
    """The outcome of one `arkhiv ingest`."""

    batch_id: int
    archive: str
    documents: int = 0
    pages_ok: int = 0
    pages_failed: int = 0
    pages_skipped: int = 0  # already in the catalog with the same content and settings
    pages_excluded: int = 0  # not OCRed on purpose (a PDF page with text, by setting)
    inputs_failed: int = 0  # files that could not be read at all
    seconds: float = 0.0
    pages: list[PageReport] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False  # stopped on request (SIGTERM) before every page was done

    @property
    def pages_to_review(self) -> int:
        """Pages of this batch whose text is doubtful (`arkhiv review` lists them)."""
        return sum(1 for p in self.pages if p.review)

    def counts(self) -> dict[str, int]:
        """The batch's totals, as the catalog's batch summary and reports record them."""
        names = ("documents", "pages_ok", "pages_failed", "pages_skipped", "pages_excluded")
        return {k: getattr(self, k) for k in (*names, "inputs_failed")}

    @property
    def failed(self) -> bool:
        return self.pages_failed > 0 or self.inputs_failed > 0


@dataclass(frozen=True)
class Hit:
    """One search result: a page."""

    document_id: int
    document: str
    page: int
    score: float
    snippet: str  # plain text with hits marked by [[...]]
    pdf_path: str | None  # relative to the archive folder
    pdf_page: int | None  # the page of that PDF that shows this page
    text_path: str | None
    reference: dict[str, str] = field(default_factory=dict)  # archive, fond, opys, sprava, volume
    arkush: int | None = None
    verso: bool = False
    title: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    access: str = "open"  # "restricted": shown only to users allowed to see it
    citation: str = ""  # the full citation of the page (filled in by api.search)
