"""Discovery: grouping scans into documents, natural page order, what is ignored or refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from arkhiv.models import SourceKind
from arkhiv.pipeline.discover import discover, is_temporary_name, natural_key


def _png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (20, 20), 255).save(path, dpi=(300, 300))
    return path


def _tiff(path: Path, frames: int) -> Path:
    images = [Image.new("1", (20, 20), 1) for _ in range(frames)]
    images[0].save(path, save_all=True, append_images=images[1:], compression="group4")
    return path


def test_natural_order_puts_2_before_10() -> None:
    names = ["10.tif", "2.tif", "1.tif", "арк20.png", "арк3.png"]
    assert sorted(names, key=natural_key) == ["1.tif", "2.tif", "10.tif", "арк3.png", "арк20.png"]


def test_folder_of_images_is_one_document_in_natural_order(tmp_path: Path) -> None:
    folder = tmp_path / "ф. Р-123" / "справа 56"
    for n in (10, 2, 1):
        _png(folder / f"{n}.png")
    docs, skipped = discover(tmp_path)
    assert skipped == []
    assert len(docs) == 1
    doc = docs[0]
    assert doc.kind is SourceKind.FOLDER
    assert doc.name == "справа 56"
    assert [p.path.name for p in doc.pages] == ["1.png", "2.png", "10.png"]
    assert [p.number for p in doc.pages] == [1, 2, 3]


def test_multipage_tiff_and_pdf_are_documents_of_their_own(tmp_path: Path) -> None:
    _png(tmp_path / "a" / "1.png")
    _tiff(tmp_path / "a" / "наказ.tif", 3)
    _tiff(tmp_path / "a" / "2.tif", 1)  # a single-page TIFF is a page of the folder
    Image.new("RGB", (50, 50), "white").save(tmp_path / "a" / "scan.pdf")
    docs, _ = discover(tmp_path)
    by_name = {d.name: d for d in docs}
    assert by_name["наказ.tif"].kind is SourceKind.TIFF
    assert [(p.frame, p.number) for p in by_name["наказ.tif"].pages] == [(0, 1), (1, 2), (2, 3)]
    assert by_name["scan.pdf"].kind is SourceKind.PDF
    assert len(by_name["scan.pdf"].pages) == 1
    assert [p.path.name for p in by_name["a"].pages] == ["1.png", "2.tif"]


def test_temporary_and_side_files_are_ignored_unknown_files_reported(tmp_path: Path) -> None:
    _png(tmp_path / "1.png")
    (tmp_path / "2.png.part").write_bytes(b"half")
    (tmp_path / ".hidden.png").write_bytes(b"x")
    (tmp_path / "~$3.png").write_bytes(b"x")
    (tmp_path / "1.gt.txt").write_text("текст", encoding="utf-8")
    (tmp_path / "notes.docx").write_bytes(b"x")
    docs, skipped = discover(tmp_path)
    assert [p.path.name for d in docs for p in d.pages] == ["1.png"]
    assert [s.path.name for s in skipped] == ["notes.docx"]
    assert "unsupported file type '.docx'" in skipped[0].reason


def test_broken_pdf_is_reported_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "зламаний.pdf").write_bytes(b"%PDF-1.4\nnot really")
    docs, skipped = discover(tmp_path)
    assert docs == []
    assert skipped[0].path.name == "зламаний.pdf"
    assert "not a readable PDF" in skipped[0].reason


def test_symlink_loop_is_not_followed(tmp_path: Path) -> None:
    _png(tmp_path / "d" / "1.png")
    os.symlink(tmp_path, tmp_path / "d" / "loop")
    docs, _ = discover(tmp_path)
    assert [d.name for d in docs] == ["d"]


def test_single_file_input(tmp_path: Path) -> None:
    path = _png(tmp_path / "сторінка.png")
    docs, skipped = discover(path)
    assert skipped == []
    assert docs[0].kind is SourceKind.IMAGE
    assert docs[0].pages[0].path == path


def test_temporary_names() -> None:
    assert is_temporary_name("scan.tif.part")
    assert is_temporary_name("x.filepart")
    assert is_temporary_name("~$doc.png")
    assert is_temporary_name(".DS_Store")
    assert not is_temporary_name("справа_56.tif")


def test_an_archive_among_the_scans_is_left_out_with_a_note(tmp_path: Path) -> None:
    """Issue 15, 2: `arkhiv ingest scans --archive scans/archive` ingested its own document
    PDFs (and failed on catalog.sqlite) on every later run."""
    _png(tmp_path / "справа 1" / "1.png")
    archive = tmp_path / "archive"
    (archive / "documents" / "000001-справа 1").mkdir(parents=True)
    (archive / "catalog.sqlite").write_bytes(b"SQLite format 3\x00")
    (archive / "documents" / "000001-справа 1" / "document.pdf").write_bytes(b"%PDF-1.7")
    notes: list[str] = []
    docs, skipped = discover(tmp_path, notes)
    assert [d.name for d in docs] == ["справа 1"] and skipped == []
    assert notes == [f"{archive}: an arkhiv archive, left out (its files are not scans)"]
    assert discover(archive, notes) == ([], [])  # the archive given as the scans


def test_a_pipe_among_the_scans_is_never_opened_and_is_named(tmp_path: Path) -> None:
    """Issue 15, item 11: reading a FIFO blocks for ever."""
    _png(tmp_path / "справа" / "1.png")
    os.mkfifo(tmp_path / "справа" / "2.png")
    notes: list[str] = []
    docs, skipped = discover(tmp_path, notes)
    assert [len(d.pages) for d in docs] == [1] and skipped == []
    assert notes == [
        f"{tmp_path / 'справа' / '2.png'}: not a regular file (a pipe, socket or device), left out"
    ]


def test_a_name_that_is_not_utf8_fails_alone_shown_escaped(tmp_path: Path) -> None:
    """Issue 15, item 5: `scans/2\\xff.png` crashed the batch (UnicodeEncodeError)."""
    from arkhiv.pipeline.discover import NOT_UTF8

    _png(tmp_path / "справа" / "1.png")
    bad = os.fsdecode(os.fsencode(tmp_path / "справа") + b"/2\xff.png")
    _png(Path(bad))
    docs, skipped = discover(tmp_path)
    assert [len(d.pages) for d in docs] == [1]
    assert [(str(s.path), s.reason) for s in skipped] == [
        (f"{tmp_path / 'справа'}/2\\xff.png", NOT_UTF8)
    ]


def test_an_unreadable_folder_is_a_failure_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15, item 6: `chmod 000 scans/b` was skipped silently (exit 0). CI runs as root,
    whom chmod does not stop, so the error is injected where os.walk reports it."""
    from arkhiv.pipeline import discover as discover_mod

    _png(tmp_path / "a" / "1.png")
    _png(tmp_path / "b" / "1.png")
    real = os.walk

    def walk(top: object, **kwargs: object):  # type: ignore[no-untyped-def]
        onerror = kwargs["onerror"]
        for dirpath, dirnames, filenames in real(top, followlinks=False):  # type: ignore[call-overload]
            if Path(dirpath).name == "b":
                onerror(PermissionError(13, "Permission denied", dirpath))  # type: ignore[operator]
                dirnames[:] = []
                continue
            yield dirpath, dirnames, filenames

    monkeypatch.setattr(discover_mod.os, "walk", walk)
    docs, skipped = discover(tmp_path)
    assert [d.name for d in docs] == ["a"]
    assert [(s.path, s.reason) for s in skipped] == [
        (
            tmp_path / "b",
            "cannot read the folder (Permission denied); make it readable and run again",
        )
    ]


@pytest.mark.parametrize(
    ("name", "fmt"), [("анім.gif", "GIF"), ("два.png", "PNG"), ("скан.jpg", "TIFF")]
)
def test_every_frame_of_an_image_is_a_page(tmp_path: Path, name: str, fmt: str) -> None:
    """Issue 15, item 7: a 3-frame GIF, a 2-frame APNG, a 2-page TIFF named .jpg each gave
    one page (exit 0)."""
    frames = [Image.new("L", (40, 40), v) for v in (255, 128, 0)]
    frames[0].save(tmp_path / name, format=fmt, save_all=True, append_images=frames[1:])
    docs, skipped = discover(tmp_path)
    assert skipped == [] and len(docs) == 1
    assert [p.frame for p in docs[0].pages] == [0, 1, 2]
    assert docs[0].kind is SourceKind.TIFF
