"""Wrapper of OCRmyPDF (public API `ocrmypdf.ocr` and its exceptions), one page at a time."""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from arkhiv.config import OcrSettings, PdfSettings
from arkhiv.errors import InputFileError, MissingDependencyError, PageHasTextError, ToolError

log = logging.getLogger(__name__)

PLUGIN = "arkhiv.tools.ocrmypdf_plugin"


@dataclass(frozen=True)
class OcrPageStats:
    """What Tesseract reported for the page."""

    words: int
    confidence: float | None
    ocr_seconds: float
    rotation: int = 0  # degrees the page was turned (clockwise) to be upright
    variant: str = "original"  # the image the kept reading came from (see preprocess)
    retries: int = 0  # extra Tesseract readings of preprocessed copies
    retry_error: str | None = None  # why the second reading failed (the first was kept)


def orientation_in_ocr(ocr: OcrSettings) -> bool:
    """Whether the page's orientation comes from the OCR pass itself (Tesseract --psm 1) rather
    than from OCRmyPDF's separate orientation pass: one Tesseract run per page instead of two."""
    return ocr.rotate_pages and ocr.psm in (None, 1)


def ocrmypdf_options(
    ocr: OcrSettings, pdf: PdfSettings, sidecar: Path, stats_file: Path
) -> dict[str, object]:
    """The keyword arguments of `ocrmypdf.ocr` for these settings (page-independent ones)."""
    in_ocr = orientation_in_ocr(ocr)
    kwargs: dict[str, object] = {
        "language": list(ocr.languages),
        "rotate_pages": ocr.rotate_pages and not in_ocr,
        "rotate_pages_threshold": ocr.rotate_pages_threshold,
        "deskew": ocr.deskew,
        "clean": ocr.clean,
        "output_type": str(pdf.output_type),
        # Tesseract writes the text layer in the same run (its own PDF renderer): 4% less time
        # per page than rendering the hOCR in Python (issue 7).
        "pdf_renderer": "sandwich",
        "optimize": pdf.optimize,
        "sidecar": sidecar,
        "jobs": 1,
        "use_threads": True,
        "progress_bar": False,
        "tesseract_timeout": ocr.page_timeout,
        "plugins": [PLUGIN],
        "arkhiv_stats": str(stats_file),
    }
    psm = 1 if in_ocr else ocr.psm
    if psm is not None:
        kwargs["tesseract_pagesegmode"] = psm
    if ocr.retry:
        kwargs["arkhiv_retry"] = json.dumps(
            {
                "below": ocr.retry_below_confidence,
                "min_words": ocr.retry_min_words,
                "languages": list(ocr.retry_languages),
            }
        )
    return kwargs


def cache_version_probes() -> None:
    """Ask Tesseract and Ghostscript their versions once per process, not on every call.

    OCRmyPDF 17.13 runs `tesseract --version` four times and `gs --version` twice on every
    `ocrmypdf.ocr` call (its plugins' option checks and the PDF's creator string): 0.15 s a
    page, about 4 % of a page's time (issue 7). arkhiv calls it once per page from worker
    processes that live for one batch, so a program upgraded meanwhile is seen by the next
    batch. These are private attributes of the pinned OCRmyPDF (`_exec.<tool>.version`); if
    they are missing, nothing changes and OCRmyPDF probes as before. A failed probe is not
    kept: it raises again on the next call.
    """
    try:
        from ocrmypdf._exec import ghostscript, tesseract
    except ImportError:
        return
    for module in (tesseract, ghostscript):
        probe = getattr(module, "version", None)
        if callable(probe) and not hasattr(probe, "cache_info"):
            setattr(module, "version", functools.cache(probe))  # noqa: B010 (mypy: no stub)


def ocr_to_pdf(
    src: Path,
    out_pdf: Path,
    sidecar: Path,
    stats_file: Path,
    *,
    ocr: OcrSettings,
    pdf: PdfSettings,
    image_dpi: int | None,
    max_megapixels: float | None = None,
    force: bool = False,
) -> OcrPageStats:
    """OCR one single-page image or PDF into a searchable PDF plus Tesseract's own text.

    `force`: rasterize the page and OCR it even when it already has text (OCRmyPDF's force
    mode). Raises PageHasTextError for such a page without `force`, InputFileError for a file
    OCRmyPDF cannot use, ToolError when Tesseract or Ghostscript fail or time out,
    MissingDependencyError when a program is missing.
    """
    import ocrmypdf
    from ocrmypdf import exceptions as ox

    cache_version_probes()
    kwargs = ocrmypdf_options(ocr, pdf, sidecar, stats_file)
    if src.suffix.lower() != ".pdf":
        kwargs["arkhiv_image"] = str(src)  # Tesseract may read it as it is (see the plugin)
    if image_dpi is not None:
        kwargs["image_dpi"] = image_dpi
    if max_megapixels is not None:
        kwargs["max_image_mpixels"] = max_megapixels
    if force:
        kwargs["mode"] = "force"
    try:
        ocrmypdf.ocr(src, out_pdf, **kwargs)  # type: ignore[call-overload]
    except ox.MissingDependencyError as e:
        raise MissingDependencyError(
            f"OCRmyPDF cannot run: {e}", hint="run `arkhiv doctor` to see what to install"
        ) from e
    except ox.EncryptedPdfError as e:
        raise InputFileError(src, "the PDF is encrypted; decrypt it first (qpdf --decrypt)") from e
    except ox.PriorOcrFoundError as e:
        raise PageHasTextError(
            src, "the page already has a text layer (a born-digital or OCRed PDF)"
        ) from e
    except (ox.UnsupportedImageFormatError, ox.DpiError, ox.InputFileError) as e:
        raise InputFileError(src, f"OCRmyPDF cannot use this page: {e}") from e
    except ox.SubprocessOutputError as e:
        raise ToolError("tesseract", None, str(e)[-500:], f"OCR failed: {e}") from e
    except ox.ExitCodeException as e:
        raise ToolError("ocrmypdf", int(e.exit_code), str(e)[-500:], f"OCRmyPDF failed: {e}") from e
    if not out_pdf.is_file() or out_pdf.stat().st_size == 0:
        raise ToolError("ocrmypdf", 0, "", "OCRmyPDF finished but wrote no PDF")
    try:
        stats = json.loads(stats_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ToolError("ocrmypdf", 0, "", "OCRmyPDF finished but Tesseract ran no OCR") from e
    if stats.get("timed_out"):
        raise ToolError(
            "tesseract", None, "", f"Tesseract timed out after {ocr.page_timeout:g} s on this page"
        )
    rotation = int(stats.get("rotation") or 0) if orientation_in_ocr(ocr) else 0
    if rotation:
        turn_page(out_pdf, rotation)
    return OcrPageStats(
        int(stats["words"]),
        stats["confidence"],
        float(stats["ocr_seconds"]),
        rotation,
        str(stats.get("variant") or "original"),
        int(stats.get("retries") or 0),
        stats.get("retry_error"),
    )


def turn_page(path: Path, degrees: int) -> None:
    """Turn the single page of the PDF at `path` clockwise for display (/Rotate), in place.

    The scan is not resampled: the image and its text layer turn together, as OCRmyPDF's own
    --rotate-pages does.
    """
    import pikepdf

    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        page = pdf.pages[0]
        page.rotate(degrees, relative=True)
        pdf.save(path, fix_metadata_version=False)
