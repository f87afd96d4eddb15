"""Wrapper of the `tesseract` program: version and installed language packs."""

from __future__ import annotations

import re

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
