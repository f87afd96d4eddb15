"""The completeness check without Tesseract: synthetic pages of known lines, "read" by word
boxes we know, some lines left out; borders, skew, split rows; the choice and the flags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from arkhiv.pipeline.page import ink
from arkhiv.pipeline.page.assess import Assessment, assess
from arkhiv.pipeline.page.flags import review_reasons
from arkhiv.pipeline.page.geometry import Transform
from arkhiv.pipeline.page.numero import put_back
from arkhiv.pipeline.page.reading import Line, Reading, Word
from arkhiv.pipeline.page.recover import _choose

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
DPI = 200
LINES = [
    "Протокол засідання виконавчого комітету міської ради",
    "Слухали: про стан архівної справи в області та району",
    "Ухвалили: забезпечити збереження документів фонду",
    "Голова комітету підписав наказ про призначення",
    "Секретар зачитала список присутніх на засіданні",
    "Архівні дані передано до державного архіву області",
    "Їхні прізвища внесено до реєстру та опису справи",
    "Ґрунтовний звіт подано в установлений строк року",
]


def _page(lines: list[str] = LINES, border: bool = False) -> tuple[np.ndarray, list[list[Word]]]:
    """A white page with the lines drawn in 12 pt type, and each line's words with their boxes
    (what a perfect reading would find)."""
    if not FONT.is_file():
        pytest.skip("DejaVu fonts are not installed (scripts/setup.sh installs them)")
    font = ImageFont.truetype(str(FONT), size=round(12 / 72 * DPI))
    im = Image.new("L", (1650, 2300), 255)
    draw = ImageDraw.Draw(im)
    words_by_line: list[list[Word]] = []
    y = 200
    for i, text in enumerate(lines):
        x, words = 150, []
        for word in text.split():
            x0, y0, x1, y1 = draw.textbbox((x, y), word, font=font)
            draw.text((x, y), word, font=font, fill=0)
            words.append(Word(word, (x0, y0, x1, y1), 92.0, i))
            x = x1 + font.size // 3
        words_by_line.append(words)
        y += round(font.size * 1.8)
    if border:
        draw.rectangle((0, 0, 70, 2299), fill=20)  # a dark scan border down the left side
    return np.asarray(im, dtype=np.uint8).copy(), words_by_line


def _reading(
    words_by_line: list[list[Word]], keep: list[int], blocks: list[int] | None = None
) -> Reading:
    """A reading that found only the lines numbered in `keep`."""
    words = [w for i in keep for w in words_by_line[i]]
    lines = []
    for n, i in enumerate(keep):
        ws = words_by_line[i]
        box = (ws[0].box[0], min(w.box[1] for w in ws), ws[-1].box[2], max(w.box[3] for w in ws))
        lines.append(Line(box, blocks[n] if blocks else 0, 0.0, 0))
    renumbered = tuple(Word(w.text, w.box, w.confidence, keep.index(w.line)) for w in words)
    return Reading("original", 1, Transform((1650, 2300)), renumbered, tuple(lines), "", None, 0.0)


def _assess(gray: np.ndarray, reading: Reading) -> Assessment:
    marks = ink.letters(gray, DPI, ink.border_mask(gray))
    return assess(marks, reading, Transform((1650, 2300)))


def test_a_complete_reading_leaves_no_ink_unread() -> None:
    gray, words = _page()
    a = _assess(gray, _reading(words, list(range(len(LINES)))))
    assert a.unread < 0.01 and a.split == 0.0 and a.words == sum(len(w) for w in words)


@pytest.mark.parametrize("missing", [[7], [0, 1, 2, 3], [1, 3, 5, 7], list(range(1, 8))])
def test_missing_lines_are_measured_as_unread_ink(missing: list[int]) -> None:
    gray, words = _page()
    keep = [i for i in range(len(LINES)) if i not in missing]
    a = _assess(gray, _reading(words, keep))
    letters = [sum(len(w.text) for w in words[i]) for i in range(len(LINES))]
    truth = sum(letters[i] for i in missing) / sum(letters)
    assert a.unread == pytest.approx(truth, abs=0.06)


@pytest.mark.parametrize("missing", [[], [2], [0, 5, 7]])
def test_text_rows_found_against_rows_read(missing: list[int]) -> None:
    gray, words = _page()
    keep = [i for i in range(len(LINES)) if i not in missing]
    a = _assess(gray, _reading(words, keep))
    assert (a.rows, a.rows_read) == (len(LINES), len(LINES) - len(missing))


def test_nothing_read_on_an_inked_page_is_flagged() -> None:
    gray, words = _page()
    a = _assess(gray, _reading(words, []))
    assert a.unread == 1.0 and a.words == 0
    assert review_reasons(a) == ("no-text-on-inked-page",)


def test_half_the_page_missed_is_flagged_with_its_share() -> None:
    gray, words = _page()
    a = _assess(gray, _reading(words, [0, 1, 2, 3]))
    (reason,) = review_reasons(a)
    assert reason.startswith("text-missed: ") and reason.endswith("% of the ink unread")
    assert 40 <= int(reason.split()[1].rstrip("%")) <= 60


def test_a_dark_border_is_not_ink_left_unread() -> None:
    gray, words = _page(border=True)
    mask = ink.border_mask(gray)
    assert mask[:, :60].mean() > 0.95 and mask[:, 200:].mean() == 0.0
    a = _assess(gray, _reading(words, list(range(len(LINES)))))
    assert a.unread < 0.01
    assert (ink.mask_border(gray, mask)[:, :60] == 255).all()


def test_light_falling_off_to_one_side_is_not_a_border() -> None:
    """A page lit unevenly (down to 30% at its left edge) keeps its text: no border is masked."""
    gray, words = _page()
    light = np.linspace(0.3, 1.0, gray.shape[1])[None, :]
    dim = (gray.astype(float) * light).astype(np.uint8)
    assert not ink.border_mask(dim).any()
    assert _assess(dim, _reading(words, list(range(len(LINES))))).unread < 0.01


@pytest.mark.parametrize("degrees", [-2.5, 1.2, 3.0])
def test_skew_is_found_from_the_letters(degrees: float) -> None:
    gray, _ = _page()
    turned = Transform((1650, 2300), 0, -degrees).apply(gray)  # skew the page by `degrees`
    angle, vertical = ink.skew(ink.letters(turned, DPI))
    assert not vertical and angle == pytest.approx(degrees, abs=0.2)


def test_a_quarter_turned_page_has_vertical_lines() -> None:
    gray, _ = _page()
    _, vertical = ink.skew(ink.letters(np.ascontiguousarray(np.rot90(gray)), DPI))
    assert vertical


def test_rows_read_as_two_blocks_side_by_side_are_a_split_layout() -> None:
    """The first word of every line in a block of its own, the rest in another: the words are
    all there, but in the wrong order."""
    gray, words = _page()
    heads = [[w] for w in (ws[0] for ws in words)]
    tails = [ws[1:] for ws in words]
    split = heads + tails
    for i, ws in enumerate(split):
        split[i] = [Word(w.text, w.box, w.confidence, i) for w in ws]
    reading = _reading(split, list(range(len(split))), [0] * len(heads) + [1] * len(tails))
    a = _assess(gray, reading)
    assert a.unread < 0.01 and a.split > 0.9
    assert any(r.startswith("layout-split") for r in review_reasons(a))


def _candidate(unread: float, confidence: float, strategy: str, split: float = 0.0) -> tuple:
    a = Assessment(unread, unread, split, 0, False, 500, confidence, 100)
    r = Reading(strategy, 1, Transform((10, 10)), (), (), "", None, 0.0)
    return r, a


def test_coverage_beats_confidence() -> None:
    """The reading that kept the few words it read with high confidence loses to the one that
    read the page (the fault seen on real pages: 43 of 250 words at confidence 95.5)."""
    first = _candidate(0.81, 95.5, "original")
    straightened = _candidate(0.01, 91.0, "straightened")
    assert _choose([first, straightened])[0].strategy == "straightened"


def test_among_complete_readings_confidence_decides() -> None:
    a, b = _candidate(0.01, 88.0, "a"), _candidate(0.02, 93.0, "b")
    assert _choose([a, b])[0].strategy == "b"


def test_a_reading_below_acceptable_confidence_does_not_win_on_coverage() -> None:
    garbage = _candidate(0.0, 35.0, "garbage")
    fair = _candidate(0.20, 85.0, "fair")
    assert _choose([garbage, fair])[0].strategy == "fair"


def test_a_split_layout_loses_to_one_in_order() -> None:
    split = _candidate(0.0, 95.0, "split", split=0.9)
    ordered = _candidate(0.01, 90.0, "ordered")
    assert _choose([split, ordered])[0].strategy == "ordered"


def test_a_good_page_has_no_reasons() -> None:
    assert review_reasons(Assessment(0.01, 0.01, 0.0, 0, False, 900, 93.0, 180)) == ()


def test_low_confidence_is_a_reason() -> None:
    assert review_reasons(Assessment(0.0, 0.0, 0.0, 0, False, 900, 64.4, 180)) == (
        "low-confidence: 64",
    )


@pytest.mark.parametrize(
    ("read", "meant"),
    [
        ("Фонд М 2199, опис 1", "Фонд № 2199, опис 1"),
        ("Фонд Ж Р-2930, опис 3", "Фонд № Р-2930, опис 3"),
        ("НАКАЗ КМ 149", "НАКАЗ № 149"),
        ("наказ 149 від 12.05.1937", "наказ № 149 від 12.05.1937"),
        ("середня школа Хо 11", "середня школа № 11"),
        ("Мо Прізвище, ім'я, по батькові", "№ Прізвище, ім'я, по батькові"),
        ('доповідна записка Ії" 47.', "доповідна записка № 47."),
    ],
)
def test_numero_is_put_back(read: str, meant: str) -> None:
    assert put_back(read)[0] == meant


@pytest.mark.parametrize(
    "text",
    [
        "Марія 1937 року",
        "у м. Ужгороді 5 травня",
        "Ж. Петренко, 1941",
        "до 12 години",
        "Ваш лист від 10.10.1926",
        "наказ від 12.05.1937",
        "складено акт 12 травня",
    ],
)
def test_numero_is_not_invented(text: str) -> None:
    assert put_back(text) == (text, 0)


def _fake_page_reading(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Path, object]:
    """The first reading faked as a poor one (confidence 60: a second reading is wanted) and
    every further reading failing, as Tesseract does when the disk fills up."""
    from arkhiv.config import OcrSettings
    from arkhiv.errors import ToolError
    from arkhiv.pipeline.page import recover

    gray, words = _page()
    image = tmp_path / "page.png"
    Image.fromarray(gray).save(image, dpi=(DPI, DPI))
    poor = [Word(w.text, w.box, 60.0, w.line) for w in words[0]]
    first = Reading("original", 1, Transform((1650, 2300)), tuple(poor),
                    (Line(poor[0].box, 0, 0.0, 0),), "x", None, 0.1)  # fmt: skip

    def read_file(*args: object, **kwargs: object) -> Reading:
        return first

    def read(*args: object, **kwargs: object) -> Reading:
        raise ToolError("tesseract", 1, "No space left on device", "tesseract exited 1")

    monkeypatch.setattr(recover, "read_file", read_file)
    monkeypatch.setattr(recover, "read", read)
    monkeypatch.setattr(recover.tesseract, "orientation", lambda *a, **k: 0)
    return image, OcrSettings()


def test_a_reading_cut_short_by_a_full_disk_fails_the_page_to_be_retried(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 15, item 8: the first (poorer) reading was kept and never redone."""
    from arkhiv.errors import ToolError
    from arkhiv.pipeline.page import recover

    image, cfg = _fake_page_reading(monkeypatch, tmp_path)
    monkeypatch.setattr(recover.shutil, "disk_usage", lambda p: type("U", (), {"free": 1024})())
    with pytest.raises(ToolError):
        recover.read_well(recover.look_at(image, DPI), cfg, tmp_path)  # type: ignore[arg-type]


def test_a_failed_extra_reading_with_space_left_keeps_the_first_on_record(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from arkhiv.pipeline.page import recover

    image, cfg = _fake_page_reading(monkeypatch, tmp_path)
    kept = recover.read_well(recover.look_at(image, DPI), cfg, tmp_path)  # type: ignore[arg-type]
    assert kept.reading.strategy == "original"
    failed = [t["strategy"] for t in kept.tried if "error" in t]
    assert failed[:2] == ["F", "P4"] and len(failed) == len(set(failed))  # each tried once
