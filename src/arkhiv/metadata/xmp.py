"""Build the XMP packet and the matching PDF document-information dictionary for a PDF/A."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from xml.sax.saxutils import escape

ARKHIV_NS = "https://arkhiv.org/ns/1.0/"

_NS = {
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

# XmpFields.ref key -> arkhiv property, with the description its extension schema declares.
_REF_PROPERTIES = (
    ("archive", "archive", "Archive holding the document (short name, e.g. ДАЗО)"),
    ("archive_id", "archiveId", "Unique identifier of the archive (e.g. its EDRPOU code)"),
    ("fond", "fond", "Fond (archival fonds) number, e.g. Р-123"),
    ("opys", "opys", "Opys (series inventory) number"),
    ("sprava", "sprava", "Sprava (file) number within the opys"),
    ("volume", "volume", "Volume of a sprava in several volumes"),
    ("leaves", "leaves", "Number of leaves (arkushi) of the sprava: declared, else scanned"),
)
_DATES_PROPERTY = ("dates", "Dates of the document in EDTF, e.g. 1930~/1935")

_HEADER = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
_TRAILER = '<?xpacket end="w"?>'

# Characters XML 1.0 cannot carry even escaped (C0 controls, lone surrogates, U+FFFE/FFFF).
_NOT_XML = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")  # RFC 5646 syntax, loosely
_XMP_DATE = re.compile(
    r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2}))?)?)?"
)

_TESSERACT_TO_BCP47 = {
    "ukr": "uk", "rus": "ru", "eng": "en", "deu": "de", "pol": "pl", "heb": "he", "yid": "yi",
    "ron": "ro", "hun": "hu", "ces": "cs", "slk": "sk", "bel": "be", "lat": "la", "fra": "fr",
}  # fmt: skip


@dataclass(frozen=True)
class XmpFields:
    """What goes into a document's XMP packet; None or empty means "leave out"."""

    title: str | None = None
    creators: tuple[str, ...] = ()
    description: str | None = None
    subjects: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()  # BCP 47 codes, e.g. ("uk", "ru")
    identifier: str | None = None  # the citation, "ДАЗО, ф. Р-123, оп. 4, спр. 56"
    dates: tuple[str, ...] = ()  # XMP Date values (ISO: "1937", "1937-05-12")
    date_text: str | None = None  # EDTF, e.g. "1930~/1935" (goes in arkhiv:dates)
    rights: str | None = None  # access restriction text
    ref: Mapping[str, str] = field(default_factory=dict)  # keys: see _REF_PROPERTIES
    pdfa_part: str = "2"
    pdfa_conformance: str = "B"
    producer: str | None = None  # pdf:Producer
    creator_tool: str | None = None  # xmp:CreatorTool, e.g. "arkhiv 0.1.0"
    create_date: datetime | None = None  # xmp:CreateDate (aware datetimes)
    modify_date: datetime | None = None  # xmp:ModifyDate and xmp:MetadataDate
    document_id: str | None = None  # xmpMM:DocumentID, e.g. "uuid:..."


def tesseract_to_bcp47(code: str) -> str:
    """Tesseract language code -> BCP 47 tag for dc:language; unknown codes pass through."""
    code = code.strip()
    return _TESSERACT_TO_BCP47.get(code.lower(), code)


def build_docinfo(f: XmpFields) -> dict[str, str]:
    """The document-information dictionary equivalent to build_xmp(f), only keys with a value.

    ISO 19005-2 §6.6.2.3.1: every docinfo entry must equal its XMP counterpart, so both are
    built from the same cleaned values (_checked).
    """
    v = _checked(f)
    pairs = [
        ("/Title", v.title),
        ("/Author", "; ".join(v.creators)),
        ("/Subject", v.description),
        ("/Keywords", "; ".join(v.subjects)),
        ("/Creator", v.creator_tool),
        ("/Producer", v.producer),
        ("/CreationDate", _pdf_date(v.create_date)),
        ("/ModDate", _pdf_date(v.modify_date)),
    ]
    return {key: value for key, value in pairs if value}


def build_xmp(f: XmpFields) -> str:
    """A complete, deterministic XMP packet (UTF-8 text, NFC) for a PDF/A metadata stream."""
    v = _checked(f)
    pdfaid = [_simple("pdfaid:part", v.pdfa_part)]
    pdfaid += _optional("pdfaid:conformance", v.pdfa_conformance)
    author = "; ".join(v.creators)
    dc = [
        *_alt("dc:title", v.title),
        # ISO 19005-2 §6.6.2.3.1 (as veraPDF checks it): dc:creator must hold exactly one entry
        # equal to /Author. Several creators are therefore joined into that single entry, the
        # same "; "-joined string /Author carries, rather than one entry each.
        *_array("dc:creator", "Seq", (author,) if author else ()),
        *_alt("dc:description", v.description),
        *_array("dc:subject", "Bag", v.subjects),
        *_array("dc:language", "Bag", v.languages),
        *_optional("dc:identifier", v.identifier),
        *_array("dc:date", "Seq", v.dates),
        *_alt("dc:rights", v.rights),
    ]
    pdf = _optional("pdf:Producer", v.producer) + _optional("pdf:Keywords", "; ".join(v.subjects))
    xmp = [
        *_optional("xmp:CreatorTool", v.creator_tool),
        *_optional("xmp:CreateDate", _xmp_date(v.create_date)),
        *_optional("xmp:ModifyDate", _xmp_date(v.modify_date)),
        *_optional("xmp:MetadataDate", _xmp_date(v.modify_date)),
    ]
    mm = _optional("xmpMM:DocumentID", v.document_id)
    arkhiv = [
        _simple(f"arkhiv:{name}", v.ref[key]) for key, name, _ in _REF_PROPERTIES if key in v.ref
    ]
    arkhiv += _optional("arkhiv:dates", v.date_text)
    lines = [
        _HEADER,
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
        *_description(("pdfaid",), pdfaid),
        *_description(("dc",), dc),
        *_description(("pdf",), pdf),
        *_description(("xmp",), xmp),
        *_description(("xmpMM",), mm),
        *_description(("arkhiv",), arkhiv),
        # ISO 19005-2 §6.6.2.3.2/3: a schema outside the predefined ones (ours) is valid only
        # if described in a PDF/A extension schema in the same packet; declared only when used.
        *(_extension_schema() if arkhiv else []),
        " </rdf:RDF>",
        "</x:xmpmeta>",
        _TRAILER,
    ]
    return "\n".join(lines) + "\n"


def _checked(f: XmpFields) -> XmpFields:
    """f cleaned and checked once; the XMP and the docinfo are built from the same values."""
    unknown = sorted(set(f.ref) - {key for key, _, _ in _REF_PROPERTIES})
    if unknown:
        known = ", ".join(key for key, _, _ in _REF_PROPERTIES)
        raise ValueError(f"unknown ref keys {unknown}; known: {known}")
    for tag in _clean_all(f.languages):
        if not _LANGUAGE.fullmatch(tag):
            raise ValueError(f"dc:language {tag!r} is not a BCP 47 tag (e.g. uk, ru)")
    for value in _clean_all(f.dates):
        if not _XMP_DATE.fullmatch(value):
            raise ValueError(f"dc:date {value!r} is not an XMP date (e.g. 1937, 1937-05-12)")
    part, conformance = _clean(f.pdfa_part), _clean(f.pdfa_conformance)
    if not re.fullmatch(r"[1-9]", part) or not re.fullmatch(r"[A-Z]?", conformance):
        raise ValueError(f"unknown PDF/A level {part!r}/{conformance!r} (e.g. 2/B)")
    ref = {key: _clean(f.ref.get(key)) for key, _, _ in _REF_PROPERTIES}
    return replace(
        f,
        title=_clean(f.title),
        creators=_clean_all(f.creators),
        description=_clean(f.description),
        subjects=_clean_all(f.subjects),
        languages=_clean_all(f.languages),
        identifier=_clean(f.identifier),
        dates=_clean_all(f.dates),
        date_text=_clean(f.date_text),
        rights=_clean(f.rights),
        ref={key: value for key, value in ref.items() if value},
        pdfa_part=part,
        pdfa_conformance=conformance,
        producer=_clean(f.producer),
        creator_tool=_clean(f.creator_tool),
        create_date=_aware("create_date", f.create_date),
        modify_date=_aware("modify_date", f.modify_date),
        document_id=_clean(f.document_id),
    )


def _clean(value: str | None) -> str:
    # Drop what XML cannot hold before NFC (a dropped control may sit between a letter and its
    # combining mark). CR becomes LF because XML parsers turn a raw CR into LF on reading, and
    # the docinfo must equal what a reader gets back from the XMP.
    if not value:
        return ""
    value = _NOT_XML.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return unicodedata.normalize("NFC", value).strip()


def _clean_all(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c for c in (_clean(v) for v in values) if c)


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    offset = value.utcoffset()
    # A naive time would be written with whatever offset the machine has: not reproducible.
    if offset is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    if offset.total_seconds() % 60:
        raise ValueError(f"{name} has an offset with seconds, which PDF and XMP cannot express")
    # PDF dates have whole seconds; drop the fraction in both so they stay equal.
    return value.replace(microsecond=0)


def _offset(value: datetime, sep: str, end: str) -> str:
    offset = value.utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{sep}{minutes:02d}{end}"


def _xmp_date(value: datetime | None) -> str:
    # By hand rather than isoformat(), which adds fractional seconds and would print an offset
    # with seconds; the form is "2026-11-29T10:00:00+00:00". %Y is not zero-padded on Linux.
    if value is None:
        return ""
    return f"{value.year:04d}-{value:%m-%dT%H:%M:%S}" + _offset(value, ":", "")


def _pdf_date(value: datetime | None) -> str:
    # PDF 32000-1 §7.9.4: D:YYYYMMDDHHmmSSOHH'mm'; the same instant as _xmp_date.
    if value is None:
        return ""
    return f"D:{value.year:04d}{value:%m%d%H%M%S}" + _offset(value, "'", "'")


def _escape(text: str) -> str:
    # Quotes too, although only needed in attributes: one rule everywhere, nothing to forget.
    return escape(text, {'"': "&quot;", "'": "&apos;"})


def _simple(name: str, value: str, indent: str = "   ") -> str:
    return f"{indent}<{name}>{_escape(value)}</{name}>"


def _optional(name: str, value: str | None) -> list[str]:
    return [_simple(name, value)] if value else []


def _alt(name: str, value: str | None) -> list[str]:
    if not value:
        return []
    item = f'     <rdf:li xml:lang="x-default">{_escape(value)}</rdf:li>'
    return [f"   <{name}>", "    <rdf:Alt>", item, "    </rdf:Alt>", f"   </{name}>"]


def _array(name: str, kind: str, values: tuple[str, ...]) -> list[str]:
    if not values:
        return []
    items = [_simple("rdf:li", value, "     ") for value in values]
    return [f"   <{name}>", f"    <rdf:{kind}>", *items, f"    </rdf:{kind}>", f"   </{name}>"]


def _description(prefixes: tuple[str, ...], body: list[str]) -> list[str]:
    if not body:
        return []
    xmlns = "".join(f'\n    xmlns:{prefix}="{_NS[prefix]}"' for prefix in prefixes)
    return [f'  <rdf:Description rdf:about=""{xmlns}>', *body, "  </rdf:Description>"]


def _extension_schema() -> list[str]:
    """The pdfaExtension block declaring every arkhiv property (ISO 19005-2 §6.6.2.3.3)."""
    declared = [(name, text) for _, name, text in _REF_PROPERTIES] + [_DATES_PROPERTY]
    properties: list[str] = []
    for name, text in declared:
        properties += [
            '        <rdf:li rdf:parseType="Resource">',
            _simple("pdfaProperty:name", name, "         "),
            _simple("pdfaProperty:valueType", "Text", "         "),
            _simple("pdfaProperty:category", "external", "         "),
            _simple("pdfaProperty:description", text, "         "),
            "        </rdf:li>",
        ]
    schema = [
        "   <pdfaExtension:schemas>",
        "    <rdf:Bag>",
        '     <rdf:li rdf:parseType="Resource">',
        _simple("pdfaSchema:schema", "arkhiv archival reference", "      "),
        _simple("pdfaSchema:namespaceURI", ARKHIV_NS, "      "),
        _simple("pdfaSchema:prefix", "arkhiv", "      "),
        "      <pdfaSchema:property>",
        "       <rdf:Seq>",
        *properties,
        "       </rdf:Seq>",
        "      </pdfaSchema:property>",
        "     </rdf:li>",
        "    </rdf:Bag>",
        "   </pdfaExtension:schemas>",
    ]
    return _description(("pdfaExtension", "pdfaSchema", "pdfaProperty"), schema)
