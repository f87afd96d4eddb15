"""The OCRmyPDF wrapper: its exceptions mapped to arkhiv's errors; no output caught."""

from __future__ import annotations

from pathlib import Path

import ocrmypdf
import pytest
from ocrmypdf import exceptions as ox

from arkhiv.config import PdfSettings
from arkhiv.errors import InputFileError, MissingDependencyError, PageHasTextError, ToolError
from arkhiv.tools.run_ocrmypdf import page_pdf


def _call(tmp_path: Path) -> None:
    page_pdf(
        tmp_path / "in.png",
        tmp_path / "out.pdf",
        text_layer=tmp_path / "layer.pdf",
        text=tmp_path / "kept.txt",
        languages=("ukr",),
        pdf=PdfSettings(),
        image_dpi=None,
    )


def _fake_ocr(pdf: bytes = b"%PDF-1.7"):  # type: ignore[no-untyped-def]
    def fake(src: Path, out: Path, **kwargs: object) -> int:
        Path(out).write_bytes(pdf)
        return 0

    return fake


def test_a_pdf_page_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocrmypdf, "ocr", _fake_ocr())
    _call(tmp_path)
    assert (tmp_path / "out.pdf").read_bytes() == b"%PDF-1.7"


def test_no_output_is_a_tool_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocrmypdf, "ocr", _fake_ocr(pdf=b""))
    with pytest.raises(ToolError, match="wrote no PDF"):
        _call(tmp_path)


@pytest.mark.parametrize(
    ("exc", "expected", "text"),
    [
        (ox.EncryptedPdfError(), InputFileError, "encrypted"),
        (ox.PriorOcrFoundError(), PageHasTextError, "already has a text layer"),
        (ox.DpiError("no dpi"), InputFileError, "cannot use this page"),
        (ox.UnsupportedImageFormatError(), InputFileError, "cannot use this page"),
        (ox.SubprocessOutputError("gs crashed"), ToolError, "OCR failed"),
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
