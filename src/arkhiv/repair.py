"""`arkhiv check --repair`: derived files made again from the catalog, the source of truth.

What it repairs: page texts (rewritten from the catalog's text), the search index (rebuilt from
the catalog), and document PDFs that are gone or differ from their recorded sha256 (their pages
are marked to be read again, so that the next `arkhiv ingest` of the same scans makes the PDF
anew: a PDF's pages cannot be taken back out of a damaged one). It never touches originals and
writes under the archive lock, like an ingest.
"""

from __future__ import annotations

from pathlib import Path

from arkhiv.catalog import Catalog
from arkhiv.errors import ArkhivError
from arkhiv.fsutil import archive_lock, atomic_write_text, sha256_file
from arkhiv.pipeline.indexing import rebuild_index
from arkhiv.search import PageIndex


def repair_archive(archive: Path) -> list[str]:
    """Repair what can be repaired; returns one line per repair (empty: nothing to do)."""
    Catalog.open(archive, create=False, readonly=True).close()  # no archive: a clear message
    with archive_lock(archive):
        catalog = Catalog.open(archive, create=False)
        try:
            done = _texts(catalog, archive) + _pdfs(catalog, archive)
            if not _index_matches(catalog, archive):
                count = rebuild_index(archive, catalog)
                done.append(f"{archive / 'index'}: rebuilt from the catalog ({count} pages)")
            return done
        finally:
            catalog.close()


def _texts(catalog: Catalog, archive: Path) -> list[str]:
    done = []
    for row in catalog.db.execute(
        "SELECT text_path, text FROM pages WHERE status = 'ok' AND text_path IS NOT NULL"
    ):
        path = archive / row["text_path"]
        try:
            current: str | None = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current != (row["text"] or ""):
            atomic_write_text(path, row["text"] or "")
            done.append(f"{path}: rewritten from the catalog")
    return done


def _pdfs(catalog: Catalog, archive: Path) -> list[str]:
    done = []
    rows = catalog.db.execute(
        "SELECT id, pdf_path, pdf_sha256, source_path FROM documents WHERE pdf_path IS NOT NULL"
    ).fetchall()
    for doc in rows:
        pdf = archive / doc["pdf_path"]
        try:
            intact = sha256_file(pdf) == doc["pdf_sha256"]
        except OSError:
            intact = False
        if intact:
            continue
        with catalog.transaction() as db:  # its pages are read again by the next ingest
            db.execute(
                "UPDATE documents SET pdf_path = NULL, pdf_sha256 = NULL, status = 'pending',"
                " error = 'the document PDF was damaged; ingest its scans again' WHERE id = ?",
                (doc["id"],),
            )
            db.execute(
                "UPDATE pages SET pdf_page = NULL, page_key = '' WHERE document_id = ?",
                (doc["id"],),
            )
        done.append(
            f"{pdf}: damaged or gone; run `arkhiv ingest {doc['source_path']}` again to make it "
            "anew (its pages stay searchable meanwhile)"
        )
    return done


def _index_matches(catalog: Catalog, archive: Path) -> bool:
    """Whether the index opens and holds exactly the catalog's OK pages with their keys."""
    from arkhiv.search.index import page_id

    try:
        indexed = PageIndex.open(archive, create=False).indexed_keys()
    except (ArkhivError, OSError, ValueError):
        return False
    expected = {
        page_id(r["document_id"], r["number"]): r["page_key"]
        for r in catalog.db.execute(
            "SELECT document_id, number, page_key FROM pages WHERE status = 'ok'"
        )
    }
    return indexed == expected
