"""OCRmyPDF plugin: Tesseract as OCRmyPDF runs it, plus what arkhiv needs from that one run.

OCRmyPDF (17.x) reports neither word confidences nor the orientation Tesseract found. arkhiv
runs OCRmyPDF's sandwich renderer (Tesseract writes the text layer); this engine subclass has
the same Tesseract run write its hOCR too, reads both from it, reads a page that reads poorly
once more on a cleaned-up copy of the same image (see `arkhiv.pipeline.preprocess`), keeps
the better reading, and stores a small JSON file at the path given by the `arkhiv_stats`
option.

It also spares OCRmyPDF rasterizing an image page back out of the PDF it just made of it:
when the page is an image file whose pixels and DPI are exactly what the rasterizer would
produce, Tesseract reads that file itself (`rasterize_pdf_page`).

Options (extra keyword arguments of `ocrmypdf.ocr`, set by `arkhiv.tools.run_ocrmypdf`):
  arkhiv_stats  path of the JSON file to write
  arkhiv_retry  JSON: {"below": mean confidence, "min_words": n, "languages": [...]}, or absent
  arkhiv_image  the page's image file (PNG, JPEG or TIFF with one frame), or absent
"""

from __future__ import annotations

import functools
import json
import logging
import re
import shutil
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocrmypdf import hookimpl
from ocrmypdf.builtin_plugins.tesseract_ocr import TesseractOcrEngine

log = logging.getLogger(__name__)

_WCONF = re.compile(rb"x_wconf (\d+)")
_TEXTANGLE = re.compile(r"textangle (\d+)")
# hOCR elements that hold one line of text (Tesseract writes these classes).
_LINE_CLASSES = frozenset({"ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"})


def hocr_confidences(hocr: bytes) -> list[int]:
    """Word confidences (0-100) in a Tesseract hOCR document."""
    return [int(m) for m in _WCONF.findall(hocr)]


def hocr_orientation(hocr: bytes) -> int:
    """How far the page's text is turned counter-clockwise (0, 90, 180 or 270), by the
    `textangle` of the lines Tesseract found with orientation detection (--psm 1), weighted
    by their words. 0 unless more than half of the words agree on one turn."""
    try:
        root = ET.fromstring(hocr)
    except ET.ParseError:
        return 0
    words: dict[int, int] = {}
    for el in root.iter():
        if el.get("class") not in _LINE_CLASSES:
            continue
        m = _TEXTANGLE.search(el.get("title") or "")
        angle = int(m.group(1)) % 360 if m else 0
        n = sum(1 for w in el.iter() if w.get("class") == "ocrx_word" and (w.text or "").strip())
        words[angle] = words.get(angle, 0) + n
    total = sum(words.values())
    if not total:
        return 0
    angle, n = max(words.items(), key=lambda item: item[1])
    return angle if angle in (90, 180, 270) and n * 2 > total else 0


@dataclass(frozen=True)
class Reading:
    """One Tesseract reading of the page: its files and what its hOCR says."""

    main: Path  # Tesseract's text-only PDF (the text layer)
    text: Path
    confidence: float | None
    words: int
    variant: str  # "original" or the preprocessing applied
    rotation: int = 0  # the turn Tesseract found (hocr_orientation)

    @classmethod
    def of(cls, main: Path, hocr: Path, text: Path, variant: str) -> Reading:
        """The reading whose hOCR is at `hocr` (none after a Tesseract timeout: no words)."""
        data = hocr.read_bytes() if hocr.is_file() else b""
        confs = hocr_confidences(data)
        mean = round(sum(confs) / len(confs), 2) if confs else None
        return cls(main, text, mean, len(confs), variant, hocr_orientation(data))

    def score(self) -> float:
        return self.confidence or 0.0


def needs_retry(first: Reading, below: float, min_words: int) -> bool:
    """A reading worth another try: low mean confidence, or few words (a faint page)."""
    return first.confidence is None or first.confidence < below or first.words < min_words


class _Options:
    """OCRmyPDF's options with other languages, page segmentation mode or extra Tesseract
    configs, everything else as given. (A pydantic copy of the options would keep the cached
    Tesseract namespace.)"""

    def __init__(
        self,
        base: Any,
        languages: list[str] | None = None,
        psm: int | None = None,
        configs: tuple[str, ...] = (),
    ) -> None:
        self._base = base
        self.languages = languages or base.languages
        update: dict[str, Any] = {}
        if psm:
            update["pagesegmode"] = psm
        if configs:
            update["config"] = [*base.tesseract.config, *configs]
        self.tesseract = base.tesseract.model_copy(update=update) if update else base.tesseract

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


@functools.cache
def _installed_languages() -> Any:
    return TesseractOcrEngine.languages(None)  # type: ignore[no-untyped-call]


def _hocr_beside(main: Path) -> Path:
    """Where Tesseract writes the hOCR when asked for it beside its PDF (the `hocr` config)."""
    return main.with_suffix(".hocr")


class ArkhivTesseractEngine(TesseractOcrEngine):
    """OCRmyPDF's Tesseract engine, recording confidences, orientation and timeouts per page,
    and reading poor pages again on a preprocessed copy of the image."""

    # Asked for every page (`tesseract --list-langs`); a worker process asks Tesseract once.
    # A language pack installed meanwhile is seen by the next batch's workers.
    @staticmethod
    def languages(options: Any) -> Any:
        return _installed_languages()

    @staticmethod
    def generate_pdf(input_file: Path, output_pdf: Path, output_text: Path, options: Any) -> None:
        """OCRmyPDF's sandwich renderer (arkhiv always asks for it): Tesseract writes the text
        layer itself, cheaper than rendering the hOCR in Python, and the hOCR beside it in the
        same run."""
        _read_page(
            Path(input_file),
            Path(output_pdf),
            Path(output_text),
            _Options(options, configs=("hocr",)),
        )


def _read_page(image: Path, main: Path, text: Path, options: Any) -> None:
    """Read the page; read a poor page again from a cleaned-up copy; leave the better reading at
    `main` (the text layer) and `text`; write the page's stats where `arkhiv_stats` says."""
    start = time.monotonic()
    TesseractOcrEngine.generate_pdf(image, main, text, options)  # type: ignore[no-untyped-call]
    first_seconds = time.monotonic() - start
    stats_path = getattr(options, "arkhiv_stats", None)
    if not stats_path:
        return
    first = Reading.of(main, _hocr_beside(main), text, "original")
    timeout = options.tesseract.timeout
    # OCRmyPDF turns a Tesseract timeout into an empty page and only logs it.
    timed_out = bool(timeout) and not first.words and first_seconds >= float(timeout) * 0.98
    best, tries = first, 0
    retry = json.loads(getattr(options, "arkhiv_retry", None) or "null")
    retry_error = None
    if retry and not timed_out and needs_retry(first, retry["below"], retry["min_words"]):
        try:
            best, tries = _retry(image, first, options, retry)
        except Exception as e:  # the second reading is optional: never lose the first
            log.warning("%s: second reading failed, keeping the first: %s", image, e)
            retry_error = f"{type(e).__name__}: {e}"
        if best is not first:
            shutil.copyfile(best.main, main)
            shutil.copyfile(best.text, text)
    stats = {
        "words": best.words,
        "confidence": best.confidence,
        "timed_out": timed_out,
        "ocr_seconds": round(time.monotonic() - start, 3),
        "rotation": best.rotation,
        "variant": best.variant,
        "retries": tries,
        "retry_error": retry_error,
    }
    Path(stats_path).write_text(json.dumps(stats), encoding="utf-8")


def _retry(image: Path, first: Reading, options: Any, retry: dict[str, Any]) -> tuple[Reading, int]:
    """OCR a cleaned-up copy of `image`; the reading with the higher mean confidence wins (the
    first one on a tie). The copy is read in the same languages unless `retry` names others:
    confidences of different language sets are not comparable. A page the first reading found
    upright is read with --psm 3: the same layout analysis without orientation detection."""
    from arkhiv.pipeline.preprocess import retry_image

    candidate = first.main.with_name("arkhiv-retry.tif")
    variant = retry_image(image, candidate)
    upright = options.tesseract.pagesegmode == 1 and first.rotation == 0
    opts = _Options(options, retry.get("languages") or None, 3 if upright else None)
    main = candidate.with_suffix(first.main.suffix)
    text = candidate.with_suffix(".txt")
    TesseractOcrEngine.generate_pdf(candidate, main, text, opts)  # type: ignore[no-untyped-call]
    reading = Reading.of(main, _hocr_beside(main), text, variant)
    return (reading if reading.score() > first.score() else first), 1


@hookimpl
def get_ocr_engine(options: Any) -> TesseractOcrEngine:
    return ArkhivTesseractEngine()


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
