"""Preprocess stage: a cleaned-up copy of a page image for a second OCR reading.

Used only for pages whose first reading is poor (see `arkhiv.tools.ocrmypdf_plugin`): filters
that help faded, stained or unevenly lit pages hurt clean ones, so the original image is always
read first and the copy wins only when Tesseract reads it with a higher confidence. One copy is
made, its filter chosen from cheap image statistics (measured on the eval set in issue 7; see
docs/benchmarks.md):

- a low-contrast or unevenly lit gray page: divided by its own blurred background
  (`normalize_background`): faded ink and dark corners become black on white;
- any other page, colour and bilevel ones included: contrast stretched and speckle removed
  (`contrast_median`). Background division on colour pages lost the text of stamps.

Every copy keeps the image's size, so the word positions fit the original image in the PDF.
The original image itself is never changed.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageChops, ImageFilter, ImageMath, ImageOps

BACKGROUND = "background"
CONTRAST_MEDIAN = "contrast-median"

# A gray page is "low contrast" when its paper (the median of a background map) is less than
# this many levels above its darkest ink (1st percentile) ...
_LOW_CONTRAST_LEVELS = 120
# ... or "unevenly lit" when its paper varies by more than this (5th to 95th percentile).
_UNEVEN_LEVELS = 30


def gray(im: Image.Image) -> Image.Image:
    """The page as 8-bit gray. A colour scan takes the lightest channel of each pixel, so that
    yellowed or stained paper turns white while ink stays dark in every channel."""
    if im.mode == "L":
        return im
    if im.mode in ("RGB", "RGBA", "P", "CMYK"):
        r, g, b = im.convert("RGB").split()[:3]
        return ImageChops.lighter(ImageChops.lighter(r, g), b)
    return im.convert("L")


def normalize_background(im: Image.Image) -> Image.Image:
    """Divide the page by its own blurred background (a Gaussian of about 1% of the page,
    computed at a quarter of the size): uneven light, yellowing and faded ink become black text
    on an even white page."""
    g = gray(im)
    w, h = g.size
    small = g.resize((max(1, w // 4), max(1, h // 4)), Image.Resampling.BILINEAR)
    radius = max(w, h) / 100.0 / 4
    background = small.filter(ImageFilter.GaussianBlur(radius)).resize(
        (w, h), Image.Resampling.BILINEAR
    )
    out = ImageMath.lambda_eval(
        lambda a: a["g"] * 255.0 / (a["b"] + 1.0), g=g.convert("F"), b=background.convert("F")
    )
    return out.convert("L")  # type: ignore[no-any-return]  # F to L clips to 0-255


def contrast_median(im: Image.Image) -> Image.Image:
    """Stretch the contrast (1% cut at each end) and remove speckle (3x3 median)."""
    return ImageOps.autocontrast(gray(im), cutoff=1).filter(ImageFilter.MedianFilter(3))


def _percentile(histogram: list[int], q: float) -> int:
    total, seen = sum(histogram), 0
    for level, count in enumerate(histogram):
        seen += count
        if seen >= q * total:
            return level
    return len(histogram) - 1


def low_contrast(g: Image.Image) -> bool:
    """Faint ink or uneven light on a gray page, from a 1/16 background map (about 0.05 s)."""
    w, h = g.size
    ink = _percentile(g.histogram(), 0.01)
    paper = (
        g.resize((max(1, w // 16), max(1, h // 16)), Image.Resampling.BOX)
        .filter(ImageFilter.MaxFilter(5))
        .histogram()
    )
    return (_percentile(paper, 0.5) - ink) < _LOW_CONTRAST_LEVELS or (
        _percentile(paper, 0.95) - _percentile(paper, 0.05)
    ) > _UNEVEN_LEVELS


def choose_filter(im: Image.Image) -> str:
    """Which copy to make of this page: BACKGROUND or CONTRAST_MEDIAN."""
    if im.mode not in ("1", "RGB", "RGBA", "P", "CMYK") and low_contrast(gray(im)):
        return BACKGROUND
    return CONTRAST_MEDIAN


def retry_image(src: Path, dst: Path) -> str:
    """Write the cleaned-up copy of the image at `src` to `dst` (same size and DPI) and return
    the filter used."""
    with Image.open(src) as im:
        im.load()
        variant = choose_filter(im)
        out = normalize_background(im) if variant == BACKGROUND else contrast_median(im)
        dpi = im.info.get("dpi")
    # Uncompressed TIFF: a third of PNG's time to write; the copy lives for one Tesseract run.
    # Without a DPI, PNG: a TIFF would claim 1 dpi. Tesseract tells the formats by content.
    if dpi:
        # `compression` explicitly: the copy would inherit a bilevel scan's group4, which an
        # 8-bit image cannot be written with.
        out.save(dst, format="TIFF", dpi=dpi, compression="raw")
    else:
        out.save(dst, format="PNG")
    return variant
