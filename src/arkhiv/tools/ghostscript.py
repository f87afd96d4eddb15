"""Wrapper of Ghostscript (`gs`): its version, which OCRmyPDF needs for some PDFs."""

from __future__ import annotations

from arkhiv.tools.runner import run


def version() -> str:
    """Ghostscript's version, e.g. '10.00.0'."""
    return run(
        ["gs", "--version"], timeout=30, install_hint="sudo apt-get install ghostscript"
    ).stdout.strip()
