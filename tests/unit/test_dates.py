"""Archival dates: the forms archivists write, EDTF and Ukrainian rendering, the errors."""

from __future__ import annotations

import calendar
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arkhiv.metadata.dates import MAX_YEAR, MIN_YEAR, DateSpec, parse_date


def spec(start: str, end: str | None = None, approximate: bool = False) -> DateSpec:
    return DateSpec(start, end or start, approximate)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1937", spec("1937")),
        ("  1937  ", spec("1937")),
        ("1930-1935", spec("1930", "1935")),
        ("1930–1935", spec("1930", "1935")),
        ("1930 — 1935", spec("1930", "1935")),
        ("1930 - 1935", spec("1930", "1935")),
        ("1930/1935", spec("1930", "1935")),
        ("1930--1935", spec("1930", "1935")),
        ("1937-1937", spec("1937")),
        ("1937-05-12", spec("1937-05-12")),
        ("1937-05", spec("1937-05")),
        ("12.05.1937", spec("1937-05-12")),
        ("5.1.1937", spec("1937-01-05")),
        ("05.1937", spec("1937-05")),
        ("5.1937", spec("1937-05")),
        ("29.02.1936", spec("1936-02-29")),
        ("12.05.1937-03.01.1938", spec("1937-05-12", "1938-01-03")),
        ("12.05.1937 – 03.01.1938", spec("1937-05-12", "1938-01-03")),
        ("1937-05-12/1938-01-03", spec("1937-05-12", "1938-01-03")),
        ("1937-05-12-1938-01-03", spec("1937-05-12", "1938-01-03")),
        ("05.1937-1938", spec("1937-05", "1938")),
        ("1937-05/1937-06", spec("1937-05", "1937-06")),
        ("бл. 1930", spec("1930", approximate=True)),
        ("Бл. 1930", spec("1930", approximate=True)),
        ("близько 1930", spec("1930", approximate=True)),
        ("бл.1930-1935", spec("1930", "1935", True)),
        ("бл. 1930–1935", spec("1930", "1935", True)),
        ("ca. 1930", spec("1930", approximate=True)),
        ("CA. 1930", spec("1930", approximate=True)),
        ("c. 1930", spec("1930", approximate=True)),
        ("circa 1930", spec("1930", approximate=True)),
        ("1930~", spec("1930", approximate=True)),
        ("1930~/1935~", spec("1930", "1935", True)),
        ("1930~/1935", spec("1930", "1935", True)),
        ("[1930]", spec("1930", approximate=True)),
        ("[1930?]", spec("1930", approximate=True)),
        ("[1930-1935]", spec("1930", "1935", True)),
        ("[12.05.1937]", spec("1937-05-12", approximate=True)),
        ("1930-ті", spec("1930", "1939", True)),
        ("1930-ТІ РР.", spec("1930", "1939", True)),
        ("1930-ті рр.", spec("1930", "1939", True)),
        ("1930-х років", spec("1930", "1939", True)),
        ("1930s", spec("1930", "1939", True)),
        ("1937 р.", spec("1937")),
        ("1937р.", spec("1937")),
        ("1937 року", spec("1937")),
        ("1930-1935 рр.", spec("1930", "1935")),
        ("1930 р. – 1935 р.", spec("1930", "1935")),
        ("12.05.1937 р.", spec("1937-05-12")),
        ("1000", spec("1000")),
        ("2100", spec("2100")),
    ],
)
def test_parse_date_accepts(text: str, expected: DateSpec) -> None:
    assert parse_date(text) == expected


def test_parse_date_composes_nfd_input() -> None:
    # "й" in "близько" is decomposed by some macOS file names and form fields.
    assert parse_date(unicodedata.normalize("NFD", "Близько 1930")) == spec("1930", None, True)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("31.02.1937", "day 31 does not exist in 02.1937"),
        ("29.02.1937", "day 29 does not exist in 02.1937"),
        ("1937-13", "month 13 does not exist"),
        ("1937-00-10", "month 0 does not exist"),
        ("13.1937", "month 13 does not exist"),
        ("1935-1930", "the end 1930 is before the start 1935"),
        ("03.01.1938-12.05.1937", "the end 12.05.1937 is before the start 03.01.1938"),
        ("1937-05/1937", "the end 1937 is before the start 05.1937"),
        ("999", "year 999 is outside 1000-2100"),
        ("2101", "year 2101 is outside 1000-2100"),
        ("12.05.0937", "year 937 is outside 1000-2100"),
        ("2100-ті", "year 2109 is outside 1000-2100"),
        ("1935-ті", "a decade starts with a year ending in 0 (e.g. 1930-ті)"),
    ],
)
def test_parse_date_rejects_impossible_dates(text: str, problem: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_date(text)
    assert str(e.value) == f"invalid date {text!r}: {problem}"


@pytest.mark.parametrize(
    "text",
    [
        "весна 37",
        "",
        "   ",
        "37",
        "12.05.37",
        "1937-5-12",
        "1930-1935-1940",
        "[1930",
        "бл.",
        "бл 1930x",
    ],
)
def test_parse_date_rejects_unrecognized_text(text: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_date(text)
    assert str(e.value) == (
        f"unrecognized date {text!r}: expected e.g. 1937, 1930-1935, 12.05.1937, бл. 1930"
    )


def test_parse_date_shortens_long_text_in_the_message() -> None:
    with pytest.raises(ValueError, match=r"unrecognized date 'xxxxx+…'"):
        parse_date("x" * 5000)


def test_parse_date_ignores_non_ascii_digits() -> None:
    # int() would accept Arabic-Indic digits; a date must not be made of them.
    with pytest.raises(ValueError, match="unrecognized"):
        parse_date("١٩٣٧")


@pytest.mark.parametrize(
    ("value", "edtf", "display", "xmp"),
    [
        (spec("1937"), "1937", "1937", ["1937"]),
        (spec("1937-05-12"), "1937-05-12", "12.05.1937", ["1937-05-12"]),
        (spec("1937-05"), "1937-05", "05.1937", ["1937-05"]),
        (spec("1930", "1935"), "1930/1935", "1930–1935", ["1930", "1935"]),
        (spec("1930", approximate=True), "1930~", "бл. 1930", ["1930"]),
        (spec("1930", "1935", True), "1930~/1935~", "бл. 1930–1935", ["1930", "1935"]),
        (
            spec("1937-05-12", "1938-01-03"),
            "1937-05-12/1938-01-03",
            "12.05.1937–03.01.1938",
            ["1937-05-12", "1938-01-03"],
        ),
    ],
)
def test_renderings(value: DateSpec, edtf: str, display: str, xmp: list[str]) -> None:
    assert value.edtf == edtf
    assert value.display == display
    assert value.xmp_dates() == xmp


def test_years() -> None:
    value = spec("1937-05-12", "1941-06")
    assert (value.year_from, value.year_to) == (1937, 1941)


@pytest.mark.parametrize(
    ("start", "end"),
    [("1937-5-12", "1937-5-12"), ("12.05.1937", "12.05.1937"), ("1937", "1936"), ("0999", "0999")],
)
def test_datespec_checks_its_fields(start: str, end: str) -> None:
    with pytest.raises(ValueError):
        DateSpec(start, end)


@given(st.text(max_size=40))
def test_parse_date_arbitrary_text_gives_datespec_or_valueerror(text: str) -> None:
    try:
        result = parse_date(text)
    except ValueError:
        return
    assert isinstance(result, DateSpec)


# Text built from the pieces dates are made of finds far more edge cases than random text.
_PIECES = st.sampled_from(
    ["1937", "1930", "05", "12", "31", "02", ".", "-", "–", "/", "~", "?", "[", "]", " ",
     "бл.", "ca.", "р.", "рр.", "-ті", "s", "0", "9", "2100", "999"]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=8).map("".join))
def test_parse_date_date_like_text_gives_datespec_or_valueerror(text: str) -> None:
    try:
        result = parse_date(text)
    except ValueError:
        return
    assert parse_date(result.display) == result


@st.composite
def iso_dates(draw: st.DrawFn) -> str:
    year = draw(st.integers(MIN_YEAR, MAX_YEAR))
    precision = draw(st.sampled_from(["year", "month", "day"]))
    if precision == "year":
        return f"{year:04d}"
    month = draw(st.integers(1, 12))
    if precision == "month":
        return f"{year:04d}-{month:02d}"
    day = draw(st.integers(1, calendar.monthrange(year, month)[1]))
    return f"{year:04d}-{month:02d}-{day:02d}"


@st.composite
def date_specs(draw: st.DrawFn) -> DateSpec:
    start = draw(iso_dates())
    # Often a single date; otherwise an end in order with the start (sorted by first day).
    end = draw(st.one_of(st.just(start), iso_dates()))
    start, end = sorted((start, end))
    approximate = draw(st.booleans())
    try:
        return DateSpec(start, end, approximate)
    except ValueError:  # e.g. "1937" / "1937-05": first days ordered but last days not
        return DateSpec(start, start, approximate)


@given(date_specs())
def test_display_round_trips(value: DateSpec) -> None:
    assert parse_date(value.display) == value


@given(date_specs())
def test_edtf_round_trips(value: DateSpec) -> None:
    assert parse_date(value.edtf) == value


@given(date_specs())
def test_xmp_dates_are_the_iso_ends(value: DateSpec) -> None:
    dates = value.xmp_dates()
    assert dates[0] == value.start
    assert dates[-1] == value.end
    assert len(dates) == (1 if value.start == value.end else 2)
