"""OCR stage: one page in, a single-page searchable PDF + Tesseract's text + stats out.

Runs in worker processes. Results are written to the page cache (named by the page key)
atomically, so a killed run never leaves a half-written result and a restart reuses them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import tempfile
import time
import unicodedata
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from arkhiv.config import IngestSettings, OcrSettings, PdfSettings, PdfWithText
from arkhiv.errors import (
    ArkhivError,
    InputFileError,
    MissingDependencyError,
    PageHasTextError,
    ToolError,
)
from arkhiv.fsutil import atomic_path, atomic_write_text
from arkhiv.models import PageOcrResult
from arkhiv.tools.run_ocrmypdf import ocr_to_pdf

log = logging.getLogger(__name__)

# Image modes and formats OCRmyPDF (through img2pdf) takes as they are; others are converted.
_DIRECT_MODES = frozenset({"1", "L", "RGB"})
_DIRECT_FORMATS = frozenset({"PNG", "JPEG", "TIFF"})


@dataclass(frozen=True)
class PageTask:
    """Everything a worker needs for one page (picklable)."""

    page_key: str
    source: Path
    frame: int | None
    cache_dir: Path
    ocr: OcrSettings
    pdf: PdfSettings
    ingest: IngestSettings


def cache_paths(cache_dir: Path, page_key: str) -> tuple[Path, Path, Path]:
    """The page's searchable PDF, text and result record in the page cache."""
    folder = cache_dir / page_key[:2]
    return folder / f"{page_key}.pdf", folder / f"{page_key}.txt", folder / f"{page_key}.json"


def load_cached(cache_dir: Path, page_key: str) -> PageOcrResult | None:
    """A finished result of an earlier run (the .json is written last), or None."""
    pdf, txt, meta = cache_paths(cache_dir, page_key)
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        if not (data.get("ok") and pdf.is_file()):
            return None
        data["text"] = txt.read_text(encoding="utf-8")
        return PageOcrResult(**data)
    except (OSError, ValueError, TypeError):
        return None


def clean_text(raw: str) -> str:
    """Tesseract's text as stored: NFC, no form feed, no trailing blank lines."""
    text = unicodedata.normalize("NFC", raw.replace("\f", ""))
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"


def _image_dpi(im: Image.Image, cfg: IngestSettings) -> float | None:
    """The image's recorded DPI, or None when missing or not credible."""
    dpi = im.info.get("dpi")
    if not dpi:
        return None
    try:
        x, y = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return None
    if not (cfg.min_dpi <= x <= cfg.max_dpi and cfg.min_dpi <= y <= cfg.max_dpi):
        return None
    return x


def _convert_for_ocr(im: Image.Image, dst: Path, dpi: float) -> None:
    """Save a frame as a lossless image OCRmyPDF accepts (Group 4 for bilevel)."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        im = flat
    elif im.mode.startswith("I;16") or im.mode in ("I", "F"):
        im = im.point(lambda v: v / 256).convert("L") if im.mode != "F" else im.convert("L")
    elif im.mode not in _DIRECT_MODES:
        im = im.convert("RGB")
    if im.mode == "1":
        im.save(dst, format="TIFF", compression="group4", dpi=(dpi, dpi))
    else:
        im.save(dst, format="PNG", dpi=(dpi, dpi))


MIN_PAGE_PIXELS = 16  # smaller than this on a side cannot be a scanned page


def _check_size(im: Image.Image, task: PageTask) -> None:
    """Refuse images larger than the setting before decoding them (decompression bombs), and
    images too small to be a page."""
    limit = task.ingest.max_image_megapixels
    width, height = im.size
    if min(width, height) < MIN_PAGE_PIXELS:
        raise InputFileError(
            task.source, f"image too small to be a scanned page ({width} x {height} px)"
        )
    if width * height > limit * 1e6:
        raise InputFileError(
            task.source,
            f"image too large to process safely: {width} x {height} px = "
            f"{width * height / 1e6:.0f} megapixels, above the limit of {limit:g} "
            "([ingest] max_image_megapixels)",
        )


def _upright(im: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says (cameras and phones store it that way)."""
    try:
        orientation = im.getexif().get(0x0112, 1)
    except Exception:
        return im
    return ImageOps.exif_transpose(im) if orientation not in (0, 1) else im


def _pdf_page(task: PageTask, work: Path) -> Path:
    import pikepdf

    single = work / "page.pdf"
    try:
        with pikepdf.open(task.source) as src, pikepdf.new() as out:
            page = src.pages[task.frame or 0]
            # OCRmyPDF rasterizes the page at up to 400 dpi: refuse absurd page sizes first.
            x0, y0, x1, y1 = (float(v) for v in page.mediabox)
            megapixels = abs(x1 - x0) / 72 * abs(y1 - y0) / 72 * 400 * 400 / 1e6
            if megapixels > task.ingest.max_image_megapixels:
                raise InputFileError(
                    task.source,
                    f"PDF page {(task.frame or 0) + 1} too large to process safely: "
                    f"{abs(x1 - x0) / 72:.0f} x {abs(y1 - y0) / 72:.0f} inches, above the "
                    f"limit of {task.ingest.max_image_megapixels:g} megapixels "
                    "([ingest] max_image_megapixels)",
                )
            out.pages.append(page)
            out.save(single)
    except pikepdf.PasswordError as e:
        raise InputFileError(task.source, "the PDF is encrypted; decrypt it first") from e
    except (pikepdf.PdfError, IndexError) as e:
        raise InputFileError(task.source, f"cannot read page {(task.frame or 0) + 1}: {e}") from e
    return single


def prepare_input(task: PageTask, work: Path) -> tuple[Path, float, bool]:
    """The file handed to OCRmyPDF for this page, its DPI, and whether the DPI was assumed."""
    if task.source.suffix.lower() == ".pdf":
        return _pdf_page(task, work), 0.0, False
    # Pillow's own bomb check would stop at 178 MP with a warning below that; arkhiv checks
    # the header against its setting instead (one process per page: the global is ours).
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(task.source) as opened:
            if task.frame is not None:
                opened.seek(task.frame)
            _check_size(opened, task)
            opened.load()  # decode now: a truncated or corrupt file fails here, with its reason
            recorded = _image_dpi(opened, task.ingest)
            dpi = recorded or float(task.ingest.default_dpi)
            im = _upright(opened)
            as_is = im is opened and im.format in _DIRECT_FORMATS and im.mode in _DIRECT_MODES
            if task.frame is None and as_is:
                return task.source, dpi, recorded is None
            converted = work / ("frame.tif" if im.mode == "1" else "frame.png")
            _convert_for_ocr(im, converted, dpi)
            return converted, dpi, recorded is None
    except FileNotFoundError as e:
        raise InputFileError(task.source, "the file disappeared before it could be read") from e
    except PermissionError as e:
        raise InputFileError(task.source, "permission denied; make the file readable") from e
    except UnidentifiedImageError as e:
        raise InputFileError(
            task.source, "not an image arkhiv can read (corrupt, or not really an image)"
        ) from e
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        where = f" (frame {task.frame + 1})" if task.frame is not None else ""
        raise InputFileError(task.source, f"cannot decode the image{where}: {e}") from e


def _ocr(task: PageTask, src: Path, dpi: float, assumed: bool, work: Path) -> PageOcrResult:
    """OCRmyPDF on the prepared page; results go to the page cache atomically."""
    pdf_path, txt_path, meta_path = cache_paths(task.cache_dir, task.page_key)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    force = False
    while True:
        try:
            with atomic_path(pdf_path) as tmp_pdf, atomic_path(txt_path) as tmp_txt:
                stats = ocr_to_pdf(
                    src,
                    tmp_pdf,
                    tmp_txt,
                    work / "stats.json",
                    ocr=task.ocr,
                    pdf=task.pdf,
                    image_dpi=int(dpi) if assumed else None,
                    max_megapixels=task.ingest.max_image_megapixels,
                    force=force,
                )
                text = clean_text(tmp_txt.read_text(encoding="utf-8"))
                tmp_txt.write_text(text, encoding="utf-8")
            break
        except PageHasTextError as e:
            if force:  # OCRmyPDF's force mode never reports prior text; never loop
                raise
            if task.ingest.pdf_with_text is PdfWithText.SKIP:
                return PageOcrResult(
                    page_key=task.page_key,
                    ok=False,
                    skipped=True,
                    error=f"{e.message}; not OCRed ([ingest] pdf_with_text = skip)",
                )
            force = True  # redo: rasterize and OCR it like a scan
    result = PageOcrResult(
        page_key=task.page_key,
        ok=True,
        text=text,
        confidence=stats.confidence,
        word_count=stats.words,
        dpi=dpi or None,
        dpi_assumed=assumed,
        rotation=stats.rotation,
        variant=stats.variant,
        retries=stats.retries,
        retry_error=stats.retry_error,
    )
    meta = asdict(result)
    meta.pop("text")
    atomic_write_text(meta_path, json.dumps(meta, ensure_ascii=False))  # last: marks it done
    return result


def ocr_page(task: PageTask, tmp_root: Path) -> PageOcrResult:
    """OCR one page into the page cache and return its result (failures are results too).

    Failures are not cached: the next run tries them again.
    """
    start = time.monotonic()
    result: PageOcrResult
    # Its own folder even when two pages of a batch have the same content (the same key).
    tmp_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=task.page_key[:16] + "-", dir=tmp_root))
    try:
        src, dpi, assumed = prepare_input(task, work)
        result = _ocr(task, src, dpi, assumed, work)
    except MissingDependencyError:
        raise
    except InputFileError as e:
        result = PageOcrResult(page_key=task.page_key, ok=False, error=e.message)
    except ArkhivError as e:
        full = _disk_full_note(tmp_root)  # tools say "Ghostscript failed" when the disk is full
        result = PageOcrResult(
            page_key=task.page_key,
            ok=False,
            error=f"{full}: {e.message}" if full else e.message,
            transient=isinstance(e, ToolError) or bool(full),
        )
    except OSError as e:  # a full disk or a locked file while writing the result
        result = PageOcrResult(
            page_key=task.page_key,
            ok=False,
            error=f"cannot write the result: {e.strerror or e}",
            transient=True,
        )
    except Exception as e:  # a library failing on an input it did not expect: this page only
        log.debug("page %s failed unexpectedly", task.source, exc_info=True)
        result = PageOcrResult(
            page_key=task.page_key,
            ok=False,
            error=f"OCR failed on this page ({type(e).__name__}: {e})",
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return replace(result, seconds=round(time.monotonic() - start, 3))


LOW_SPACE_BYTES = 64 * 1024 * 1024


def _disk_full_note(folder: Path) -> str:
    """'the disk is full ...' when the archive's disk has (almost) no space left, else ''."""
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
