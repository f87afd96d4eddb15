"""The sign `№`, which Tesseract's `ukr` model cannot write (it is not in its character set):
put back where the text shows it was meant. The model reads it as a short token of look-alike
letters (М, Ж, Ю, Й, Х, КМ, Ко, Хо, ...) before a number, or drops it after words that are
nearly always followed by one (Фонд, наказ, протокол, школа, ...). Measured on the eval set
(docs/benchmarks.md)."""

from __future__ import annotations

import re

# A token of its own, 1-3 look-alike characters (М Ж Ю Й Х Н N К first), maybe with quote or
# colon marks, or one or two letters closed by a quote mark (ї", Ії"), directly before a
# number, a fund code (Р-4102) or a register's "№ Прізвище" / "№ з/п" column header.
_LOOKS = "МмЖжЮюЙйХхНNКкИиОоOoеeСc"
_LOOKALIKE = (
    r"(?:[МЖЮЙХНNКмжю][" + _LOOKS + r"]{0,2}[\"”»:;°'.]{0,2}|[ІЇії]{1,2}[\"”»]|[\"”»]{1,2})"
)
_NUMBER = r"\d[\d./-]*(?![^\W\d_])"  # a number not glued to letters
_BEFORE = r"(?=\s*\|?\s*(?:" + _NUMBER + r"|[РПрпPR]\s?[-–]\s?\d|спр\.|з/п|Прізвище|П\.\s?І\.))"
_TOKEN = re.compile(r"(?<![\w№.,-])" + _LOOKALIKE + _BEFORE)
# Words a number follows with `№` between them in archival documents: after these, a short
# junk token before a number is the sign misread, and a missing sign is put in ...
_NUMBERED = (
    r"(?:[Фф]онд|ФОНД|[Нн]аказ|НАКАЗ|[Пп]риказ|ПРИКАЗ|[Пп]ротокол|ПРОТОКОЛ|[Рр]апорт|"
    r"[Шш]кола|[Лл]ікарня|[Вв]их\.|[Вв]х\.)"
)
# ... and after these only a junk token is taken for it (a number may follow them without one).
_NUMBERED_OFTEN = r"(?:[Зз]аписка|[Аа]кт|[Пп]еревірки)"
_WORDS = r"(?!(?:від|від\.|за|на|до|по|та|із|з|у|в|і|й|о|об|р\.)\s)"  # real words, not junk
_JUNK = re.compile(
    r"(?<![\w-])((?:" + _NUMBERED + "|" + _NUMBERED_OFTEN + r")\s+)" + _WORDS + r"[^\s\d№]{1,3}"
    r"(?=\s+(?:" + _NUMBER + r"|[РП]-\d))"
)
_MISSING = re.compile(r"(?<![\w-])(" + _NUMBERED + r")(\s+)(?=(?:" + _NUMBER + r"|[РП]-\d))")


def put_back(text: str) -> tuple[str, int]:
    """The text with its `№` signs put back, and how many."""
    text, a = _TOKEN.subn("№", text)
    text, b = _JUNK.subn(lambda m: m.group(1) + "№", text)
    text, c = _MISSING.subn(lambda m: m.group(1) + m.group(2) + "№ ", text)
    return text, a + b + c
