"""Wrapper of Poppler's `pdftoppm` (through pdf2image): one PDF page as an image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from arkhiv.errors import MissingDependencyError, ToolError

RENDER_TIMEOUT = 60  # seconds for one page


def render_page(pdf: Path, page: int, width: int) -> Any:
    """Page `page` (1-based) of `pdf` as a PIL image `width` pixels wide, grayscale or RGB."""
    return _render(pdf, page, size=(width, None))


def rasterize(pdf: Path, page: int, dpi: float, target: Path) -> Path:
    """Page `page` (1-based) of `pdf` as a gray PNG at `target`, `dpi` dots per inch (its
    MediaBox, turned as its /Rotate says: as it is shown)."""
    _render(pdf, page, dpi=round(dpi), grayscale=True).save(target, dpi=(dpi, dpi))
    return target


def _render(pdf: Path, page: int, **options: Any) -> Any:
    """One page through pdf2image's `convert_from_path`, its failures as arkhiv's errors."""
    from pdf2image import convert_from_path
    from pdf2image.exceptions import (
        PDFInfoNotInstalledError,
        PDFPageCountError,
        PDFSyntaxError,
    )

    try:
        images = convert_from_path(
            str(pdf),
            first_page=page,
            last_page=page,
            timeout=RENDER_TIMEOUT,
            thread_count=1,
            **options,
        )
    except PDFInfoNotInstalledError as e:
        raise MissingDependencyError(
            "pdftoppm is not installed", hint="sudo apt-get install poppler-utils"
        ) from e
    except (PDFPageCountError, PDFSyntaxError, TimeoutError, OSError) as e:
        message = f"cannot render {pdf} page {page}: {e}"
        raise ToolError("pdftoppm", None, str(e)[-500:], message) from e
    if not images:
        raise ToolError("pdftoppm", 0, "", f"pdftoppm wrote no image for {pdf} page {page}")
    return images[0]
