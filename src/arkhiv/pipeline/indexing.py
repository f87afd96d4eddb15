"""Index stage: the catalog's OK pages whose current text is not in the search index yet go
into it, a batch per commit; and a whole new index rebuilt from the catalog alone.

The catalog is the source of truth: a page is marked indexed only after the index commit, so a
crash in between re-indexes it next run, replacing (not duplicating) it, since the index key
is unique per page. Only one process writes the index (the archive lock).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from arkhiv.catalog import Catalog
from arkhiv.fsutil import archive_lock
from arkhiv.metadata.fields import REF_FIELDS
from arkhiv.search import PageIndex, PageRecord


def index_record(row: sqlite3.Row) -> PageRecord:
    """What the index stores for a catalog page row."""
    return PageRecord(
        document_id=row["document_id"],
        number=row["number"],
        page_key=row["page_key"],
        document=row["document"],
        text=row["text"] or "",
        pdf_path=row["pdf_path"],
        text_path=row["text_path"],
        pdf_page=row["pdf_page"],
        reference={
            part: row[column] for part, column in REF_FIELDS.items() if row[column] is not None
        },
        arkush=row["arkush"],
        verso=bool(row["verso"]),
        title=row["title"],
        year_from=row["year_from"],
        year_to=row["year_to"],
        access=row["access"] or "open",
    )


def index_pages(
    catalog: Catalog,
    index: PageIndex,
    *,
    per_commit: int,
    except_documents: set[int],
    at_least: int = 0,
) -> int:
    """Index the OK pages whose current text is not in the index, `per_commit` at a time; not
    those of `except_documents` (in progress: their PDF, which the index points into, is not
    made yet). Nothing when fewer than `at_least` are waiting. Returns the pages written."""
    rows = catalog.pages_to_index(limit=per_commit, except_documents=except_documents)
    if len(rows) < at_least:
        return 0
    written = 0
    while rows:
        written += index.write_pages(index_record(r) for r in rows)
        catalog.mark_indexed([(r["id"], r["page_key"]) for r in rows])
        rows = catalog.pages_to_index(limit=per_commit, except_documents=except_documents)
    return written


def rebuild_index(archive: Path, catalog: Catalog) -> int:
    """A new index from the catalog alone, swapped in atomically; returns the pages."""
    written: list[tuple[int, str]] = []

    def records() -> Iterator[PageRecord]:  # streamed: page texts are not all held at once
        for row in catalog.all_ok_pages():
            written.append((row["id"], row["page_key"]))
            yield index_record(row)

    count = PageIndex.rebuild(archive, records())
    catalog.mark_indexed(written)
    return count


def reindex(archive: Path) -> int:
    """`arkhiv reindex`: rebuild the archive's index under the archive lock."""
    Catalog.open(archive, create=False, readonly=True).close()  # no archive: a clear message
    with archive_lock(archive):
        catalog = Catalog.open(archive, create=False)
        try:
            return rebuild_index(archive, catalog)
        finally:
            catalog.close()
