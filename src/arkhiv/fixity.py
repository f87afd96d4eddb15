"""`arkhiv check`: originals and outputs re-hashed; catalog, files and index must agree."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from arkhiv.catalog import Catalog
from arkhiv.errors import ArkhivError
from arkhiv.fsutil import exclusive_lock, sha256_file
from arkhiv.search import PageIndex
from arkhiv.search.index import page_id


@dataclass(frozen=True)
class Problem:
    """One difference between what the catalog recorded and what is there."""

    kind: str  # original-missing, original-changed, pdf-missing, pdf-changed, ...
    path: str
    detail: str


@dataclass
class CheckReport:
    """What `arkhiv check` looked at and what differs."""

    archive: str
    originals: int = 0
    documents: int = 0
    text_files: int = 0
    indexed_pages: int = 0
    problems: list[Problem] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # what --repair made again, first

    @property
    def ok(self) -> bool:
        return not self.problems


def check_archive(
    archive: Path, progress: Callable[[str, dict[str, object]], None] | None = None
) -> CheckReport:
    """Re-hash every original and output; compare catalog, files and index."""
    catalog = Catalog.open(archive, create=False, readonly=True)
    try:  # an ingest at work: its pages in progress would look missing (issue 15, item 21)
        if os.access(archive, os.W_OK):  # on a read-only folder no ingest can be at work
            with exclusive_lock(archive / ".lock", "writing to this archive; check it when done"):
                pass
    except ArkhivError:
        catalog.close()
        raise
    report = CheckReport(str(archive))
    try:
        if not _check_catalog(catalog, report):
            return report  # its rows cannot be trusted: the rest would only add noise
        _check_originals(catalog, report, progress)
        _check_documents(catalog, archive, report)
        _check_index(catalog, archive, report)
    finally:
        catalog.close()
    return report


def _check_catalog(catalog: Catalog, report: CheckReport) -> bool:
    """SQLite's own check of the catalog file (every b-tree page, index and record)."""
    try:
        found = [str(r[0]) for r in catalog.db.execute("PRAGMA integrity_check(20)")]
    except sqlite3.DatabaseError as e:
        found = [str(e)]
    if found == ["ok"]:
        return True
    for line in found:
        report.problems.append(
            Problem(
                "catalog-damaged",
                str(catalog.path),
                f"{line}; restore catalog.sqlite from a backup (each document's document.json "
                "and page texts hold its metadata and text)",
            )
        )
    return False


def _check_originals(
    catalog: Catalog,
    report: CheckReport,
    progress: Callable[[str, dict[str, object]], None] | None,
) -> None:
    rows = catalog.db.execute(
        "SELECT DISTINCT source_path, sha256 FROM pages WHERE sha256 != '' ORDER BY source_path"
    ).fetchall()
    if progress:
        progress("start", {"pages": len(rows)})
    for row in rows:
        path = Path(row["source_path"])
        report.originals += 1
        try:
            actual = sha256_file(path)
        except FileNotFoundError:
            report.problems.append(Problem("original-missing", str(path), "the file is gone"))
            actual = None
        except OSError as e:
            report.problems.append(Problem("original-unreadable", str(path), str(e)))
            actual = None
        if actual is not None and actual != row["sha256"]:
            report.problems.append(
                Problem(
                    "original-changed", str(path), f"sha256 {actual} != recorded {row['sha256']}"
                )
            )
        if progress:
            progress("page", {})


def _check_documents(catalog: Catalog, archive: Path, report: CheckReport) -> None:
    import pikepdf

    for doc in catalog.db.execute("SELECT * FROM documents ORDER BY id"):
        report.documents += 1
        pages = catalog.document_pages(doc["id"])
        ok_pages = [p for p in pages if p.status == "ok"]
        if doc["pdf_path"]:
            pdf = archive / doc["pdf_path"]
            if not pdf.is_file():
                report.problems.append(Problem("pdf-missing", str(pdf), "the document PDF is gone"))
            elif sha256_file(pdf) != doc["pdf_sha256"]:
                report.problems.append(
                    Problem("pdf-changed", str(pdf), "sha256 differs from the one recorded")
                )
            else:
                try:
                    with pikepdf.open(pdf) as p:
                        if len(p.pages) != len(ok_pages):
                            report.problems.append(
                                Problem(
                                    "pdf-pages",
                                    str(pdf),
                                    f"{len(p.pages)} pages, the catalog has {len(ok_pages)}",
                                )
                            )
                except pikepdf.PdfError as e:
                    report.problems.append(Problem("pdf-unreadable", str(pdf), str(e)))
        elif ok_pages:
            report.problems.append(
                Problem("pdf-missing", doc["folder"], "pages are OCRed but no PDF is recorded")
            )
        for page in ok_pages:
            report.text_files += 1
            text_path = archive / (page.text_path or "")
            if not page.text_path or not text_path.is_file():
                report.problems.append(Problem("text-missing", str(text_path), "no text file"))
            elif (found := _read_text(text_path)) is None:
                report.problems.append(
                    Problem("text-damaged", str(text_path), "not UTF-8 text (cut or overwritten)")
                )
            elif found != (page.text or ""):
                report.problems.append(
                    Problem("text-changed", str(text_path), "differs from the catalog's text")
                )


def _read_text(path: Path) -> str | None:
    """The file's UTF-8 text; None when it is not UTF-8 (cut inside a character)."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def _check_index(catalog: Catalog, archive: Path, report: CheckReport) -> None:
    try:
        index = PageIndex.open(archive, create=False)
        indexed = index.indexed_keys()
        index.read_everything()
    except ArkhivError as e:
        report.problems.append(Problem("index-unusable", str(archive / "index"), str(e)))
        return
    except Exception as e:  # Whoosh failing inside its files: "Block tag error", truncation
        detail = f"damaged ({type(e).__name__}: {e}); rebuild it: arkhiv reindex"
        report.problems.append(Problem("index-damaged", str(archive / "index"), detail))
        return
    report.indexed_pages = len(indexed)
    expected = {
        page_id(r["document_id"], r["number"]): r["page_key"]
        for r in catalog.db.execute(
            "SELECT document_id, number, page_key FROM pages WHERE status='ok'"
        )
    }
    for pid, key in expected.items():
        if pid not in indexed:
            report.problems.append(Problem("index-missing-page", pid, "OCRed but not searchable"))
        elif indexed[pid] != key:
            report.problems.append(Problem("index-stale-page", pid, "indexed text is outdated"))
    for pid in sorted(set(indexed) - set(expected)):
        report.problems.append(Problem("index-extra-page", pid, "in the index, not the catalog"))
