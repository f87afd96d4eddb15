"""What the CLI prints: batch reports, checks, documents and hits as terminal lines or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from arkhiv.fixity import CheckReport
from arkhiv.metadata.ref import CitationStyle
from arkhiv.models import BatchReport
from arkhiv.pipeline.batch import BatchCheck
from arkhiv.reader import DocumentView, SearchResult
from arkhiv.review import ReviewItem

MAX_LISTED_FAILURES = 20
MAX_LISTED_NOTES = 20


def report_dict(report: BatchReport) -> dict[str, Any]:
    d = asdict(report)
    d["failures"] = [{"file": f, "reason": r} for f, r in report.failures]
    d["status"] = "partial" if report.failed else "ok"
    return d


def report_json(report: BatchReport) -> str:
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2)


def summary_lines(report: BatchReport) -> list[str]:
    """The end-of-batch summary a person reads."""
    rate = report.pages_ok / report.seconds * 60 if report.seconds else 0.0
    lines = [
        f"{report.documents} document(s): {report.pages_ok} page(s) OCRed, "
        f"{report.pages_skipped} already done, {report.pages_failed} failed"
        + (f", {report.pages_excluded} left out by setting" if report.pages_excluded else "")
        + (f", {report.inputs_failed} input(s) not ingested" if report.inputs_failed else "")
        + f" in {report.seconds:.1f} s"
        + (f" ({rate:.1f} pages/min)" if report.pages_ok else ""),
        f"archive: {report.archive}",
    ]
    turned = sum(1 for p in report.pages if p.rotation)
    again = sum(1 for p in report.pages if p.ocr_variant not in (None, "original"))
    if turned or again:
        lines.append(
            f"{turned} page(s) turned upright, {again} read from a straightened or cleaned-up "
            "copy of the scan"
        )
    if report.pages_to_review:
        lines.append(
            f"{report.pages_to_review} page(s) need review (their text may be incomplete): "
            f"arkhiv review --archive {report.archive}"
        )
    notes = list(dict.fromkeys(report.warnings))
    lines.extend(f"note: {warning}" for warning in notes[:MAX_LISTED_NOTES])
    if len(notes) > MAX_LISTED_NOTES:
        lines.append(f"... and {len(notes) - MAX_LISTED_NOTES} more notes (see --report)")
    for file, reason in report.failures[:MAX_LISTED_FAILURES]:
        lines.append(f"FAILED {file}: {reason}")
    if len(report.failures) > MAX_LISTED_FAILURES:
        lines.append(f"... and {len(report.failures) - MAX_LISTED_FAILURES} more (see --report)")
    return lines


def search_json(result: SearchResult) -> str:
    return json.dumps(
        {"query": result.query, "total": result.total, "hits": [asdict(h) for h in result.hits]},
        ensure_ascii=False,
        indent=2,
    )


# `arkhiv ingest --check`


def batch_check_json(result: BatchCheck, style: CitationStyle) -> str:
    """Every document's metadata plan and the problems, as JSON."""
    data = {
        "ok": result.ok,
        "documents": [
            {
                "path": str(d.source.path),
                "pages": len(d.source.pages),
                "ok": d.plan.ok,
                "citation": d.plan.metadata.citation(style) if d.plan.metadata else None,
                "metadata": d.plan.metadata.to_json() if d.plan.metadata else None,
                "leaves": [str(leaf) for leaf in d.plan.leaves],
                "errors": list(d.plan.errors),
                "warnings": list(d.plan.warnings),
            }
            for d in result.documents
        ],
        "problems": [{"file": f, "reason": r} for f, r in result.problems],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def batch_check_lines(result: BatchCheck, style: CitationStyle) -> list[tuple[str, bool]]:
    """The check as lines a person reads, each with whether it belongs on stderr."""
    lines: list[tuple[str, bool]] = []
    for d in result.documents:
        meta = d.plan.metadata
        what = (meta.citation(style) if meta else "") or "(no reference)"
        leaves = d.plan.leaves
        span = f", арк. {leaves[0]}" if leaves else ""
        span += f"–{leaves[-1]}" if len(leaves) > 1 else ""
        mark = "ok     " if d.plan.ok else "INVALID"
        lines.append(
            (f"{mark} {d.source.path}: {what}; {len(d.source.pages)} page(s){span}", False)
        )
        lines.extend((f"  error: {e}", True) for e in d.plan.errors)
        lines.extend((f"  note: {w}", False) for w in d.plan.warnings)
    lines.extend((f"FAILED {file}: {reason}", True) for file, reason in result.problems)
    bad = sum(not d.plan.ok for d in result.documents) + len(result.problems)
    lines.append(
        (
            f"{len(result.documents)} document(s) checked, "
            + (f"{bad} problem(s); nothing was ingested" if bad else "all valid; nothing ingested"),
            False,
        )
    )
    return lines


# `arkhiv show`

_PAGE_FIELDS = (
    "number",
    "arkush",
    "verso",
    "status",
    "error",
    "confidence",
    "text_path",
    "pdf_page",
    "source_path",
    "review_reasons",
)


def documents_json(views: list[DocumentView]) -> str:
    """Documents with their metadata and pages, as JSON."""
    data = [
        {
            **asdict(v),
            "leaf": str(v.leaf) if v.leaf else None,
            "pages": [
                {("review" if k == "review_reasons" else k): getattr(p, k) for k in _PAGE_FIELDS}
                for p in v.pages
            ],
        }
        for v in views
    ]
    return json.dumps(data, ensure_ascii=False, indent=2)


def document_lines(view: DocumentView) -> list[str]:
    """A document's metadata and pages (leaf, status, text file), one line each."""
    lines = [f"[{view.id}] {view.citation or view.name}"]
    meta = view.metadata
    date = meta.get("date") or {}
    rows = [
        ("title", meta.get("title")),
        ("date", date.get("text") if isinstance(date, dict) else None),
        ("creator", "; ".join(meta.get("creator") or [])),
        ("language", "; ".join(meta.get("language") or [])),
        ("subject", "; ".join(meta.get("subject") or [])),
        ("description", meta.get("description")),
        ("access", meta.get("access")),
        ("rights", meta.get("rights")),
        ("notes", meta.get("notes")),
        ("leaves", meta.get("leaves")),
        ("status", view.status),
        ("source", view.source),
        ("pdf", view.pdf_path),
    ]
    lines.extend(f"  {key:<12} {value}" for key, value in rows if value)
    for p in view.pages:
        leaf = f"арк. {p.arkush}{' зв.' if p.verso else ''}" if p.arkush else "-"
        wanted = view.leaf
        mark = (
            ">" if wanted and p.arkush == wanted.number and bool(p.verso) == wanted.verso else " "
        )
        detail = p.text_path or p.error or ""
        lines.append(f" {mark}page {p.number:>4}  {leaf:<12} {p.status:<8} {detail}")
        lines.extend(f"            REVIEW: {reason}" for reason in p.review_reasons)
    return lines


# `arkhiv check`


def check_json(result: CheckReport) -> str:
    return json.dumps({**asdict(result), "ok": result.ok}, ensure_ascii=False, indent=2)


def check_lines(result: CheckReport) -> list[tuple[str, bool]]:
    """The fixity check as lines, each with whether it belongs on stderr."""
    lines = [
        (
            f"checked {result.originals} original(s), {result.documents} document(s), "
            f"{result.text_files} text file(s), {result.indexed_pages} indexed page(s)",
            False,
        )
    ]
    lines[:0] = [(f"REPAIRED {line}", False) for line in result.repaired]
    lines.extend((f"DIFFERS {p.kind}: {p.path}: {p.detail}", True) for p in result.problems)
    lines.append(
        ("all as recorded" if result.ok else f"{len(result.problems)} difference(s)", False)
    )
    return lines


# `arkhiv review`


def review_json(items: list[ReviewItem]) -> str:
    return json.dumps([asdict(i) for i in items], ensure_ascii=False, indent=2)


def review_lines(items: list[ReviewItem], archive: str) -> list[str]:
    """Each flagged page by citation (or document and page), its reasons and where to look."""
    lines = []
    for i in items:
        where = i.citation or f"{i.document}, page {i.page}"
        conf = f", confidence {i.confidence:.0f}" if i.confidence is not None else ""
        lines.append(f"[{i.document_id}] {where}{conf}")
        lines.extend(f"    {reason}" for reason in i.reasons)
        if i.pdf_path and i.pdf_page:
            lines.append(f"    PDF: {archive}/{i.pdf_path}#page={i.pdf_page}")
        lines.append(f"    scan: {i.source}")
    lines.append(
        f"{len(items)} page(s) need review"
        + ("; when checked: arkhiv review --resolve DOCUMENT --page N" if items else "")
    )
    return lines
