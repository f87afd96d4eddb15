"""`arkhiv check` finds every kind of difference; `arkhiv reindex` rebuilds atomically."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arkhiv import api
from arkhiv.cli import app
from arkhiv.config import load_pipeline, load_settings
from arkhiv.errors import SearchIndexError
from arkhiv.search import PageIndex
from tests.conftest import SAMPLES

pytestmark = [pytest.mark.tesseract, pytest.mark.slow]
runner = CliRunner()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of the multi-page TIFF sample, ingested once; tests work on copies."""
    root = tmp_path_factory.mktemp("pristine")
    scans = root / "scans"
    scans.mkdir()
    shutil.copy(SAMPLES / "наказ_1937.tif", scans / "наказ_1937.tif")
    settings = load_settings(env={}, overrides={"": {"archive": root / "a"}, "ingest": {"jobs": 2}})
    assert api.ingest(scans, settings, load_pipeline("default", settings)).pages_ok == 2
    return root


@pytest.fixture
def archive(pristine: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the archive whose originals are in this test's folder too."""
    shutil.copytree(pristine, tmp_path / "w", symlinks=True)
    import sqlite3

    db = sqlite3.connect(tmp_path / "w" / "a" / "catalog.sqlite")
    with db:
        for table in ("pages", "documents"):
            db.execute(
                f"UPDATE {table} SET source_path = replace(source_path, ?, ?)",
                (str(pristine), str(tmp_path / "w")),
            )
    db.close()
    yield tmp_path / "w" / "a"


def _check(archive: Path) -> tuple[int, dict[str, object]]:
    result = runner.invoke(app, ["check", "--archive", str(archive), "--json"])
    return result.exit_code, json.loads(result.output)


def _kinds(data: dict[str, object]) -> list[str]:
    return [p["kind"] for p in data["problems"]]  # type: ignore[attr-defined, index]


def test_untouched_archive_checks_clean(archive: Path) -> None:
    code, data = _check(archive)
    assert (code, data["ok"], data["originals"], data["indexed_pages"]) == (0, True, 1, 2)


def test_changed_original_pdf_and_text_are_reported(archive: Path) -> None:
    original = archive.parent / "scans" / "наказ_1937.tif"
    original.write_bytes(original.read_bytes() + b"\0")
    pdf = next(archive.glob("documents/*/document.pdf"))
    pdf.write_bytes(pdf.read_bytes() + b"\n% tampered")
    text = next(archive.glob("documents/*/pages/0002.txt"))
    text.write_text("інший текст", encoding="utf-8")
    code, data = _check(archive)
    assert code == 1
    assert sorted(_kinds(data)) == ["original-changed", "pdf-changed", "text-changed"]


def test_missing_original_and_text_are_reported(archive: Path) -> None:
    (archive.parent / "scans" / "наказ_1937.tif").unlink()
    next(archive.glob("documents/*/pages/0001.txt")).unlink()
    code, data = _check(archive)
    assert code == 1
    assert sorted(_kinds(data)) == ["original-missing", "text-missing"]
    plain = runner.invoke(app, ["check", "--archive", str(archive)])
    assert "DIFFERS original-missing: " in plain.output
    assert "2 difference(s)" in plain.output


def test_deleted_index_is_detected_and_rebuilt(archive: Path) -> None:
    shutil.rmtree(archive / "index", ignore_errors=True)
    (archive / "index").unlink(missing_ok=True)
    code, data = _check(archive)
    assert code == 1 and _kinds(data) == ["index-unusable"]
    found = runner.invoke(app, ["search", "наказ", "--archive", str(archive)])
    assert found.exit_code == 4
    assert "no search index" in found.output and "arkhiv reindex --archive" in found.output
    # An ingest does not silently start an empty index either.
    settings = load_settings(env={}, overrides={"": {"archive": archive}})
    with pytest.raises(SearchIndexError, match="no search index"):
        api.ingest(archive.parent / "scans", settings, load_pipeline("default", settings))
    assert api.reindex(archive) == 2
    assert api.search(archive, "наказ").total >= 1
    assert _check(archive)[0] == 0


def test_damaged_index_gives_a_message_that_says_to_reindex(archive: Path) -> None:
    for toc in (archive / "index").glob("*.toc"):
        toc.write_bytes(b"garbage")
    result = runner.invoke(app, ["search", "наказ", "--archive", str(archive)])
    assert result.exit_code == 4
    assert "the search index is damaged" in result.output
    assert "arkhiv reindex --archive" in result.output
    assert "Traceback" not in result.output
    assert runner.invoke(app, ["reindex", "--archive", str(archive)]).exit_code == 0
    assert api.search(archive, "наказ").total >= 1


def test_stale_and_extra_index_entries_are_reported(archive: Path) -> None:
    import sqlite3

    db = sqlite3.connect(archive / "catalog.sqlite")
    with db:
        db.execute("UPDATE pages SET page_key = 'changed' WHERE number = 1")
        db.execute("DELETE FROM pages WHERE number = 2")
    db.close()
    code, data = _check(archive)
    assert code == 1
    assert sorted(_kinds(data)) == ["index-extra-page", "index-stale-page", "pdf-pages"]


def test_search_uses_the_old_index_until_the_new_one_is_complete(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real_write = PageIndex.write_pages

    def write_and_search(self: PageIndex, records: object) -> int:
        count = real_write(self, records)  # type: ignore[arg-type]
        # The new generation is written but not yet switched to: searches see the old one.
        seen.append(api.search(archive, "наказ").total)
        return count

    before = api.search(archive, "наказ").total
    monkeypatch.setattr(PageIndex, "write_pages", write_and_search)
    assert api.reindex(archive) == 2
    assert seen == [before]
    assert sorted(p.name for p in archive.glob("index-*")) == ["index-1", "index-2"]
    assert (archive / "index").resolve().name == "index-2"
    monkeypatch.undo()
    api.reindex(archive)  # a third generation: the oldest is removed, the previous kept
    assert sorted(p.name for p in archive.glob("index-*")) == ["index-2", "index-3"]


def test_a_damaged_catalog_is_named_by_check_and_no_command_shows_a_traceback(
    tmp_path: Path,
) -> None:
    """Issue 15, item 19: a flipped b-tree page gave `internal error: DatabaseError`."""
    from arkhiv.catalog import Catalog

    catalog = Catalog.open(tmp_path, create=True)
    for n in range(300):
        catalog.start_batch([tmp_path / f"скани {n}" / ("довга назва " * 20)], "default", {})
    catalog.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    catalog.close()
    path = tmp_path / "catalog.sqlite"
    data = bytearray(path.read_bytes())
    assert len(data) > 5 * 4096
    for page in (3, 4):  # b-tree page headers: an invalid page type, cell counts
        data[(page - 1) * 4096 : (page - 1) * 4096 + 8] = b"\x0d\xff\xff\xff\xff\x00\x01\x00"
    path.write_bytes(bytes(data))
    runner = CliRunner()
    checked = runner.invoke(app, ["check", "--archive", str(tmp_path)])
    assert checked.exit_code in (1, 4), checked.output
    assert "Traceback" not in checked.output and "internal error" not in checked.output
    assert "catalog" in checked.output and "restore catalog.sqlite from a backup" in checked.output


def test_check_repair_makes_damaged_derived_files_again(archive: Path) -> None:
    """Issue 15, item 20: a text cut inside a character crashed `check` (UnicodeDecodeError);
    an emptied one was never repaired though the catalog holds the text; a damaged PDF stayed
    broken after a re-run of ingest."""
    cut = next(archive.glob("documents/*/pages/0001.txt"))
    cut.write_bytes(cut.read_bytes()[:-1][:7] + "ї".encode()[:1])  # ends inside a character
    emptied = next(archive.glob("documents/*/pages/0002.txt"))
    emptied.write_text("", encoding="utf-8")
    pdf = next(archive.glob("documents/*/document.pdf"))
    pdf.write_bytes(pdf.read_bytes()[:1000])
    code, data = _check(archive)
    assert code == 1
    assert sorted(_kinds(data)) == ["pdf-changed", "text-changed", "text-damaged"]

    repaired = runner.invoke(app, ["check", "--repair", "--archive", str(archive)])
    # All repaired but the PDF, which the next ingest of its scans makes anew.
    assert repaired.exit_code == 1, repaired.output
    assert "DIFFERS pdf-missing: " in repaired.output and "1 difference(s)" in repaired.output
    assert f"REPAIRED {cut}: rewritten from the catalog" in repaired.output
    assert "run `arkhiv ingest" in repaired.output
    assert api.search(archive, "наказ").total > 0  # still searchable meanwhile

    scans = archive.parent / "scans"
    settings = load_settings(env={}, overrides={"": {"archive": archive}, "ingest": {"jobs": 2}})
    again = api.ingest(scans, settings, load_pipeline("default", settings))
    assert again.pages_ok == 2  # read again: the PDF is made anew
    code, data = _check(archive)
    assert (code, data["ok"]) == (0, True), data


def test_flipped_bytes_in_the_index_are_found_by_check_and_named_by_search(
    archive: Path,
) -> None:
    """Issue 15, item 18: `check` said "all as recorded", then searches failed with `Block tag
    error` (an internal error; the search page 500)."""
    segment = max((archive / "index").glob("*.seg"), key=lambda p: p.stat().st_size)
    data = bytearray(segment.read_bytes())
    third = len(data) // 3
    data[third : 2 * third] = b"\xff" * third  # postings and stored fields overwritten
    segment.write_bytes(bytes(data))
    code, data_ = _check(archive)
    assert code == 1 and _kinds(data_) == ["index-damaged"]
    result = runner.invoke(app, ["search", "наказ", "--archive", str(archive)])
    assert result.exit_code == 4, result.output
    assert "the search index is damaged" in result.output and "arkhiv reindex" in result.output
    assert "internal error" not in result.output
    assert runner.invoke(app, ["reindex", "--archive", str(archive)]).exit_code == 0
    assert _check(archive)[0] == 0
