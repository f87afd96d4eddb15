"""The OCRmyPDF plugin: the text layer arkhiv read is grafted as Tesseract's own; an image page
is its own raster."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from arkhiv.config import PdfSettings
from arkhiv.tools.ocrmypdf_plugin import ArkhivGraftEngine, same_pixels
from arkhiv.tools.run_ocrmypdf import ocrmypdf_options


def test_the_engine_hands_over_the_text_layer_arkhiv_read(tmp_path: Path) -> None:
    layer, text = tmp_path / "layer.pdf", tmp_path / "kept.txt"
    layer.write_bytes(b"%PDF-1.5 text layer")
    text.write_text("Архівні дані\n", encoding="utf-8")
    options = SimpleNamespace(arkhiv_textpdf=str(layer), arkhiv_text=str(text))
    out_pdf, out_text = tmp_path / "out.pdf", tmp_path / "out.txt"
    ArkhivGraftEngine.generate_pdf(tmp_path / "raster.png", out_pdf, out_text, options)
    assert out_pdf.read_bytes() == layer.read_bytes()
    assert out_text.read_text(encoding="utf-8") == "Архівні дані\n"


def test_ocrmypdf_runs_no_tesseract_pass_of_its_own(tmp_path: Path) -> None:
    opts = ocrmypdf_options(("ukr",), PdfSettings(), tmp_path / "l.pdf", tmp_path / "t.txt")
    assert opts["rotate_pages"] is False and opts["deskew"] is False and opts["clean"] is False
    assert opts["pdf_renderer"] == "sandwich"  # the text layer grafted as Tesseract's
    assert opts["arkhiv_textpdf"] == str(tmp_path / "l.pdf")


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
