"""Archival reference codes (архівний шифр): parts, normalization, citations and leaves."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from enum import StrEnum

_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"  # hyphens, en/em dash, minus: all get typed
# Letter suffixes (спр. 56а). Latin a e o c i look the same and slip in from Latin keyboards.
_SUFFIX = r"(?:\s*-?\s*(?P<suffix>[а-яєіїґА-ЯЄІЇҐaeociAEOCI]{1,2}))?"
_LATIN_TO_CYRILLIC = str.maketrans("aeoci", "аеосі")
# Underscores too: folder names such as ДАЗО_ф.Р-123_оп.4_спр.56 use them between parts.
_TAIL = re.compile(r"[\s,.;:_]+\Z")
_NUMBERED = {
    "fond": re.compile(rf"(?:(?P<prefix>[РПрпPp])\s*[{_DASHES}]?\s*)?(?P<num>[0-9]+){_SUFFIX}"),
    "opys": re.compile(rf"(?P<num>[0-9]+){_SUFFIX}"),
    "sprava": re.compile(rf"(?P<num>[0-9]+)(?:\s*/\s*(?P<sub>[0-9]+))?{_SUFFIX}"),
}
_FOND_PREFIX = {"р": "Р-", "p": "Р-", "п": "П-"}  # Latin P: the same look, typed in Latin layout
_VERSO_WORDS = "зворот|зв|оборот|об|zvorot|zv|verso|v"
_LEAF_RE = re.compile(rf"(?P<num>[0-9]+)\s*(?P<verso>{_VERSO_WORDS})?", re.IGNORECASE)
_LEAF_RANGE_RE = re.compile(rf"[0-9]+\s*(?:{_VERSO_WORDS})?\.?\s*[{_DASHES}]\s*[0-9]", re.I)
# Scans are named 0007.tif, 0007zv.tif, арк_0007.tif; r/recto marks the front side explicitly.
_FILE_LEAF_RE = re.compile(
    r"(?:(?:аркуш|арк|arkush|ark|лист|л)[\s_.\-]*)?(?P<num>[0-9]+)"
    rf"(?:[\s_.\-]*(?:(?P<verso>{_VERSO_WORDS})|recto|r))?",
    re.IGNORECASE,
)
_EXPECTED = {
    "archive": "letters, digits, spaces, dots, hyphens or quotes (e.g. ДАЗО, ЦДАВО України)",
    "fond": "digits with an optional prefix Р- or П- (e.g. Р-123)",
    "opys": "digits with an optional letter (e.g. 4, 1а)",
    "sprava": "digits with an optional /part or letter (e.g. 56, 12/3, 56а)",
    "volume": "digits or a Roman numeral I-XX (e.g. 2, II)",
    "arkush": "a leaf number, with зв. for the back (e.g. 7 or 7 зв.)",
}

_ORDER = ("fond", "opys", "sprava", "volume", "arkush")
_MARKER_WORDS = {
    "fond": ("фонд", "ф", "fond", "f"),
    "opys": ("опис", "оп", "opys", "op"),
    # д./дело and л./лист/об. are the Russian forms of Soviet-era finding aids.
    "sprava": ("справа", "спр", "дело", "д", "sprava", "spr"),
    "volume": ("том", "т", "tom", "t"),
    "arkush": ("аркуш", "арк", "лист", "л", "arkush", "ark"),
}
_VALUE_START = {"fond": "0-9РПP", "volume": "0-9IVXІХ"}  # matched ignoring case
# A marker is a whole word (not the "оп" inside "Сопошнянський", nor after an apostrophe or a
# hyphen) and a value: after a dot anything, so that a typo is reported as a bad fond etc.;
# after a bare space only what can start a value, so a word "оп" or "т" in a name stays there.
_MARKER_RE = re.compile(
    r"(?<![^\W_])(?<!['\u2019\u02bc\-])(?:"
    + "|".join(
        rf"(?P<{part}>{'|'.join(words)})"
        rf"(?:\.\s*(?=[^\s,.;_])|\s+(?=[{_VALUE_START.get(part, '0-9')}]))"
        for part, words in _MARKER_WORDS.items()
    )
    + ")",
    re.IGNORECASE,
)
_ARCHIVE_CHAR_RE = re.compile(r"[^\W_]|[\s.'\u2019\u02bc\u2018\"«»„“”" + _DASHES + "]")
_LABELS = ("ф.", "оп.", "спр.", "т.", "арк.")  # capitalized in the bibliographic style


class CitationStyle(StrEnum):
    """How a reference is printed."""

    LEGEND = "legend"  # ДАЗО, ф. Р-123, оп. 4, спр. 56, т. 2, арк. 7 зв.
    BIBLIO = "biblio"  # ДАЗО. Ф. Р-123. Оп. 4. Спр. 56. Т. 2. Арк. 7 зв.


def _bad(part: str, text: str, why: str | None = None) -> ValueError:
    return ValueError(f"bad {part} {text!r}: {why or 'expected ' + _EXPECTED[part]}")


def _clean(text: str) -> str:
    """NFC, surrounding whitespace and trailing punctuation (,.;:_) removed."""
    return _TAIL.sub("", unicodedata.normalize("NFC", text).strip())


def _number(digits: str) -> str | None:
    """Digits without leading zeros (archives do not write them, and a search for fond 123
    must find "0123"); None for zero, which is no number in a reference."""
    return digits.lstrip("0") or None


def _normalize_numbered(part: str, text: str) -> str:
    clean = _clean(text)
    m = _NUMBERED[part].fullmatch(clean)
    groups = m.groupdict() if m else {}
    num = _number(groups.get("num") or "")
    sub = _number(groups["sub"]) if groups.get("sub") else ""
    if num is None or sub is None:
        raise _bad(part, clean)
    prefix = _FOND_PREFIX.get((groups.get("prefix") or "").lower(), "")
    suffix = (groups.get("suffix") or "").lower().translate(_LATIN_TO_CYRILLIC)
    return prefix + num + (f"/{sub}" if sub else "") + suffix


def normalize_fond(text: str) -> str:
    """A fond number: "Р-123", "П-45", "123" or "Р-123а".

    Input is NFC-normalized and trimmed of whitespace and trailing punctuation. Accepted: a
    prefix Р or П in either case (Latin P too), then an optional hyphen, dash or space; digits
    (leading zeros dropped, zero invalid); an optional suffix of 1-2 letters, lowercased, with
    Latin a e o c i read as Cyrillic. "Р123", "р-123", "P-123", "Р–123", "Р 123" -> "Р-123".
    """
    return _normalize_numbered("fond", text)


def normalize_opys(text: str) -> str:
    """An opys number: digits (leading zeros dropped), an optional letter suffix: "1 а" -> "1а"."""
    return _normalize_numbered("opys", text)


def normalize_sprava(text: str) -> str:
    """A sprava number: digits, an optional /digits part and an optional letter suffix.

    "056" -> "56", "12 / 03" -> "12/3", "56 А" -> "56а"; Latin a e o c i -> Cyrillic а е о с і.
    """
    return _normalize_numbered("sprava", text)


def _roman(n: int) -> str:
    tens, units = divmod(n, 10)
    return "X" * tens + ("", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX")[units]


_ROMAN = {_roman(n): str(n) for n in range(1, 21)}
# Cyrillic І and Х look like Roman I and X and get typed for them without a layout switch.
_ROMAN_LOOKALIKES = str.maketrans("ІХ", "IX")


def normalize_volume(text: str) -> str:
    """A volume (том) number: digits (leading zeros dropped) or a Roman numeral I..XX -> "2"."""
    clean = _clean(text)
    if re.fullmatch("[0-9]+", clean) and (num := _number(clean)):
        return num
    if roman := _ROMAN.get(clean.upper().translate(_ROMAN_LOOKALIKES)):
        return roman
    raise _bad("volume", clean)


def _marker(m: re.Match[str]) -> tuple[str, str]:
    """(part, the marker word as typed) of a _MARKER_RE match."""
    part = m.lastgroup or ""
    return part, m[part]


def _normalize_archive(text: str) -> str:
    """An archive code as given: NFC, inner whitespace collapsed; no commas, no markers."""
    clean = " ".join(_clean(text).split())
    if not any(c.isalpha() for c in clean) or not all(_ARCHIVE_CHAR_RE.match(c) for c in clean):
        raise _bad("archive", clean)
    # A citation puts ", " or ". " after the code; a marker word there would be read as a part.
    if m := _MARKER_RE.search(clean + ". 1"):
        raise _bad("archive", clean, f"contains the marker {_marker(m)[1]!r} of a reference part")
    return clean


@dataclass(frozen=True, order=True)
class Leaf:
    """One side of a leaf (аркуш): the number, and whether it is the back (зворот, "зв.")."""

    number: int
    verso: bool = False

    def __post_init__(self) -> None:
        if self.number < 1:
            raise ValueError(f"bad arkush {self.number}: expected a leaf number of 1 or more")

    def __str__(self) -> str:
        return f"{self.number} зв." if self.verso else str(self.number)


def parse_leaf(text: str) -> Leaf:
    """A leaf: "7", "7 зв.", "7зв", "7 об." (Russian), "7v", "7 verso"; leading zeros dropped."""
    clean = _clean(text)
    m = _LEAF_RE.fullmatch(clean)
    num = _number(m["num"]) if m else None
    if m is None or num is None or len(num) > 9:
        if _LEAF_RANGE_RE.match(clean):
            raise _bad("arkush", clean, "a leaf range; cite one leaf (e.g. 7 or 7 зв.)")
        raise _bad("arkush", clean)
    return Leaf(int(num), verso=m["verso"] is not None)


def leaf_from_filename(stem: str) -> Leaf | None:
    """The leaf a scan's file name gives, or None.

    "0007" -> 7; "0007zv", "0007зв", "0007_зв", "0007-zv", "0007v", "0007об" -> 7 зв.;
    "арк_0007", "0007r" -> 7; "scan", "0000" and "IMG_0007" (a camera's counter) -> None.
    """
    m = _FILE_LEAF_RE.fullmatch(unicodedata.normalize("NFC", stem).strip())
    num = _number(m["num"]) if m else None
    if m is None or num is None or len(num) > 9:
        return None
    return Leaf(int(num), verso=m["verso"] is not None)


_NORMALIZERS = {
    "archive": _normalize_archive,
    "fond": normalize_fond,
    "opys": normalize_opys,
    "sprava": normalize_sprava,
    "volume": normalize_volume,
}


@dataclass(frozen=True)
class ArchivalRef:
    """Where a document sits in an archive: archive code, fond, opys, sprava, volume.

    Every part is optional. The constructor normalizes the parts it is given (a blank string
    counts as not given), so equal references compare equal however they were typed. The
    archive code is kept as given (not uppercased: "ЦДАВО України"), NFC, whitespace collapsed.
    """

    archive: str | None = None
    fond: str | None = None
    opys: str | None = None
    sprava: str | None = None
    volume: str | None = None

    def __post_init__(self) -> None:
        for name, normalize in _NORMALIZERS.items():
            if (value := getattr(self, name)) is not None:
                object.__setattr__(self, name, normalize(value) if value.strip() else None)

    def is_empty(self) -> bool:
        return not self.parts()

    def merged(self, other: ArchivalRef) -> ArchivalRef:
        """This reference with the parts set in `other` replacing its own."""
        return ArchivalRef(**{**self.parts(), **other.parts()})

    def parts(self) -> dict[str, str]:
        """The set parts, by field name, in citation order."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}

    def citation(
        self, leaf: Leaf | None = None, style: CitationStyle = CitationStyle.LEGEND
    ) -> str:
        """The reference (and leaf) printed in `style`; only set parts; "" if nothing is set."""
        style = CitationStyle(style)  # a plain "biblio" from a setting works too
        biblio = style == CitationStyle.BIBLIO
        labels = {k: v.capitalize() if biblio else v for k, v in zip(_ORDER, _LABELS, strict=True)}
        items = [self.archive] if self.archive else []
        items += [f"{labels[k]} {v}" for k, v in self.parts().items() if k != "archive"]
        if leaf is not None:
            items.append(f"{labels['arkush']} {leaf}")
        if not biblio or not items:
            return ", ".join(items)
        text = ". ".join(items)
        return text if text.endswith(".") else text + "."


def parse_citation(text: str) -> tuple[ArchivalRef, Leaf | None]:
    """A reference and an optional leaf from a citation in either style, loosely typed.

    Markers in any case, with or without a space after the dot: Ukrainian (ф./фонд, оп./опис,
    спр./справа, т./том, арк./аркуш), Russian (д./дело, л./лист) or Latin (f., op., spr., t.,
    ark.); parts separated by commas, dots, semicolons or underscores. Text before the first
    marker is the archive code. Each part at most once, in the order fond, opys, sprava,
    volume, arkush; values are normalized as by normalize_fond etc. and parse_leaf.
    """
    clean = _clean(text)
    markers = list(_MARKER_RE.finditer(clean))
    archive = _TAIL.sub("", clean[: markers[0].start()] if markers else clean)
    if not markers and not archive:
        raise ValueError(
            f"bad citation {clean!r}: expected e.g. ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 7"
        )
    values: dict[str, str] = {}
    ends = [m.start() for m in markers[1:]] + [len(clean)]
    for m, end in zip(markers, ends, strict=False):  # no markers: one end, nothing to zip
        part, word = _marker(m)
        if part in values:
            raise ValueError(f"repeated {part} {word!r}: cite each part once")
        if values and _ORDER.index(part) < _ORDER.index(last := list(values)[-1]):
            raise ValueError(
                f"{part} {word!r} after {last}: expected the order fond, opys, sprava, volume, "
                "arkush"
            )
        values[part] = clean[m.end() : end]
    leaf = parse_leaf(values.pop("arkush")) if "arkush" in values else None
    return ArchivalRef(archive=archive or None, **values), leaf
