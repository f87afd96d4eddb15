"""Descriptive fields of a document (Dublin Core based): keys, value checks, the merged record."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from arkhiv.metadata.dates import DateSpec, parse_date
from arkhiv.metadata.ref import (
    ArchivalRef,
    CitationStyle,
    normalize_fond,
    normalize_opys,
    normalize_sprava,
    normalize_volume,
    parse_citation,
)


class Sides(StrEnum):
    """How the page images of a document map to leaves (аркуші)."""

    RECTO = "recto"  # each image is the next leaf (the usual case: versos blank, not scanned)
    RECTO_VERSO = "recto-verso"  # images alternate: leaf 1, leaf 1 зв., leaf 2, ...
    FILENAMES = "filenames"  # from the file names: 0007.tif = арк. 7, 0007zv.tif = арк. 7 зв.


class Access(StrEnum):
    """Who may see a document."""

    OPEN = "open"
    RESTRICTED = "restricted"


REF_KEYS = ("archive", "fond", "opys", "sprava", "volume")
# Reference parts (ArchivalRef field names) -> the catalog's columns, which are also the index's
# fields; "archive" is the repository code, named so to keep it apart from the archive folder
# of the CLI's --archive.
REF_FIELDS = {
    "archive": "repository",
    "fond": "fond",
    "opys": "opys",
    "sprava": "sprava",
    "volume": "volume",
}
# Every key a sidecar, a manifest column, a layout placeholder or --set may name.
KEYS: dict[str, str] = {
    "ref": 'the reference as a citation, e.g. "ДАЗО, ф. Р-123, оп. 4, спр. 56"',
    "archive": "the archive's code, e.g. ДАЗО",
    "archive_id": "the archive's unique id, e.g. its ЄДРПОУ code",
    "fond": "фонд, e.g. Р-123",
    "opys": "опис, e.g. 4 or 1а",
    "sprava": "справа, e.g. 56 or 56а",
    "volume": "том of the справа, e.g. 2",
    "title": "the document's title (заголовок справи)",
    "date": "a year, a range, a full date or an approximate date: 1937, 1930-1935, "
    "12.05.1937, бл. 1930",
    "creator": "who made the document (фондоутворювач); several separated by ;",
    "description": "a free-text description",
    "language": "language codes, e.g. uk; ru (ISO 639)",
    "subject": "subject headings; several separated by ;",
    "access": "open or restricted",
    "rights": "the access restriction in words (who may see it, until when)",
    "notes": "archivist's notes",
    "leaves": "the declared number of leaves (аркушів) in the справа",
    "first_leaf": "the leaf number of the first image (default 1)",
    "sides": "recto (one image per leaf), recto-verso (alternating) or filenames",
}
LIST_KEYS = frozenset({"creator", "language", "subject"})
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
_ACCESS_WORDS = {
    "open": Access.OPEN,
    "public": Access.OPEN,
    "відкритий": Access.OPEN,
    "відкрита": Access.OPEN,
    "restricted": Access.RESTRICTED,
    "closed": Access.RESTRICTED,
    "обмежений": Access.RESTRICTED,
    "обмежена": Access.RESTRICTED,
}


def clean_text(value: str) -> str:
    """NFC, inner whitespace collapsed, trimmed."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def _items(value: Any) -> list[str]:
    """A list value: a YAML/JSON list, or one string separated by ';'."""
    raw = [str(v) for v in value] if isinstance(value, list | tuple) else str(value).split(";")
    return [c for c in (clean_text(v) for v in raw) if c]


def _positive_int(value: str) -> int:
    if not re.fullmatch(r"\d+", value) or int(value) < 1:
        raise ValueError(f"expected a whole number of 1 or more, not {value!r}")
    return int(value)


def check_value(key: str, value: Any) -> Any:
    """The value of one key, checked and normalized; ValueError says what is wrong.

    `ref` gives an ArchivalRef; list keys a tuple of strings; `date` a DateSpec.
    """
    if key not in KEYS:
        raise ValueError(f"unknown key {key!r} (known: {', '.join(KEYS)})")
    if isinstance(value, dict):
        raise ValueError("expected a value, not a mapping")
    if key in LIST_KEYS:
        items = _items(value)
        if key == "language":
            items = [i.lower() for i in items]
            for code in items:
                if not _LANGUAGE.match(code):
                    raise ValueError(f"bad language code {code!r}: expected e.g. uk, ru, en")
        return tuple(items)
    if isinstance(value, list | tuple):
        raise ValueError("expected one value, not a list")
    text = clean_text(str(value))
    if not text:
        raise ValueError("empty value")
    if key == "ref":
        ref, leaf = parse_citation(text)
        if leaf is not None:
            raise ValueError("a document's reference cannot name a leaf (арк.)")
        return ref
    normalizers = {
        "fond": normalize_fond,
        "opys": normalize_opys,
        "sprava": normalize_sprava,
        "volume": normalize_volume,
    }
    if key in normalizers:
        return normalizers[key](text)
    if key == "archive":
        ref, _ = parse_citation(text)
        if ref.archive is None or ref.parts().keys() != {"archive"}:
            raise ValueError(f"bad archive code {text!r}: expected a code such as ДАЗО")
        return ref.archive
    if key == "date":
        return parse_date(text)
    if key in ("leaves", "first_leaf"):
        return _positive_int(text)
    if key == "sides":
        try:
            return Sides(text.lower())
        except ValueError:
            raise ValueError(
                f"bad sides {text!r}: expected recto, recto-verso or filenames"
            ) from None
    if key == "access":
        try:
            return _ACCESS_WORDS[text.lower()]
        except KeyError:
            raise ValueError(f"bad access {text!r}: expected open or restricted") from None
    return text


@dataclass(frozen=True)
class DocumentMetadata:
    """A document's merged, checked metadata, and where each value came from."""

    ref: ArchivalRef = field(default_factory=ArchivalRef)
    archive_id: str | None = None
    title: str | None = None
    date: DateSpec | None = None
    creator: tuple[str, ...] = ()
    description: str | None = None
    language: tuple[str, ...] = ()
    subject: tuple[str, ...] = ()
    access: Access = Access.OPEN
    rights: str | None = None
    notes: str | None = None
    leaves: int | None = None
    first_leaf: int = 1
    sides: Sides = Sides.RECTO
    origin: Mapping[str, str] = field(default_factory=dict)  # key -> where it was set

    @classmethod
    def from_values(cls, values: Mapping[str, Any], origin: Mapping[str, str]) -> DocumentMetadata:
        """Build from checked values (`check_value`), `ref` already expanded into its parts."""
        ref = ArchivalRef(**{k: values[k] for k in REF_KEYS if k in values})
        simple = {k: v for k, v in values.items() if k not in REF_KEYS and k != "ref"}
        return cls(ref=ref, origin=dict(origin), **simple)

    def get(self, key: str) -> Any:
        """The value of a key as `check_value` gives it, None when not set."""
        if key in REF_KEYS:
            return getattr(self.ref, key)
        value = getattr(self, key, None)
        return value if value != () else None

    def citation(self, style: CitationStyle = CitationStyle.LEGEND) -> str:
        return self.ref.citation(style=style)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready record (document.json, the catalog, exports); stable key order."""
        date = self.date
        return {
            "reference": self.ref.parts(),
            "citation": self.ref.citation() or None,
            "archive_id": self.archive_id,
            "title": self.title,
            "date": None
            if date is None
            else {
                "text": date.display,
                "edtf": date.edtf,
                "year_from": date.year_from,
                "year_to": date.year_to,
                "approximate": date.approximate,
            },
            "creator": list(self.creator),
            "description": self.description,
            "language": list(self.language),
            "subject": list(self.subject),
            "access": str(self.access),
            "rights": self.rights,
            "notes": self.notes,
            "leaves": self.leaves,
            "first_leaf": self.first_leaf,
            "sides": str(self.sides),
            "origin": dict(sorted(self.origin.items())),
        }
