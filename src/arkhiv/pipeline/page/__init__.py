"""The page job, run by an executor's worker: one page in, its text, words, PDF page and
review reasons out. Its steps, in order (`_run_steps`):

1. prepare: the page as files Tesseract and OCRmyPDF take, with its DPI (`prepare`);
2. look: its ink measured without OCR: letter marks, dark border, skew (`recover.look_at`,
   `ink`);
3. read: Tesseract, on the scan or a straightened copy; then, only when the completeness check
   (`assess`) says text was missed or read out of order, other strategies, keeping the
   reading that covers the ink best at acceptable confidence (`recover.read_well`);
4. flag: why the page's text may still be incomplete (`flags`);
5. text: Tesseract's text as stored, with its `№` signs put back (`numero`);
6. render: the PDF/A page, the scan as it is with the reading's text layer mapped onto it
   (OCRmyPDF, `tools.run_ocrmypdf`), turned upright for display; the words as ALTO (`render`).

The result goes back to the coordinator as plain data (text, words, the PDF page's bytes,
the evidence, timings); the worker writes nothing into the archive; failures are results too.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import time
import unicodedata
from dataclasses import replace
from pathlib import Path

from arkhiv.config import PdfWithText
from arkhiv.errors import (
    ArkhivError,
    InputFileError,
    MissingDependencyError,
    PageHasTextError,
    ToolError,
)
from arkhiv.models import PageJob, PageOcrResult
from arkhiv.pipeline.page.flags import review_reasons
from arkhiv.pipeline.page.numero import put_back
from arkhiv.pipeline.page.prepare import ChangedFileError, Prepared, prepare
from arkhiv.pipeline.page.reading import Reading
from arkhiv.pipeline.page.recover import look_at, read_well
from arkhiv.pipeline.page.render import display_turn, text_layer, words_alto
from arkhiv.tools.run_ocrmypdf import page_pdf, turn_page

log = logging.getLogger(__name__)


def clean_text(raw: str) -> str:
    """Tesseract's text as stored: NFC, no form feed, no trailing blank lines."""
    text = unicodedata.normalize("NFC", raw.replace("\f", ""))
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"


def run_page_job(job: PageJob, work_root: Path | None = None) -> PageOcrResult:
    """OCR one page and return its result; never raises for a page's own trouble (a
    MissingDependencyError, which stops the batch, is the exception).

    `work_root`: where the job's work folder goes (default: the temp folder, which a local
    worker points into the archive's batch folder: see `worker_init`).
    """
    start = time.monotonic()
    root = work_root or Path(tempfile.gettempdir())
    root.mkdir(parents=True, exist_ok=True)
    # Its own folder even when two pages of a batch have the same content (the same key).
    work = Path(tempfile.mkdtemp(prefix=job.key[:16] + "-", dir=root))
    try:
        result = _run_steps(job, work)
    except MissingDependencyError:
        raise
    except ChangedFileError as e:
        result = PageOcrResult(page_key=job.key, ok=False, error=e.message, transient=True)
    except InputFileError as e:
        result = PageOcrResult(page_key=job.key, ok=False, error=e.message)
    except ArkhivError as e:
        full = _disk_full_note(root)  # tools say "Ghostscript failed" when the disk is full
        result = PageOcrResult(
            page_key=job.key,
            ok=False,
            error=f"{full}: {e.message}" if full else e.message,
            transient=isinstance(e, ToolError) or bool(full),
        )
    except OSError as e:  # a full disk or a locked file in the work folder
        result = PageOcrResult(
            page_key=job.key,
            ok=False,
            error=f"cannot write the result: {e.strerror or e}",
            transient=True,
        )
    except Exception as e:  # a library failing on an input it did not expect: this page only
        log.debug("page %s failed unexpectedly", job.source, exc_info=True)
        result = PageOcrResult(
            page_key=job.key,
            ok=False,
            error=f"OCR failed on this page ({type(e).__name__}: {e})",
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return replace(result, seconds=round(time.monotonic() - start, 3))


def _run_steps(job: PageJob, work: Path) -> PageOcrResult:
    """The page job's steps, in order."""
    clock = _Clock()
    page = prepare(job, work)  # 1. prepare
    if page.has_text and job.ingest.pdf_with_text is PdfWithText.SKIP:
        return _skipped(job, "the page already has a text layer (a born-digital or OCRed PDF)")
    clock.lap("prepare")
    ink = look_at(page.image, page.dpi)  # 2. look
    clock.lap("look")
    kept = read_well(ink, job.ocr, work)  # 3. read
    clock.lap("read")
    reasons = review_reasons(kept.assessment)  # 4. flag
    text, signs = put_back(clean_text(kept.reading.text))  # 5. text
    (work / "kept.txt").write_text(text, encoding="utf-8")
    try:
        pdf = _pdf_page(job, page, kept.reading, work)  # 6. render
    except PageHasTextError as e:  # found by OCRmyPDF, not by the quick look in `prepare`
        if job.ingest.pdf_with_text is not PdfWithText.SKIP:
            raise
        return _skipped(job, e.message)
    alto = words_alto(kept.reading, image_name=job.source.name, languages=job.ocr.languages)
    clock.lap("render")
    turn = display_turn(kept.reading)
    return PageOcrResult(
        page_key=job.key,
        ok=True,
        text=text,
        confidence=kept.reading.confidence,
        word_count=kept.reading.word_count,
        dpi=page.dpi or None,
        dpi_assumed=page.dpi_assumed,
        rotation=turn,
        variant=kept.reading.strategy,
        retries=len(kept.tried) - 1,
        pdf=pdf,
        timings=clock.laps,
        review=reasons,
        evidence={
            "kept": kept.reading.strategy,
            "skew": round(ink.skew, 2),
            "numero_signs": signs,
            "readings": kept.tried,
        },
        alto=alto,
    )


def _pdf_page(job: PageJob, page: Prepared, reading: Reading, work: Path) -> bytes:
    """The PDF/A page with the reading's text layer. PageHasTextError for a page with text of
    its own when such pages are left out by setting."""
    out = work / "page.pdf"
    layer = text_layer(reading, page.dpi, work / "layer.pdf")
    force = page.has_text
    while True:
        try:
            page_pdf(
                page.ocr_input,
                out,
                text_layer=layer,
                text=work / "kept.txt",
                languages=job.ocr.languages,
                pdf=job.pdf,
                image_dpi=int(page.dpi) if page.dpi_assumed else None,
                max_megapixels=job.ingest.max_image_megapixels,
                force=force,
            )
            break
        except PageHasTextError:
            if force or job.ingest.pdf_with_text is PdfWithText.SKIP:
                raise  # OCRmyPDF's force mode never reports prior text: never a loop
            force = True  # redo: rasterize it and give it arkhiv's text like a scan
    turn = display_turn(reading)
    if turn:
        turn_page(out, turn)
    return out.read_bytes()


def _skipped(job: PageJob, reason: str) -> PageOcrResult:
    return PageOcrResult(
        page_key=job.key,
        ok=False,
        skipped=True,
        error=f"{reason}; not OCRed ([ingest] pdf_with_text = skip)",
    )


class _Clock:
    """Seconds per step of the job."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.laps: dict[str, float] = {}

    def lap(self, step: str) -> None:
        now = time.monotonic()
        self.laps[step] = round(now - self.last, 3)
        self.last = now


LOW_SPACE_BYTES = 64 * 1024 * 1024


def _disk_full_note(folder: Path) -> str:
    """'the disk is full ...' when the work folder's disk has (almost) no space left, else ''."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return ""
    if free >= LOW_SPACE_BYTES:
        return ""
    return f"the disk is full (No space left on device; {free // (1024 * 1024)} MB free)"


def worker_init(tmp_dir: str) -> None:
    """Each worker runs one single-threaded Tesseract at a time; the pool keeps all cores busy."""
    os.environ["OMP_THREAD_LIMIT"] = "1"
    # Temporary files of OCRmyPDF and Tesseract go inside the archive's batch folder, which the
    # next run removes, so a killed run leaves nothing behind in the system temp folder.
    os.environ["TMPDIR"] = tmp_dir
    tempfile.tempdir = tmp_dir
    # Stopping is the main process's decision (it lets the pages in progress finish):
    # Ctrl-C and SIGTERM sent to the whole process group must not kill a page half-way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.getLogger("ocrmypdf").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
