"""Catalog: numbered migrations, idempotent document and page records, index bookkeeping."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from arkhiv.catalog import CATALOG_NAME, MIGRATIONS, Catalog, safe_name
from arkhiv.errors import ArchiveNotFoundError, CatalogError
from arkhiv.models import DocumentSource, PageOcrResult, SourceKind, SourcePage


def _doc(tmp_path: Path, pages: int = 2) -> DocumentSource:
    folder = tmp_path / "scans" / "справа 1"
    return DocumentSource(
        folder,
        folder.name,
        SourceKind.FOLDER,
        tuple(SourcePage(folder / f"{i}.png", None, i) for i in range(1, pages + 1)),
    )


def _ok(key: str, text: str = "Архівні дані") -> PageOcrResult:
    return PageOcrResult(page_key=key, ok=True, text=text, confidence=91.5, word_count=2)


def test_migrations_create_schema_once(tmp_path: Path) -> None:
    cat = Catalog.open(tmp_path, create=True)
    assert cat.schema_version() == len(MIGRATIONS)
    tables = {r[0] for r in cat.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"batches", "documents", "pages"} <= tables
    cat.close()
    again = Catalog.open(tmp_path, create=False)  # reopening does not re-run migration 1
    assert again.schema_version() == len(MIGRATIONS)
    again.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / CATALOG_NAME)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    db.close()
    with pytest.raises(CatalogError, match="newer than this arkhiv knows"):
        Catalog.open(tmp_path, create=False)


def test_not_a_database_is_a_catalog_error(tmp_path: Path) -> None:
    (tmp_path / CATALOG_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CatalogError, match="cannot open the catalog"):
        Catalog.open(tmp_path, create=False)


def test_missing_archive_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(ArchiveNotFoundError) as info:
        Catalog.open(tmp_path / "nowhere", create=False)
    assert "arkhiv ingest" in str(info.value)


def test_documents_and_pages_are_idempotent(tmp_path: Path) -> None:
    cat = Catalog.open(tmp_path / "a", create=True)
    doc = _doc(tmp_path)
    batch = cat.start_batch([tmp_path], "default", {})
    doc_id, folder = cat.upsert_document(doc, batch)
    assert folder == f"documents/{doc_id:06d}-справа 1"
    assert cat.upsert_document(doc, batch) == (doc_id, folder)
    for page in doc.pages:
        cat.save_page(doc_id, page, "sha", f"k{page.number}", _ok(f"k{page.number}"), "t", batch)
    # Saving a page again replaces its record (unique document + page number).
    cat.save_page(doc_id, doc.pages[0], "sha2", "k1b", _ok("k1b", "нове"), "t", batch)
    counts = cat.counts()
    assert counts["documents"] == 1
    assert counts["pages"] == 2
    page = cat.page(doc_id, 1)
    assert page is not None
    assert (page.page_key, page.text, page.status) == ("k1b", "нове", "ok")


def test_failed_page_is_recorded_with_reason(tmp_path: Path) -> None:
    cat = Catalog.open(tmp_path, create=True)
    doc = _doc(tmp_path, 1)
    batch = cat.start_batch([tmp_path], "default", {})
    doc_id, _ = cat.upsert_document(doc, batch)
    bad = PageOcrResult(page_key="k", ok=False, error="cannot decode the image")
    cat.save_page(doc_id, doc.pages[0], "sha", "k", bad, None, batch)
    page = cat.page(doc_id, 1)
    assert page is not None
    assert (page.status, page.error, page.text) == ("failed", "cannot decode the image", None)
    assert cat.pages_to_index(10) == []


def test_pages_to_index_until_marked(tmp_path: Path) -> None:
    cat = Catalog.open(tmp_path, create=True)
    doc = _doc(tmp_path)
    batch = cat.start_batch([tmp_path], "default", {})
    doc_id, _ = cat.upsert_document(doc, batch)
    for page in doc.pages:
        cat.save_page(doc_id, page, "sha", f"k{page.number}", _ok(f"k{page.number}"), "t", batch)
    rows = cat.pages_to_index(10)
    assert [r["number"] for r in rows] == [1, 2]
    cat.mark_indexed([(r["id"], r["page_key"]) for r in rows])
    assert cat.pages_to_index(10) == []
    # New text for page 1 (another key) makes it due again.
    cat.save_page(doc_id, doc.pages[0], "sha", "k1-new", _ok("k1-new"), "t", batch)
    assert [r["number"] for r in cat.pages_to_index(10)] == [1]


def test_safe_name_keeps_cyrillic_and_drops_separators() -> None:
    assert safe_name("ф. Р-123/оп. 4\\спр. 56") == "ф. Р-123_оп. 4_спр. 56"
    assert safe_name("..") == "document"
    assert len(safe_name("я" * 500)) == 80


def test_pages_to_index_leaves_out_documents_in_progress(tmp_path: Path) -> None:
    cat = Catalog.open(tmp_path, create=True)
    batch = cat.start_batch([tmp_path], "default", {})
    ids = []
    for folder in ("справа-1", "справа-2"):
        (tmp_path / folder).mkdir()
        doc = _doc(tmp_path / folder)
        doc_id, _ = cat.upsert_document(doc, batch)
        ids.append(doc_id)
        for page in doc.pages:
            key = f"{folder}-{page.number}"
            cat.save_page(doc_id, page, "sha", key, _ok(key), "t", batch)
    rows = cat.pages_to_index(10, except_documents=[ids[0]])
    assert [(r["document_id"], r["number"]) for r in rows] == [(ids[1], 1), (ids[1], 2)]
    assert cat.pages_to_index(10, except_documents=ids) == []
    assert len(cat.pages_to_index(10, except_documents=())) == 4


def test_batches_a_killed_run_left_running_are_marked_interrupted(tmp_path: Path) -> None:
    """Issue 15, item 21: they stayed `running` for ever."""
    catalog = Catalog.open(tmp_path, create=True)
    stale = catalog.start_batch([tmp_path / "скани"], "default", {})
    assert catalog.close_stale_batches() == 1
    (status,) = catalog.db.execute("SELECT status FROM batches WHERE id = ?", (stale,)).fetchone()
    assert status == "interrupted"
    assert catalog.close_stale_batches() == 0
    catalog.close()
