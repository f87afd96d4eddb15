"""The page's outputs from the reading kept: its searchable PDF/A page (the scan as it is, the
reading's invisible text layer mapped onto it) and its words with their boxes (ALTO 4)."""

from __future__ import annotations

from pathlib import Path

from arkhiv import __version__
from arkhiv.metadata.xmp import tesseract_to_bcp47
from arkhiv.pipeline.page.alto import AltoBlock, AltoLine, AltoWord, alto_xml
from arkhiv.pipeline.page.reading import Reading


def display_turn(reading: Reading) -> int:
    """Degrees to turn the page clockwise for display (/Rotate) so that its text is upright."""
    if reading.transform.k % 4:
        return (-90 * reading.transform.k) % 360  # the copy read was turned upright
    return reading.orientation()  # Tesseract found the turn itself (--psm 1)


def text_layer(reading: Reading, dpi: float, target: Path) -> Path:
    """The reading's text-only PDF as a text layer of the original page: as it is for a reading
    of the scan itself, else mapped back (turned, straightened, scaled) by a `cm` matrix."""
    import pikepdf

    assert reading.text_pdf is not None
    t = reading.transform
    if t.identity:
        return reading.text_pdf
    width, height = t.size
    with pikepdf.open(reading.text_pdf) as pdf:
        page = pdf.pages[0]
        matrix = " ".join(f"{v:.6f}" for v in t.pdf_matrix(dpi))
        content = page.Contents.read_bytes()
        page.Contents = pdf.make_stream(b"q " + matrix.encode() + b" cm\n" + content + b"\nQ\n")
        page.MediaBox = [0, 0, width * 72.0 / dpi, height * 72.0 / dpi]
        pdf.save(target)
    return target


def words_alto(reading: Reading, *, image_name: str, languages: tuple[str, ...]) -> str:
    """The reading's words, lines and blocks with their boxes on the original scan, as ALTO 4."""
    boxes = reading.original_boxes()
    blocks: dict[int, dict[int, list[AltoWord]]] = {}
    for word, box in zip(reading.words, boxes, strict=True):
        line = reading.lines[word.line]
        rounded = (round(box[0]), round(box[1]), round(box[2]), round(box[3]))
        blocks.setdefault(line.block, {}).setdefault(word.line, []).append(
            AltoWord(word.text, rounded, word.confidence)
        )
    width, height = reading.transform.size
    return alto_xml(
        blocks=tuple(
            AltoBlock(tuple(AltoLine(tuple(ws)) for ws in lines.values()))
            for lines in blocks.values()
        ),
        width=width,
        height=height,
        image_name=image_name,
        software="arkhiv (Tesseract)",
        software_version=__version__,
        languages=tuple(tesseract_to_bcp47(code) for code in languages),
        # ALTO's ROTATION is the text's turn counter-clockwise: the page's clockwise display turn
        rotation=display_turn(reading),
    )
