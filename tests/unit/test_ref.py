"""Archival reference codes: normalization, citations both ways, leaves and scan file names."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from arkhiv.metadata.ref import (
    ArchivalRef,
    CitationStyle,
    Leaf,
    leaf_from_filename,
    normalize_fond,
    normalize_opys,
    normalize_sprava,
    normalize_volume,
    parse_citation,
    parse_leaf,
)

NORMALIZERS: list[Callable[[str], str]] = [
    normalize_fond,
    normalize_opys,
    normalize_sprava,
    normalize_volume,
]
LOWER = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
LETTERS = LOWER + LOWER.upper()
# Characters citations are made of, so random text often gets past the first checks.
CITATION_CHARS = "фопсркзвтдлмФОПСРКЗВТДЛ.,;:_/-– 0123456789PpfIVXІХаіїʼ'\"«»\u00a0"


# --- strategies producing normalized parts -------------------------------------------------

numbers = st.integers(min_value=1, max_value=99_999).map(str)
suffixes = st.text(alphabet=LOWER, max_size=2)
fonds = st.builds(lambda p, n, s: p + n + s, st.sampled_from(["", "Р-", "П-"]), numbers, suffixes)
opyses = st.builds(lambda n, s: n + s, numbers, suffixes)
spravas = st.builds(
    lambda n, sub, s: n + (f"/{sub}" if sub else "") + s,
    numbers,
    st.none() | numbers,
    suffixes,
)


def _is_normalized_archive(text: str) -> bool:
    try:
        return ArchivalRef(archive=text).archive == text
    except ValueError:
        return False


archive_words = st.text(alphabet=LETTERS + "ʼ'-.«»0123456789", min_size=1, max_size=8)
archives = (
    st.lists(archive_words, min_size=1, max_size=4).map(" ".join).filter(_is_normalized_archive)
)
refs = st.builds(
    ArchivalRef,
    archive=st.none() | archives,
    fond=st.none() | fonds,
    opys=st.none() | opyses,
    sprava=st.none() | spravas,
    volume=st.none() | numbers,
)
leaves = st.none() | st.builds(Leaf, st.integers(min_value=1, max_value=9999), st.booleans())

# Citations typed every which way, parts in order (with some bad values), for the properties.
PART_VARIANTS = {
    "fond": (["ф.", "ф ", "Ф.", "фонд ", "f.", "ФОНД "], ["Р-123", "р123", "P-1", "П–45", "0123а"]),
    "opys": (["оп.", "оп ", "Оп.", "опис ", "op."], ["4", "1 а", "004", "2b"]),
    "sprava": (
        ["спр.", "Спр. ", "справа ", "д.", "дело ", "spr."],
        ["56", "56а", "12 / 03", "5/0"],
    ),
    "volume": (["т.", "Т. ", "том ", "t."], ["2", "II", "ХІV", "XXI"]),
    "arkush": (["арк.", "Арк. ", "аркуш ", "л.", "лист ", "ark."], ["7", "7 зв.", "7об", "7-9"]),
}
ordered_citations = st.builds(
    lambda archive, parts, sep: sep.join(p for p in [archive, *parts] if p),
    st.sampled_from(["", "ДАЗО", "ЦДАВО України", "Сопошнянський оп архів", "ДА м. Києва"]),
    st.tuples(
        *(
            st.none() | st.builds(str.__add__, st.sampled_from(m), st.sampled_from(v))
            for m, v in PART_VARIANTS.values()
        )
    ),
    st.sampled_from([", ", ". ", "; ", " ", ",", ".", "_"]),
)
# Pieces of citations shuffled together: repeats, wrong order, markers without values.
CITATION_TOKENS = [
    *("ДАЗО", "ЦДАВО України", "Сопошнянський", "м.", "ʼ", "«", "1", "0", "P", "X", "зв"),
    *(", ", ". ", "; ", " ", ".", "_", "-", "/"),
    *(m for markers, _ in PART_VARIANTS.values() for m in markers),
    *(v for _, values in PART_VARIANTS.values() for v in values),
]
citation_texts = (
    st.text(alphabet=CITATION_CHARS)
    | ordered_citations
    | st.lists(st.sampled_from(CITATION_TOKENS), max_size=14).map("".join)
)


# --- properties ----------------------------------------------------------------------------


@given(refs, leaves, st.sampled_from(CitationStyle))
@example(
    ArchivalRef("ЦДАВО України", "Р-123а", "1а", "12/3є", "2"), Leaf(7, True), CitationStyle.LEGEND
)
@example(ArchivalRef("Архів Запоріжжя ґʼїє"), None, CitationStyle.BIBLIO)
@example(ArchivalRef(), Leaf(1), CitationStyle.BIBLIO)
def test_citation_round_trip(ref: ArchivalRef, leaf: Leaf | None, style: CitationStyle) -> None:
    text = ref.citation(leaf, style)
    if ref.is_empty() and leaf is None:
        assert text == ""
        return
    assert parse_citation(text) == (ref, leaf)


@given(refs)
def test_constructor_keeps_normalized_parts(ref: ArchivalRef) -> None:
    assert ArchivalRef(**ref.parts()) == ref


# Loosely typed values: "р 0123а.", " 12 / 03 ", "ІХ", and near misses.
loose_numbers = st.builds(
    lambda *parts: "".join(parts),
    st.sampled_from(["", "", "", " ", "Р-", "р", "P ", "П–", "p - ", "-"]),
    st.sampled_from(["", "0", "00"]),
    st.integers(min_value=0, max_value=999).map(str),
    st.sampled_from(["", "", "", "/3", " / 03", "/0", "/"]),
    st.sampled_from(["", "", "а", " Б", "-в", "e", "аб", "abc", "x"]),
    st.sampled_from(["", ".", " ,", "  ", ";"]),
)
loose_values = (
    loose_numbers
    | st.text(alphabet="0123456789 -–/РПрпPpабвАaeIVXІХ.,", max_size=12)
    | st.sampled_from(["II", "iv", "ХІV", "XX", "XXI", " ix. ", "IIII", "VX"])
)


@pytest.mark.parametrize("normalize", NORMALIZERS)
@given(text=loose_values)
def test_normalizers_are_idempotent(normalize: Callable[[str], str], text: str) -> None:
    try:
        once = normalize(text)
    except ValueError:
        return
    assert normalize(once) == once


@pytest.mark.parametrize(
    ("normalize", "values"),
    [
        (normalize_fond, fonds),
        (normalize_opys, opyses),
        (normalize_sprava, spravas),
        (normalize_volume, numbers),
    ],
)
@given(data=st.data())
def test_normalized_values_are_fixed_points(
    normalize: Callable[[str], str], values: st.SearchStrategy[str], data: st.DataObject
) -> None:
    value = data.draw(values)
    assert normalize(value) == value


def _total(func: Callable[[str], object], text: str) -> None:
    try:
        func(text)
    except ValueError as e:
        assert str(e)  # every message says something


@given(st.text() | citation_texts)
def test_parsers_raise_only_value_error(text: str) -> None:
    for func in [*NORMALIZERS, parse_citation, parse_leaf, lambda t: ArchivalRef(archive=t)]:
        _total(func, text)
    assert leaf_from_filename(text) is None or isinstance(leaf_from_filename(text), Leaf)


@given(citation_texts)
def test_parsed_citation_prints_back_to_an_equal_reference(text: str) -> None:
    try:
        ref, leaf = parse_citation(text)
    except ValueError:
        return
    for style in CitationStyle:
        if not (ref.is_empty() and leaf is None):
            assert parse_citation(ref.citation(leaf, style)) == (ref, leaf)


# --- real-looking citations ----------------------------------------------------------------

CANONICAL = [
    ("ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 7 зв.", "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 7 зв."),
    (
        "ДАЗО. Ф. Р-123. Оп. 4. Спр. 56. Т. 2. Арк. 7 зв.",
        "ДАЗО, ф. Р-123, оп. 4, спр. 56, т. 2, арк. 7 зв.",
    ),
    ("ДАЗО,ф.Р-123,оп.4,спр.56,арк.7зв.", "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 7 зв."),
    ("ДАЗО, ф. P-123, оп. 4, спр. 56", "ДАЗО, ф. Р-123, оп. 4, спр. 56"),  # Latin P
    ("ДАЗО, ф. p123, оп. 4", "ДАЗО, ф. Р-123, оп. 4"),
    ("ДАЗО, ф. Р123, оп. 4", "ДАЗО, ф. Р-123, оп. 4"),
    ("ДАЗО, ф. р-123", "ДАЗО, ф. Р-123"),
    ("ДАЗО, ф. Р–123", "ДАЗО, ф. Р-123"),  # en dash
    ("ДАЗО, ф. Р 123", "ДАЗО, ф. Р-123"),
    ("ДАЗО, ф. п-45, оп. 1а, спр. 12/3", "ДАЗО, ф. П-45, оп. 1а, спр. 12/3"),
    ("ДАЗО, ф. 0123, оп. 004, спр. 0056", "ДАЗО, ф. 123, оп. 4, спр. 56"),
    (
        "ДАЗО, фонд Р-123, опис 4, справа 56, том 2, аркуш 7 зворот",
        "ДАЗО, ф. Р-123, оп. 4, спр. 56, т. 2, арк. 7 зв.",
    ),
    ("ДАЗО, ф. Р-123, оп. 4, д. 56, л. 7 об.", "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 7 зв."),
    ("ДАЗО, ф. Р-123, оп. 4, дело 56, лист 7 оборот", "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 7 зв."),
    ("ДАЗО, ф. Р-123, оп. 4, д. 56, л. 7об.", "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 7 зв."),
    ("DAZO f. P-123, op. 4, spr. 56, ark. 7 zv.", "DAZO, ф. Р-123, оп. 4, спр. 56, арк. 7 зв."),
    ("ДАЗО, Ф. Р-123, ОП. 4, СПР. 56, АРК. 7 ЗВ.", "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 7 зв."),
    ("ДАЗО, ф. Р-123, оп. 4, спр. 56, т. II", "ДАЗО, ф. Р-123, оп. 4, спр. 56, т. 2"),
    (
        "ДАЗО, ф. Р-123, оп. 4, спр. 56, т. ХІV",
        "ДАЗО, ф. Р-123, оп. 4, спр. 56, т. 14",
    ),  # Cyrillic Х, І
    ("ДАЗО; ф. Р-123; оп. 4; спр. 56; арк. 7", "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 7"),
    ("ДАЗО ф. Р-123 оп. 4 спр. 56 арк. 7", "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 7"),
    ("ДАЗО ф Р-123 оп 4 спр 56 т 2 арк 7 зв", "ДАЗО, ф. Р-123, оп. 4, спр. 56, т. 2, арк. 7 зв."),
    ("ДАЗО_ф.Р-123_оп.4_спр.56", "ДАЗО, ф. Р-123, оп. 4, спр. 56"),  # a folder name
    ("ДАЗО, ф. Р-123, оп. 4, спр. 56 а", "ДАЗО, ф. Р-123, оп. 4, спр. 56а"),
    ("ДАЗО, ф. Р-123, оп. 4, спр. 56a", "ДАЗО, ф. Р-123, оп. 4, спр. 56а"),  # Latin a
    ("ДАЗО, ф. Р-123, оп. 4, спр. 56-Б", "ДАЗО, ф. Р-123, оп. 4, спр. 56б"),
    ("ДАЗО, ф. Р-123, оп. 1 а", "ДАЗО, ф. Р-123, оп. 1а"),
    ("ЦДАВО України, ф. 1, оп. 2, спр. 3", "ЦДАВО України, ф. 1, оп. 2, спр. 3"),
    ("  ЦДАВО   України ,  ф.  1 . ", "ЦДАВО України, ф. 1"),
    ("ДА м. Києва, ф. 1", "ДА м. Києва, ф. 1"),
    ("Сопошнянський оп архів, оп. 3", "Сопошнянський оп архів, оп. 3"),  # "оп" inside a name
    ("Архів «Опис» Копилова, ф. 2", "Архів «Опис» Копилова, ф. 2"),
    ("ф. Р-123, оп. 4, спр. 56", "ф. Р-123, оп. 4, спр. 56"),
    ("арк. 7", "арк. 7"),
    ("ДАЗО", "ДАЗО"),
    ("ДАЗО.", "ДАЗО"),
    ("ДАЗО, арк. 007 зв.", "ДАЗО, арк. 7 зв."),
    ("ДАЗО, ф. Р-123а, спр. 12/3", "ДАЗО, ф. Р-123а, спр. 12/3"),
    ("ДАЗО, ф.\u00a0Р-123, оп.\u00a04", "ДАЗО, ф. Р-123, оп. 4"),  # no-break spaces
]


@pytest.mark.parametrize(("text", "canonical"), CANONICAL)
def test_parse_citation_variants(text: str, canonical: str) -> None:
    ref, leaf = parse_citation(text)
    assert ref.citation(leaf) == canonical


def test_parse_citation_parts() -> None:
    assert parse_citation("ДАЗО. Ф. Р-123. Оп. 4. Спр. 56. Т. 2. Арк. 7 зв.") == (
        ArchivalRef("ДАЗО", "Р-123", "4", "56", "2"),
        Leaf(7, verso=True),
    )
    assert parse_citation("ДАЗО") == (ArchivalRef(archive="ДАЗО"), None)
    assert parse_citation("спр. 56") == (ArchivalRef(sprava="56"), None)


def test_parse_citation_decomposed_input_is_composed() -> None:
    ref, _ = parse_citation("Архів Київщини, ф. 1".replace("ї", "і\u0308"))
    assert ref.archive == "Архів Київщини"


MALFORMED = [
    ("", "bad citation ''"),
    ("  ,.; ", "bad citation"),
    ("123", "bad archive '123'"),
    ("ДАЗО, ф. X-1", "bad fond 'X-1': expected digits with an optional prefix Р- or П-"),
    ("ДАЗО, ф. Д-5", "bad fond 'Д-5'"),
    ("ДАЗО, ф. 0", "bad fond '0'"),
    ("ДАЗО, ф. 1, оп. 4abc", "bad opys '4abc'"),
    ("ДАЗО, ф. 1, спр. 12/0", "bad sprava '12/0'"),
    ("ДАЗО, ф. 1, спр. 12/", "bad sprava '12/'"),
    ("ДАЗО, ф. 1, спр. 5, т. XXI", "bad volume 'XXI'"),
    ("ДАЗО, ф. 1, спр. 5, т. 2а", "bad volume '2а'"),
    ("ДАЗО, ф. 1, арк. 7-9", "bad arkush '7-9': a leaf range; cite one leaf"),
    ("ДАЗО, ф. 1, арк. 7 зв.–8", "bad arkush '7 зв.–8': a leaf range"),
    ("ДАЗО, ф. 1, арк. 0", "bad arkush '0'"),
    ("ДАЗО, ф. 1, арк. 7, 8", "bad arkush '7, 8'"),
    ("ДАЗО, ф. 1, арк. сім", "bad arkush 'сім'"),
    ("ДАЗО, оп. 4, ф. 1", "fond 'ф' after opys: expected the order fond, opys, sprava"),
    ("ДАЗО, ф. 1, арк. 2, спр. 3", "sprava 'спр' after arkush"),
    ("ДАЗО, ф. 1, фонд 2", "repeated fond 'фонд'"),
    ("ДАЗО, ф. 1, спр. 2, д. 3", "repeated sprava 'д'"),
    ("ДАЗО, ф X-1", "bad archive 'ДАЗО, ф X-1': expected letters"),
    ("ДАЗО ф. , оп. 1", "bad archive 'ДАЗО ф': contains the marker 'ф'"),
    ("ДАЗО/ЦДАВО, ф. 1", "bad archive 'ДАЗО/ЦДАВО'"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED)
def test_parse_citation_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_citation(text)
    assert str(info.value).startswith(message)


# --- the normalizers on their own ----------------------------------------------------------


@pytest.mark.parametrize(
    ("normalize", "text", "expected"),
    [
        (normalize_fond, "Р-123", "Р-123"),
        (normalize_fond, "P-123", "Р-123"),
        (normalize_fond, " р 0123. ", "Р-123"),
        (normalize_fond, "П45", "П-45"),
        (normalize_fond, "Р-123А", "Р-123а"),
        (normalize_fond, "Р−123 аб", "Р-123аб"),  # minus sign
        (normalize_fond, "123", "123"),
        (normalize_opys, "1 а", "1а"),
        (normalize_opys, "004", "4"),
        (normalize_opys, "2-Б", "2б"),
        (normalize_sprava, "056", "56"),
        (normalize_sprava, "12 / 03", "12/3"),
        (normalize_sprava, "56 А", "56а"),
        (normalize_sprava, "56e", "56е"),
        (normalize_sprava, "56oc", "56ос"),
        (normalize_sprava, "7i", "7і"),
        (normalize_sprava, "12/3а", "12/3а"),
        (normalize_volume, "02", "2"),
        (normalize_volume, "iv", "4"),
        (normalize_volume, "XX", "20"),
        (normalize_volume, "IX.", "9"),
        (normalize_volume, "ІІІ", "3"),  # Cyrillic І
    ],
)
def test_normalizers(normalize: Callable[[str], str], text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("normalize", "text", "message"),
    [
        (normalize_fond, "", "bad fond '': expected digits"),
        (normalize_fond, "Р-", "bad fond 'Р-'"),
        (normalize_fond, "-123", "bad fond '-123'"),
        (normalize_fond, "Р-0", "bad fond 'Р-0'"),
        (normalize_fond, "Р-123абв", "bad fond 'Р-123абв'"),
        (normalize_fond, "Р-12x", "bad fond 'Р-12x'"),
        (normalize_fond, "١٢٣", "bad fond '١٢٣'"),  # digits, but not 0-9
        (normalize_opys, "1/2", "bad opys '1/2': expected digits with an optional letter"),
        (normalize_sprava, "56/а", "bad sprava '56/а'"),
        (normalize_volume, "IIII", "bad volume 'IIII': expected digits or a Roman numeral"),
        (normalize_volume, "0", "bad volume '0'"),
    ],
)
def test_normalizer_errors(normalize: Callable[[str], str], text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        normalize(text)
    assert str(info.value).startswith(message)


# --- ArchivalRef -----------------------------------------------------------------------------


def test_ref_constructor_normalizes_and_blank_is_unset() -> None:
    ref = ArchivalRef(archive=" ЦДАВО \n України ", fond="p 0123", opys="", sprava="56 A")
    assert ref == ArchivalRef("ЦДАВО України", "Р-123", None, "56а", None)
    assert ref.parts() == {"archive": "ЦДАВО України", "fond": "Р-123", "sprava": "56а"}


def test_ref_constructor_rejects_bad_parts() -> None:
    with pytest.raises(ValueError, match=r"^bad fond 'X-1'"):
        ArchivalRef(fond="X-1")
    with pytest.raises(ValueError, match=r"^bad archive 'ДАЗО, ф'"):
        ArchivalRef(archive="ДАЗО, ф")
    with pytest.raises(ValueError, match=r"contains the marker 'т'"):
        ArchivalRef(archive="Архів т")  # "Архів т. Ф. 1." would read т. as the volume


def test_ref_is_empty_parts_merged() -> None:
    assert ArchivalRef().is_empty()
    assert ArchivalRef().parts() == {}
    assert not ArchivalRef(volume="1").is_empty()
    base = ArchivalRef("ДАЗО", "Р-123", "4", "56")
    assert base.merged(ArchivalRef(sprava="57", volume="2")) == ArchivalRef(
        "ДАЗО", "Р-123", "4", "57", "2"
    )
    assert base.merged(ArchivalRef()) == base
    assert ArchivalRef().merged(base) == base


def test_citation_styles() -> None:
    ref = ArchivalRef("ДАЗО", "Р-123", "4", "56", "2")
    leaf = Leaf(7, verso=True)
    assert ref.citation(leaf) == "ДАЗО, ф. Р-123, оп. 4, спр. 56, т. 2, арк. 7 зв."
    assert ref.citation(leaf, CitationStyle.BIBLIO) == (
        "ДАЗО. Ф. Р-123. Оп. 4. Спр. 56. Т. 2. Арк. 7 зв."
    )
    assert ref.citation() == "ДАЗО, ф. Р-123, оп. 4, спр. 56, т. 2"
    assert ref.citation(style=CitationStyle.BIBLIO) == "ДАЗО. Ф. Р-123. Оп. 4. Спр. 56. Т. 2."
    assert ArchivalRef(fond="1", sprava="3").citation(Leaf(2), CitationStyle.BIBLIO) == (
        "Ф. 1. Спр. 3. Арк. 2."
    )
    assert ArchivalRef().citation() == ""
    assert ArchivalRef().citation(style=CitationStyle.BIBLIO) == ""
    assert ArchivalRef(archive="ДАЗО").citation(style=CitationStyle.BIBLIO) == "ДАЗО."


# --- leaves ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", Leaf(7)),
        ("007", Leaf(7)),
        ("7 зв.", Leaf(7, True)),
        ("7зв", Leaf(7, True)),
        ("7 зв", Leaf(7, True)),
        ("7 ЗВ.", Leaf(7, True)),
        ("7 зворот", Leaf(7, True)),
        ("7 об.", Leaf(7, True)),
        ("7об", Leaf(7, True)),
        ("7 оборот", Leaf(7, True)),
        ("7v", Leaf(7, True)),
        ("7 verso", Leaf(7, True)),
        ("7 zv.", Leaf(7, True)),
        (" 12 ", Leaf(12)),
    ],
)
def test_parse_leaf(text: str, expected: Leaf) -> None:
    assert parse_leaf(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "bad arkush '': expected a leaf number"),
        ("0", "bad arkush '0'"),
        ("зв.", "bad arkush 'зв'"),
        ("7 р", "bad arkush '7 р'"),
        ("7-9", "bad arkush '7-9': a leaf range; cite one leaf"),
        ("7–9", "bad arkush '7–9': a leaf range"),
        ("1" * 40, "bad arkush '111"),
    ],
)
def test_parse_leaf_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_leaf(text)
    assert str(info.value).startswith(message)


def test_leaf_str_order_and_range() -> None:
    assert str(Leaf(7)) == "7"
    assert str(Leaf(7, verso=True)) == "7 зв."
    assert sorted([Leaf(8), Leaf(7, True), Leaf(7)]) == [Leaf(7), Leaf(7, True), Leaf(8)]
    with pytest.raises(ValueError, match=r"^bad arkush 0: expected a leaf number of 1 or more"):
        Leaf(0)


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("0007", Leaf(7)),
        ("7", Leaf(7)),
        ("0007zv", Leaf(7, True)),
        ("0007ZV", Leaf(7, True)),
        ("0007зв", Leaf(7, True)),
        ("0007_зв", Leaf(7, True)),
        ("0007-zv", Leaf(7, True)),
        ("0007v", Leaf(7, True)),
        ("0007об", Leaf(7, True)),
        ("0007 зворот", Leaf(7, True)),
        ("0007r", Leaf(7)),
        ("0007_recto", Leaf(7)),
        ("арк_0007", Leaf(7)),
        ("арк_0007_зв", Leaf(7, True)),
        ("ark-12", Leaf(12)),
        ("scan", None),
        ("0000", None),
        ("", None),
        ("IMG_0007", None),
        ("0007a", None),
        ("0007-0008", None),
        ("1" * 40, None),
    ],
)
def test_leaf_from_filename(stem: str, expected: Leaf | None) -> None:
    assert leaf_from_filename(stem) == expected
