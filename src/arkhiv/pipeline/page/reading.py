"""One Tesseract reading of a page: its words with their boxes, lines and blocks (from the
hOCR), its text and its text layer, for one copy of the page (see `geometry.Transform`)."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from arkhiv.pipeline.page.geometry import Box, Transform
from arkhiv.pipeline.page.ink import Gray
from arkhiv.tools import tesseract

_BBOX = re.compile(r"bbox (-?\d+) (-?\d+) (-?\d+) (-?\d+)")
_CONF = re.compile(r"x_wconf (\d+)")
_BASELINE = re.compile(r"baseline (-?[\d.]+) (-?[\d.]+)")
_TEXTANGLE = re.compile(r"textangle (\d+)")
# hOCR elements that hold one line of text (Tesseract writes these classes).
_LINE_CLASSES = frozenset({"ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"})


@dataclass(frozen=True)
class Word:
    text: str
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the frame of the copy that was read
    confidence: float  # 0-100
    line: int  # index into Reading.lines


@dataclass(frozen=True)
class Line:
    box: tuple[int, int, int, int]
    block: int  # index of its block (ocr_carea) in the reading
    slope: float | None  # of its baseline
    textangle: int  # how far Tesseract found it turned (psm 1), degrees counter-clockwise


@dataclass(frozen=True)
class Reading:
    """What Tesseract read on one copy of the page."""

    strategy: str  # how the copy was made and read, e.g. "original", "straightened, psm 4"
    psm: int
    transform: Transform  # original scan -> the copy that was read
    words: tuple[Word, ...]
    lines: tuple[Line, ...]
    text: str
    text_pdf: Path | None  # Tesseract's text-only PDF of the copy
    seconds: float

    @property
    def word_count(self) -> int:
        return len(self.words)

    @property
    def confidence(self) -> float | None:
        """The mean word confidence (0-100), None without words."""
        if not self.words:
            return None
        return round(sum(w.confidence for w in self.words) / len(self.words), 2)

    def orientation(self) -> int:
        """How far the page's text is turned counter-clockwise (0, 90, 180 or 270): the
        `textangle` of most of its words, 0 unless more than half of them agree."""
        angles = Counter(self.lines[w.line].textangle for w in self.words)
        if not angles:
            return 0
        angle, n = angles.most_common(1)[0]
        return angle if angle in (90, 180, 270) and n * 2 > len(self.words) else 0

    def original_boxes(self) -> list[Box]:
        """The words' boxes on the original scan."""
        t = self.transform
        return [t.box_to_original(tuple(float(v) for v in w.box)) for w in self.words]  # type: ignore[arg-type]


def parse_hocr(hocr: bytes) -> tuple[list[Word], list[Line]]:
    """Words (text, box, confidence) and lines (box, block, baseline slope, textangle) of a
    Tesseract hOCR document; nothing for an unreadable one (a Tesseract timeout)."""
    try:
        root = ET.fromstring(hocr)
    except ET.ParseError:
        return [], []
    words: list[Word] = []
    lines: list[Line] = []
    block = -1
    for el in root.iter():
        cls = el.get("class")
        title = el.get("title") or ""
        if cls == "ocr_carea":
            block += 1
        elif cls in _LINE_CLASSES and (box := _BBOX.search(title)):
            slope = _BASELINE.search(title)
            angle = _TEXTANGLE.search(title)
            lines.append(
                Line(
                    tuple(int(v) for v in box.groups()),  # type: ignore[arg-type]
                    max(block, 0),
                    float(slope.group(1)) if slope else None,
                    int(angle.group(1)) % 360 if angle else 0,
                )
            )
            for w in el.iter():
                text = "".join(w.itertext()).strip() if w.get("class") == "ocrx_word" else ""
                wbox = _BBOX.search(w.get("title") or "") if text else None
                if wbox is None:
                    continue
                conf = _CONF.search(w.get("title") or "")
                words.append(
                    Word(
                        text,
                        tuple(int(v) for v in wbox.groups()),  # type: ignore[arg-type]
                        float(conf.group(1)) if conf else 0.0,
                        len(lines) - 1,
                    )
                )
    return words, lines


def read(
    image: Gray,
    transform: Transform,
    *,
    strategy: str,
    psm: int,
    languages: tuple[str, ...],
    dpi: float,
    timeout: float,
    work: Path,
) -> Reading:
    """Read the copy of the page `transform` makes of `image` (the original, 8-bit gray, or an
    already cleaned-up version of it) with Tesseract."""
    copy = transform.apply(image) if not transform.identity else image
    name = re.sub(r"[^a-z0-9]+", "-", strategy.lower()).strip("-") or "original"
    path = work / f"{name}.tif"
    copy_dpi = dpi * transform.scale
    # Uncompressed TIFF: a third of PNG's time to write; the copy lives for one Tesseract run.
    Image.fromarray(np.asarray(copy)).save(
        path, format="TIFF", dpi=(copy_dpi, copy_dpi), compression="raw"
    )
    return read_file(
        path,
        work / name,
        transform,
        strategy=strategy,
        psm=psm,
        languages=languages,
        dpi=copy_dpi,
        timeout=timeout,
    )


def read_file(
    path: Path,
    out_base: Path,
    transform: Transform,
    *,
    strategy: str,
    psm: int,
    languages: tuple[str, ...],
    dpi: float,
    timeout: float,
) -> Reading:
    """Read an image file (the scan as it is, or a copy made by `read`) with Tesseract; its
    outputs go to `out_base`.hocr, .txt and .pdf."""
    start = time.monotonic()
    files = tesseract.read(
        path,
        out_base,
        languages=languages,
        psm=psm,
        dpi=round(dpi),
        timeout=timeout,
    )
    words, lines = parse_hocr(files.hocr.read_bytes())
    return Reading(
        strategy,
        psm,
        transform,
        tuple(words),
        tuple(lines),
        files.text.read_text(encoding="utf-8"),
        files.pdf,
        round(time.monotonic() - start, 3),
    )
