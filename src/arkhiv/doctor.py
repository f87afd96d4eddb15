"""`arkhiv doctor`: which programs and language packs are installed, and how to add the rest."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass

from arkhiv.errors import ArkhivError, MissingDependencyError, UsageError
from arkhiv.tools import ghostscript, tesseract

APT = "sudo apt-get install"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str
    hint: str = ""
    required: bool = True


def _python_package(dist: str, purpose: str) -> Check:
    try:
        return Check(dist, True, importlib.metadata.version(dist))
    except importlib.metadata.PackageNotFoundError:
        return Check(dist, False, f"not installed ({purpose})", "pip install -e . (or make setup)")


def run_checks(languages: Iterable[str] = ("ukr",)) -> list[Check]:
    """Check every external program, language pack and key Python package arkhiv uses."""
    checks: list[Check] = []
    try:
        checks.append(Check("tesseract", True, tesseract.version()))
        installed = set(tesseract.languages())
        for lang in ["osd", *languages]:
            if lang in installed:
                checks.append(Check(f"tesseract language {lang}", True, "installed"))
            else:
                pkg = tesseract.language_package(lang)
                why = "needed to turn rotated pages upright" if lang == "osd" else "OCR model"
                checks.append(
                    Check(f"tesseract language {lang}", False, f"missing ({why})", f"{APT} {pkg}")
                )
    except ArkhivError as e:
        checks.append(
            Check("tesseract", False, e.message, f"{APT} tesseract-ocr tesseract-ocr-ukr")
        )
    try:
        checks.append(Check("ghostscript", True, ghostscript.version()))
    except ArkhivError as e:
        checks.append(Check("ghostscript", False, e.message, f"{APT} ghostscript"))
    for prog, pkg, purpose in (
        ("pdftotext", "poppler-utils", "checking PDF text layers"),
        ("pdftoppm", "poppler-utils", "page images on the search page, arkhiv serve"),
    ):
        path = shutil.which(prog)
        checks.append(
            Check(
                prog, bool(path), path or f"not found ({purpose})", f"{APT} {pkg}", required=False
            )
        )
    checks.append(_python_package("ocrmypdf", "OCR and PDF/A"))
    checks.append(_python_package("Whoosh-Reloaded", "full-text index"))
    checks.append(_python_package("pymorphy3-dicts-uk", "Ukrainian word forms in search"))
    checks.append(_python_package("fastapi", "the search page, arkhiv serve"))
    return checks


def require_ocr(languages: Iterable[str]) -> None:
    """Raise MissingDependencyError, with the install command, if OCR cannot run."""
    langs = list(languages)
    odd = [code for code in langs if not re.fullmatch(r"[a-z]{3}(_[a-z]+)*|[a-z]+_[a-z_]+", code)]
    if odd:
        raise UsageError(
            f"{odd[0]!r} is not a Tesseract language code",
            hint="codes are like ukr, rus, eng, deu (joined with +: ukr+rus); "
            "`tesseract --list-langs` shows the installed ones",
        )
    missing = [c for c in run_checks(langs) if c.required and not c.ok]
    if missing:
        first = missing[0]
        hints = sorted({c.hint for c in missing if c.hint})
        raise MissingDependencyError(
            f"{first.name}: {first.detail}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
            hint="install: " + "; ".join(hints) + "   (`arkhiv doctor` lists everything)",
        )
