"""The catalog: SQLite, the source of truth for batches, documents and pages (migrations)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from arkhiv.errors import CatalogError
from arkhiv.models import DocumentSource, PageOcrResult, PageStatus, SourcePage

CATALOG_NAME = "catalog.sqlite"

# Each migration runs once, in order, in its own transaction; never edit a released one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        source TEXT NOT NULL,
        pipeline TEXT NOT NULL,
        settings TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'running',
        summary TEXT
    );
    CREATE TABLE documents (
        id INTEGER PRIMARY KEY,
        source_path TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        folder TEXT NOT NULL,
        pdf_path TEXT,
        pdf_sha256 TEXT,
        page_count INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending',
        error TEXT,
        batch_id INTEGER REFERENCES batches(id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE pages (
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id),
        number INTEGER NOT NULL,
        source_path TEXT NOT NULL,
        frame INTEGER,
        sha256 TEXT NOT NULL,
        page_key TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        text TEXT,
        confidence REAL,
        word_count INTEGER,
        dpi REAL,
        dpi_assumed INTEGER NOT NULL DEFAULT 0,
        ocr_seconds REAL,
        text_path TEXT,
        pdf_page INTEGER,
        indexed_key TEXT,
        batch_id INTEGER REFERENCES batches(id),
        updated_at TEXT NOT NULL,
        UNIQUE (document_id, number)
    );
    CREATE INDEX pages_key ON pages(page_key);
    CREATE INDEX pages_unindexed ON pages(status, indexed_key);
    """,
    # 2: `arkhiv watch` - the drops taken from an inbox (a journal that survives a crash) and
    # a record of every move of an original.
    """
    CREATE TABLE drops (
        id INTEGER PRIMARY KEY,
        inbox TEXT NOT NULL,
        original TEXT NOT NULL,
        location TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX drops_state ON drops(inbox, state);
    CREATE TABLE moves (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        destination TEXT NOT NULL,
        reason TEXT NOT NULL,
        drop_id INTEGER REFERENCES drops(id),
        moved_at TEXT NOT NULL
    );
    CREATE INDEX pages_sha ON pages(sha256, status);
    """,
    # 3: archival metadata (issue 6): the merged record as JSON (document.json's content), the
    # reference parts and years as columns for filters, and each page's leaf (аркуш).
    """
    ALTER TABLE documents ADD COLUMN metadata TEXT;
    ALTER TABLE documents ADD COLUMN metadata_sha TEXT;
    ALTER TABLE documents ADD COLUMN pdf_metadata_sha TEXT;
    ALTER TABLE documents ADD COLUMN repository TEXT;
    ALTER TABLE documents ADD COLUMN fond TEXT;
    ALTER TABLE documents ADD COLUMN opys TEXT;
    ALTER TABLE documents ADD COLUMN sprava TEXT;
    ALTER TABLE documents ADD COLUMN volume TEXT;
    ALTER TABLE documents ADD COLUMN title TEXT;
    ALTER TABLE documents ADD COLUMN year_from INTEGER;
    ALTER TABLE documents ADD COLUMN year_to INTEGER;
    ALTER TABLE documents ADD COLUMN access TEXT NOT NULL DEFAULT 'open';
    ALTER TABLE pages ADD COLUMN arkush INTEGER;
    ALTER TABLE pages ADD COLUMN verso INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX documents_ref ON documents(fond, opys, sprava);
    """,
    # 4: OCR completeness (issue 14): why a page needs an archivist's review (a JSON list of
    # reasons; NULL when fine), the evidence its reading was chosen on, its words with their
    # boxes (ALTO), and the clearing of a review by an archivist.
    """
    ALTER TABLE pages ADD COLUMN review TEXT;
    ALTER TABLE pages ADD COLUMN ocr_evidence TEXT;
    ALTER TABLE pages ADD COLUMN alto_path TEXT;
    ALTER TABLE pages ADD COLUMN review_resolved TEXT;
    CREATE INDEX pages_review ON pages(review) WHERE review IS NOT NULL;
    """,
    # 5: a document's identity is its content (issue 15): the hash of its pages' hashes in
    # order, so that the same scans by another path are the same document (arkhiv.identity).
    """
    ALTER TABLE documents ADD COLUMN content_sha TEXT;
    CREATE INDEX documents_content ON documents(content_sha);
    """,
)


def _read_only(path: Path) -> sqlite3.Connection:
    """The catalog opened read-only; `immutable` when SQLite cannot even make its shared-memory
    file beside it (a WAL database on a read-only folder)."""
    uri = path.absolute().as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30, isolation_level=None)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        db = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)
    db.row_factory = sqlite3.Row
    return db


def now() -> str:
    """UTC timestamp for the catalog."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class PageRow:
    """One page as the catalog records it."""

    id: int
    document_id: int
    number: int
    source_path: str
    sha256: str
    page_key: str
    status: str
    error: str | None
    text: str | None
    confidence: float | None
    text_path: str | None
    pdf_page: int | None
    indexed_key: str | None
    arkush: int | None = None
    verso: int = 0
    review: str | None = None  # JSON list of reasons to check the page; None: fine
    review_resolved: str | None = None  # JSON: when an archivist cleared it, and what
    alto_path: str | None = None

    @property
    def review_reasons(self) -> list[str]:
        """Why the page needs review; [] when it does not (or an archivist cleared it)."""
        return list(json.loads(self.review)) if self.review else []


class Catalog:
    """The SQLite catalog of one archive folder. One writer at a time (SQLite's lock)."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        try:
            if readonly and not os.access(path.parent, os.W_OK):
                self.db = _read_only(path)  # a read-only folder or medium: read it as it is
                self._check_version()
                return
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")  # a committed page survives a power cut
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise CatalogError(
                f"{path}: cannot open the catalog: {e}",
                hint="is it an arkhiv archive folder? `arkhiv check` tells what is wrong",
            ) from e

    @classmethod
    def open(cls, archive: Path, *, create: bool, readonly: bool = False) -> Catalog:
        """The archive's catalog; `readonly` for commands that only read it, which then work
        on a read-only folder too (a DVD, a read-only share)."""
        path = archive / CATALOG_NAME
        if not create and not path.is_file():
            from arkhiv.errors import ArchiveNotFoundError

            raise ArchiveNotFoundError(
                f"{archive}: no arkhiv archive here (no {CATALOG_NAME})",
                hint="ingest scans first: arkhiv ingest SCANS_DIR --archive " + str(archive),
            )
        if readonly:
            return cls(path, readonly=True)
        archive.mkdir(parents=True, exist_ok=True)
        return cls(path)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT: one writer, all or nothing."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _check_version(self) -> None:
        """A catalog read as it is must be of this arkhiv's version (it cannot be migrated)."""
        if self.schema_version() != len(MIGRATIONS):
            raise CatalogError(
                f"{self.path}: catalog schema {self.schema_version()} (this arkhiv: "
                f"{len(MIGRATIONS)}), and the folder is read-only, so it cannot be upgraded",
                hint="open it once where it is writable with this arkhiv (e.g. arkhiv reindex)",
            )

    def _migrate(self) -> None:
        version = self.schema_version()
        if version > len(MIGRATIONS):
            raise CatalogError(
                f"{self.path}: catalog schema {version} is newer than this arkhiv knows "
                f"({len(MIGRATIONS)})",
                hint="upgrade arkhiv",
            )
        for number in range(version + 1, len(MIGRATIONS) + 1):
            with self.transaction() as db:
                for statement in MIGRATIONS[number - 1].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    # batches
    def start_batch(self, sources: Sequence[Path], pipeline: str, settings: dict[str, Any]) -> int:
        source = str(sources[0]) if len(sources) == 1 else json.dumps([str(s) for s in sources])
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO batches (started_at, source, pipeline, settings) VALUES (?,?,?,?)",
                (now(), source, pipeline, json.dumps(settings, ensure_ascii=False)),
            )
            return int(cur.lastrowid or 0)

    def close_stale_batches(self) -> int:
        """Batches left `running` by a killed process (the caller holds the archive lock, so
        none is running now) are marked `interrupted`; returns how many."""
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE batches SET status = 'interrupted', finished_at = ?"
                " WHERE status = 'running'",
                (now(),),
            )
            return int(cur.rowcount)

    def finish_batch(self, batch_id: int, status: str, summary: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE batches SET finished_at=?, status=?, summary=? WHERE id=?",
                (now(), status, json.dumps(summary, ensure_ascii=False), batch_id),
            )

    # documents
    def upsert_document(self, src: DocumentSource, batch_id: int) -> tuple[int, str]:
        """The document's id and output folder (relative to the archive), created if new."""
        key = str(src.path.absolute())
        with self.transaction() as db:
            row = db.execute(
                "SELECT id, folder FROM documents WHERE source_path=?", (key,)
            ).fetchone()
            if row:
                db.execute(
                    "UPDATE documents SET page_count=?, batch_id=?, updated_at=? WHERE id=?",
                    (len(src.pages), batch_id, now(), row["id"]),
                )
                return int(row["id"]), str(row["folder"])
            cur = db.execute(
                "INSERT INTO documents (source_path, name, kind, folder, page_count, batch_id,"
                " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                (key, src.name, str(src.kind), "", len(src.pages), batch_id, now(), now()),
            )
            doc_id = int(cur.lastrowid or 0)
            folder = f"documents/{doc_id:06d}-{safe_name(src.name)}"
            db.execute("UPDATE documents SET folder=? WHERE id=?", (folder, doc_id))
            return doc_id, folder

    def set_document_pdf(
        self,
        doc_id: int,
        pdf_path: str | None,
        sha: str | None,
        status: str,
        error: str | None,
        metadata_sha: str | None = None,
    ) -> None:
        """Record the document PDF, and which metadata (metadata_sha) its XMP carries."""
        with self.transaction() as db:
            db.execute(
                "UPDATE documents SET pdf_path=?, pdf_sha256=?, status=?, error=?, updated_at=?,"
                " pdf_metadata_sha=? WHERE id=?",
                (pdf_path, sha, status, error, now(), metadata_sha, doc_id),
            )

    def set_document_metadata(
        self,
        doc_id: int,
        record: dict[str, Any],
        leaves: Sequence[tuple[int, int, bool]],
    ) -> str:
        """Store a document's metadata record (see DocumentMetadata.to_json) and its pages'
        leaves (page number, arkush, verso); returns their hash. When they differ from what was
        recorded, the document's pages are queued for re-indexing in the same transaction
        (their fields changed); the PDF's XMP is current when `pdf_metadata_sha` equals it.
        """
        material = json.dumps([record, list(leaves)], ensure_ascii=False, sort_keys=True)
        sha = hashlib.sha256(material.encode()).hexdigest()
        ref = record.get("reference") or {}
        date = record.get("date") or {}
        with self.transaction() as db:
            row = db.execute("SELECT metadata_sha FROM documents WHERE id=?", (doc_id,)).fetchone()
            if row is not None and row["metadata_sha"] == sha:
                return sha
            db.execute(
                """UPDATE documents SET metadata=?, metadata_sha=?, repository=?, fond=?, opys=?,
                   sprava=?, volume=?, title=?, year_from=?, year_to=?, access=?, updated_at=?
                   WHERE id=?""",
                (
                    json.dumps(record, ensure_ascii=False),
                    sha,
                    ref.get("archive"),
                    ref.get("fond"),
                    ref.get("opys"),
                    ref.get("sprava"),
                    ref.get("volume"),
                    record.get("title"),
                    date.get("year_from"),
                    date.get("year_to"),
                    record.get("access") or "open",
                    now(),
                    doc_id,
                ),
            )
            db.executemany(
                "UPDATE pages SET arkush=?, verso=? WHERE document_id=? AND number=?",
                [(arkush, int(verso), doc_id, number) for number, arkush, verso in leaves],
            )
            db.execute("UPDATE pages SET indexed_key=NULL WHERE document_id=?", (doc_id,))
            return sha

    def documents(self, where: str = "", params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Documents in id order, optionally filtered by an SQL condition on `documents`."""
        sql = "SELECT * FROM documents" + (f" WHERE {where}" if where else "") + " ORDER BY id"
        return self.db.execute(sql, tuple(params)).fetchall()

    def document(self, doc_id: int) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(
            "SELECT * FROM documents WHERE id=?", (doc_id,)
        ).fetchone()
        return row

    # pages
    def page(self, doc_id: int, number: int) -> PageRow | None:
        row = self.db.execute(
            f"SELECT {_PAGE_COLUMNS} FROM pages WHERE document_id=? AND number=?", (doc_id, number)
        ).fetchone()
        return PageRow(**dict(row)) if row else None

    def document_pages(self, doc_id: int) -> list[PageRow]:
        rows = self.db.execute(
            f"SELECT {_PAGE_COLUMNS} FROM pages WHERE document_id=? ORDER BY number", (doc_id,)
        ).fetchall()
        return [PageRow(**dict(r)) for r in rows]

    def save_page(
        self,
        doc_id: int,
        src: SourcePage,
        sha: str,
        page_key: str,
        result: PageOcrResult,
        text_path: str | None,
        batch_id: int,
        leaf: tuple[int, bool] | None = None,
        alto_path: str | None = None,
    ) -> None:
        """Record a page's OCR result (or failure) and its leaf (arkush, verso) in one
        transaction; replaces an older record. A review an archivist cleared stays cleared
        while the page's reading is the same (same page key); a new scan or new settings
        bring its reasons back."""
        status = (
            PageStatus.OK
            if result.ok
            else PageStatus.SKIPPED
            if result.skipped
            else PageStatus.FAILED
        )
        with self.transaction() as db:
            db.execute(
                """INSERT INTO pages (document_id, number, source_path, frame, sha256, page_key,
                   status, error, text, confidence, word_count, dpi, dpi_assumed, ocr_seconds,
                   text_path, batch_id, updated_at, arkush, verso, review, ocr_evidence,
                   alto_path)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT (document_id, number) DO UPDATE SET
                   source_path=excluded.source_path, frame=excluded.frame,
                   sha256=excluded.sha256, page_key=excluded.page_key, status=excluded.status,
                   error=excluded.error, text=excluded.text, confidence=excluded.confidence,
                   word_count=excluded.word_count, dpi=excluded.dpi,
                   dpi_assumed=excluded.dpi_assumed, ocr_seconds=excluded.ocr_seconds,
                   text_path=excluded.text_path, batch_id=excluded.batch_id,
                   updated_at=excluded.updated_at, arkush=excluded.arkush,
                   verso=excluded.verso, ocr_evidence=excluded.ocr_evidence,
                   alto_path=excluded.alto_path,
                   review=CASE WHEN pages.page_key = excluded.page_key
                               AND pages.review_resolved IS NOT NULL
                          THEN NULL ELSE excluded.review END,
                   review_resolved=CASE WHEN pages.page_key = excluded.page_key
                          THEN pages.review_resolved ELSE NULL END""",
                (
                    doc_id,
                    src.number,
                    str(src.path),
                    src.frame,
                    sha,
                    page_key,
                    str(status),
                    result.error,
                    result.text if result.ok else None,
                    result.confidence,
                    result.word_count,
                    result.dpi,
                    int(result.dpi_assumed),
                    result.seconds,
                    text_path,
                    batch_id,
                    now(),
                    leaf[0] if leaf else None,
                    int(leaf[1]) if leaf else 0,
                    json.dumps(list(result.review), ensure_ascii=False) if result.review else None,
                    json.dumps(result.evidence, ensure_ascii=False) if result.evidence else None,
                    alto_path,
                ),
            )

    def set_pdf_pages(self, doc_id: int, mapping: Sequence[tuple[int, int | None]]) -> None:
        """Record which page of the document PDF shows each page (None: not in the PDF)."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE pages SET pdf_page=? WHERE document_id=? AND number=?",
                [(pdf_page, doc_id, number) for number, pdf_page in mapping],
            )

    def pages_to_index(
        self, limit: int, *, except_documents: Collection[int] = ()
    ) -> list[sqlite3.Row]:
        """OK pages whose current text is not in the index yet (new, changed or interrupted),
        except those of `except_documents` (documents whose PDF is still being made: the
        index stores each page's place in it, and an indexed page is not indexed again)."""
        skip = sorted(set(except_documents))
        return self.db.execute(
            f"""SELECT {_INDEX_COLUMNS}
               FROM pages p JOIN documents d ON d.id = p.document_id
               WHERE p.status = 'ok' AND (p.indexed_key IS NULL OR p.indexed_key != p.page_key)
               AND p.document_id NOT IN ({",".join("?" * len(skip))})
               ORDER BY p.id LIMIT ?""",
            (*skip, limit),
        ).fetchall()

    def mark_indexed(self, pages: Sequence[tuple[int, str]]) -> None:
        with self.transaction() as db:
            db.executemany("UPDATE pages SET indexed_key=? WHERE id=?", [(k, i) for i, k in pages])

    def all_ok_pages(self) -> Iterator[sqlite3.Row]:
        """Every OK page with what the index stores, for a rebuild."""
        yield from self.db.execute(
            f"""SELECT {_INDEX_COLUMNS}
               FROM pages p JOIN documents d ON d.id = p.document_id
               WHERE p.status = 'ok' ORDER BY p.id"""
        )

    # inbox drops (arkhiv watch)
    def add_drop(self, inbox: Path, original: Path, location: Path, state: str) -> int:
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO drops (inbox, original, location, state, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?)",
                (str(inbox), str(original), str(location), state, now(), now()),
            )
            return int(cur.lastrowid or 0)

    def set_drop(
        self, drop_id: int, state: str, *, attempts: int | None = None, error: str | None = None
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE drops SET state=?, attempts=coalesce(?, attempts), error=?, updated_at=?"
                " WHERE id=?",
                (state, attempts, error, now(), drop_id),
            )

    def open_drops(self, inbox: Path) -> list[sqlite3.Row]:
        """Drops of this inbox a previous watcher did not finish (it was stopped or killed)."""
        return self.db.execute(
            "SELECT * FROM drops WHERE inbox=? AND state IN ('moving', 'queued', 'retry')"
            " ORDER BY id",
            (str(inbox),),
        ).fetchall()

    def record_move(self, source: Path, destination: Path, reason: str, drop_id: int) -> None:
        """Record that an original moved, and point the catalog's pages at its new place."""
        src, dst = str(source), str(destination)
        with self.transaction() as db:
            db.execute(
                "INSERT INTO moves (source, destination, reason, drop_id, moved_at)"
                " VALUES (?,?,?,?,?)",
                (src, dst, reason, drop_id, now()),
            )
            for table, column in (("pages", "source_path"), ("documents", "source_path")):
                db.execute(
                    f"UPDATE {table} SET {column} = ? || substr({column}, ?)"
                    f" WHERE {column} = ? OR substr({column}, 1, ?) = ?",
                    (dst, len(src) + 1, src, len(src) + 1, src + "/"),
                )

    def has_indexed_pages(self) -> bool:
        """True once any page was written to the search index."""
        row = self.db.execute("SELECT 1 FROM pages WHERE indexed_key IS NOT NULL LIMIT 1")
        return row.fetchone() is not None

    def has_ok_page_with_sha(self, sha: str) -> bool:
        """True when a page with this content is already in the catalog, OCRed."""
        row = self.db.execute(
            "SELECT 1 FROM pages WHERE sha256=? AND status='ok' LIMIT 1", (sha,)
        ).fetchone()
        return row is not None

    def counts(self) -> dict[str, int]:
        row = self.db.execute(
            """SELECT (SELECT count(*) FROM documents) AS documents,
                      (SELECT count(*) FROM pages) AS pages,
                      (SELECT count(*) FROM pages WHERE status='ok') AS pages_ok,
                      (SELECT count(*) FROM pages WHERE status='failed') AS pages_failed,
                      (SELECT count(*) FROM batches) AS batches"""
        ).fetchone()
        return {k: int(row[k]) for k in row.keys()}  # noqa: SIM118 - sqlite3.Row


# What the search index stores of a page and its document.
_INDEX_COLUMNS = (
    "p.id, p.document_id, p.number, p.page_key, p.text, p.confidence, p.pdf_page, p.text_path,"
    " p.arkush, p.verso, d.name AS document, d.pdf_path, d.repository, d.fond, d.opys, d.sprava,"
    " d.volume, d.title, d.year_from, d.year_to, d.access"
)
_PAGE_COLUMNS = (
    "id, document_id, number, source_path, sha256, page_key, status, error, text, confidence,"
    " text_path, pdf_page, indexed_key, arkush, verso, review, review_resolved, alto_path"
)


def safe_name(name: str, limit: int = 80) -> str:
    """A folder name made from a document name: no separators or control characters."""
    import unicodedata

    cleaned = "".join(
        "_" if (c in '/\\:*?"<>|' or unicodedata.category(c).startswith("C")) else c
        for c in unicodedata.normalize("NFC", name)
    ).strip(" .")
    return (cleaned or "document")[:limit]
