"""Names are data, not paths; programs run from argv lists; oversized PDF pages are refused."""

from __future__ import annotations

import ast
from pathlib import Path

import pikepdf
import pytest

from arkhiv.catalog import Catalog, safe_name
from arkhiv.config import IngestSettings, OcrSettings, PdfSettings
from arkhiv.errors import InputFileError
from arkhiv.models import DocumentSource, PageJob, SourceKind, SourcePage
from arkhiv.pipeline.page.prepare import prepare_input

SRC = Path(__file__).resolve().parents[2] / "src" / "arkhiv"


@pytest.mark.parametrize(
    "name", ["..", ".", "../../etc", "..\\..\\windows", "a/../../b", "/etc/passwd", "~root", "\0x"]
)
def test_document_names_never_leave_the_documents_folder(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "archive"
    cat = Catalog.open(archive, create=True)
    batch = cat.start_batch([tmp_path], "default", {})
    doc = DocumentSource(
        tmp_path / "x", name, SourceKind.FOLDER, (SourcePage(tmp_path / "x" / "1.png", None, 1),)
    )
    _, folder = cat.upsert_document(doc, batch)
    target = (archive / folder).resolve()
    assert target.parent == (archive / "documents").resolve()
    assert "/" not in safe_name(name) and "\\" not in safe_name(name)
    cat.close()


def test_no_shell_anywhere_in_the_source() -> None:
    """Every external program runs from an argv list: no shell=True, os.system or os.popen."""
    offenders = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "shell":
                offenders.append(f"{path.name}: shell=")
            if isinstance(node, ast.Attribute) and node.attr in ("system", "popen", "spawnl"):
                offenders.append(f"{path.name}: os.{node.attr}")
    assert offenders == []


def test_subprocess_is_used_in_one_place_only() -> None:
    users = sorted(
        p.relative_to(SRC).as_posix()
        for p in SRC.rglob("*.py")
        if "import subprocess" in p.read_text(encoding="utf-8")
    )
    assert users == ["tools/runner.py"]


def test_pdf_page_of_absurd_size_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "плакат.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(200 * 72, 200 * 72))  # 200 x 200 inches
        pdf.save(src)
    job = PageJob("ab" * 32, src, 0, OcrSettings(), PdfSettings(), IngestSettings())
    with pytest.raises(InputFileError) as info:
        prepare_input(job, tmp_path)
    assert info.value.message.startswith("PDF page 1 too large to process safely: 200 x 200 inches")


def test_a_pdf_page_made_huge_by_userunit_is_refused(tmp_path: Path) -> None:
    """Issue 15, item 10: /UserUnit (page size x ~252) passed the size check and came out as
    "no text found"."""
    src = tmp_path / "креслення.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(612, 792))
        pdf.pages[0].obj.UserUnit = 252
        pdf.save(src)
    job = PageJob("ab" * 32, src, 0, OcrSettings(), PdfSettings(), IngestSettings())
    with pytest.raises(InputFileError) as info:
        prepare_input(job, tmp_path)
    assert info.value.message.startswith("PDF page 1 too large to process safely: 2142 x 2772")
