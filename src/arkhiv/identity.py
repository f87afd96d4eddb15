"""What a document is: its content, not its path. The same scans reached by another path (a
symlink, a moved or copied folder) are the same document, never a second one; a single scan
already in the archive as a page of another document is not added again; originals moved on
disk are followed with `arkhiv relocate`, checked by hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from arkhiv.catalog import Catalog, now
from arkhiv.fsutil import sha256_file
from arkhiv.models import DocumentSource, SourceKind


def content_sha(page_shas: list[str]) -> str:
    """A document's identity: the hash of its pages' content hashes, in page order."""
    return hashlib.sha256("\n".join(page_shas).encode()).hexdigest()


@dataclass(frozen=True)
class Known:
    """A document of the batch whose content the archive already holds."""

    doc_id: int
    recorded_path: str
    moved: bool  # the recorded original is gone: the new path takes its place
    page: int | None = None  # the page of doc_id it is (a single scan of a document)


def known_content(catalog: Catalog, doc: DocumentSource, shas: list[str]) -> Known | None:
    """The archive's document (or page) with this document's content under another path, if
    any. A document already recorded at this path is itself, not a twin."""
    here = str(doc.path.absolute())
    if catalog.db.execute("SELECT 1 FROM documents WHERE source_path = ?", (here,)).fetchone():
        return None
    _backfill(catalog)
    row = catalog.db.execute(
        "SELECT id, source_path FROM documents WHERE content_sha = ? AND status != 'failed'"
        " ORDER BY id LIMIT 1",
        (content_sha(shas),),
    ).fetchone()
    if row is not None:
        recorded = str(row["source_path"])
        return Known(int(row["id"]), recorded, moved=not Path(recorded).exists())
    if doc.kind is SourceKind.IMAGE and len(shas) == 1:  # one scan of a known document?
        page = catalog.db.execute(
            "SELECT p.document_id, p.number, d.source_path FROM pages p"
            " JOIN documents d ON d.id = p.document_id"
            " WHERE p.sha256 = ? AND p.status = 'ok' ORDER BY p.id LIMIT 1",
            (shas[0],),
        ).fetchone()
        if page is not None:
            return Known(int(page[0]), str(page[2]), moved=False, page=int(page[1]))
    return None


def record_content(catalog: Catalog, doc_id: int, shas: list[str]) -> None:
    with catalog.transaction() as db:
        db.execute("UPDATE documents SET content_sha = ? WHERE id = ?", (content_sha(shas), doc_id))


def move(catalog: Catalog, doc_id: int, doc: DocumentSource) -> None:
    """The document's original is now at `doc.path` (its pages in the same order)."""
    with catalog.transaction() as db:
        db.execute(
            "UPDATE documents SET source_path = ?, updated_at = ? WHERE id = ?",
            (str(doc.path.absolute()), now(), doc_id),
        )
        db.executemany(
            "UPDATE pages SET source_path = ? WHERE document_id = ? AND number = ?",
            [(str(p.path.absolute()), doc_id, p.number) for p in doc.pages],
        )


def _backfill(catalog: Catalog) -> None:
    """Documents recorded before identities were (catalog version 4 and older) get theirs."""
    missing = catalog.db.execute(
        "SELECT id FROM documents WHERE content_sha IS NULL AND status != 'failed' LIMIT 1"
    ).fetchone()
    if missing is None:
        return
    rows = catalog.db.execute(
        "SELECT d.id, p.sha256 FROM documents d JOIN pages p ON p.document_id = d.id"
        " WHERE d.content_sha IS NULL ORDER BY d.id, p.number"
    ).fetchall()
    by_doc: dict[int, list[str]] = {}
    for doc_id, sha in rows:
        by_doc.setdefault(int(doc_id), []).append(str(sha))
    with catalog.transaction() as db:
        db.executemany(
            "UPDATE documents SET content_sha = ? WHERE id = ?",
            [(content_sha(shas), doc_id) for doc_id, shas in by_doc.items() if all(shas)],
        )


@dataclass
class Relocation:
    """What `arkhiv relocate` did: originals followed, and those not found or changed."""

    documents: int = 0
    pages: int = 0
    differ: list[str] = field(default_factory=list)  # at the new path, but other content
    missing: list[str] = field(default_factory=list)  # not at the new path


def relocate(catalog: Catalog, old_prefix: Path, new_prefix: Path, *, dry_run: bool) -> Relocation:
    """Originals moved on disk from under `old_prefix` to `new_prefix`: each page is found at
    its new path and checked by its recorded sha256 before the catalog follows it; a document
    follows when all its pages do."""
    old, new = str(old_prefix.absolute()), str(new_prefix.absolute())
    done = Relocation()
    rows = catalog.db.execute(
        "SELECT id, source_path FROM documents WHERE source_path = ? OR source_path LIKE ?",
        (old, old.rstrip("/") + "/%"),
    ).fetchall()
    for doc_id, source in rows:
        pages = catalog.db.execute(
            "SELECT number, source_path, sha256 FROM pages WHERE document_id = ?", (doc_id,)
        ).fetchall()
        moved = []
        for number, path, sha in pages:
            target = Path(new + path[len(old) :]) if path.startswith(old) else Path(path)
            try:
                actual = sha256_file(target)
            except OSError:
                done.missing.append(str(target))
                continue
            if sha and actual != sha:
                done.differ.append(str(target))
                continue
            moved.append((str(target), doc_id, number))
        if len(moved) != len(pages):
            continue
        done.documents += 1
        done.pages += len(moved)
        if dry_run:
            continue
        with catalog.transaction() as db:
            db.execute(
                "UPDATE documents SET source_path = ?, updated_at = ? WHERE id = ?",
                (new + source[len(old) :], now(), doc_id),
            )
            db.executemany(
                "UPDATE pages SET source_path = ? WHERE document_id = ? AND number = ?", moved
            )
    return done
