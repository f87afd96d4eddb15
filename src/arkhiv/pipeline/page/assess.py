"""The completeness check: how much of the page's ink a reading left unread, and whether its
layout came out in reading order. Independent of Tesseract's confidence, which stays high on
the few words kept when its layout analysis drops most of a page."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arkhiv.pipeline.page.geometry import Transform
from arkhiv.pipeline.page.ink import Letters
from arkhiv.pipeline.page.reading import Line, Reading

WORD_MARGIN = 0.35  # a word box grown by this many letter heights still covers its letters


@dataclass(frozen=True)
class Assessment:
    """The measures of one reading of a page, recorded with the page as evidence."""

    unread: float  # share of the page's letter marks outside every word read
    unread_ink: float  # the same, weighted by ink area
    split: float  # share of lines that share a text row with a line of another block
    jumps: int  # times the reading order jumps back up the page
    columns: bool  # the reading found two blocks of text side by side (a multi-column page)
    letters: int  # letter marks on the page
    confidence: float  # mean word confidence, 0 without words
    words: int
    rows: int = 0  # text rows the page's ink forms (on the upright, straightened page)
    rows_read: int = 0  # of those, rows with at least one letter inside a word read

    def as_dict(self) -> dict[str, float | int | bool]:
        return {
            "unread": round(self.unread, 3),
            "unread_ink": round(self.unread_ink, 3),
            "split_lines": round(self.split, 3),
            "order_jumps": self.jumps,
            "columns": self.columns,
            "letters": self.letters,
            "confidence": round(self.confidence, 1),
            "words": self.words,
            "rows": self.rows,
            "rows_read": self.rows_read,
        }


def assess(marks: Letters, reading: Reading, upright: Transform) -> Assessment:
    """Measure `reading` against the page's letter marks (found on the original scan);
    `upright` turns and straightens the original, for the layout measures."""
    inside = _inside_words(marks, reading)
    area = marks.area
    unread = float(1 - inside.mean()) if len(marks) else 0.0
    unread_ink = float(area[~inside].sum() / area.sum()) if len(marks) else 0.0
    rows = _rows(marks, upright)
    found = int(rows.max() + 1) if rows.size and rows.max() >= 0 else 0
    lines = _upright_lines(reading, upright)
    return Assessment(
        unread,
        unread_ink,
        _split(lines, marks.letter_h),
        _jumps(lines, marks.letter_h),
        _columns(lines, marks.letter_h),
        len(marks),
        reading.confidence or 0.0,
        reading.word_count,
        found,
        len(set(rows[(rows >= 0) & inside].tolist())),
    )


def _rows(marks: Letters, upright: Transform) -> npt.NDArray[np.int64]:
    """The text row of each letter mark (-1: none): marks put on the upright, straightened
    page and cut into rows where their centres leave a gap; rows of fewer than 3 marks (specks)
    do not count."""
    _, cy = upright.forward(marks.cx, marks.cy)
    rows = np.full(cy.size, -1, dtype=np.int64)
    if cy.size == 0:
        return rows
    order = np.argsort(cy)
    gaps = np.diff(cy[order]) > 0.6 * marks.letter_h
    rows[order] = np.concatenate([[0], np.cumsum(gaps)])
    ids, counts = np.unique(rows, return_counts=True)
    kept = {old: new for new, old in enumerate(ids[counts >= 3])}
    return np.array([kept.get(r, -1) for r in rows.tolist()], dtype=np.int64)


def _inside_words(marks: Letters, reading: Reading) -> npt.NDArray[np.bool_]:
    """Which letter marks have their centre in a word box, grown by WORD_MARGIN letter
    heights; the boxes drawn at a quarter of the resolution and looked up."""
    n = len(marks)
    if n == 0:
        return np.zeros(0, bool)
    t = reading.transform
    vx, vy = t.forward(marks.cx, marks.cy)
    boxes = np.array([w.box for w in reading.words], float).reshape(-1, 4)
    inside = np.zeros(n, bool)
    if len(boxes):
        d, f = WORD_MARGIN * marks.letter_h * t.scale, 4.0
        width = int(max(vx.max(), boxes[:, 2].max()) / f) + 3
        height = int(max(vy.max(), boxes[:, 3].max()) / f) + 3
        covered = np.zeros((height, width), np.uint8)
        for x0, y0, x1, y1 in boxes:
            ya, yb = max(0, int((y0 - d) / f)), int((y1 + d) / f) + 1
            xa, xb = max(0, int((x0 - d) / f)), int((x1 + d) / f) + 1
            covered[ya:yb, xa:xb] = 1
        ix = np.clip((vx / f).astype(int), 0, width - 1)
        iy = np.clip((vy / f).astype(int), 0, height - 1)
        inside = (vx >= 0) & (vy >= 0) & (covered[iy, ix] > 0)
    return inside


def _upright_lines(reading: Reading, upright: Transform) -> list[Line]:
    """The reading's lines as boxes on the upright, straightened page (a turned box's enclosing
    box is too tall on a long line: its height is kept)."""
    out = []
    for line in reading.lines:
        x0, y0, x1, y1 = line.box
        ox, oy = reading.transform.inverse(
            np.array([x0, x1, x1, x0], float), np.array([y0, y0, y1, y1], float)
        )
        ux, uy = upright.forward(ox, oy)
        cy, h = float(uy.mean()), (y1 - y0) / max(reading.transform.scale, 1e-6)
        box = (int(ux.min()), int(cy - h / 2), int(ux.max()), int(cy + h / 2))
        out.append(Line(box, line.block, line.slope, 0))
    return [ln for ln in out if ln.box[2] > ln.box[0]]


def _same_row_pairs(lines: list[Line]) -> Iterator[tuple[int, int, float]]:
    """(i, j, gap) for lines of different blocks that share a text row."""
    for i, a in enumerate(lines):
        ah = a.box[3] - a.box[1]
        for j in range(i + 1, len(lines)):
            b = lines[j]
            if a.block == b.block:
                continue
            overlap = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
            if overlap >= 0.5 * min(ah, b.box[3] - b.box[1]):
                yield i, j, max(a.box[0], b.box[0]) - min(a.box[2], b.box[2])


def _split(lines: list[Line], letter_h: float) -> float:
    """Share of lines sitting beside a line of another block in the same text row, a small gap
    apart (under 3 letter heights: a word space or two): one row read as two blocks, so its
    words come out in the wrong order (the first word of every line in a block of its own)."""
    if len(lines) < 4:
        return 0.0
    hit = np.zeros(len(lines), bool)
    for i, j, gap in _same_row_pairs(lines):
        if -0.5 * letter_h < gap < 3.0 * letter_h:
            hit[i] = hit[j] = True
    return float(hit.mean())


def _columns(lines: list[Line], letter_h: float) -> bool:
    """Two blocks of text side by side, each at least a fifth of the text's width and 4 lines
    tall, a gutter of over 2 letter heights apart: a multi-column page (which must not be
    read as one block: that reads across the gutter)."""
    if len(lines) < 8:
        return False
    left, right = min(ln.box[0] for ln in lines), max(ln.box[2] for ln in lines)
    blocks: dict[int, list[Line]] = {}
    for ln in lines:
        blocks.setdefault(ln.block, []).append(ln)
    boxes = [
        (min(ln.box[0] for ln in ls), min(ln.box[1] for ln in ls),
         max(ln.box[2] for ln in ls), max(ln.box[3] for ln in ls))
        for ls in blocks.values()
        if len(ls) >= 4
    ]  # fmt: skip
    wide = [b for b in boxes if b[2] - b[0] >= 0.2 * (right - left)]
    for i, a in enumerate(wide):
        for b in wide[i + 1 :]:
            overlap = min(a[3], b[3]) - max(a[1], b[1])
            gutter = max(a[0], b[0]) - min(a[2], b[2])
            if overlap > 0.5 * min(a[3] - a[1], b[3] - b[1]) and gutter > 2 * letter_h:
                return True
    return False


def _jumps(lines: list[Line], letter_h: float) -> int:
    """How often the reading order jumps back up the page by over 1.5 letter heights: a block
    read out of order (once per extra column on a multi-column page is expected)."""
    ys = [(ln.box[1] + ln.box[3]) / 2 for ln in lines]
    return sum(1 for a, b in itertools.pairwise(ys) if b < a - 1.5 * letter_h)
