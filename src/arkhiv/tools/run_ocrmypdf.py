"""Wrapper of OCRmyPDF (public API `ocrmypdf.ocr` and its exceptions), one page at a time:
the scan into a PDF/A page with arkhiv's text layer grafted on."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path

from arkhiv.config import PdfSettings
from arkhiv.errors import InputFileError, MissingDependencyError, PageHasTextError, ToolError

log = logging.getLogger(__name__)

PLUGIN = "arkhiv.tools.ocrmypdf_plugin"


def ocrmypdf_options(
    languages: Sequence[str], pdf: PdfSettings, text_layer: Path, text: Path
) -> dict[str, object]:
    """The keyword arguments of `ocrmypdf.ocr` for a page whose text layer arkhiv has read."""
    return {
        "language": list(languages),
        "rotate_pages": False,  # arkhiv turns the page itself (`turn_page`)
        "deskew": False,  # the scan is kept as it is; only arkhiv's reading is straightened
        "clean": False,
        "output_type": str(pdf.output_type),
        # The text layer is grafted as Tesseract's own (the sandwich renderer): see the plugin.
        "pdf_renderer": "sandwich",
        "optimize": pdf.optimize,
        "jobs": 1,
        "use_threads": True,
        "progress_bar": False,
        "plugins": [PLUGIN],
        "arkhiv_textpdf": str(text_layer),
        "arkhiv_text": str(text),
    }


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


def page_pdf(
    src: Path,
    out_pdf: Path,
    *,
    text_layer: Path,
    text: Path,
    languages: Sequence[str],
    pdf: PdfSettings,
    image_dpi: int | None,
    max_megapixels: float | None = None,
    force: bool = False,
) -> None:
    """The searchable PDF/A page of one single-page image or PDF, with `text_layer` (a
    text-only PDF of the page, from arkhiv's reading) as its invisible text.

    `force`: rasterize the page even when it already has text (OCRmyPDF's force mode). Raises
    PageHasTextError for such a page without `force`, InputFileError for a file OCRmyPDF
    cannot use, ToolError when Ghostscript fails, MissingDependencyError when a program is
    missing.
    """
    import ocrmypdf
    from ocrmypdf import exceptions as ox

    cache_version_probes()
    kwargs = ocrmypdf_options(languages, pdf, text_layer, text)
    kwargs["sidecar"] = out_pdf.with_suffix(".sidecar.txt")
    if src.suffix.lower() != ".pdf":
        kwargs["arkhiv_image"] = str(src)  # the raster is the image as it is (see the plugin)
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
        raise ToolError("ocrmypdf", None, str(e)[-500:], f"OCR failed: {e}") from e
    except ox.ExitCodeException as e:
        raise ToolError("ocrmypdf", int(e.exit_code), str(e)[-500:], f"OCRmyPDF failed: {e}") from e
    if not out_pdf.is_file() or out_pdf.stat().st_size == 0:
        raise ToolError("ocrmypdf", 0, "", "OCRmyPDF finished but wrote no PDF")


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
