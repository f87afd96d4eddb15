"""OCRmyPDF plugin: the page's text layer, already read by arkhiv, grafted as OCRmyPDF's own.

arkhiv reads each page itself (`arkhiv.pipeline.page`: Tesseract, possibly several times, on
straightened or cleaned-up copies, with a completeness check) and asks OCRmyPDF only for what
it does best: the image into a PDF page, the invisible text layer grafted onto it, PDF/A. This
engine's `generate_pdf` therefore runs no Tesseract: it hands OCRmyPDF the text-only PDF and
the text arkhiv made (OCRmyPDF's sandwich renderer then grafts it as it would Tesseract's).

It also spares OCRmyPDF rasterizing an image page back out of the PDF it just made of it:
when the page is an image file whose pixels and DPI are exactly what the rasterizer would
produce, that file is used as the raster (`rasterize_pdf_page`).

Options (extra keyword arguments of `ocrmypdf.ocr`, set by `arkhiv.tools.run_ocrmypdf`):
  arkhiv_textpdf  the text-only PDF of the page (its text layer)
  arkhiv_text     the page's text
  arkhiv_image    the page's image file (PNG, JPEG or TIFF with one frame), or absent
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Any

from ocrmypdf import hookimpl
from ocrmypdf.builtin_plugins.tesseract_ocr import TesseractOcrEngine


@functools.cache
def _installed_languages() -> Any:
    return TesseractOcrEngine.languages(None)  # type: ignore[no-untyped-call]


class ArkhivGraftEngine(TesseractOcrEngine):
    """OCRmyPDF's Tesseract engine whose "OCR" is the text layer arkhiv read beforehand."""

    # Asked for every page (`tesseract --list-langs`); a worker process asks Tesseract once.
    # A language pack installed meanwhile is seen by the next batch's workers.
    @staticmethod
    def languages(options: Any) -> Any:
        return _installed_languages()

    @staticmethod
    def generate_pdf(input_file: Path, output_pdf: Path, output_text: Path, options: Any) -> None:
        """The sandwich renderer's step: the page's text layer and text, as arkhiv read them."""
        shutil.copyfile(options.arkhiv_textpdf, output_pdf)
        shutil.copyfile(options.arkhiv_text, output_text)


@hookimpl
def get_ocr_engine(options: Any) -> TesseractOcrEngine:
    return ArkhivGraftEngine()


@hookimpl
def rasterize_pdf_page(
    input_file: Path,
    output_file: Path,
    raster_device: str,
    raster_dpi: Any,
    pageno: int,
    page_dpi: Any,
    rotation: int | None,
    filter_vector: bool,
    stop_on_soft_error: bool,
    options: Any,
    use_cropbox: bool,
) -> Path | None:
    """The page's own image file in place of a rendering of it, when they would be the same
    pixels; None (OCRmyPDF's rasterizer) otherwise."""
    image = getattr(options, "arkhiv_image", None) if options is not None else None
    if not image or pageno != 1 or rotation or filter_vector:
        return None
    if not same_pixels(Path(image), Path(input_file), raster_dpi, page_dpi):
        return None
    Path(output_file).symlink_to(Path(image).resolve())
    return Path(output_file)


def same_pixels(image: Path, pdf: Path, raster_dpi: Any, page_dpi: Any) -> bool:
    """Whether rendering the single page of `pdf` at `raster_dpi` gives `image` as it is: the
    same pixel size and recorded DPI (the page was made from this image by img2pdf)."""
    import pikepdf
    from PIL import Image

    dpi = page_dpi or raster_dpi
    try:
        with Image.open(image) as im:
            if getattr(im, "n_frames", 1) != 1 or im.mode not in ("1", "L", "RGB"):
                return False
            size, recorded = im.size, im.info.get("dpi")
        with pikepdf.open(pdf) as doc:
            x0, y0, x1, y1 = (float(v) for v in doc.pages[0].mediabox)
    except (OSError, ValueError, pikepdf.PdfError):
        return False
    want = (
        round(abs(x1 - x0) / 72 * float(raster_dpi.x)),
        round(abs(y1 - y0) / 72 * float(raster_dpi.y)),
    )
    if size != want or not recorded:
        return False
    return all(
        abs(float(a) - float(b)) < 0.5 for a, b in zip(recorded, (dpi.x, dpi.y), strict=True)
    )
