"""One page's OCR words as an ALTO 4.2 XML document: a pure function, no I/O.

The input is plain data (words with their pixel boxes in the original image and Tesseract's
0-100 confidence, grouped in lines and blocks); the output is the document as a string, to be
written UTF-8 encoded. Block and line boxes are the union of their words' boxes; IDs follow the
emitted order (block_1, line_1_3, word_1_3_2), empty blocks and lines being skipped.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
ALTO_XSD = "http://www.loc.gov/standards/alto/v4/alto-4-2.xsd"
SCHEMA_VERSION = "4.2"
_XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
# Characters XML 1.0 forbids (C0 controls but tab, LF, CR; lone surrogates; U+FFFE/U+FFFF):
# ElementTree would write them and every XML parser would then refuse the file.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# xsd:language, the type of ALTO's LANG attribute.
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class AltoWord:
    text: str
    box: Box  # x0, y0, x1, y1 in pixels of the original image
    confidence: float  # Tesseract's 0-100


@dataclass(frozen=True)
class AltoLine:
    words: tuple[AltoWord, ...]


@dataclass(frozen=True)
class AltoBlock:
    lines: tuple[AltoLine, ...]


def _clean(text: str) -> str:
    return _NOT_XML.sub("", unicodedata.normalize("NFC", text))


def _has_text(word: AltoWord) -> bool:
    return bool(_clean(word.text).strip())


def _clip(box: Box, width: int, height: int) -> Box:
    """The box with its corners in order and inside the page, as ALTO's layout nests."""
    x0, x1 = sorted((min(max(box[0], 0), width), min(max(box[2], 0), width)))
    y0, y1 = sorted((min(max(box[1], 0), height), min(max(box[3], 0), height)))
    return x0, y0, x1, y1


def _union(boxes: list[Box]) -> Box:
    x0s, y0s, x1s, y1s = zip(*boxes, strict=True)
    return min(x0s), min(y0s), max(x1s), max(y1s)


def _place(el: ET.Element, box: Box) -> ET.Element:
    x0, y0, x1, y1 = box
    for name, value in (("HPOS", x0), ("VPOS", y0), ("WIDTH", x1 - x0), ("HEIGHT", y1 - y0)):
        el.set(name, str(value))
    return el


def _description(
    image_name: str, software: str, version: str, languages: tuple[str, ...], rotation: int
) -> ET.Element:
    desc = ET.Element("Description")
    ET.SubElement(desc, "MeasurementUnit").text = "pixel"
    source = ET.SubElement(desc, "sourceImageInformation")
    ET.SubElement(source, "fileName").text = _clean(image_name)
    # OCRProcessing: deprecated since ALTO 4.0 in favour of Processing but still valid there,
    # and the only one ALTO 2 and 3 define, so the element older readers know.
    step = ET.SubElement(ET.SubElement(desc, "OCRProcessing", ID="ocr_1"), "ocrProcessingStep")
    settings = f"languages={'+'.join(languages)}; rotation={rotation}"
    ET.SubElement(step, "processingStepSettings").text = _clean(settings)
    soft = ET.SubElement(step, "processingSoftware")
    ET.SubElement(soft, "softwareName").text = _clean(software)
    ET.SubElement(soft, "softwareVersion").text = _clean(version)
    return desc


def _text_line(words: list[AltoWord], bi: int, li: int, width: int, height: int) -> ET.Element:
    boxes = [_clip(w.box, width, height) for w in words]
    _, ly0, _, ly1 = bounds = _union(boxes)
    line = _place(ET.Element("TextLine", ID=f"line_{bi}_{li}"), bounds)
    for wi, (word, box) in enumerate(zip(words, boxes, strict=True), start=1):
        if wi > 1:  # the gap since the previous word, on the line's height
            gap_x0 = boxes[wi - 2][2]
            _place(ET.SubElement(line, "SP"), (gap_x0, ly0, max(gap_x0, box[0]), ly1))
        string = _place(ET.SubElement(line, "String", ID=f"word_{bi}_{li}_{wi}"), box)
        string.set("CONTENT", _clean(word.text))
        string.set("WC", f"{min(max(word.confidence, 0.0), 100.0) / 100:.2f}")
    return line


def alto_xml(
    *,
    blocks: tuple[AltoBlock, ...],
    width: int,
    height: int,
    image_name: str,
    software: str,
    software_version: str,
    languages: tuple[str, ...] = ("uk",),
    rotation: int = 0,
) -> str:
    """The ALTO document of one page. `languages`: BCP 47 tags, the first one marking each
    text block (LANG); `rotation`: degrees counterclockwise of the text in the image, as ALTO's
    ROTATION. Boxes are clipped to the page; words with no text after NFC are left out."""
    if width <= 0 or height <= 0:
        raise ValueError(f"page size must be positive, got {width}x{height}")
    if bad := [lang for lang in languages if not _LANGUAGE.fullmatch(lang)]:
        raise ValueError(f"not a language tag (BCP 47): {', '.join(map(repr, bad))}")
    # Plain tag names under a default xmlns written as an attribute: ElementTree's own
    # default_namespace refuses unqualified attribute names (CPython 3.11, ElementTree.py).
    root = ET.Element("alto", {"xmlns": ALTO_NS, "xmlns:xsi": _XSI_NS})
    root.set("xsi:schemaLocation", f"{ALTO_NS} {ALTO_XSD}")
    root.set("SCHEMAVERSION", SCHEMA_VERSION)
    root.append(_description(image_name, software, software_version, languages, rotation % 360))
    page = ET.SubElement(
        ET.SubElement(root, "Layout"),
        "Page",
        ID="page_1",
        PHYSICAL_IMG_NR="1",
        WIDTH=str(width),
        HEIGHT=str(height),
    )
    space = _place(ET.SubElement(page, "PrintSpace"), (0, 0, width, height))
    bi = 0
    for block in blocks:
        lines = [kept for ln in block.lines if (kept := [w for w in ln.words if _has_text(w)])]
        if not lines:
            continue
        bi += 1
        el = ET.SubElement(space, "TextBlock", ID=f"block_{bi}")
        el.extend(_text_line(words, bi, li, width, height) for li, words in enumerate(lines, 1))
        _place(el, _union([_clip(w.box, width, height) for words in lines for w in words]))
        if rotation % 360:
            el.set("ROTATION", str(rotation % 360))
        if languages:
            el.set("LANG", languages[0])
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
