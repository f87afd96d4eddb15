#!/usr/bin/env python3
"""Render the arkhiv sample "scans" and their ground truth.

Deterministic: every page uses its own fixed-seed ``random.Random`` and no
timestamps are written, so running this twice gives byte-identical files.

Needs only Pillow and two Debian font packages:
    fonts-liberation2  (Liberation Mono / Serif)
    fonts-dejavu-core  (DejaVu Serif Bold, newspaper masthead)

Usage:
    python samples/make_samples.py            # writes into samples/
    python samples/make_samples.py --out DIR  # writes into DIR instead

All text is synthetic (written for arkhiv; people, numbers and documents are
fictional) except the two-line quotation of Taras Shevchenko (1814-1861,
public domain) in the newspaper page.  See samples/README.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

try:
    from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont
except ImportError:  # pragma: no cover - environment problem
    sys.exit("make_samples.py needs Pillow: pip install pillow")

DPI = 300
# A5 portrait at 300 dpi (148 x 210 mm).
A5 = (1748, 2480)

FONT_DIRS = {
    "fonts-liberation2": Path("/usr/share/fonts/truetype/liberation2"),
    "fonts-dejavu-core": Path("/usr/share/fonts/truetype/dejavu"),
}
FONTS = {
    "mono": ("fonts-liberation2", "LiberationMono-Regular.ttf"),
    "serif": ("fonts-liberation2", "LiberationSerif-Regular.ttf"),
    "serif_bold": ("fonts-liberation2", "LiberationSerif-Bold.ttf"),
    "masthead": ("fonts-dejavu-core", "DejaVuSerif-Bold.ttf"),
}

FOLDER = "ДАЗО_ф.Р-123_оп.4_спр.56"
TIFF_STEM = "наказ_1937"
JPEG_STEM = "газета_1950"


def pt(points: float) -> int:
    """Font size in pixels at 300 dpi."""
    return round(points * DPI / 72)


def font(key: str, points: float) -> ImageFont.FreeTypeFont:
    package, name = FONTS[key]
    path = FONT_DIRS[package] / name
    if not path.is_file():
        sys.exit(
            f"make_samples.py: font {path} is missing; "
            f"install the Debian package '{package}' (apt-get install {package})"
        )
    return ImageFont.truetype(str(path), pt(points))


# ---------------------------------------------------------------------------
# Texts.  A line is either "text" or "left\tright" (rendered with the right
# part flush right; the ground truth joins the parts with one space).  A
# leading "^" centres the line.  Lines must fit the page; this is asserted.
# ---------------------------------------------------------------------------

DOVIDKA_1 = """\
^ВИКОНАВЧИЙ КОМІТЕТ УЖГОРОДСЬКОЇ МІСЬКОЇ
^РАДИ ДЕПУТАТІВ ТРУДЯЩИХ
^ДОВІДКА № 214
м. Ужгород\t12 березня 1947 року
Видана громадянці Коваль Марії Іванівні,
1911 року народження, у тому, що вона
дійсно проживає в Ужгороді по вулиці
Садовій, буд. 7, кв. 3. Склад родини:
п'ять осіб. Її сім’я займає дві кімнати
загальною площею 32 кв. м.
Архівні дані житлового відділу міста
підтверджують, що їхній будинок має
дерев'яний ґанок, який потребує ремонту
до 1 жовтня 1947 року.
Довідка видана для подання до відділу
соціального забезпечення.
Голова виконкому\tІ. Мартинюк
Секретар\tО. Дрович
"""

PROTOKOL_2 = """\
^ПРОТОКОЛ № 7
^засідання районної архівної комісії
м. Ужгород\t3 квітня 1948 року
Присутні: Гнатюк П. М. (голова), Бойко
Л. С., Сабов Ю. Ю. (секретар).
СЛУХАЛИ:
Інформацію тов. Гнатюка П. М. про стан
обліку сіл і хуторів району та про
передачу документів до архіву міста.
УХВАЛИЛИ:
1. Визнати, що облік архівних даних по
двадцяти семи селах ведеться належно.
2. Списки сіл, приєднаних до району в
1946 році, передати до 15 травня 1948
року.
3. Доручити школам зберігати пам’ять
про загиблих земляків.
Голова комісії\tП. Гнатюк
Секретар\tЮ. Сабов
"""

SPYSOK_10 = """\
^СПИСОК
^сіл Ужгородського району, які постачають
^м'ясо та молоко до міста Ужгорода,
^станом на 1 червня 1949 року
Оноківці - 212 дворів, 964 жителі.
Минай - 148 дворів, 611 жителів.
Розівка - 97 дворів, 402 жителі.
Сторожниця - 176 дворів, 745 жителів.
Дравці - 131 двір, 538 жителів.
Кам'яниця - 254 двори, 1120 жителів.
Усього: 6 сіл, 1018 дворів, 4380 жителів.
Примітка: відомості про поголів'я худоби
подано за звітами сільрад за 1948 рік.
Молочні пункти мають п'ять сіл із шести.
Завідувач відділу\tВ. Лендєл
"""

NAKAZ_P1 = """\
^НАКАЗ № 38
^по Київському обласному архівному
^управлінню
м. Київ\t12 березня 1937 року
^Про впорядкування архівних фондів
З метою збереження документів, що мають
наукове і практичне значення, НАКАЗУЮ:
1. Завідувачам районних архівів до
1 травня 1937 року перевірити наявність
справ у фондах сільських рад.
2. Скласти описи документів усіх сіл
району; архівні дані про кожне село
подати у двох примірниках.
3. Документи, що зберігаються в
непристосованих приміщеннях, перевезти
до архіву міста Києва.
"""

NAKAZ_P2 = """\
4. Для перевезення справ виділити
п'ять підвід і двох супровідників.
5. Відповідальність за збереження
документів під час перевезення покласти
на завідувачів районних архівів.
6. Контроль за виконанням наказу
залишаю за собою.
7. Наказ довести до відома всіх районних
архівів області.
Підстава: постанова облвиконкому від
2 березня 1937 року № 112.
Начальник обласного архівного
управління\tС. Ткаченко
"""

GAZETA_MAST = "ВІСТІ УЖГОРОДА"
GAZETA_INFO = "№ 61 (1234)\tНеділя, 26 березня 1950 року\tЦіна 20 коп."
GAZETA_HEAD = "НОВА ШКОЛА В УЖГОРОДІ"
GAZETA_PARAS = [
    "Учора в Ужгороді урочисто відкрито нову середню школу на "
    "триста п'ятдесят учнів. Будівлю з широким ґанком і світлими "
    "класами звели за вісім місяців. На свято прийшли батьки, "
    "вчителі та гості з Києва і Львова.",
    "Директор школи розповів, що в бібліотеці вже є понад дві тисячі "
    "книжок, серед них твори Тараса Шевченка, Івана Франка та Лесі "
    "Українки. Учні зберігатимуть пам’ять про земляків у шкільному "
    "музеї. Уся Європа ще відбудовує зруйновані війною міста, а наше "
    "місто росте. На стіні вестибюля написано слова Шевченка: "
    "«І чужому научайтесь, й свого не цурайтесь».",
    "Наступного року біля школи закладуть фруктовий сад, а старші "
    "учні допомагатимуть колгоспникам навколишніх сіл.",
]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


@dataclass
class Line:
    parts: list[str]  # 1 part: left/centred; 2 or 3 parts: spread out
    centred: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.parts)


def parse(block: str) -> list[Line]:
    lines = []
    for raw in block.splitlines():
        centred = raw.startswith("^")
        raw = raw.lstrip("^")
        lines.append(Line(raw.split("\t"), centred))
    return lines


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def write_gt(path: Path, lines: list[str]) -> None:
    text = "\n".join(nfc(line) for line in lines) + "\n"
    path.write_bytes(text.encode("utf-8"))


def paper(size: tuple[int, int], rng: random.Random, tone: int) -> Image.Image:
    """Flat paper with a gentle, smooth unevenness (compresses well)."""
    w, h = size
    sw, sh = w // 64 + 2, h // 64 + 2
    low = Image.frombytes("L", (sw, sh), rng.randbytes(sw * sh))
    low = low.point(lambda v: tone - v * 10 // 255)  # tone-10 .. tone
    return low.resize(size, Image.Resampling.BICUBIC)


def ink_blotch_mask(size: tuple[int, int], rng: random.Random, strength: int) -> Image.Image:
    """Smooth 0..strength field used to lighten ink in patches (worn ribbon)."""
    w, h = size
    sw, sh = w // 24 + 2, h // 24 + 2
    low = Image.frombytes("L", (sw, sh), rng.randbytes(sw * sh))
    low = low.point(lambda v: v * strength // 255)
    return low.resize(size, Image.Resampling.BICUBIC)


def specks(img: Image.Image, rng: random.Random, count: int, max_r: int = 3) -> None:
    draw = ImageDraw.Draw(img)
    w, h = img.size
    for _ in range(count):
        x, y = rng.randrange(w), rng.randrange(h)
        r = rng.choice([1, 1, 1, 1, 2, max_r])
        g = rng.randrange(110, 200)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=g)


def typewritten_page(lines: list[Line], seed: int, skew: float = 0.0) -> Image.Image:
    """Monospace 'typewriter' page, grayscale, A5 at 300 dpi."""
    rng = random.Random(seed)
    f = font("mono", 11.5)
    adv = f.getlength("М")
    w = A5[0]
    left, top = 170, 230
    cols = int((w - 2 * left) // adv)
    pitch = round(f.size * 1.75)  # 1.5-spacing like an office typewriter

    text_layer = Image.new("L", A5, 255)
    draw = ImageDraw.Draw(text_layer)
    for n, line in enumerate(lines):
        assert len(line.text) <= cols, (line.text, cols)
        if line.centred:
            start = (cols - len(line.parts[0])) // 2
            cells = [(start, line.parts[0])]
        elif len(line.parts) == 2:
            cells = [(0, line.parts[0]), (cols - len(line.parts[1]), line.parts[1])]
        else:
            cells = [(0, line.parts[0])]
        y0 = top + n * pitch + rng.choice([0, 0, 1, -1])
        for col0, s in cells:
            for i, ch in enumerate(s):
                if ch == " ":
                    continue
                x = left + (col0 + i) * adv + rng.choice([0, 0, 0, 1, -1])
                y = y0 + rng.choice([0, 0, 0, 0, 1, -1])
                ink = rng.randrange(15, 75)  # key strike strength
                draw.text((x, y), ch, font=f, fill=ink)

    text_layer = ImageChops.add(text_layer, ink_blotch_mask(A5, rng, 60))
    page = ImageChops.darker(paper(A5, rng, 246), text_layer)
    specks(page, rng, 150)
    page = page.filter(ImageFilter.GaussianBlur(0.7))
    if skew:
        page = page.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=244)
    return page


def to_bilevel(img: Image.Image, threshold: int = 150) -> Image.Image:
    return img.point(lambda v: 255 if v > threshold else 0).convert("1", dither=Image.Dither.NONE)


def wrap_justified(words: list[str], f: ImageFont.FreeTypeFont, width: int) -> list[list[str]]:
    lines: list[list[str]] = []
    cur: list[str] = []
    for word in words:
        if cur and f.getlength(" ".join([*cur, word])) > width:
            lines.append(cur)
            cur = []
        cur.append(word)
    if cur:
        lines.append(cur)
    return lines


def newspaper_page(seed: int) -> tuple[Image.Image, list[str]]:
    rng = random.Random(seed)
    w, h = 1748, 1900
    left = right = 130
    width = w - left - right
    page = paper((w, h), rng, 232)
    draw = ImageDraw.Draw(page)
    gt: list[str] = []
    ink = 28

    mast = font("masthead", 26)
    y: float = 110
    tw = draw.textlength(GAZETA_MAST, font=mast)
    draw.text(((w - tw) / 2, y), GAZETA_MAST, font=mast, fill=ink)
    gt.append(GAZETA_MAST)
    y += pt(26) * 1.35
    draw.line((left, y, w - right, y), fill=ink, width=6)
    draw.line((left, y + 14, w - right, y + 14), fill=ink, width=2)
    y += 30

    small = font("serif", 10)
    a, b, c = GAZETA_INFO.split("\t")
    draw.text((left, y), a, font=small, fill=ink)
    draw.text(((w - draw.textlength(b, font=small)) / 2, y), b, font=small, fill=ink)
    draw.text((w - right - draw.textlength(c, font=small), y), c, font=small, fill=ink)
    gt.append(f"{a} {b} {c}")
    y += pt(10) * 1.5
    draw.line((left, y, w - right, y), fill=ink, width=2)
    y += 70

    head = font("serif_bold", 18)
    tw = draw.textlength(GAZETA_HEAD, font=head)
    draw.text(((w - tw) / 2, y), GAZETA_HEAD, font=head, fill=ink)
    gt.append(GAZETA_HEAD)
    y += pt(18) * 1.6

    body = font("serif", 11.5)
    lead = round(body.size * 1.3)
    indent = 70
    for para in GAZETA_PARAS:
        words = para.split()
        # first line is indented: wrap with a placeholder that eats the indent
        wrapped = wrap_justified(["\u2003" * 3, *words], body, width)
        wrapped[0] = wrapped[0][1:]
        for i, ws in enumerate(wrapped):
            x0 = left + (indent if i == 0 else 0)
            avail = width - (indent if i == 0 else 0)
            last = i == len(wrapped) - 1
            if last or len(ws) == 1:
                draw.text((x0, y), " ".join(ws), font=body, fill=ink)
            else:
                total = sum(body.getlength(wd) for wd in ws)
                gap = (avail - total) / (len(ws) - 1)
                x: float = x0
                for wd in ws:
                    draw.text((x, y), wd, font=body, fill=ink)
                    x += body.getlength(wd) + gap
            gt.append(" ".join(ws))
            y += lead
        y += lead * 0.4
    assert y < h - 80, y
    page = page.crop((0, 0, w, round(y) + 140))  # drop the empty lower part

    # printing: slightly uneven ink, a few specks, soft edges
    page = ImageChops.lighter(page, ink_blotch_mask(page.size, rng, 70))
    specks(page, rng, 80, max_r=2)
    page = page.filter(ImageFilter.GaussianBlur(0.6))
    return page, gt


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def build(out: Path) -> list[Path]:
    written: list[Path] = []
    folder = out / FOLDER
    folder.mkdir(parents=True, exist_ok=True)

    # 1. folder of PNG pages, natural order 1, 2, 10
    for stem, block, seed, skew in (
        ("1", DOVIDKA_1, 101, 0.0),
        ("2", PROTOKOL_2, 102, 1.4),
        ("10", SPYSOK_10, 110, 0.0),
    ):
        lines = parse(block)
        img = typewritten_page(lines, seed, skew)
        png = folder / f"{stem}.png"
        img.save(png, dpi=(DPI, DPI), optimize=True)
        gt = folder / f"{stem}.gt.txt"
        write_gt(gt, [ln.text for ln in lines])
        written += [png, gt]

    # 2. multi-page Group 4 TIFF, page 2 upside down
    p1_lines, p2_lines = parse(NAKAZ_P1), parse(NAKAZ_P2)
    p1 = to_bilevel(typewritten_page(p1_lines, 137))
    p2 = to_bilevel(typewritten_page(p2_lines, 138)).transpose(Image.Transpose.ROTATE_180)
    tif = out / f"{TIFF_STEM}.tif"
    p1.save(tif, save_all=True, append_images=[p2], compression="group4", dpi=(DPI, DPI))
    written.append(tif)
    for n, lines in ((1, p1_lines), (2, p2_lines)):
        gt = out / f"{TIFF_STEM}.p{n}.gt.txt"
        write_gt(gt, [ln.text for ln in lines])
        written.append(gt)

    # 3. newspaper JPEG without any dpi metadata
    img, gt_lines = newspaper_page(150)
    jpg = out / f"{JPEG_STEM}.jpg"
    img.save(jpg, quality=80, optimize=True)  # no dpi= -> JFIF density unit 0
    gt = out / f"{JPEG_STEM}.gt.txt"
    write_gt(gt, gt_lines)
    written += [jpg, gt]
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="output directory (default: the samples/ folder)",
    )
    args = ap.parse_args(argv)
    for p in build(args.out):
        print(f"{p.stat().st_size:>9}  {p.relative_to(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
