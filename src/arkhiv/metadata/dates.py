"""Archival dates of a document (справа): parse archivists' forms, render EDTF and Ukrainian."""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date

MIN_YEAR = 1000
MAX_YEAR = 2100
EXAMPLES = "1937, 1930-1935, 12.05.1937, бл. 1930"

# Longer text is never a date; the cap also bounds the regex work on untrusted input.
_MAX_INPUT = 120

_ISO = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")

# Markers of an approximate date, compared after lower-casing. A bare Latin "c" needs its dot:
# without it "c 1930" is more likely a typo than "circa".
_PREFIX = r"(?:бл\.?|близько|приблизно|ca\.?|c\.|circa)"
# Plain [0-9], not \d: \d also matches Arabic-Indic and other digits that int() would accept.
# Years take 3-4 digits so that "999" is reported as out of range rather than unrecognised.
_DATE = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{2}"
    r"|[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{3,4}|[0-9]{1,2}\.[0-9]{3,4}|[0-9]{3,4}"
)
_YEAR_WORD = r"(?:рр?\.?|року|рік|роки|років)"  # "1937 р.", "1930-1935 рр.": ignored
_DASH = r"[\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212]"  # hyphen, en/em dash, minus...


def _side(n: str) -> str:
    # One end of a range: "бл. 1930", "[1930]", "1930~", "[1930?]", "1930 р.". EDTF "?" and "%"
    # (uncertain) are read as approximate: DateSpec has one flag, and archivists use "[1930?]".
    return (
        rf"(?P<pre{n}>{_PREFIX} ?)?(?P<lb{n}>\[)?(?P<date{n}>{_DATE})(?P<qa{n}>[~?%])?"
        rf"(?(lb{n})\])(?P<qb{n}>[~?%])?(?: ?{_YEAR_WORD})?"
    )


_RANGE = re.compile(rf"{_side('1')}(?: ?(?:--|/|{_DASH}) ?{_side('2')})?")
_APPROX_GROUPS = ("pre1", "lb1", "qa1", "qb1", "pre2", "lb2", "qa2", "qb2")
# "1930-ті", "1930-ті рр.", "1930-х років", "1930s": the ten years, approximate.
_DECADE = re.compile(rf"(?:{_PREFIX} ?)?([0-9]{{4}})(?:{_DASH}?(?:т[іi]|х)|s)(?: ?{_YEAR_WORD})?")


@dataclass(frozen=True)
class DateSpec:
    """The dates of a document: a single date or a range, at year, month or day precision."""

    start: str  # ISO 8601 at the precision given: "1937", "1937-05", "1937-05-12"
    end: str  # same form; == start for a single date
    approximate: bool = False

    def __post_init__(self) -> None:
        # Checked here, not only in parse_date, so every DateSpec renders and round-trips.
        _check_range(self.start, self.end)

    @property
    def year_from(self) -> int:
        return int(self.start[:4])

    @property
    def year_to(self) -> int:
        return int(self.end[:4])

    @property
    def edtf(self) -> str:
        """Extended Date/Time Format (Library of Congress, level 1): "1930~/1935~"."""
        mark = "~" if self.approximate else ""
        if self.start == self.end:
            return f"{self.start}{mark}"
        return f"{self.start}{mark}/{self.end}{mark}"

    @property
    def display(self) -> str:
        """Ukrainian archival form: "12.05.1937", "1930–1935" (en dash), "бл. 1930"."""
        text = _display_one(self.start)
        if self.end != self.start:
            text = f"{text}–{_display_one(self.end)}"
        return f"бл. {text}" if self.approximate else text

    def xmp_dates(self) -> list[str]:
        """ISO strings valid as XMP Date values (YYYY, YYYY-MM, YYYY-MM-DD)."""
        return [self.start] if self.start == self.end else [self.start, self.end]


def parse_date(text: str) -> DateSpec:
    """Parse an archival date as written in an inventory; ValueError names the text and problem."""
    s = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().lower()
    try:
        spec = _parse(s) if len(s) <= _MAX_INPUT else None
    except ValueError as e:
        raise ValueError(f"invalid date {_quote(text)}: {e}") from e
    if spec is None:
        raise ValueError(f"unrecognized date {_quote(text)}: expected e.g. {EXAMPLES}")
    return spec


def _parse(s: str) -> DateSpec | None:
    spec = _parse_plain(s)
    # "[1930-1935]": the whole date supplied by the archivist, hence approximate.
    if spec is None and len(s) > 2 and s[0] == "[" and s[-1] == "]":
        spec = _parse_plain(s[1:-1].strip())
        if spec is not None:
            spec = replace(spec, approximate=True)
    return spec


def _parse_plain(s: str) -> DateSpec | None:
    m = _DECADE.fullmatch(s)
    if m is not None:
        year = int(m[1])
        if year % 10:
            raise ValueError(
                f"a decade starts with a year ending in 0 (e.g. {year - year % 10}-ті)"
            )
        return DateSpec(_make_iso(year, None, None), _make_iso(year + 9, None, None), True)
    m = _RANGE.fullmatch(s)
    if m is None:
        return None
    start = _token_to_iso(m["date1"])
    end = _token_to_iso(m["date2"]) if m["date2"] else start
    return DateSpec(start, end, any(m[g] for g in _APPROX_GROUPS))


def _token_to_iso(token: str) -> str:
    if "." in token:  # 12.05.1937, 5.1.1937, 05.1937
        parts = [int(p) for p in token.split(".")]
        if len(parts) == 3:
            return _make_iso(parts[2], parts[1], parts[0])
        return _make_iso(parts[1], parts[0], None)
    parts = [int(p) for p in token.split("-")]  # 1937, 1937-05, 1937-05-12
    month = parts[1] if len(parts) > 1 else None
    return _make_iso(parts[0], month, parts[2] if len(parts) > 2 else None)


def _make_iso(year: int, month: int | None, day: int | None) -> str:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside {MIN_YEAR}-{MAX_YEAR}")
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} does not exist")
    if day is None:
        return f"{year:04d}-{month:02d}"
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise ValueError(f"day {day} does not exist in {month:02d}.{year:04d}")
    return f"{year:04d}-{month:02d}-{day:02d}"


def _split(iso: str) -> tuple[int, int | None, int | None]:
    m = _ISO.fullmatch(iso) if isinstance(iso, str) else None
    if m is None:
        raise ValueError(f"{iso!r} is not an ISO date of the form YYYY, YYYY-MM or YYYY-MM-DD")
    year = int(m[1])
    month = int(m[2]) if m[2] else None
    day = int(m[3]) if m[3] else None
    _make_iso(year, month, day)  # validates the calendar and the year bounds
    return year, month, day


def _bounds(iso: str) -> tuple[date, date]:
    """First and last day an ISO date at any precision covers."""
    year, month, day = _split(iso)
    if month is None:
        return date(year, 1, 1), date(year, 12, 31)
    if day is None:
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    return date(year, month, day), date(year, month, day)


def _check_range(start: str, end: str) -> None:
    first_start, last_start = _bounds(start)
    first_end, last_end = _bounds(end)
    # Both ends ordered, so "1937-05/1937" (the end begins before the start) is refused too.
    if first_end < first_start or last_end < last_start:
        raise ValueError(f"the end {_display_one(end)} is before the start {_display_one(start)}")


def _display_one(iso: str) -> str:
    year, month, day = _split(iso)
    if month is None:
        return f"{year:04d}"
    if day is None:
        return f"{month:02d}.{year:04d}"
    return f"{day:02d}.{month:02d}.{year:04d}"


def _quote(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:60] + "…")
