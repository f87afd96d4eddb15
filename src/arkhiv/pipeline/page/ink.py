"""The page's ink, measured without OCR: letter-sized marks, dark scan borders, skew.

Cheap (about 0.2 s a page) and independent of what Tesseract reports: the completeness check
compares these marks with the words a reading found, and the skew decides whether the page
is read straightened. Everything here works on 8-bit gray numpy arrays, ink dark on paper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageChops, ImageFilter

Gray = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

MAX_SKEW_DEG = 6.0  # skew searched within +- this


def load_gray(path: Path) -> Gray:
    """The page as 8-bit gray; a colour scan takes the lightest channel of each pixel, so that
    yellowed or stained paper turns white while ink stays dark in every channel."""
    with Image.open(path) as im:
        im.load()
        if im.mode in ("RGB", "RGBA", "P", "CMYK"):
            r, g, b = im.convert("RGB").split()[:3]
            gray = ImageChops.lighter(ImageChops.lighter(r, g), b)
        else:
            gray = im.convert("L")
    return np.asarray(gray, dtype=np.uint8).copy()


def normalize_background(g: Gray) -> Gray:
    """Divide the page by its own blurred background (a Gaussian of about 1% of the page,
    computed at a quarter of the size): uneven light and faded ink become black on white."""
    h, w = g.shape
    small = cv2.resize(g, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_LINEAR)
    radius = max(w, h) / 100.0 / 4
    blurred = Image.fromarray(small).filter(ImageFilter.GaussianBlur(radius))
    bg = cv2.resize(np.asarray(blurred), (w, h), interpolation=cv2.INTER_LINEAR)
    out = np.clip(g.astype(np.float32) * 255.0 / (bg.astype(np.float32) + 1.0), 0, 255)
    return out.astype(np.uint8)


def binarize(g: Gray) -> npt.NDArray[np.uint8]:
    """Ink mask (0/1) of the background-normalized page (faded ink and uneven light then behave
    like a clean scan); Otsu's threshold on a 3x3-median copy, so that speckle does not pull
    it below faded ink, and never above 200 (paper is never ink)."""
    n = normalize_background(g)
    t, _ = cv2.threshold(cv2.medianBlur(n, 3), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return (n <= min(t, 200)).astype(np.uint8)


def border_mask(g: Gray) -> Mask:
    """A dark scan border: regions darker than the paper (by 30 levels, to take in the border's
    soft gradient) that touch one edge of the image along more than a quarter of it, are near
    black there (under 0.35 of the paper's level) and have a near-black core (a tenth of them):
    light falling off towards one side of the page is not a border, and its text stays read."""
    paper = float(np.median(g))
    dark = (g < paper - 30).astype(np.uint8)
    _, labels, _, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    keep = np.zeros(int(labels.max()) + 1, dtype=bool)
    edges = (
        (labels[0, :], g[0, :]),
        (labels[-1, :], g[-1, :]),
        (labels[:, 0], g[:, 0]),
        (labels[:, -1], g[:, -1]),
    )
    for side, levels in edges:
        ids, counts = np.unique(side[side > 0], return_counts=True)
        for i in ids[counts > 0.25 * side.size]:
            if keep[i] or np.median(levels[side == i]) >= 0.35 * paper:
                continue
            keep[i] = bool((g[labels == i] < 0.35 * paper).mean() >= 0.1)
    mask: Mask = keep[labels]
    if mask.any():
        grown = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8))
        mask = grown.astype(bool)
    return mask


def mask_border(g: Gray, mask: Mask) -> Gray:
    """The page with its dark border painted white (same size): kept out of layout analysis."""
    out = g.copy()
    out[mask] = 255
    return out


@dataclass(frozen=True)
class Letters:
    """The letter-sized marks of a page, in its own pixel frame."""

    cx: Floats  # centre x
    cy: Floats  # centre y
    x0: Floats
    y0: Floats
    w: Floats
    h: Floats
    area: Floats  # ink pixels
    letter_h: float  # median letter height, pixels

    def __len__(self) -> int:
        return int(self.cx.size)


def letters(g: Gray, dpi: float | None, border: Mask | None = None) -> Letters:
    """Connected components of the binarized page the size of letters.

    Left out: those touching the image edge or the dark border, speckle (under 0.35 of the
    median letter height, or 1/12 of its area), large marks (over 3 letter heights: stamps,
    photos, signatures) and rules. The median letter height comes from components of 6-24 pt
    type at the page's DPI (12-120 px without one)."""
    ink = binarize(g)
    if border is not None and border.any():
        ink[border] = 0
    _, _, stats, centres = cv2.connectedComponentsWithStats(ink, connectivity=8)
    stats, centres = stats[1:].astype(np.float64), centres[1:]
    height, width = g.shape
    x0, y0, w, h, a = (stats[:, i] for i in range(5))
    edge = (x0 <= 1) | (y0 <= 1) | (x0 + w >= width - 1) | (y0 + h >= height - 1)
    lo, hi = (6 / 72 * dpi * 0.45, 24 / 72 * dpi) if dpi else (12.0, 120.0)
    plausible = ~edge & (h >= lo) & (h <= hi) & (w <= 3 * hi) & (a >= 0.15 * h * np.minimum(w, h))
    if plausible.sum() >= 20:
        med_h, med_a = float(np.median(h[plausible])), float(np.median(a[plausible]))
    else:
        med_h = float(np.median(h[~edge])) if (~edge).any() else 20.0
        med_a = med_h * med_h * 0.3
    keep = ~edge & (h >= 0.35 * med_h) & (h <= 3.0 * med_h) & (w <= 12 * med_h)
    keep &= (a >= med_a / 12) & ~((h < 0.5 * med_h) & (w > 4 * med_h))  # dashes, rule pieces
    return Letters(
        centres[keep, 0], centres[keep, 1], x0[keep], y0[keep], w[keep], h[keep], a[keep], med_h
    )


def _profile_score(along: Floats, across: Floats, degrees: float, bin_px: float) -> float:
    """How peaked the projection of the points is across lines running at `degrees`."""
    t = math.radians(degrees)
    proj = across * math.cos(t) - along * math.sin(t)
    hist = np.bincount(((proj - proj.min()) / bin_px).astype(np.int64))
    return float((hist.astype(np.float64) ** 2).sum())


def _best_angle(along: Floats, across: Floats, bin_px: float) -> tuple[float, float]:
    """The angle (degrees) at which letter bottoms line up best, and how clearly."""
    coarse = np.arange(-MAX_SKEW_DEG, MAX_SKEW_DEG + 1e-9, 0.25)
    scores = [_profile_score(along, across, a, bin_px) for a in coarse]
    a0 = float(coarse[int(np.argmax(scores))])
    fine = np.arange(a0 - 0.3, a0 + 0.3 + 1e-9, 0.03)
    fine_scores = [_profile_score(along, across, a, bin_px) for a in fine]
    return float(fine[int(np.argmax(fine_scores))]), max(fine_scores) / max(1.0, min(scores))


def skew(marks: Letters) -> tuple[float, bool]:
    """The page's skew from its letters (a projection profile of their bottoms), as the angle
    in degrees to turn it by (counter-clockwise positive, as OpenCV) to level its lines, and
    whether its lines run vertically (a page turned by 90 or 270 degrees; the angle is then
    for the page once turned upright, which is the same for either turn)."""
    if len(marks) < 20:
        return 0.0, False
    bin_px = max(2.0, marks.letter_h / 4)
    h_angle, h_sharp = _best_angle(marks.cx, marks.y0 + marks.h, bin_px)
    v_angle, v_sharp = _best_angle(marks.cy, marks.x0 + marks.w, bin_px)
    if h_sharp >= v_sharp:
        return h_angle, False
    return -v_angle, True
