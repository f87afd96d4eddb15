"""What arkhiv reads from Tesseract's hOCR: words, boxes, confidences, lines, orientation; and how
a copy's boxes and text layer map back onto the scan."""

from __future__ import annotations

import numpy as np
import pytest

from arkhiv.pipeline.page.geometry import Transform
from arkhiv.pipeline.page.reading import Reading, parse_hocr


def hocr_orientation(hocr: bytes) -> int:
    words, lines = parse_hocr(hocr)
    reading = Reading(
        "original", 1, Transform((2480, 3508)), tuple(words), tuple(lines), "", None, 0
    )
    return reading.orientation()


def _hocr(lines: list[tuple[int | None, int]]) -> bytes:
    """A Tesseract-like hOCR page: one line per (textangle or None, number of words)."""
    body = []
    for i, (angle, words) in enumerate(lines):
        title = f"bbox 0 {i * 40} 900 {i * 40 + 30}; baseline 0 -5"
        if angle is not None:
            title += f"; textangle {angle}"
        spans = "".join(
            f"<span class='ocrx_word' title='bbox 0 0 10 10; x_wconf 90'>слово{j}</span> "
            for j in range(words)
        )
        body.append(f"<span class='ocr_line' title='{title}'>{spans}</span>")
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        "<html xmlns='http://www.w3.org/1999/xhtml' xml:lang='en' lang='en'><body>"
        "<div class='ocr_page' title='bbox 0 0 2480 3508'><p class='ocr_par'>"
        + "".join(body)
        + "</p></div></body></html>"
    ).encode()


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_orientation_is_the_textangle_of_most_words(angle: int) -> None:
    assert hocr_orientation(_hocr([(angle, 8), (angle, 7), (None, 2)])) == angle


def test_upright_page_has_no_turn() -> None:
    assert hocr_orientation(_hocr([(None, 8), (None, 5)])) == 0


def test_a_few_turned_lines_do_not_turn_the_page() -> None:
    # A table with vertical headers: the body text is upright.
    assert hocr_orientation(_hocr([(None, 30), (90, 4), (90, 3)])) == 0


def test_no_majority_means_no_turn() -> None:
    assert hocr_orientation(_hocr([(90, 5), (180, 5), (None, 4)])) == 0


def test_lines_without_words_do_not_count() -> None:
    assert hocr_orientation(_hocr([(180, 0), (180, 0), (None, 3)])) == 0


@pytest.mark.parametrize("junk", [b"", b"not xml", b"<html><body>"])
def test_unreadable_hocr_means_no_turn(junk: bytes) -> None:
    assert hocr_orientation(junk) == 0


def test_words_lines_and_blocks_are_parsed() -> None:
    words, lines = parse_hocr(_hocr([(None, 3), (180, 2)]))
    assert [w.text for w in words] == ["слово0", "слово1", "слово2", "слово0", "слово1"]
    assert [w.line for w in words] == [0, 0, 0, 1, 1]
    assert [ln.textangle for ln in lines] == [0, 180]
    assert lines[1].box == (0, 40, 900, 70) and lines[0].slope == 0.0
    assert all(w.confidence == 90.0 for w in words)


@pytest.mark.parametrize("k", [0, 1, 2, 3])
@pytest.mark.parametrize("angle", [0.0, 2.5, -1.7])
@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_points_map_to_the_copy_and_back(k: int, angle: float, scale: float) -> None:
    t = Transform((2480, 3508), k, angle, scale)
    x, y = np.array([0.0, 100.0, 2479.0, 1234.5]), np.array([0.0, 3000.0, 3507.0, 10.0])
    back = t.inverse(*t.forward(x, y))
    assert np.allclose(back[0], x) and np.allclose(back[1], y)


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_a_quarter_turned_copy_has_its_corners_where_numpy_puts_them(k: int) -> None:
    image = np.full((30, 20), 255, np.uint8)
    image[2, 3] = 0  # one dark pixel at x=3, y=2
    t = Transform((20, 30), k)
    copy = t.apply(image)
    ys, xs = np.nonzero(copy < 128)
    fx, fy = t.forward(np.array([3.0]), np.array([2.0]))
    assert (int(xs[0]), int(ys[0])) == (round(fx[0]), round(fy[0]))


@pytest.mark.parametrize("k", [0, 1, 2, 3])
@pytest.mark.parametrize("angle", [0.0, 2.0])
def test_the_text_layer_matrix_puts_a_copys_point_on_the_scan(k: int, angle: float) -> None:
    """A point of the copy, as Tesseract's text PDF of the copy places it (points, y up), lands
    by the `cm` matrix where the same spot of the scan is on the scan's PDF page."""
    dpi, scale = 300.0, 2.0 if k == 1 else 1.0
    t = Transform((2480, 3508), k, angle, scale)
    spot = (np.array([700.0]), np.array([900.0]))  # pixels of the scan
    cx, cy = t.forward(*spot)
    copy_height = (2480 if k % 2 else 3508) * scale
    copy_pt = (cx[0] * 72 / (dpi * scale), (copy_height - cy[0]) * 72 / (dpi * scale))
    a, b, c, d, e, f = t.pdf_matrix(dpi)
    page_pt = (a * copy_pt[0] + c * copy_pt[1] + e, b * copy_pt[0] + d * copy_pt[1] + f)
    want = (700.0 * 72 / dpi, (3508 - 900.0) * 72 / dpi)
    assert np.allclose(page_pt, want, atol=1e-6)
