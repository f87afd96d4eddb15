"""Read the page until its text is complete: straightened first when it is skewed or has a dark
scan border, then, only for a page whose completeness check fails, other strategies (a
cleaned-up copy, a single column turned upright, an enlarged copy of a low-resolution scan);
the reading that covers the page's ink best at acceptable confidence is kept.

Thresholds chosen on the eval set's hard/ pages and confirmed on dev/ (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from arkhiv.config import OcrSettings
from arkhiv.errors import ToolError
from arkhiv.pipeline import preprocess
from arkhiv.pipeline.page.assess import Assessment, assess
from arkhiv.pipeline.page.geometry import Transform
from arkhiv.pipeline.page.ink import (
    Gray,
    Letters,
    Mask,
    border_mask,
    letters,
    load_gray,
    mask_border,
    skew,
)
from arkhiv.pipeline.page.reading import Reading, read, read_file
from arkhiv.tools import tesseract

log = logging.getLogger(__name__)

STRAIGHTEN_DEG = 1.0  # a page skewed by this much or more is read straightened
UNREAD_MAX = 0.05  # a reading is complete when at most this share of letters is unread
SPLIT_MAX = 0.10  # ... and at most this share of its lines is a row split into blocks
ACCEPT_CONFIDENCE = 60.0  # a reading below this is not kept for its coverage alone
COVER_TIE = 0.02  # readings within this much unread count as equally complete
LOW_DPI = 290  # below this, an enlarged copy may read better
FEW_LETTERS = 100  # a page with fewer letter marks is (nearly) blank: word counts mean nothing
OSD_MIN_WORDS = 30  # fewer words than this: Tesseract's orientation detection decides the turn
DEEP_UNREAD = 0.25  # the costly readings only when more than this share is still unread


@dataclass(frozen=True)
class Page:
    """The page as the readings see it: the original gray image, its DPI, its ink."""

    image: Path  # the prepared image file (read as it is when no copy is needed)
    gray: Gray
    dpi: float
    marks: Letters
    border: Mask | None  # its dark scan border; None: it has none
    masked: Gray | None  # the page with that border painted white
    skew: float  # degrees to turn it to level its lines
    vertical: bool  # its lines run vertically (turned by 90 or 270 degrees)
    mode: str  # the image's PIL mode

    @property
    def size(self) -> tuple[int, int]:
        return int(self.gray.shape[1]), int(self.gray.shape[0])


@dataclass
class Outcome:
    """The reading kept, its measures, and every reading tried (the evidence)."""

    reading: Reading
    assessment: Assessment
    page: Page
    tried: list[dict[str, Any]] = field(default_factory=list)


def look_at(image: Path, dpi: float) -> Page:
    """The page's ink, border and skew, measured once before any reading."""
    gray = load_gray(image)
    border = border_mask(gray)
    marks = letters(gray, dpi, border)
    angle, vertical = skew(marks)
    with Image.open(image) as im:
        mode = im.mode
    if not border.any():
        return Page(image, gray, dpi, marks, None, None, round(angle, 2), vertical, mode)
    masked = mask_border(gray, border)
    return Page(image, gray, dpi, marks, border, masked, round(angle, 2), vertical, mode)


def read_well(page: Page, cfg: OcrSettings, work: Path) -> Outcome:
    """The page's best reading (see the module docstring)."""
    straighten = cfg.deskew and (abs(page.skew) >= STRAIGHTEN_DEG or page.masked is not None)
    angle = page.skew if straighten else 0.0
    if not cfg.deskew:  # the scan as it is: neither straightened nor its border masked
        page = replace(page, border=None, masked=None)
    first = _first(page, cfg, work, angle)
    # The layout measures take the turn the reading found; one-column readings, which do not
    # turn the page themselves, ask Tesseract's orientation detection when that is in doubt,
    # and only then (it costs a second of Tesseract).
    upright = Transform(page.size, _turns(first.orientation()), page.skew)
    turns: list[int] = []

    def turn_for_one_column() -> int:
        if not turns:
            turns.append(_quarter_turns(page, first, cfg))
        return turns[0]

    candidates = [(first, assess(page.marks, first, upright))]
    columns = candidates[0][1].columns  # a multi-column page: never read as one column
    done: set[str] = set()
    errors: list[dict[str, Any]] = []
    best = candidates[0]
    while cfg.retry and not _complete(best[1], page, cfg, columns):
        name = _next(best[1], done, page, cfg, columns)
        if name is None:
            break
        done.add(name)
        try:
            reading = _read(page, name, cfg, work, turn_for_one_column, angle)
        except ToolError as e:
            if _disk_low(work):  # cut short by a full disk: not a result, the page is retried
                raise
            # Tesseract failing on one copy: the readings made still count (recorded).
            log.warning("%s: extra reading %s failed: %s", page.image, name, e.message)
            errors.append({"strategy": name, "error": e.message})
            continue
        candidates.append((reading, assess(page.marks, reading, upright)))
        best = _choose(candidates, columns)
    outcome = Outcome(best[0], best[1], page, errors)
    for r, a in candidates:
        outcome.tried.append(
            {"strategy": r.strategy, "seconds": r.seconds, "kept": r is best[0], **a.as_dict()}
        )
    return outcome


LOW_SPACE_BYTES = 64 * 1024 * 1024


def _disk_low(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < LOW_SPACE_BYTES
    except OSError:
        return True


def _first(page: Page, cfg: OcrSettings, work: Path, angle: float) -> Reading:
    """The first reading: the scan as it is, or straightened with its border masked."""
    psm = cfg.psm or (1 if cfg.rotate_pages else 3)
    if angle == 0.0 and page.masked is None:
        return read_file(
            page.image,
            work / "original",
            Transform(page.size),
            strategy="original",
            psm=psm,
            languages=cfg.languages,
            dpi=page.dpi,
            timeout=cfg.page_timeout,
        )
    base = page.masked if page.masked is not None else page.gray
    what = ", ".join(
        ([f"straightened {angle:+.1f}°"] if angle else [])
        + (["border masked"] if page.masked is not None else [])
    )
    return read(
        base,
        Transform(page.size, 0, angle),
        strategy=what,
        psm=psm,
        languages=cfg.languages,
        dpi=page.dpi,
        timeout=cfg.page_timeout,
        work=work,
    )


def _quarter_turns(page: Page, first: Reading, cfg: OcrSettings) -> int:
    """Quarter turns (counter-clockwise) that make the page upright: from the orientation the
    first reading found; Tesseract's orientation detection decides when it read few words or
    its orientation disagrees with the direction of the page's lines."""
    angle = first.orientation()
    if first.word_count >= OSD_MIN_WORDS and ((angle // 90) % 2 == 1) == page.vertical:
        return _turns(angle)
    turn = tesseract.orientation(page.image, dpi=round(page.dpi), timeout=cfg.page_timeout)
    if turn is None:
        return 0 if not page.vertical else _turns(angle)
    return _turns(turn)


def _turns(degrees: int) -> int:
    """Quarter turns counter-clockwise that undo text turned by `degrees` counter-clockwise."""
    return (-(degrees // 90)) % 4


def _complete(a: Assessment, page: Page, cfg: OcrSettings, columns: bool) -> bool:
    """Complete, in order and confident enough: no further reading is needed."""
    blank = len(page.marks) < FEW_LETTERS
    return (
        a.unread <= UNREAD_MAX
        and a.split <= SPLIT_MAX
        and a.confidence >= cfg.retry_below_confidence
        and (a.words >= cfg.retry_min_words or blank)
        and (columns or a.jumps == 0)
    )


def _next(a: Assessment, done: set[str], page: Page, cfg: OcrSettings, columns: bool) -> str | None:
    """The next reading to try, cheapest and most often useful first; None: stop.
    F: the cleaned-up copy; P4: one column (psm 4), upright; A: the other clean-up filter;
    F4: cleaned-up, one column; X1/X4: enlarged 2x (low-resolution scans only)."""
    inked = len(page.marks) >= FEW_LETTERS
    missing = a.unread > UNREAD_MAX
    lost = a.unread > DEEP_UNREAD or (a.words == 0 and inked)
    low_dpi = page.dpi < LOW_DPI
    steps = (
        ("F", a.confidence < cfg.retry_below_confidence or missing
         or (a.words < cfg.retry_min_words and inked)),
        ("P4", not columns and (a.jumps > 0 or a.split > SPLIT_MAX or missing)),
        ("A", lost),
        ("F4", not columns and lost),
        ("X1", low_dpi and lost),
        ("X4", low_dpi and not columns and lost),
    )  # fmt: skip
    return next((name for name, wanted in steps if wanted and name not in done), None)


_STRATEGIES = {  # name: (clean-up filter, psm, scale, described)
    "F": ("chosen", 1, 1.0, "cleaned up"),
    "P4": (None, 4, 1.0, "one column, upright"),
    "A": ("other", 1, 1.0, "cleaned up the other way"),
    "F4": ("chosen", 4, 1.0, "cleaned up, one column, upright"),
    "X1": (None, 1, 2.0, "enlarged 2x"),
    "X4": (None, 4, 2.0, "enlarged 2x, one column, upright"),
}


def _read(
    page: Page, name: str, cfg: OcrSettings, work: Path, turns: Callable[[], int], angle: float
) -> Reading:
    """Another reading: the same geometry as the first (straightened when it was), turned
    upright for psm 4 (which does not turn the page itself)."""
    which, psm, scale, described = _STRATEGIES[name]
    base = page.gray if which else (page.masked if page.masked is not None else page.gray)
    if which:
        base = _cleaned(base, page.mode, other=which == "other")
        if page.border is not None:
            base = mask_border(base, page.border)
    t = Transform(page.size, turns() if psm == 4 else 0, angle, scale)
    return read(
        base,
        t,
        strategy=described,
        psm=psm,
        languages=cfg.retry_languages or cfg.languages,
        dpi=page.dpi,
        timeout=cfg.page_timeout,
        work=work,
    )


def _cleaned(gray: Gray, mode: str, *, other: bool = False) -> Gray:
    """The cleaned-up copy of `pipeline.preprocess`: background divided out of a faint gray
    page, contrast stretched and speckle removed otherwise; `other`: the other of the two."""
    im = Image.fromarray(gray)
    faint = mode not in ("1", "RGB", "RGBA", "P", "CMYK") and preprocess.low_contrast(im)
    background = faint != other
    out = preprocess.normalize_background(im) if background else preprocess.contrast_median(im)
    return np.asarray(out, dtype=np.uint8)


def _choose(
    candidates: list[tuple[Reading, Assessment]], columns: bool = False
) -> tuple[Reading, Assessment]:
    """Coverage of the ink first, at acceptable confidence; then rows not split; then reading
    order (on a single column); then psm 1 on a multi-column page; then confidence."""
    usable = [c for c in candidates if c[1].confidence >= ACCEPT_CONFIDENCE and c[1].words]
    usable = usable or [c for c in candidates if c[1].words] or candidates
    least = min(a.unread for _, a in usable)
    tied = [c for c in usable if c[1].unread <= least + COVER_TIE]

    def order(c: tuple[Reading, Assessment]) -> tuple[bool, bool, bool, float]:
        r, a = c
        return (
            a.split > SPLIT_MAX,
            not columns and a.jumps > 0,
            columns and r.psm != 1,
            -a.confidence,
        )

    return min(tied, key=order)
