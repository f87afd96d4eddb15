"""Reliability, round two (issue 15): what hostile trials found, each reproduced (the real
Tesseract, OCRmyPDF and SQLite) and held."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arkhiv import api
from arkhiv.cli import app
from tests.conftest import SPRAVA, needs_tesseract

pytestmark = needs_tesseract()


def test_the_same_image_in_two_folders_gives_both_documents_their_page(tmp_path: Path) -> None:
    """Item 9: the page's PDF left the page cache with the first document, and the second
    crashed the batch ("a document needs at least one page", exit 4)."""
    scans = tmp_path / "d"
    for folder in ("A", "B"):
        (scans / folder).mkdir(parents=True)
        shutil.copy(SPRAVA / "1.png", scans / folder / "1.png")
    result = CliRunner().invoke(app, ["ingest", str(scans), "--archive", str(tmp_path / "a"), "-q"])
    assert result.exit_code == 0, result.output
    assert "2 document(s): 2 page(s) OCRed" in result.output
    views = [api.find_documents(tmp_path / "a", name)[0] for name in ("A", "B")]
    assert all(v.status == "ok" and v.pages[0].pdf_page == 1 for v in views)
    assert not list((tmp_path / "a" / "cache").rglob("*.pdf"))  # no copy left behind
    assert api.search(tmp_path / "a", "Ужгород").total == 2


def test_an_archive_among_the_scans_is_not_ingested_into_itself(tmp_path: Path) -> None:
    """Item 2: `arkhiv ingest scans --archive scans/archive` took its own PDFs as scans."""
    scans = tmp_path / "scans"
    shutil.copytree(SPRAVA, scans / "справа")
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, ["ingest", str(scans), "--archive", str(scans / "archive")])
        assert result.exit_code == 0, result.output
    assert f"note: {scans / 'archive'}: an arkhiv archive, left out" in result.output
    assert "1 document(s)" in result.output
    assert api.search(scans / "archive", "Ужгород").total == 3  # not doubled


def test_a_name_that_is_not_utf8_fails_alone_and_the_batch_goes_on(tmp_path: Path) -> None:
    """Item 5: `internal error: UnicodeEncodeError`, the batch left `running`, every re-run
    failing the same way."""
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(SPRAVA / "1.png", scans / "1.png")
    bad = os.fsencode(scans) + b"/2\xff.png"
    shutil.copy(SPRAVA / "2.png", os.fsdecode(bad))
    runner = CliRunner()
    for _ in range(2):  # and the same again on a re-run
        result = runner.invoke(app, ["ingest", str(scans), "--archive", str(tmp_path / "a")])
        assert result.exit_code == 1, result.output
        assert f"FAILED {scans}/2\\xff.png: the file or folder name is not valid UTF-8" in (
            result.output
        )
    assert api.search(tmp_path / "a", "Ужгород").total == 1


def test_reingesting_one_sprava_keeps_its_recorded_metadata(tmp_path: Path) -> None:
    """Item 4: ingesting one справа again after a whole-tree ingest wiped its title, date,
    creator, rights and leaves (арк. 1, 1 зв., 2 became 1, 2, 3), silently (exit 0)."""
    from PIL import Image

    sprava = tmp_path / "scans" / "ДАЗО" / "Р-123" / "4" / "56"
    sprava.mkdir(parents=True)
    for name in ("0001.png", "0001zv.png", "0002.png"):
        Image.new("L", (400, 300), 255).save(sprava / name, dpi=(300, 300))
    manifest = tmp_path / "опис.csv"
    manifest.write_text(
        "path,title,date,creator,rights\n"
        "ДАЗО/Р-123/4/56,Накази по особовому складу,1937-1939,Виконком,до 2030\n",
        encoding="utf-8",
    )
    layout = ["--layout", "{archive}/{fond}/{opys}/{sprava}"]
    archive = ["--archive", str(tmp_path / "a")]
    runner = CliRunner()
    first = runner.invoke(
        app,
        ["ingest", str(tmp_path / "scans"), *layout, *archive, "--manifest", str(manifest),
         "--sides", "filenames", "-q"],
    )  # fmt: skip
    assert first.exit_code == 0, first.output

    again = runner.invoke(app, ["ingest", str(sprava), *layout, *archive, "-q"])
    assert again.exit_code == 0, again.output
    assert "metadata changed" not in again.output
    (view,) = api.find_documents(tmp_path / "a", "ДАЗО, ф. Р-123, оп. 4, спр. 56")
    meta = view.metadata
    assert meta["title"] == "Накази по особовому складу"
    assert meta["date"]["text"] == "1937–1939" and meta["creator"] == ["Виконком"]
    assert meta["rights"] == "до 2030" and meta["sides"] == "filenames"
    assert [(p.arkush, bool(p.verso)) for p in view.pages] == [(1, False), (1, True), (2, False)]

    changed = runner.invoke(
        app, ["ingest", str(sprava), *layout, *archive, "--set", "title=Накази 1937-1939"]
    )
    assert changed.exit_code == 0, changed.output
    assert (
        "metadata changed: title: Накази по особовому складу -> Накази 1937-1939" in changed.output
    )


def test_the_same_scans_by_another_path_are_not_added_again(tmp_path: Path) -> None:
    """Item 3: through a symlink, a copy, or one file of an ingested folder, 8 pages became
    16 and search returned each page twice; a moved folder had its path followed nowhere."""
    scans = tmp_path / "k" / "scans"
    shutil.copytree(SPRAVA, scans / "справа")
    archive = ["--archive", str(tmp_path / "a")]
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(scans), *archive, "-q"]).exit_code == 0
    (tmp_path / "link").symlink_to(scans, target_is_directory=True)
    shutil.copytree(scans / "справа", tmp_path / "copy" / "справа")
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(scans / "справа" / "2.png", lone / "2.png")
    for again in (tmp_path / "link", tmp_path / "copy", lone / "2.png"):
        result = runner.invoke(app, ["ingest", str(again), *archive])
        assert result.exit_code == 0, result.output
        assert "already in the archive (the same content as " in result.output
        assert "0 page(s) OCRed" in result.output
    assert api.search(tmp_path / "a", "Ужгород").total == 3  # once each, not doubled

    moved = tmp_path / "nas" / "справа"
    moved.parent.mkdir()
    shutil.move(scans / "справа", moved)
    result = runner.invoke(app, ["ingest", str(moved.parent), *archive])
    assert result.exit_code == 0, result.output
    assert "which is gone: the archive's document now points here (moved)" in result.output
    (view,) = api.find_documents(tmp_path / "a", "справа")
    assert view.source == str(moved) and all(
        p.source_path.startswith(str(moved)) for p in view.pages
    )
    assert runner.invoke(app, ["check", *archive]).exit_code == 0


def test_relocate_follows_originals_moved_on_disk_checked_by_hash(tmp_path: Path) -> None:
    old = tmp_path / "old-nas" / "scans"
    shutil.copytree(SPRAVA, old / "справа")
    archive = ["--archive", str(tmp_path / "a")]
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(old), *archive, "-q"]).exit_code == 0
    new = tmp_path / "srv" / "scans"
    new.parent.mkdir()
    shutil.move(old, new)
    assert runner.invoke(app, ["check", *archive]).exit_code == 1  # every original missing
    dry = runner.invoke(app, ["relocate", str(old), str(new), *archive, "--dry-run"])
    assert dry.exit_code == 0 and "would follow 1 document(s), 3 page(s)" in dry.output
    assert runner.invoke(app, ["check", *archive]).exit_code == 1  # nothing changed yet
    (new / "справа" / "10.png").write_bytes((new / "справа" / "10.png").read_bytes() + b"\0")
    changed = runner.invoke(app, ["relocate", str(old), str(new), *archive])
    assert changed.exit_code == 1 and "DIFFERS " in changed.output  # not followed
    shutil.copy(SPRAVA / "10.png", new / "справа" / "10.png")
    done = runner.invoke(app, ["relocate", str(old), str(new), *archive])
    assert done.exit_code == 0 and "followed 1 document(s), 3 page(s)" in done.output
    assert runner.invoke(app, ["check", *archive]).exit_code == 0


def test_a_second_ctrl_c_stops_at_once_and_the_batch_resumes(tmp_path: Path) -> None:
    """Item 14: twice Ctrl-C once hung for ten minutes (then a traceback from an atexit join).
    Signals go to the whole process group, as a terminal sends them."""
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import SAMPLES

    scans = tmp_path / "scans"
    shutil.copytree(SAMPLES, scans, ignore=shutil.ignore_patterns("*.py", "*.md"))
    command = [sys.executable, "-m", "arkhiv.cli", "ingest", str(scans), "--archive",
               str(tmp_path / "a"), "-q"]  # fmt: skip
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    time.sleep(2.5)
    start = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - start < 15
    assert proc.returncode == 130, err
    assert "Ctrl-C again to stop at once" in err and "Traceback" not in err
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert api.search(tmp_path / "a", "Ужгород").indexed_pages == 6  # every page, once


def test_a_file_replaced_during_the_batch_is_not_recorded_under_its_old_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 21: a file replaced during its ingest was recorded with the old sha256 and the
    new text. Here it is replaced after it was planned, before its page job reads it."""
    from arkhiv.config import load_pipeline, load_settings
    from arkhiv.pipeline import ocr as ocr_stage

    scans = tmp_path / "scans"
    scans.mkdir()
    target = scans / "1.png"
    shutil.copy(SPRAVA / "1.png", target)
    real = ocr_stage.load_cached

    def load_cached(cache_dir: Path, page_key: str) -> object:
        shutil.copy(SPRAVA / "2.png", target)  # the scanner overwrote it meanwhile
        return real(cache_dir, page_key)

    monkeypatch.setattr(ocr_stage, "load_cached", load_cached)
    settings = load_settings(env={}, overrides={"": {"archive": tmp_path / "a"}})
    report = api.ingest(scans, settings, load_pipeline("default", settings))
    (page,) = report.pages
    assert page.status == "failed" and page.transient
    assert page.reason == "the file changed while the batch ran; run the same command again"
    monkeypatch.setattr(ocr_stage, "load_cached", real)
    again = api.ingest(scans, settings, load_pipeline("default", settings))
    assert again.pages_ok == 1  # the new content, under its own hash


@pytest.fixture
def read_only_archive(tmp_path: Path) -> Iterator[Path]:
    """An ingested archive seen through a read-only bind mount (as root, which CI is, no
    folder is read-only otherwise); skipped where mounting is not allowed."""
    import subprocess

    scans = tmp_path / "scans"
    shutil.copytree(SPRAVA, scans / "справа")
    assert (
        CliRunner()
        .invoke(app, ["ingest", str(scans), "--archive", str(tmp_path / "a"), "-q"])
        .exit_code
        == 0
    )
    view = tmp_path / "ro"
    view.mkdir()
    mounted = subprocess.run(
        ["mount", "--bind", str(tmp_path / "a"), str(view)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {mounted.stderr.decode()[:100]}")
    try:
        remount = ["mount", "-o", "remount,bind,ro", str(view)]
        if subprocess.run(remount, capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        yield view
    finally:  # lazily: a reader thread may still hold a file of it open
        subprocess.run(["umount", "-l", str(view)], capture_output=True)


def test_a_read_only_archive_can_be_read_and_says_so_when_written(read_only_archive: Path) -> None:
    """Item 16: on a read-only archive only `search` worked; check, export, show, reindex said
    "cannot open the catalog ... is it an arkhiv archive folder?" and the search page gave 500."""
    from fastapi.testclient import TestClient

    from arkhiv.web.app import create_app

    ro = ["--archive", str(read_only_archive)]
    runner = CliRunner()
    for command in (["search", "Ужгород"], ["show", "справа"], ["export"], ["check"], ["review"]):
        result = runner.invoke(app, [*command, *ro])
        assert result.exit_code == 0, (command, result.output)
    with TestClient(create_app(read_only_archive)) as client:
        assert client.get("/", params={"q": "Ужгород"}).status_code == 200
        assert client.get("/document/1").status_code == 200
    for command in (["reindex"], ["ingest", str(read_only_archive.parent / "scans")]):
        result = runner.invoke(app, [*command, *ro])
        assert result.exit_code == 4, (command, result.output)
        assert f"arkhiv: error: {read_only_archive}: the folder is not writable" in result.output
        assert "internal error" not in result.output


def test_a_userunit_page_is_rasterized_at_its_real_size(tmp_path: Path) -> None:
    """Item 10: pdftoppm ignores /UserUnit; the page is rendered so that the image has the
    DPI asked for per real inch (a letter page at UserUnit 2 is 17 x 22 inches)."""
    import pikepdf
    from PIL import Image

    from arkhiv.config import IngestSettings, OcrSettings, PdfSettings
    from arkhiv.models import PageJob
    from arkhiv.pipeline.page.prepare import prepare

    src = tmp_path / "креслення.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(612, 792))
        pdf.pages[0].obj.UserUnit = 2
        pdf.save(src)
    job = PageJob("ab" * 32, src, 0, OcrSettings(), PdfSettings(), IngestSettings(default_dpi=100))
    page = prepare(job, tmp_path)
    with Image.open(page.image) as im:
        assert im.size == (1700, 2200)  # 17 x 22 inches at 100 dpi
    assert page.dpi == 100


def test_a_page_pdf_a_killed_run_left_in_the_cache_is_cleaned_up(tmp_path: Path) -> None:
    """Item 21: a killed batch left a page's cache PDF behind although the page was in its
    document's PDF already."""
    import sqlite3

    from arkhiv.pipeline.cache import cache_paths

    scans = tmp_path / "scans"
    shutil.copytree(SPRAVA, scans / "справа")
    archive = ["--archive", str(tmp_path / "a")]
    assert CliRunner().invoke(app, ["ingest", str(scans), *archive, "-q"]).exit_code == 0
    db = sqlite3.connect(tmp_path / "a" / "catalog.sqlite")
    (key,) = db.execute("SELECT page_key FROM pages WHERE number = 1").fetchone()
    db.close()
    left = cache_paths(tmp_path / "a" / "cache" / "pages", key)[0]
    left.write_bytes(b"%PDF-1.7 left by a killed run")
    again = CliRunner().invoke(app, ["ingest", str(scans), *archive, "-q"])
    assert again.exit_code == 0 and not left.exists()
