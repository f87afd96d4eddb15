"""XMP packet and docinfo for PDF/A: golden files, field values, equivalence, pikepdf reading."""

from __future__ import annotations

import os
import unicodedata
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pikepdf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arkhiv.metadata.dates import parse_date
from arkhiv.metadata.xmp import (
    ARKHIV_NS,
    XmpFields,
    build_docinfo,
    build_xmp,
    tesseract_to_bcp47,
)

GOLDEN = Path(__file__).resolve().parents[1] / "resources" / "golden"
REGENERATE = os.environ.get("ARKHIV_REGEN_GOLDEN") == "1"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS = {
    "x": "adobe:ns:meta/",
    "rdf": RDF,
    "dc": "http://purl.org/dc/elements/1.1/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "arkhiv": ARKHIV_NS,
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
KYIV_WINTER = timezone(timedelta(hours=2))
DATES = parse_date("бл. 1930-1935")

FULL = XmpFields(
    title="Листування про ґрунти сімʼї Їжаків і Євгена <script>&\"'",
    creators=("Ужгородська міська управа", "Коваль Євген Іванович"),
    description="Заяви, рішення та листування; арк. 7 зв. — план ділянки.",
    subjects=("земельні відносини", "Ужгород", "ґрунти"),
    languages=("uk", "ru", "hu"),
    identifier="ДАЗО, ф. Р-123, оп. 4, спр. 56",
    dates=tuple(DATES.xmp_dates()),
    date_text=DATES.edtf,
    rights="Доступ обмежено до 2030 р.",
    ref={
        "archive": "ДАЗО",
        "archive_id": "03492976",
        "fond": "Р-123",
        "opys": "4",
        "sprava": "56",
        "volume": "2",
        "leaves": "1-45",
    },
    producer="OCRmyPDF 17.13.0",
    creator_tool="arkhiv 0.1.0",
    create_date=datetime(2026, 11, 29, 10, 0, 0, tzinfo=UTC),
    modify_date=datetime(2026, 11, 29, 12, 30, 15, tzinfo=KYIV_WINTER),
    document_id="uuid:6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
)
MINIMAL = XmpFields()
REF_ONLY = XmpFields(
    ref={"fond": "П-1", "sprava": "7"},
    date_text="1937-05-12",
    pdfa_part="3",
    pdfa_conformance="U",
)
CASES = {"full": FULL, "minimal": MINIMAL, "ref_only": REF_ONLY}


def parse(xmp: str) -> ET.Element:
    return ET.fromstring(xmp.encode("utf-8"))


def text_of(root: ET.Element, path: str) -> str | None:
    node = root.find(f".//{path}", NS)
    return None if node is None else node.text


def items(root: ET.Element, prop: str) -> list[str]:
    return [li.text or "" for li in root.findall(f".//{prop}/*/rdf:li", NS)]


def alt_default(root: ET.Element, prop: str) -> str | None:
    lis = root.findall(f".//{prop}/rdf:Alt/rdf:li", NS)
    assert [li.get(XML_LANG) for li in lis] in ([], ["x-default"])
    return lis[0].text if lis else None


def pdf_date_as_xmp(value: str) -> str:
    # D:20261129123015+02'00' -> 2026-11-29T12:30:15+02:00
    v = value[2:]
    return f"{v[:4]}-{v[4:6]}-{v[6:8]}T{v[8:10]}:{v[10:12]}:{v[12:14]}{v[14:17]}:{v[18:20]}"


def xmp_counterparts(root: ET.Element) -> dict[str, str | None]:
    """What each docinfo key must equal, read from the XMP (ISO 19005-2 §6.6.2.3.1)."""
    creators = items(root, "dc:creator")
    assert len(creators) <= 1  # PDF/A: one dc:creator entry, equal to /Author
    return {
        "/Title": alt_default(root, "dc:title"),
        "/Author": creators[0] if creators else None,
        "/Subject": alt_default(root, "dc:description"),
        "/Keywords": text_of(root, "pdf:Keywords"),
        "/Creator": text_of(root, "xmp:CreatorTool"),
        "/Producer": text_of(root, "pdf:Producer"),
        "/CreationDate": text_of(root, "xmp:CreateDate"),
        "/ModDate": text_of(root, "xmp:ModifyDate"),
    }


def assert_equivalent(fields: XmpFields) -> None:
    docinfo = build_docinfo(fields)
    expected = xmp_counterparts(parse(build_xmp(fields)))
    assert set(docinfo) == {key for key, value in expected.items() if value is not None}
    for key, value in docinfo.items():
        if key.endswith("Date"):
            value = pdf_date_as_xmp(value)
        assert value == expected[key], key


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    path = GOLDEN / f"xmp_{name}.xml"
    produced = build_xmp(CASES[name]).encode("utf-8")
    if REGENERATE:
        path.write_bytes(produced)
    assert path.read_bytes() == produced


def test_output_is_deterministic_whatever_the_ref_order() -> None:
    shuffled = XmpFields(**{**vars(FULL), "ref": dict(reversed(list(FULL.ref.items())))})
    assert build_xmp(FULL) == build_xmp(FULL) == build_xmp(shuffled)


def test_packet_wrapper() -> None:
    xmp = build_xmp(MINIMAL)
    assert xmp.encode("utf-8").startswith(
        b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    )
    assert xmp.endswith('<?xpacket end="w"?>\n')
    assert parse(xmp).tag == "{adobe:ns:meta/}xmpmeta"


def test_every_field_of_the_full_example() -> None:
    root = parse(build_xmp(FULL))
    assert alt_default(root, "dc:title") == FULL.title
    assert items(root, "dc:creator") == ["Ужгородська міська управа; Коваль Євген Іванович"]
    assert root.find(".//dc:creator/rdf:Seq", NS) is not None
    assert alt_default(root, "dc:description") == FULL.description
    assert items(root, "dc:subject") == list(FULL.subjects)
    assert root.find(".//dc:subject/rdf:Bag", NS) is not None
    assert items(root, "dc:language") == ["uk", "ru", "hu"]
    assert root.find(".//dc:language/rdf:Bag", NS) is not None
    assert text_of(root, "dc:identifier") == "ДАЗО, ф. Р-123, оп. 4, спр. 56"
    assert items(root, "dc:date") == ["1930", "1935"]
    assert root.find(".//dc:date/rdf:Seq", NS) is not None
    assert alt_default(root, "dc:rights") == FULL.rights
    assert text_of(root, "pdf:Producer") == "OCRmyPDF 17.13.0"
    assert text_of(root, "pdf:Keywords") == "земельні відносини; Ужгород; ґрунти"
    assert text_of(root, "xmp:CreatorTool") == "arkhiv 0.1.0"
    assert text_of(root, "xmp:CreateDate") == "2026-11-29T10:00:00+00:00"
    assert text_of(root, "xmp:ModifyDate") == "2026-11-29T12:30:15+02:00"
    assert text_of(root, "xmp:MetadataDate") == "2026-11-29T12:30:15+02:00"
    assert text_of(root, "xmpMM:DocumentID") == FULL.document_id
    assert text_of(root, "pdfaid:part") == "2"
    assert text_of(root, "pdfaid:conformance") == "B"
    arkhiv = {
        el.tag.split("}")[1]: el.text for el in root.iter() if el.tag.startswith(f"{{{ARKHIV_NS}}}")
    }
    assert arkhiv == {
        "archive": "ДАЗО",
        "archiveId": "03492976",
        "fond": "Р-123",
        "opys": "4",
        "sprava": "56",
        "volume": "2",
        "leaves": "1-45",
        "dates": "1930~/1935~",
    }


def test_extension_schema_declares_every_arkhiv_property() -> None:
    for fields in (FULL, REF_ONLY):
        root = parse(build_xmp(fields))
        schemas = root.findall(".//pdfaExtension:schemas/rdf:Bag/rdf:li", NS)
        assert len(schemas) == 1
        schema = schemas[0]
        assert schema.get(f"{{{RDF}}}parseType") == "Resource"
        assert text_of(schema, "pdfaSchema:namespaceURI") == ARKHIV_NS
        assert text_of(schema, "pdfaSchema:prefix") == "arkhiv"
        assert text_of(schema, "pdfaSchema:schema")
        props = schema.findall("pdfaSchema:property/rdf:Seq/rdf:li", NS)
        declared = {text_of(p, "pdfaProperty:name") for p in props}
        for p in props:
            assert text_of(p, "pdfaProperty:valueType") == "Text"
            assert text_of(p, "pdfaProperty:category") == "external"
            assert text_of(p, "pdfaProperty:description")
        emitted = {el.tag.split("}")[1] for el in root.iter() if ARKHIV_NS in el.tag}
        assert emitted <= declared
        assert declared == {
            "archive", "archiveId", "fond", "opys", "sprava", "volume", "leaves", "dates"
        }  # fmt: skip


def test_no_extension_schema_without_arkhiv_properties() -> None:
    xmp = build_xmp(XmpFields(title="Справа"))
    assert "pdfaExtension" not in xmp
    assert ARKHIV_NS not in xmp


def test_minimal_has_only_the_pdfa_identification() -> None:
    root = parse(build_xmp(MINIMAL))
    descriptions = root.findall("rdf:RDF/rdf:Description", NS)
    assert len(descriptions) == 1
    assert [el.tag.split("}")[1] for el in descriptions[0]] == ["part", "conformance"]
    assert build_docinfo(MINIMAL) == {}


def test_docinfo_of_the_full_example() -> None:
    assert build_docinfo(FULL) == {
        "/Title": FULL.title,
        "/Author": "Ужгородська міська управа; Коваль Євген Іванович",
        "/Subject": FULL.description,
        "/Keywords": "земельні відносини; Ужгород; ґрунти",
        "/Creator": "arkhiv 0.1.0",
        "/Producer": "OCRmyPDF 17.13.0",
        "/CreationDate": "D:20261129100000+00'00'",
        "/ModDate": "D:20261129123015+02'00'",
    }


@pytest.mark.parametrize("fields", list(CASES.values()), ids=list(CASES))
def test_docinfo_is_equivalent_to_the_xmp(fields: XmpFields) -> None:
    assert_equivalent(fields)


_ANY_TEXT = st.text(max_size=30)


@given(
    title=_ANY_TEXT,
    creators=st.lists(_ANY_TEXT, max_size=3).map(tuple),
    description=_ANY_TEXT,
    subjects=st.lists(_ANY_TEXT, max_size=3).map(tuple),
    fond=_ANY_TEXT,
)
def test_any_text_gives_wellformed_equivalent_xmp(
    title: str,
    creators: tuple[str, ...],
    description: str,
    subjects: tuple[str, ...],
    fond: str,
) -> None:
    fields = XmpFields(title, creators, description, subjects, ref={"fond": fond})
    xmp = build_xmp(fields)
    xmp.encode("utf-8")  # no lone surrogates left
    assert unicodedata.is_normalized("NFC", xmp)
    assert_equivalent(fields)


def test_escaping_and_cleaning() -> None:
    nasty = 'a<b>&c "d" \'e\' ]]> <?xpacket end="w"?>'
    root = parse(build_xmp(XmpFields(title=nasty, identifier=nasty)))
    assert alt_default(root, "dc:title") == nasty
    assert text_of(root, "dc:identifier") == nasty
    fields = XmpFields(
        title="  Сім\x00ʼя\r\nЇ\x1b  ", description=unicodedata.normalize("NFD", "й ї")
    )
    root = parse(build_xmp(fields))
    assert alt_default(root, "dc:title") == "Сімʼя\nЇ"
    assert alt_default(root, "dc:description") == "й ї"
    assert build_docinfo(fields)["/Title"] == "Сімʼя\nЇ"


def test_blank_values_are_left_out() -> None:
    fields = XmpFields(title="  ", creators=("", " "), subjects=("", "x"), ref={"fond": ""})
    root = parse(build_xmp(fields))
    assert alt_default(root, "dc:title") is None
    assert items(root, "dc:creator") == []
    assert items(root, "dc:subject") == ["x"]
    assert "arkhiv:fond" not in build_xmp(fields)
    assert build_docinfo(fields) == {"/Keywords": "x"}


def test_dates_drop_microseconds_and_keep_negative_offsets() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 999_999, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))
    fields = XmpFields(create_date=when, modify_date=when)
    root = parse(build_xmp(fields))
    assert text_of(root, "xmp:CreateDate") == "2026-01-02T03:04:05-05:30"
    assert build_docinfo(fields)["/CreationDate"] == "D:20260102030405-05'30'"
    assert_equivalent(fields)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (XmpFields(ref={"fonds": "1"}), r"unknown ref keys \['fonds'\]"),
        (XmpFields(languages=("ukr+rus",)), r"dc:language 'ukr\+rus' is not a BCP 47 tag"),
        (XmpFields(dates=("12.05.1937",)), r"dc:date '12.05.1937' is not an XMP date"),
        (XmpFields(dates=("1930~/1935",)), r"dc:date '1930~/1935' is not an XMP date"),
        (XmpFields(create_date=datetime(2026, 1, 1)), "create_date must be a timezone-aware"),
        (XmpFields(modify_date=datetime(2026, 1, 1)), "modify_date must be a timezone-aware"),
        (XmpFields(pdfa_part="2b"), "unknown PDF/A level"),
        (XmpFields(pdfa_conformance="b"), "unknown PDF/A level"),
    ],
)
def test_rejects_values_pdfa_would_not_accept(fields: XmpFields, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_xmp(fields)
    with pytest.raises(ValueError, match=message):
        build_docinfo(fields)


@pytest.mark.parametrize(
    ("code", "tag"),
    [
        ("ukr", "uk"), ("rus", "ru"), ("eng", "en"), ("deu", "de"), ("pol", "pl"), ("heb", "he"),
        ("yid", "yi"), ("ron", "ro"), ("hun", "hu"), ("ces", "cs"), ("slk", "sk"), ("bel", "be"),
        ("lat", "la"), ("fra", "fr"), (" UKR ", "uk"), ("ita", "ita"), ("xyz", "xyz"),
    ],
)  # fmt: skip
def test_tesseract_to_bcp47(code: str, tag: str) -> None:
    assert tesseract_to_bcp47(code) == tag


# pikepdf's default save (fix_metadata_version=True) re-serialises the packet: same content,
# other bytes. Both ways must read back; byte identity only when pikepdf leaves it alone.
@pytest.mark.parametrize("fix_metadata_version", [False, True])
def test_pikepdf_reads_the_embedded_packet(tmp_path: Path, fix_metadata_version: bool) -> None:
    xmp = build_xmp(FULL)
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.Root.Metadata = pdf.make_stream(
        xmp.encode("utf-8"), Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML
    )
    for key, value in build_docinfo(FULL).items():
        pdf.docinfo[pikepdf.Name(key)] = value
    out = tmp_path / "sprava.pdf"
    pdf.save(out, fix_metadata_version=fix_metadata_version)

    with pikepdf.open(out) as reopened:
        if not fix_metadata_version:
            assert bytes(reopened.Root.Metadata.read_bytes()) == xmp.encode("utf-8")
        meta = reopened.open_metadata()
        assert meta.pdfa_status == "2B"
        assert meta["dc:title"] == FULL.title
        assert meta["dc:creator"] == ["Ужгородська міська управа; Коваль Євген Іванович"]
        assert meta["dc:description"] == FULL.description
        assert set(meta["dc:subject"]) == set(FULL.subjects)
        assert set(meta["dc:language"]) == {"uk", "ru", "hu"}
        assert meta["dc:identifier"] == FULL.identifier
        assert meta["pdf:Producer"] == "OCRmyPDF 17.13.0"
        assert meta["xmp:CreatorTool"] == "arkhiv 0.1.0"
        assert meta["xmpMM:DocumentID"] == FULL.document_id
        assert meta[f"{{{ARKHIV_NS}}}fond"] == "Р-123"
        assert meta[f"{{{ARKHIV_NS}}}dates"] == "1930~/1935~"
        docinfo = {str(k): str(v) for k, v in reopened.docinfo.items()}
        assert docinfo == build_docinfo(FULL)
