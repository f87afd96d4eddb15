"""Unit tests for arkhiv.search.normalize: stored-text clean-up and index-term folding."""

from __future__ import annotations

import unicodedata

import pytest

from arkhiv.search.normalize import APOSTROPHES, fold_token, normalize_text


def test_normalize_text_composes_nfd_input() -> None:
    nfd = unicodedata.normalize("NFD", "Київ, Йосип")
    assert nfd != "Київ, Йосип"
    assert normalize_text(nfd) == "Київ, Йосип"


@pytest.mark.parametrize("apostrophe", list(APOSTROPHES))
def test_normalize_text_unifies_apostrophes_inside_words(apostrophe: str) -> None:
    assert normalize_text(f"М{apostrophe}ясо і сім{apostrophe}я") == "М'ясо і сім'я"


def test_normalize_text_unifies_apostrophe_after_a_word() -> None:
    assert normalize_text("Мар’ян’ пише") == "Мар'ян' пише"


def test_normalize_text_keeps_quotation_mark_before_a_word() -> None:
    assert normalize_text("слово ‘цитата") == "слово ‘цитата"
    assert normalize_text("1941’") == "1941’"


def test_normalize_text_drops_soft_hyphen_and_stress_mark() -> None:
    assert normalize_text("ар\u00adхів за\u0301мок") == "архів замок"


def test_normalize_text_recomposes_after_dropping_a_stress_mark() -> None:
    # и + stress + breve: NFC cannot compose й past the stress mark until it is gone.
    assert normalize_text("и\u0301\u0306") == "й"


def test_normalize_text_keeps_case_and_ge() -> None:
    assert normalize_text("Ґанок ГАНОК Ужгород OCR") == "Ґанок ГАНОК Ужгород OCR"


def test_fold_token_lowercases_and_folds_ge() -> None:
    assert fold_token("Ґанок") == "ганок"
    assert fold_token("ҐРУНТ") == "грунт"


def test_fold_token_keep_ge() -> None:
    assert fold_token("Ґанок", keep_ge=True) == "ґанок"


def test_fold_token_folds_latin_lookalikes_in_cyrillic_word() -> None:
    latin = "Ужгoрoдi"  # Latin o, o, i
    assert fold_token(latin) == "ужгороді"
    assert fold_token("aceiopxyk" + "ж") == "асеіорхукж"


def test_fold_token_folds_uppercase_latin_lookalikes() -> None:
    assert fold_token("УЖГOPOД") == "ужгород"  # Latin O, P, O
    assert fold_token("AСEIOPXYKж") == "асеіорхукж"


def test_fold_token_leaves_pure_latin_words_latin() -> None:
    assert fold_token("OCR") == "ocr"
    assert fold_token("ocr-тест") == "ocr-тест"


def test_fold_token_normalizes_before_folding() -> None:
    assert fold_token("М’ЯСО") == "м'ясо"
    assert fold_token(unicodedata.normalize("NFD", "Йод")) == "йод"
    assert fold_token("ар\u00adхів") == "архів"


def test_fold_token_keeps_digits() -> None:
    assert fold_token("Р-123") == "р-123"
    assert fold_token("1941") == "1941"


@pytest.mark.parametrize("word", ["Ужгoрoдi", "М’ЯСО", "Ґанок", "ocr", "Р-123", "сім'я"])
def test_fold_token_is_idempotent(word: str) -> None:
    assert fold_token(fold_token(word)) == fold_token(word)
