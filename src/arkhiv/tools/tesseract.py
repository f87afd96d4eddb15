"""Wrapper of the `tesseract` program: version, installed language packs, reading a page."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from arkhiv.errors import ToolError
from arkhiv.tools.runner import run

INSTALL_HINT = "install it: sudo apt-get install tesseract-ocr tesseract-ocr-ukr"


def version() -> str:
    """Tesseract's version, e.g. '5.3.0'."""
    out = run(["tesseract", "--version"], timeout=30, install_hint=INSTALL_HINT)
    m = re.search(r"tesseract\s+v?(\S+)", out.stdout + out.stderr)
    return m.group(1) if m else "unknown"


def languages() -> list[str]:
    """Installed Tesseract language packs (e.g. ['eng', 'osd', 'ukr'])."""
    out = run(["tesseract", "--list-langs"], timeout=30, install_hint=INSTALL_HINT)
    lines = (out.stdout or out.stderr).splitlines()
    return sorted(line.strip() for line in lines[1:] if line.strip())


def language_package(lang: str) -> str:
    """The Debian/Ubuntu package that provides a Tesseract language pack."""
    return "tesseract-ocr-" + lang.lower().replace("_", "-")


@dataclass(frozen=True)
class TesseractFiles:
    """What one Tesseract run wrote: its hOCR (words, boxes, confidences), its plain text and,
    when asked for, a text-only PDF (the invisible text layer of the page)."""

    hocr: Path
    text: Path
    pdf: Path | None


def read(
    image: Path,
    out_base: Path,
    *,
    languages: Sequence[str],
    psm: int,
    dpi: int | None,
    timeout: float,
    text_pdf: bool = True,
) -> TesseractFiles:
    """Read one page image with Tesseract, single-threaded: hOCR, text and (optionally) the
    text-only PDF, all from the same run. ToolError when it fails or takes over `timeout`."""
    argv = ["tesseract", str(image), str(out_base), "-l", "+".join(languages), "--psm", str(psm)]
    if dpi:
        argv += ["--dpi", str(dpi)]
    if text_pdf:
        argv += ["-c", "textonly_pdf=1"]
    argv += ["hocr", "txt", *(["pdf"] if text_pdf else [])]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        run(argv, timeout=timeout, env=env, install_hint=INSTALL_HINT)
    except ToolError as e:
        if e.returncode is None:  # the runner's timeout
            raise ToolError(
                "tesseract", None, "", f"Tesseract timed out after {timeout:g} s on this page"
            ) from e
        raise
    files = TesseractFiles(
        out_base.with_suffix(".hocr"),
        out_base.with_suffix(".txt"),
        out_base.with_suffix(".pdf") if text_pdf else None,
    )
    for path in (files.hocr, files.text, files.pdf):
        if path is not None and not path.is_file():
            raise ToolError("tesseract", 0, "", f"Tesseract finished but wrote no {path.suffix}")
    return files


def orientation(image: Path, *, dpi: int | None, timeout: float) -> int | None:
    """How far to turn the page clockwise to make it upright (0, 90, 180, 270), by Tesseract's
    orientation detection (`--psm 0`); None when it cannot tell (too little text)."""
    argv = ["tesseract", str(image), "-", "--psm", "0", *(["--dpi", str(dpi)] if dpi else [])]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        out = run(argv, timeout=timeout, env=env, install_hint=INSTALL_HINT)
    except ToolError:  # "Too few characters": no orientation to be had, not a failure
        return None
    m = re.search(r"Rotate:\s*(\d+)", out.stdout + out.stderr)
    return int(m.group(1)) % 360 if m else None
