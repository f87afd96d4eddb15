"""The OCRmyPDF wrapper: its exceptions mapped to arkhiv's errors; timeouts and no output caught."""

from __future__ import annotations

import json
from pathlib import Path

import ocrmypdf
import pytest
from ocrmypdf import exceptions as ox

from arkhiv.config import OcrSettings, PdfSettings
from arkhiv.errors import InputFileError, MissingDependencyError, ToolError
from arkhiv.tools.ocrmypdf_plugin import hocr_confidences
from arkhiv.tools.run_ocrmypdf import ocr_to_pdf


def _call(tmp_path: Path) -> object:
    return ocr_to_pdf(
        tmp_path / "in.png",
        tmp_path / "out.pdf",
        tmp_path / "out.txt",
        tmp_path / "stats.json",
        ocr=OcrSettings(page_timeout=30),
        pdf=PdfSettings(),
        image_dpi=None,
    )


def _fake_ocr(stats: dict[str, object] | None, pdf: bytes = b"%PDF-1.7"):  # type: ignore[no-untyped-def]
    def fake(src: Path, out: Path, **kwargs: object) -> int:
        Path(out).write_bytes(pdf)
        if stats is not None:
            Path(str(kwargs["arkhiv_stats"])).write_text(json.dumps(stats), encoding="utf-8")
        return 0

    return fake


def test_hocr_confidences() -> None:
    hocr = b"<span class='ocrx_word' title='bbox 1 2 3 4; x_wconf 91'>a</span>x_wconf 7"
    assert hocr_confidences(hocr) == [91, 7]


def test_stats_are_returned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stats = {"words": 3, "confidence": 90.5, "timed_out": False, "ocr_seconds": 1.5}
    monkeypatch.setattr(ocrmypdf, "ocr", _fake_ocr(stats))
    result = _call(tmp_path)
    assert (result.words, result.confidence) == (3, 90.5)  # type: ignore[attr-defined]


def test_timeout_is_a_tool_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stats = {"words": 0, "confidence": None, "timed_out": True, "ocr_seconds": 30.0}
    monkeypatch.setattr(ocrmypdf, "ocr", _fake_ocr(stats))
    with pytest.raises(ToolError, match="Tesseract timed out after 30 s on this page"):
        _call(tmp_path)


def test_no_output_is_a_tool_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocrmypdf, "ocr", _fake_ocr(None, pdf=b""))
    with pytest.raises(ToolError, match="wrote no PDF"):
        _call(tmp_path)


def test_no_ocr_run_is_a_tool_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocrmypdf, "ocr", _fake_ocr(None))
    with pytest.raises(ToolError, match="Tesseract ran no OCR"):
        _call(tmp_path)


@pytest.mark.parametrize(
    ("exc", "expected", "text"),
    [
        (ox.EncryptedPdfError(), InputFileError, "encrypted"),
        (ox.PriorOcrFoundError(), InputFileError, "already has a text layer"),
        (ox.DpiError("no dpi"), InputFileError, "cannot use this page"),
        (ox.UnsupportedImageFormatError(), InputFileError, "cannot use this page"),
        (ox.SubprocessOutputError("tesseract crashed"), ToolError, "OCR failed"),
        (ox.MissingDependencyError("gs"), MissingDependencyError, "OCRmyPDF cannot run"),
    ],
)
def test_ocrmypdf_exceptions_are_mapped(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    exc: Exception,
    expected: type[Exception],
    text: str,
) -> None:
    def raising(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(ocrmypdf, "ocr", raising)
    with pytest.raises(expected, match=text):
        _call(tmp_path)


def test_version_probes_run_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """OCRmyPDF asks each program's version several times per call; after
    cache_version_probes a worker asks once, and a failed probe is asked again."""
    from ocrmypdf._exec import _probe, ghostscript, tesseract

    from arkhiv.tools.run_ocrmypdf import cache_version_probes

    # The uncached probes (an earlier test may have cached them); restored after the test.
    monkeypatch.setattr(tesseract, "version", tesseract.PROBE.version)
    monkeypatch.setattr(ghostscript, "version", ghostscript.PROBE.version)
    asked: list[str] = []
    real = _probe.get_version
    failing = {"gs"}

    def counting(program: str, **kwargs: object) -> object:
        asked.append(program)
        if program in failing:
            raise ox.MissingDependencyError(f"{program} not found")
        return real(program, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_probe, "get_version", counting)
    cache_version_probes()
    cache_version_probes()  # a second call does not wrap the cache again
    versions = {str(tesseract.version()) for _ in range(4)}
    assert len(versions) == 1 and versions.pop().startswith(("4.", "5."))
    for _ in range(2):
        with pytest.raises(ox.MissingDependencyError):
            ghostscript.version()
    failing.clear()
    ghostscript.version()
    ghostscript.version()
    assert asked == ["tesseract", "gs", "gs", "gs"]
