"""The page job without external programs: input checks, DPI fallback, faults through the wrapper;
the page cache the coordinator writes its results into."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from arkhiv.config import IngestSettings, OcrSettings, PdfSettings, PdfWithText, Pipeline
from arkhiv.errors import InputFileError, MissingDependencyError, PageHasTextError, ToolError
from arkhiv.models import PageJob
from arkhiv.pipeline import page as page_stage
from arkhiv.pipeline.cache import load_cached, store
from arkhiv.pipeline.page import clean_text
from arkhiv.pipeline.page.assess import Assessment
from arkhiv.pipeline.page.geometry import Transform
from arkhiv.pipeline.page.prepare import prepare_input
from arkhiv.pipeline.page.reading import Line, Reading, Word
from arkhiv.pipeline.page.recover import Outcome, Page
from arkhiv.pipeline.plan import page_key


def _task(tmp_path: Path, source: Path, frame: int | None = None) -> PageJob:
    return PageJob("ab" + "0" * 62, source, frame, OcrSettings(), PdfSettings(), IngestSettings())


def test_missing_dpi_falls_back_to_default(tmp_path: Path) -> None:
    src = tmp_path / "газета.jpg"
    Image.new("L", (100, 100), 255).save(src)  # JPEG without a DPI
    path, dpi, assumed = prepare_input(_task(tmp_path, src), tmp_path)
    assert (path, dpi, assumed) == (src, 300.0, True)


def test_recorded_dpi_is_used(tmp_path: Path) -> None:
    src = tmp_path / "1.png"
    Image.new("L", (100, 100), 255).save(src, dpi=(400, 400))
    _, dpi, assumed = prepare_input(_task(tmp_path, src), tmp_path)
    assert round(dpi) == 400 and not assumed


def test_absurd_dpi_is_treated_as_missing(tmp_path: Path) -> None:
    src = tmp_path / "1.png"
    Image.new("L", (100, 100), 255).save(src, dpi=(72, 72))
    _, dpi, assumed = prepare_input(_task(tmp_path, src), tmp_path)
    assert (dpi, assumed) == (300.0, True)


def test_tiff_frame_is_extracted_losslessly(tmp_path: Path) -> None:
    src = tmp_path / "наказ.tif"
    frames = [Image.new("1", (64, 64), 1), Image.new("1", (64, 64), 0)]
    frames[0].save(
        src, save_all=True, append_images=frames[1:], compression="group4", dpi=(300, 300)
    )
    path, _, _ = prepare_input(_task(tmp_path, src, frame=1), tmp_path)
    with Image.open(path) as im:
        assert im.mode == "1"
        assert im.getpixel((0, 0)) == 0  # the second (black) frame


def test_alpha_image_is_flattened(tmp_path: Path) -> None:
    src = tmp_path / "alpha.png"
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(src, dpi=(300, 300))
    path, _, _ = prepare_input(_task(tmp_path, src), tmp_path)
    with Image.open(path) as im:
        assert im.mode == "RGB"
        assert im.getpixel((0, 0)) == (255, 255, 255)


def test_image_too_small_to_be_a_page(tmp_path: Path) -> None:
    src = tmp_path / "точка.png"
    Image.new("L", (1, 1), 255).save(src, dpi=(300, 300))
    with pytest.raises(InputFileError, match=r"image too small to be a scanned page \(1 x 1 px\)"):
        prepare_input(_task(tmp_path, src), tmp_path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not an image arkhiv can read"),
        (b"plain text named like an image", "not an image arkhiv can read"),
    ],
)
def test_bad_image_gives_input_error(tmp_path: Path, content: bytes, reason: str) -> None:
    src = tmp_path / "bad.png"
    src.write_bytes(content)
    with pytest.raises(InputFileError, match=reason):
        prepare_input(_task(tmp_path, src), tmp_path)


def test_truncated_png_gives_decode_error(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    Image.effect_noise((200, 200), 50).save(good, dpi=(300, 300))
    src = tmp_path / "truncated.png"
    src.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputFileError, match="cannot decode the image"):
        prepare_input(_task(tmp_path, src), tmp_path)


def _page(tmp_path: Path) -> Path:
    src = tmp_path / "1.png"
    Image.new("L", (100, 100), 255).save(src, dpi=(300, 300))
    return src


def _fake_reading(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str) -> None:
    """Tesseract's part faked (fault injection below is about the PDF step): the page reads as
    `text`, two words on one line, confidence 88."""
    layer = tmp_path / "layer.pdf"
    layer.write_bytes(b"%PDF-1.5 text layer")
    words = (Word("Архівні", (10, 10, 40, 20), 88.0, 0), Word("дані", (50, 10, 70, 20), 88.0, 0))
    line = Line((10, 10, 70, 20), 0, 0.0, 0)
    reading = Reading("original", 1, Transform((100, 100)), words, (line,), text, layer, 0.1)
    assessment = Assessment(0.0, 0.0, 0.0, 0, False, 2, 88.0, 2)

    def read_well(page: Page, cfg: object, work: Path) -> Outcome:
        return Outcome(reading, assessment, page, [{"strategy": "original", "kept": True}])

    monkeypatch.setattr(page_stage, "read_well", read_well)


def test_tool_failure_fails_the_page_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise ToolError("tesseract", -11, "Segmentation fault", "OCR failed: tesseract crashed")

    _fake_reading(monkeypatch, tmp_path, "Архівні дані")
    monkeypatch.setattr(page_stage, "page_pdf", crash)
    task = _task(tmp_path, _page(tmp_path))
    result = page_stage.run_page_job(task, tmp_path / "work")
    assert not result.ok
    assert result.error == "OCR failed: tesseract crashed"
    # Nothing is cached for a failure, and no temporary file is left behind.
    store(tmp_path / "cache", result)
    assert load_cached(tmp_path / "cache", task.key) is None
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))
    assert not any((tmp_path / "work").iterdir())


def test_missing_program_stops_the_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*args: object, **kwargs: object) -> None:
        raise MissingDependencyError("tesseract is not installed")

    monkeypatch.setattr(page_stage, "read_well", missing)
    with pytest.raises(MissingDependencyError):
        page_stage.run_page_job(_task(tmp_path, _page(tmp_path)), tmp_path / "work")


def test_success_is_cached_and_reloaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_pdf(src: Path, out_pdf: Path, **kw: object) -> None:
        out_pdf.write_bytes(b"%PDF-1.7 fake")

    _fake_reading(monkeypatch, tmp_path, "Архівні\u0020дані\f\n\n")
    monkeypatch.setattr(page_stage, "page_pdf", fake_pdf)
    task = _task(tmp_path, _page(tmp_path))
    result = page_stage.run_page_job(task, tmp_path / "work")
    assert result.ok and result.text == "Архівні дані\n" and result.confidence == 88.0
    assert result.pdf == b"%PDF-1.7 fake"
    kept = store(tmp_path / "cache", result)
    assert kept.pdf is None  # the bytes are in the cache now, not held in memory
    cached = load_cached(tmp_path / "cache", task.key)
    assert cached is not None and cached.text == result.text and cached.word_count == 2


def test_clean_text_is_nfc_without_form_feeds() -> None:
    decomposed = "Ки\u0457в\u0306"  # ї precomposed, then a breve to combine
    assert clean_text("и\u0306\n\f") == "й\n"
    assert clean_text(decomposed + "  \n\n") == "Ки\u0457в\u0306\n"


def test_page_key_depends_on_content_frame_and_ocr_settings() -> None:
    p = Pipeline()
    base = page_key("abc", None, p)
    assert base == page_key("abc", None, p)
    assert base != page_key("abd", None, p)
    assert base != page_key("abc", 0, p)
    other = Pipeline(ocr=OcrSettings(languages=("ukr", "rus")))
    assert base != page_key("abc", None, other)
    # The timeout does not change OCR output: same key.
    slow = Pipeline(ocr=OcrSettings(page_timeout=5.0))
    assert base == page_key("abc", None, slow)


def test_exif_rotated_jpeg_is_turned_upright(tmp_path: Path) -> None:
    src = tmp_path / "телефон.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": the pixels are stored on their side
    Image.new("L", (200, 100), 255).save(src, exif=exif, dpi=(300, 300))
    path, _, _ = prepare_input(_task(tmp_path, src), tmp_path)
    assert path != src
    with Image.open(path) as im:
        assert im.size == (100, 200)


def test_image_above_the_size_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    src = tmp_path / "величезний.png"
    Image.new("1", (20000, 20000), 1).save(src)
    with pytest.raises(InputFileError) as info:
        prepare_input(_task(tmp_path, src), tmp_path)
    assert info.value.message == (
        "image too large to process safely: 20000 x 20000 px = 400 megapixels, above the "
        "limit of 250 ([ingest] max_image_megapixels)"
    )


def _text_layer_ocr(calls: list[bool]):  # type: ignore[no-untyped-def]
    def fake(src: Path, out_pdf: Path, **kw: object) -> None:
        calls.append(bool(kw["force"]))
        if not kw["force"]:
            raise PageHasTextError(src, "the page already has a text layer (a born-digital PDF)")
        out_pdf.write_bytes(b"%PDF-1.7 fake")

    return fake


def test_page_with_text_is_redone_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    _fake_reading(monkeypatch, tmp_path, "Архівні дані\n")
    monkeypatch.setattr(page_stage, "page_pdf", _text_layer_ocr(calls))
    result = page_stage.run_page_job(_task(tmp_path, _page(tmp_path)), tmp_path / "work")
    assert calls == [False, True]
    assert result.ok and result.text == "Архівні дані\n"


def test_page_with_text_is_skipped_by_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    _fake_reading(monkeypatch, tmp_path, "Архівні дані\n")
    monkeypatch.setattr(page_stage, "page_pdf", _text_layer_ocr(calls))
    task = _task(tmp_path, _page(tmp_path))
    task = replace(task, ingest=IngestSettings(pdf_with_text=PdfWithText.SKIP))
    result = page_stage.run_page_job(task, tmp_path / "work")
    assert calls == [False]
    assert (result.ok, result.skipped) == (False, True)
    assert result.error == (
        "the page already has a text layer (a born-digital PDF); not OCRed "
        "([ingest] pdf_with_text = skip)"
    )
