"""Wrapper of OCRmyPDF (public API `ocrmypdf.ocr` and its exceptions), one page at a time."""

from __future__ import annotations

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

    kwargs: dict[str, object] = {
        "language": list(ocr.languages),
        "rotate_pages": ocr.rotate_pages,
        "rotate_pages_threshold": ocr.rotate_pages_threshold,
        "deskew": ocr.deskew,
        "clean": ocr.clean,
        "output_type": str(pdf.output_type),
        "optimize": pdf.optimize,
        "sidecar": sidecar,
        "jobs": 1,
        "use_threads": True,
        "progress_bar": False,
        "tesseract_timeout": ocr.page_timeout,
        "plugins": [PLUGIN],
        "arkhiv_stats": str(stats_file),
    }
    if ocr.psm is not None:
        kwargs["tesseract_pagesegmode"] = ocr.psm
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
    return OcrPageStats(int(stats["words"]), stats["confidence"], float(stats["ocr_seconds"]))
