"""Pages whose text is doubtful, for an archivist: the list (`arkhiv review`) and the clearing of
a page once checked (`arkhiv review --resolve`). The reasons come from the OCR stage's
completeness check and are stored with each page in the catalog."""

from __future__ import annotations

import json
from dataclasses import dataclass

from arkhiv.catalog import Catalog, now
from arkhiv.errors import UsageError
from arkhiv.metadata.ref import CitationStyle
from arkhiv.reader import find_documents, page_citation


@dataclass(frozen=True)
class ReviewItem:
    """One page that needs an archivist's look, and why."""

    document_id: int
    document: str
    page: int
    citation: str  # the page's citation, "" when the document has no reference
    reasons: list[str]
    confidence: float | None
    source: str  # the original scan
    text_path: str | None
    pdf_path: str | None  # the document PDF (relative to the archive) ...
    pdf_page: int | None  # ... and the page of it that shows this page


def flagged(
    catalog: Catalog,
    style: CitationStyle,
    *,
    include_restricted: bool = True,
    limit: int = 10_000,
) -> list[ReviewItem]:
    """The pages that need review, in document and page order (those of restricted documents
    only with `include_restricted`)."""
    open_only = "" if include_restricted else " AND d.access != 'restricted'"
    rows = catalog.db.execute(
        f"""SELECT p.document_id, d.name, p.number, p.review, p.confidence, p.source_path,
                  p.text_path, d.pdf_path, p.pdf_page, p.arkush, p.verso, d.metadata
           FROM pages p JOIN documents d ON d.id = p.document_id
           WHERE p.review IS NOT NULL{open_only} ORDER BY p.document_id, p.number LIMIT ?""",
        (limit,),
    ).fetchall()
    items = []
    for r in rows:
        meta = json.loads(r["metadata"]) if r["metadata"] else {}
        reference = {k: str(v) for k, v in (meta.get("reference") or {}).items()}
        items.append(
            ReviewItem(
                document_id=r["document_id"],
                document=r["name"],
                page=r["number"],
                citation=page_citation(reference, r["arkush"], bool(r["verso"]), style),
                reasons=list(json.loads(r["review"])),
                confidence=r["confidence"],
                source=r["source_path"],
                text_path=r["text_path"],
                pdf_path=r["pdf_path"],
                pdf_page=r["pdf_page"],
            )
        )
    return items


def resolve(
    catalog: Catalog, ref: str, page: int | None, note: str, style: CitationStyle
) -> list[ReviewItem]:
    """Clear the review of the page named by `ref` (a citation with its арк., or a document
    with `page`); returns what was cleared. The reasons are kept with the clearing, with
    `note` and the time, so the catalog still says what was checked."""
    views = find_documents(catalog, ref, style)
    if len(views) > 1:
        raise UsageError(
            f"{ref!r} names {len(views)} documents",
            hint="give the full citation or the document id (arkhiv review lists them)",
        )
    view = views[0]
    wanted = [
        p
        for p in view.pages
        if (page is not None and p.number == page)
        or (
            page is None
            and view.leaf is not None
            and p.arkush == view.leaf.number
            and bool(p.verso) == view.leaf.verso
        )
    ]
    if not wanted:
        flagged_here = [p.number for p in view.pages if p.review]
        raise UsageError(
            f"{ref!r}: say which page was checked",
            hint="add --page N or the leaf to the citation (арк. N); pages of this document "
            f"that need review: {', '.join(map(str, flagged_here)) or 'none'}",
        )
    cleared = []
    for p in wanted:
        if not p.review:
            continue
        record = {"at": now(), "reasons": p.review_reasons, "note": note}
        with catalog.transaction() as db:
            db.execute(
                "UPDATE pages SET review = NULL, review_resolved = ? WHERE id = ?",
                (json.dumps(record, ensure_ascii=False), p.id),
            )
        cleared.append(
            ReviewItem(
                view.id,
                view.name,
                p.number,
                view.page_citation(p, style),
                p.review_reasons,
                p.confidence,
                p.source_path,
                p.text_path,
                view.pdf_path,
                p.pdf_page,
            )
        )
    return cleared
