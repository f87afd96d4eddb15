"""Unicode clean-up of OCR text for storage and case/script folding of index terms."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["APOSTROPHES", "fold_ref", "fold_token", "normalize_text"]

# Every character OCR engines and typists use for the Ukrainian apostrophe (м'ясо, сім’я,
# пʼять). The analyzer's tokenizer imports this so both sides agree on the set.
APOSTROPHES = "'\u2019\u02bc\u0060\u2018\u00b4\u02b9\uff07"

# Only an apostrophe that follows a letter is one; a ‘ before a word opens a quotation and
# must survive in the stored text. [^\W\d_] is "a Unicode letter" in Python's re.
_APOSTROPHE_AFTER_LETTER = re.compile(r"(?<=[^\W\d_])[" + APOSTROPHES[1:] + "]")
# A plain search is several times cheaper than sub() on the many tokens that have none.
_ANY_APOSTROPHE_VARIANT = re.compile("[" + APOSTROPHES[1:] + "]")

# Soft hyphens are invisible line-break hints and the combining acute is a stress mark
# (за́мок); neither belongs to the word, and both would split or change index terms.
_DROP = str.maketrans("", "", "\u00ad\u0301")

# Latin letters that OCR confuses with Cyrillic ones of identical shape. After lower():
# uppercase A, C, E, I, O, P, X, Y, K arrive here as their lowercase forms too.
_LATIN_TO_CYRILLIC = str.maketrans("aceiopxyk", "асеіорхук")
_GE_TO_G = str.maketrans("ґ", "г")

_HAS_LATIN_LOOKALIKE = re.compile("[aceiopxyk]")
_CYRILLIC = "\u0400-\u052f"
# A "word" for the look-alike rule: a run of letters and ASCII apostrophes, so that in a
# mixed token such as "ocr-тест" the Latin part stays Latin and only "тест" is checked.
_LETTER_RUN = re.compile(r"(?:[^\W\d_]|')+")
_HAS_CYRILLIC = re.compile(f"[{_CYRILLIC}]")


def normalize_text(s: str) -> str:
    """Return OCR text cleaned for storage: NFC, one apostrophe, no soft hyphen or stress.

    Case, ґ and every other character are kept, so the stored page reads as scanned.
    """
    s = unicodedata.normalize("NFC", s)
    if "\u00ad" in s or "\u0301" in s:
        # Compose again: dropping a mark between a letter and another mark (и + ◌́ + ◌̆)
        # can leave a decomposed pair that NFC would have merged (й).
        s = unicodedata.normalize("NFC", s.translate(_DROP))
    if _ANY_APOSTROPHE_VARIANT.search(s):
        s = _APOSTROPHE_AFTER_LETTER.sub("'", s)
    return s


def _fold_run(match: re.Match[str]) -> str:
    run = match.group(0)
    return run.translate(_LATIN_TO_CYRILLIC) if _HAS_CYRILLIC.search(run) else run


def fold_token(s: str, *, keep_ge: bool = False) -> str:
    """Return the index form of a token: normalized, lower case, look-alikes made Cyrillic.

    Latin a c e i o p x y k inside a word that also has a Cyrillic letter become their
    Cyrillic twins; pure Latin words ("ocr") are left alone. ґ becomes г unless keep_ge is
    set, which the lemmatizer uses because the dictionary tells ґанок from ганок.
    """
    s = normalize_text(s).lower()
    # Fast path: most tokens are all-Cyrillic or all-Latin and need no per-run check.
    if _HAS_LATIN_LOOKALIKE.search(s) and _HAS_CYRILLIC.search(s):
        s = _LETTER_RUN.sub(_fold_run, s)
    return s if keep_ge else s.translate(_GE_TO_G)


# Reference codes are Cyrillic, but typists reach for the Latin P, A, C... of the same shape.
_REF_LATIN = str.maketrans("aceiopxykmhtb", "асеіорхукмнтв")
_REF_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015.]+")


def fold_ref(s: str) -> str:
    """Return the index form of a reference part (фонд, опис, справа, archive code): NFC, lower
    case, Latin look-alikes made Cyrillic, spaces, hyphens and dots dropped, so that `P-123`,
    `р123` and `Р-123` are one term. Two different codes never fold to one: the folded
    characters are only separators and letter shapes."""
    s = unicodedata.normalize("NFC", s).casefold().translate(_REF_LATIN)
    return _REF_SEPARATORS.sub("", s)
