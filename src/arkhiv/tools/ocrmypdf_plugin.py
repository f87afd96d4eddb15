"""OCRmyPDF plugin: Tesseract as OCRmyPDF runs it, plus the page's word confidences.

OCRmyPDF (17.x) keeps Tesseract's hOCR in its temporary folder and does not report word
confidences; this engine subclass reads them from the hOCR right after Tesseract wrote it and
stores a small JSON file at the path given by the `arkhiv_stats` option.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from ocrmypdf import hookimpl
from ocrmypdf.builtin_plugins.tesseract_ocr import TesseractOcrEngine

_WCONF = re.compile(rb"x_wconf (\d+)")


def hocr_confidences(hocr: bytes) -> list[int]:
    """Word confidences (0-100) in a Tesseract hOCR document."""
    return [int(m) for m in _WCONF.findall(hocr)]


class ArkhivTesseractEngine(TesseractOcrEngine):
    """OCRmyPDF's Tesseract engine, recording word confidences and timeouts per page."""

    @staticmethod
    def generate_hocr(input_file: Path, output_hocr: Path, output_text: Path, options: Any) -> None:
        start = time.monotonic()
        TesseractOcrEngine.generate_hocr(  # type: ignore[no-untyped-call]
            input_file, output_hocr, output_text, options
        )
        elapsed = time.monotonic() - start
        stats_path = getattr(options, "arkhiv_stats", None)
        if not stats_path:
            return
        confs = hocr_confidences(Path(output_hocr).read_bytes())
        timeout = options.tesseract.timeout
        stats = {
            "words": len(confs),
            "confidence": round(sum(confs) / len(confs), 2) if confs else None,
            # OCRmyPDF turns a Tesseract timeout into an empty page and only logs it.
            "timed_out": bool(timeout) and not confs and elapsed >= float(timeout) * 0.98,
            "ocr_seconds": round(elapsed, 3),
        }
        Path(stats_path).write_text(json.dumps(stats), encoding="utf-8")


@hookimpl
def get_ocr_engine(options: Any) -> TesseractOcrEngine:
    return ArkhivTesseractEngine()
