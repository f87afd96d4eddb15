"""The cleaned-up copies of a page image read when the first reading is poor."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageStat

from arkhiv.pipeline.preprocess import (
    BACKGROUND,
    CONTRAST_MEDIAN,
    choose_filter,
    contrast_median,
    gray,
    normalize_background,
    retry_image,
)

INK_BOX = (100, 100, 500, 140)
STROKE = (160, 100, 162, 140)  # one of the strokes drawn in INK_BOX


def _ink(im: Image.Image, fill: int | tuple[int, ...]) -> None:
    """Text-like ink in INK_BOX: strokes 3 px wide, 12 px apart (as letters of a line)."""
    draw = ImageDraw.Draw(im)
    for x in range(INK_BOX[0], INK_BOX[2], 12):
        draw.rectangle((x, INK_BOX[1], x + 2, INK_BOX[3]), fill=fill)


def _uneven_page(mode: str = "L") -> Image.Image:
    """A page lit unevenly (dark on the left, light on the right) with a dark ink bar."""
    w, h = 800, 600
    im = Image.new("L", (w, h))
    im.putdata([60 + (x * 170) // w for _ in range(h) for x in range(w)])
    _ink(im, 25)
    return im.convert(mode)


def _mean(im: Image.Image, box: tuple[int, int, int, int]) -> float:
    return float(ImageStat.Stat(im.crop(box)).mean[0])


def test_background_becomes_even_and_white_and_ink_stays_dark() -> None:
    page = _uneven_page()
    out = normalize_background(page)
    assert out.size == page.size and out.mode == "L"
    left, right = _mean(out, (10, 300, 60, 350)), _mean(out, (740, 300, 790, 350))
    assert left > 225 and right > 225  # was about 70 and 225
    assert _mean(out, STROKE) < 110  # the ink is still ink


def test_colour_page_turns_gray_with_its_ink() -> None:
    page = Image.new("RGB", (200, 100), (235, 215, 150))  # yellowed paper
    ImageDraw.Draw(page).rectangle((50, 40, 150, 60), fill=(40, 40, 90))  # blue-black ink
    g = gray(page)
    assert g.mode == "L" and g.size == page.size
    assert _mean(g, (60, 45, 140, 55)) < 100  # the ink: dark in every channel
    assert _mean(g, (5, 5, 40, 30)) > 230  # the yellowed paper turns white
    assert _mean(normalize_background(page), (5, 5, 40, 30)) > 235


def test_contrast_median_removes_speckle() -> None:
    page = Image.new("L", (200, 200), 200)
    speckled = page.copy()
    for i in range(0, 200, 10):
        speckled.putpixel((i, (i * 7) % 200), 0)
    out = contrast_median(speckled)
    assert out.size == page.size
    assert out.getextrema()[0] > 0  # type: ignore[operator]  # single dark pixels are gone


def _clean_page() -> Image.Image:
    """White paper with black text-like lines (about 8% ink, as a typed page)."""
    page = Image.new("L", (800, 600), 245)
    draw = ImageDraw.Draw(page)
    for y in range(60, 560, 50):
        for x in range(60, 740, 12):
            draw.rectangle((x, y, x + 2, y + 30), fill=15)
    return page


def test_filter_is_chosen_from_the_image() -> None:
    assert choose_filter(_uneven_page()) == BACKGROUND  # uneven light
    faint = _clean_page().point(lambda v: 170 if v < 128 else 230)
    assert choose_filter(faint) == BACKGROUND  # faded ink
    assert choose_filter(_clean_page()) == CONTRAST_MEDIAN
    # Colour and bilevel scans: never background division (it lost stamps' text).
    assert choose_filter(_uneven_page("RGB")) == CONTRAST_MEDIAN
    assert choose_filter(_clean_page().convert("1")) == CONTRAST_MEDIAN


@pytest.mark.parametrize("mode", ["1", "L", "RGB"])
def test_copy_has_the_same_size_and_dpi(tmp_path: Path, mode: str) -> None:
    src = tmp_path / "page.tif"
    # A bilevel scan as scanners write it: Group 4 TIFF.
    options = {"compression": "group4"} if mode == "1" else {}
    _uneven_page(mode).save(src, dpi=(300, 300), **options)
    dst = tmp_path / "copy.tif"
    variant = retry_image(src, dst)
    assert variant == (BACKGROUND if mode == "L" else CONTRAST_MEDIAN)
    with Image.open(dst) as out:
        assert out.size == (800, 600) and out.mode == "L"
        assert round(float(out.info["dpi"][0])) == 300
    with Image.open(src) as original:  # the original is left as it was
        assert original.mode == mode


def test_copy_of_an_image_without_dpi_gets_none(tmp_path: Path) -> None:
    src = tmp_path / "page.png"
    _clean_page().save(src)
    retry_image(src, tmp_path / "copy.tif")
    with Image.open(tmp_path / "copy.tif") as out:
        assert "dpi" not in out.info
