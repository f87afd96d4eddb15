"""Unit tests for the index version (search/generations.py): recorded in each generation,
checked on opening; an older index is rebuilt, a newer one refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arkhiv import __version__
from arkhiv.errors import SearchIndexError
from arkhiv.reader import ArchiveReader
from arkhiv.search import PageIndex, PageRecord
from arkhiv.search.generations import INDEX_DIR, INDEX_VERSION, VERSION_FILE
from tests.web_archive import build_empty_archive


def _record(number: int, text: str) -> PageRecord:
    return PageRecord(1, number, f"key-{number}", "справа", text, None, None, number)


def _version_file(archive: Path) -> Path:
    return (archive / INDEX_DIR).resolve() / VERSION_FILE


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """A catalog and an index of two pages, built by a rebuild as `arkhiv reindex` does."""
    path = build_empty_archive(tmp_path / "archive")
    PageIndex.rebuild(path, [_record(1, "Архівні дані колгоспу."), _record(2, "Протокол.")])
    return path


def test_a_new_index_is_current_and_records_its_version(tmp_path: Path) -> None:
    ix = PageIndex.open(tmp_path, create=True)
    assert ix.is_current()
    assert PageIndex.open(tmp_path, create=False).is_current()
    record = json.loads(_version_file(tmp_path).read_text(encoding="utf-8"))
    assert record["version"] == INDEX_VERSION
    assert record["written_by"].startswith("arkhiv ")


def test_a_rebuild_writes_the_version_into_the_new_generation(archive: Path) -> None:
    assert (archive / INDEX_DIR).resolve().name == "index-2"
    assert json.loads(_version_file(archive).read_text())["version"] == INDEX_VERSION
    assert PageIndex.open(archive, create=False).is_current()


def test_an_index_without_a_version_is_not_current(archive: Path) -> None:
    """Written by an arkhiv before versions were recorded: the ingest rebuilds it."""
    _version_file(archive).unlink()
    assert not PageIndex.open(archive, create=False).is_current()


@pytest.mark.parametrize(
    "content",
    [
        json.dumps({"version": INDEX_VERSION - 1}),
        json.dumps({"version": "1"}),
        json.dumps({"written_by": "arkhiv 0.1.0"}),
        "{not json",
    ],
)
def test_an_index_of_an_older_or_unreadable_version_is_not_current(
    archive: Path, content: str
) -> None:
    _version_file(archive).write_text(content, encoding="utf-8")
    assert not PageIndex.open(archive, create=False).is_current()


def test_an_index_of_a_newer_version_is_refused_not_rebuilt(archive: Path) -> None:
    newer = {"version": INDEX_VERSION + 1, "written_by": "arkhiv 9.0"}
    _version_file(archive).write_text(json.dumps(newer), encoding="utf-8")
    with pytest.raises(SearchIndexError) as raised:
        PageIndex.open(archive, create=False)
    assert raised.value.message == (
        f"{archive / INDEX_DIR}: the search index was written by a newer arkhiv (index version "
        f"{INDEX_VERSION + 1}, arkhiv 9.0; this arkhiv {__version__} reads version "
        f"{INDEX_VERSION})"
    )
    assert raised.value.hint is not None and raised.value.hint.startswith("upgrade arkhiv")
    with pytest.raises(SearchIndexError, match="newer arkhiv"):
        PageIndex.open(archive, create=True)  # what the ingest does: no rebuild downwards
    with pytest.raises(SearchIndexError, match="newer arkhiv"):
        ArchiveReader(archive)


def test_the_reader_asks_for_a_reindex_of_an_older_index(archive: Path) -> None:
    reader = ArchiveReader(archive)
    assert reader.search("архівні").total == 1
    _version_file(archive).unlink()
    reader = ArchiveReader(archive)
    with pytest.raises(SearchIndexError) as raised:
        reader.search("архівні")
    older = "the search index is from an older arkhiv"
    assert raised.value.message == f"{archive / INDEX_DIR}: {older}"
    assert raised.value.hint == f"rebuild it once: arkhiv reindex --archive {archive}"


def test_the_reader_follows_a_rebuild_to_the_new_generation(archive: Path) -> None:
    """A server's reader keeps working across `arkhiv reindex`: the older index it refused is
    replaced by a current one, which it opens at the next search."""
    _version_file(archive).unlink()
    reader = ArchiveReader(archive)
    with pytest.raises(SearchIndexError, match="older arkhiv"):
        reader.search("протокол")
    PageIndex.rebuild(archive, [_record(1, "Протокол засідання."), _record(2, "Протокол.")])
    found = reader.search("протокол")
    assert (found.total, found.indexed_pages) == (2, 2)
