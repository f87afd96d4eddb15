"""The page job, run by an executor's worker: one page in, its searchable PDF and text out.

Its steps, in order (`run_page_job`):

1. prepare: the page as a file OCRmyPDF takes, with its DPI (`prepare.prepare_input`);
2. OCR: OCRmyPDF with arkhiv's Tesseract engine (`tools.run_ocrmypdf`): the page's text
   layer, its text, word confidences and orientation; a poor page is read a second time from
   a cleaned-up copy (`pipeline.preprocess`) and the better reading kept;
3. result: plain data back to the coordinator (text, statistics, the page PDF's bytes,
   timings). The worker writes nothing into the archive; failures are results too.
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
from arkhiv.pipeline.page.prepare import prepare_input
from arkhiv.tools.run_ocrmypdf import ocr_to_pdf

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
    t0 = time.monotonic()
    src, dpi, assumed = prepare_input(job, work)  # 1. prepare
    t1 = time.monotonic()
    result = _ocr(job, src, dpi, assumed, work)  # 2. OCR (+ the second reading)
    timings = {"prepare": round(t1 - t0, 3), "ocr": round(time.monotonic() - t1, 3)}
    return replace(result, timings=timings)  # 3. the result, back to the coordinator


def _ocr(job: PageJob, src: Path, dpi: float, assumed: bool, work: Path) -> PageOcrResult:
    """OCRmyPDF on the prepared page: the page PDF's bytes and its text."""
    out_pdf, sidecar = work / "page.pdf", work / "page.txt"
    force = False
    while True:
        try:
            stats = ocr_to_pdf(
                src,
                out_pdf,
                sidecar,
                work / "stats.json",
                ocr=job.ocr,
                pdf=job.pdf,
                image_dpi=int(dpi) if assumed else None,
                max_megapixels=job.ingest.max_image_megapixels,
                force=force,
            )
            break
        except PageHasTextError as e:
            if force:  # OCRmyPDF's force mode never reports prior text; never loop
                raise
            if job.ingest.pdf_with_text is PdfWithText.SKIP:
                return PageOcrResult(
                    page_key=job.key,
                    ok=False,
                    skipped=True,
                    error=f"{e.message}; not OCRed ([ingest] pdf_with_text = skip)",
                )
            force = True  # redo: rasterize and OCR it like a scan
    return PageOcrResult(
        page_key=job.key,
        ok=True,
        text=clean_text(sidecar.read_text(encoding="utf-8")),
        confidence=stats.confidence,
        word_count=stats.words,
        dpi=dpi or None,
        dpi_assumed=assumed,
        rotation=stats.rotation,
        variant=stats.variant,
        retries=stats.retries,
        retry_error=stats.retry_error,
        pdf=out_pdf.read_bytes(),
    )


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
