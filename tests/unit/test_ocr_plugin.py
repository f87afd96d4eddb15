"""What arkhiv reads from Tesseract's hOCR (orientation, confidences) and when it reads again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from arkhiv.config import OcrSettings, PdfSettings
from arkhiv.tools.ocrmypdf_plugin import Reading, hocr_orientation, needs_retry, same_pixels
from arkhiv.tools.run_ocrmypdf import ocrmypdf_options, orientation_in_ocr


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


def _reading(confidence: float | None, words: int) -> Reading:
    return Reading(Path("p.hocr"), Path("p.txt"), confidence, words, "original")


def test_reading_without_hocr_has_no_words(tmp_path: Path) -> None:
    # After a Tesseract timeout OCRmyPDF writes an empty page and no hOCR.
    r = Reading.of(tmp_path / "p.pdf", tmp_path / "p.hocr", tmp_path / "p.txt", "original")
    assert (r.words, r.confidence, r.rotation) == (0, None, 0)


@pytest.mark.parametrize(
    ("confidence", "words", "retry"),
    [(95.0, 400, False), (84.9, 400, True), (85.0, 400, False), (95.0, 49, True), (None, 0, True)],
)
def test_poor_readings_are_read_again(confidence: float | None, words: int, retry: bool) -> None:
    assert needs_retry(_reading(confidence, words), below=85.0, min_words=50) is retry


def test_reading_from_hocr_file(tmp_path: Path) -> None:
    hocr = tmp_path / "p.hocr"
    hocr.write_bytes(_hocr([(None, 3), (None, 1)]))
    r = Reading.of(hocr, hocr, tmp_path / "p.txt", "original")
    assert (r.words, r.confidence, r.score()) == (4, 90.0, 90.0)


def test_default_settings_read_orientation_in_the_ocr_pass(tmp_path: Path) -> None:
    opts = ocrmypdf_options(OcrSettings(), PdfSettings(), tmp_path / "t", tmp_path / "s")
    assert orientation_in_ocr(OcrSettings())
    # One Tesseract run: --psm 1, no OSD pass, no deskew pass.
    assert opts["tesseract_pagesegmode"] == 1
    assert opts["rotate_pages"] is False and opts["deskew"] is False
    assert opts["pdf_renderer"] == "sandwich"  # the text layer from the same Tesseract run
    assert '"below": 83.0' in str(opts["arkhiv_retry"])


def test_other_psm_uses_ocrmypdfs_orientation_pass(tmp_path: Path) -> None:
    ocr = OcrSettings(psm=6, retry=False)
    opts = ocrmypdf_options(ocr, PdfSettings(), tmp_path / "t", tmp_path / "s")
    assert not orientation_in_ocr(ocr)
    assert opts["rotate_pages"] is True and opts["tesseract_pagesegmode"] == 6
    assert "arkhiv_retry" not in opts


def test_no_rotation_keeps_tesseracts_default_psm(tmp_path: Path) -> None:
    opts = ocrmypdf_options(
        OcrSettings(rotate_pages=False), PdfSettings(), tmp_path / "t", tmp_path / "s"
    )
    assert "tesseract_pagesegmode" not in opts and opts["rotate_pages"] is False


def _page_pdf(tmp_path: Path, image: Path) -> Path:
    import img2pdf

    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(img2pdf.convert(str(image)))
    return pdf


def _res(x: float, y: float) -> object:
    from ocrmypdf.helpers import Resolution

    return Resolution(x, y)


@pytest.mark.parametrize("mode", ["1", "L", "RGB"])
def test_image_page_is_read_as_it_is(tmp_path: Path, mode: str) -> None:
    from PIL import Image

    image = tmp_path / ("page.tif" if mode == "1" else "page.png")
    Image.new(mode, (850, 1100), 1 if mode == "1" else "white").save(image, dpi=(200, 200))
    pdf = _page_pdf(tmp_path, image)
    assert same_pixels(image, pdf, _res(200, 200), _res(200, 200))
    # Rendered at another resolution, or recorded with another DPI: not the same pixels.
    assert not same_pixels(image, pdf, _res(300, 300), _res(300, 300))
    assert not same_pixels(image, pdf, _res(200, 200), _res(300, 300))


def test_image_without_dpi_or_with_frames_is_rasterized(tmp_path: Path) -> None:
    from PIL import Image

    bare = tmp_path / "bare.png"
    Image.new("L", (850, 1100), "white").save(bare)
    pdf = _page_pdf(tmp_path, bare)
    assert not same_pixels(bare, pdf, _res(96, 96), _res(96, 96))
    frames = tmp_path / "two.tif"
    first = Image.new("L", (850, 1100), "white")
    first.save(frames, dpi=(200, 200), save_all=True, append_images=[first.copy()])
    assert not same_pixels(frames, pdf, _res(200, 200), _res(200, 200))
    assert not same_pixels(tmp_path / "missing.png", pdf, _res(200, 200), _res(200, 200))


def _fake_tesseract(
    monkeypatch: pytest.MonkeyPatch, retry_conf: int, first_angle: int = 0
) -> list[str]:
    """Tesseract replaced (fault injection) as OCRmyPDF's sandwich renderer runs it: the
    original reads with confidence 60, the cleaned-up copy with `retry_conf`. Returns what it
    was asked to read, with the page segmentation mode and the extra configs."""
    from ocrmypdf.builtin_plugins.tesseract_ocr import TesseractOcrEngine

    calls: list[str] = []

    def fake(input_file: Path, output_pdf: Path, output_text: Path, options: Any) -> None:
        tess = options.tesseract
        calls.append(f"{Path(input_file).name} psm {tess.pagesegmode} {'+'.join(tess.config)}")
        retry = "arkhiv-retry" in Path(input_file).name
        conf = retry_conf if retry else 60
        words = "".join(
            f"<span class='ocrx_word' title='bbox 0 0 9 9; x_wconf {conf}'>w{i}</span>"
            for i in range(60)
        )
        angle = f"; textangle {first_angle}" if first_angle and not retry else ""
        Path(output_pdf).with_suffix(".hocr").write_text(
            f"<html><body><span class='ocr_line' title='bbox 0 0 9 9{angle}'>{words}</span>"
            "</body></html>"
        )
        Path(output_pdf).write_bytes(b"%PDF copy" if retry else b"%PDF first")
        Path(output_text).write_text("copy\n" if retry else "first\n", encoding="utf-8")

    monkeypatch.setattr(TesseractOcrEngine, "generate_pdf", staticmethod(fake))
    return calls


def _page_and_options(tmp_path: Path) -> tuple[Path, Any]:
    """A page image as OCRmyPDF hands it to the engine, and the options arkhiv gives."""
    import json
    from types import SimpleNamespace

    from ocrmypdf.builtin_plugins.tesseract_ocr import TesseractOptions
    from PIL import Image

    image = tmp_path / "000001_ocr.png"
    Image.new("L", (200, 100), 200).save(image, dpi=(300, 300))
    options = SimpleNamespace(
        arkhiv_stats=str(tmp_path / "stats.json"),
        arkhiv_retry=json.dumps({"below": 85.0, "min_words": 50, "languages": []}),
        tesseract=TesseractOptions(timeout=30, pagesegmode=1),
        languages=["ukr"],
    )
    return image, options


def _run_engine(tmp_path: Path) -> dict[str, object]:
    import json

    from arkhiv.tools.ocrmypdf_plugin import ArkhivTesseractEngine

    image, options = _page_and_options(tmp_path)
    out = tmp_path / "000001_ocr_tess.pdf"
    ArkhivTesseractEngine.generate_pdf(image, out, tmp_path / "p.txt", options)
    stats: dict[str, object] = json.loads((tmp_path / "stats.json").read_text())
    stats["text"] = (tmp_path / "p.txt").read_text(encoding="utf-8")
    stats["text_layer"] = out.read_bytes()
    return stats


def test_better_second_reading_replaces_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fake_tesseract(monkeypatch, retry_conf=90)
    stats = _run_engine(tmp_path)
    # The first reading found the page upright: the copy is read without orientation detection.
    # Tesseract writes the hOCR beside its text layer (the `hocr` config), in the same run.
    assert calls == ["000001_ocr.png psm 1 hocr", "arkhiv-retry.tif psm 3 hocr"]
    assert stats["text"] == "copy\n" and stats["confidence"] == 90.0
    assert stats["text_layer"] == b"%PDF copy"  # the better reading's text layer
    assert (stats["retries"], stats["variant"]) == (1, "background")  # a blank gray page


def test_worse_second_reading_is_dropped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_tesseract(monkeypatch, retry_conf=50)
    stats = _run_engine(tmp_path)
    assert stats["text"] == "first\n" and stats["confidence"] == 60.0
    assert stats["text_layer"] == b"%PDF first"
    assert (stats["retries"], stats["variant"]) == (1, "original")


def test_failed_second_reading_keeps_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import arkhiv.pipeline.preprocess as preprocess

    def broken(src: Path, dst: Path) -> str:
        raise OSError("encoder error -2 when writing image file")

    monkeypatch.setattr(preprocess, "retry_image", broken)
    calls = _fake_tesseract(monkeypatch, retry_conf=90)
    stats = _run_engine(tmp_path)
    assert calls == ["000001_ocr.png psm 1 hocr"]
    assert stats["text"] == "first\n" and stats["variant"] == "original"
    assert "encoder error -2" in str(stats["retry_error"])


def test_page_found_turned_is_read_again_with_orientation_detection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fake_tesseract(monkeypatch, retry_conf=50, first_angle=180)
    stats = _run_engine(tmp_path)
    assert calls == ["000001_ocr.png psm 1 hocr", "arkhiv-retry.tif psm 1 hocr"]
    assert (stats["rotation"], stats["variant"]) == (180, "original")
