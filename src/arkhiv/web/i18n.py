"""The web page's words in Ukrainian (the default) and English."""

from __future__ import annotations

LANGUAGES = ("uk", "en")

STRINGS: dict[str, dict[str, str]] = {
    "title": {"uk": "Пошук в архіві", "en": "Archive search"},
    "query_label": {"uk": "Слова для пошуку", "en": "Words to search for"},
    "query_placeholder": {
        "uk": "наприклад: трудова книжка 1937",
        "en": "e.g. трудова книжка 1937",
    },
    "search": {"uk": "Шукати", "en": "Search"},
    "fuzzy": {"uk": "Нечіткий пошук (помилки розпізнавання)", "en": "Fuzzy (OCR errors)"},
    "filters": {"uk": "Уточнити", "en": "Filters"},
    "repository": {"uk": "Архів", "en": "Archive"},
    "fond": {"uk": "Фонд", "en": "Fond"},
    "opys": {"uk": "Опис", "en": "Opys"},
    "sprava": {"uk": "Справа", "en": "Sprava"},
    "any": {"uk": "усі", "en": "any"},
    "years": {"uk": "Роки", "en": "Years"},
    "year_from": {"uk": "з", "en": "from"},
    "year_to": {"uk": "по", "en": "to"},
    "found": {"uk": "Знайдено сторінок: {n}", "en": "{n} page(s) found"},
    "nothing": {"uk": "Нічого не знайдено.", "en": "Nothing found."},
    "did_you_mean": {"uk": "Можливо, ви мали на увазі:", "en": "Did you mean:"},
    "try_fuzzy": {"uk": "Спробувати нечіткий пошук", "en": "Try a fuzzy search"},
    "empty_archive": {
        "uk": "В архіві ще немає сторінок для пошуку.",
        "en": "The archive has no searchable pages yet.",
    },
    "hint": {
        "uk": "Слова знаходяться в будь-якій формі: «рік» знайде «року». Фразу беріть у лапки.",
        "en": "Words match in any form: «рік» finds «року». Quote a phrase.",
    },
    "page": {"uk": "сторінка", "en": "page"},
    "leaf": {"uk": "арк.", "en": "leaf"},
    "score": {"uk": "релевантність", "en": "score"},
    "prev": {"uk": "← Попередні", "en": "← Previous"},
    "next": {"uk": "Наступні →", "en": "Next →"},
    "page_of": {"uk": "Сторінка {page} з {pages}", "en": "Page {page} of {pages}"},
    "back": {"uk": "← До результатів", "en": "← Back to results"},
    "download_pdf": {"uk": "Завантажити PDF", "en": "Download the PDF"},
    "open_pdf": {"uk": "Відкрити PDF на цій сторінці", "en": "Open the PDF at this page"},
    "pages": {"uk": "Сторінки", "en": "Pages"},
    "metadata": {"uk": "Опис справи", "en": "Description"},
    "citation": {"uk": "Архівний шифр", "en": "Reference"},
    "doc_title": {"uk": "Заголовок", "en": "Title"},
    "date": {"uk": "Дата", "en": "Date"},
    "creator": {"uk": "Фондоутворювач", "en": "Creator"},
    "language": {"uk": "Мова", "en": "Language"},
    "subject": {"uk": "Тематика", "en": "Subjects"},
    "description": {"uk": "Анотація", "en": "Description"},
    "leaves": {"uk": "Кількість аркушів", "en": "Leaves"},
    "access": {"uk": "Доступ", "en": "Access"},
    "restricted": {"uk": "обмежений", "en": "restricted"},
    "open": {"uk": "відкритий", "en": "open"},
    "no_text": {"uk": "(текст не розпізнано)", "en": "(no text recognized)"},
    "failed_page": {"uk": "Сторінку не вдалося розпізнати", "en": "This page could not be read"},
    "not_found": {"uk": "Такої справи або сторінки немає.", "en": "No such document or page."},
    "bad_query": {"uk": "Запит не зрозумілий", "en": "The query cannot be understood"},
    "too_long": {
        "uk": "запит задовгий: {n} символів, можна не більше {max}",
        "en": "the query is too long: {n} characters, at most {max}",
    },
    "bad_year": {
        "uk": "рік — це чотири цифри, від 1000 до 2100",
        "en": "a year is four digits, 1000 to 2100",
    },
    "login": {"uk": "Увійти", "en": "Sign in"},
    "signed_in_as": {"uk": "Ви увійшли як {name}", "en": "Signed in as {name}"},
    "review_link": {"uk": "На перевірку", "en": "To review"},
    "review_title": {
        "uk": "Сторінки, текст яких треба перевірити",
        "en": "Pages whose text needs checking",
    },
    "review_intro": {
        "uk": "Розпізнавання могло пропустити частину тексту цих сторінок. Перевірте скан; "
        "коли перевірено: arkhiv review --resolve.",
        "en": "The OCR may have missed part of the text of these pages. Check the scan; "
        "when checked: arkhiv review --resolve.",
    },
    "review_none": {"uk": "Усі сторінки розпізнано повністю.", "en": "No page needs review."},
    "confidence": {"uk": "впевненість", "en": "confidence"},
    "language_switch": {"uk": "English", "en": "Українська"},
    "restricted_note": {
        "uk": "Документи з обмеженим доступом показано лише користувачам з дозволом.",
        "en": "Restricted documents are shown only to users allowed to see them.",
    },
    "server_error": {"uk": "Помилка сервера", "en": "Server error"},
}


def translator(lang: str) -> dict[str, str]:
    """All strings in one language (Ukrainian for an unknown one)."""
    lang = lang if lang in LANGUAGES else "uk"
    return {key: values[lang] for key, values in STRINGS.items()}
