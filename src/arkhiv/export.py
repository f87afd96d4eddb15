"""Export the catalog as an open dataset: CSV, JSON or Dublin Core XML, per document or page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any
from xml.sax.saxutils import escape

from arkhiv.catalog import Catalog
from arkhiv.metadata.fields import REF_KEYS
from arkhiv.metadata.ref import ArchivalRef, CitationStyle, Leaf


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    DC_XML = "dc-xml"


class ExportUnit(StrEnum):
    DOCUMENT = "document"
    PAGE = "page"


DOCUMENT_COLUMNS = (
    "id",
    "citation",
    "archive",
    "archive_id",
    "fond",
    "opys",
    "sprava",
    "volume",
    "title",
    "date",
    "date_edtf",
    "year_from",
    "year_to",
    "creator",
    "description",
    "language",
    "subject",
    "access",
    "rights",
    "notes",
    "leaves",
    "pages",
    "name",
    "pdf",
)
PAGE_COLUMNS = (
    "document_id",
    "page",
    "arkush",
    "verso",
    "citation",
    "document_citation",
    "title",
    "year_from",
    "year_to",
    "confidence",
    "text_file",
    "pdf",
    "pdf_page",
    "review",
    "text",
)


# Characters XML 1.0 cannot carry at all (Tesseract ends each page with a form feed).
_NOT_XML = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])


def document_rows(
    catalog: Catalog, style: CitationStyle, include_restricted: bool
) -> Iterator[dict[str, Any]]:
    """One flat record per document, in id order; restricted ones only when asked."""
    for row in catalog.documents():
        meta = json.loads(row["metadata"]) if row["metadata"] else {}
        if meta.get("access") == "restricted" and not include_restricted:
            continue
        ref = ArchivalRef(**(meta.get("reference") or {}))
        date = meta.get("date") or {}
        yield {
            "id": row["id"],
            "citation": ref.citation(style=style) or None,
            **{k: getattr(ref, k) for k in REF_KEYS},
            "archive_id": meta.get("archive_id"),
            "title": meta.get("title"),
            "date": date.get("text"),
            "date_edtf": date.get("edtf"),
            "year_from": date.get("year_from"),
            "year_to": date.get("year_to"),
            "creator": meta.get("creator") or [],
            "description": meta.get("description"),
            "language": meta.get("language") or [],
            "subject": meta.get("subject") or [],
            "access": meta.get("access") or "open",
            "rights": meta.get("rights"),
            "notes": meta.get("notes"),
            "leaves": meta.get("leaves"),
            "pages": row["page_count"],
            "name": row["name"],
            "pdf": row["pdf_path"],
        }


def page_rows(
    catalog: Catalog, style: CitationStyle, include_restricted: bool
) -> Iterator[dict[str, Any]]:
    """One flat record per OCRed page, with its text, in document and page order."""
    for doc in document_rows(catalog, style, include_restricted):
        ref = ArchivalRef(**{k: doc[k] for k in REF_KEYS if doc[k] is not None})
        for page in catalog.document_pages(int(doc["id"])):
            if page.status != "ok":
                continue
            leaf = Leaf(page.arkush, bool(page.verso)) if page.arkush else None
            yield {
                "document_id": doc["id"],
                "page": page.number,
                "arkush": page.arkush,
                "verso": bool(page.verso),
                "citation": ref.citation(leaf, style) if leaf else None,
                "document_citation": doc["citation"],
                "title": doc["title"],
                "year_from": doc["year_from"],
                "year_to": doc["year_to"],
                "confidence": None if page.confidence is None else round(page.confidence, 1),
                "text_file": page.text_path,
                "pdf": doc["pdf"],
                "pdf_page": page.pdf_page,
                "review": page.review_reasons,  # why its text may be incomplete; [] = fine
                "text": page.text or "",
            }


def _cell(value: Any) -> str:
    """A CSV cell: lists joined by "; ", booleans as true/false, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def to_csv(rows: Iterable[dict[str, Any]], columns: tuple[str, ...]) -> Iterator[str]:
    """UTF-8 CSV with a header row (the caller writes a BOM-less UTF-8 file)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue()


def to_json(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON array, one record per line, streamed."""
    yield "["
    for i, row in enumerate(rows):
        yield ("\n" if i == 0 else ",\n") + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"


DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"


def _dc(name: str, value: object) -> str:
    if value is None or value == "":
        return ""
    return f"    <dc:{name}>{escape(str(value).translate(_NOT_XML))}</dc:{name}>\n"


def to_dc_xml(rows: Iterable[dict[str, Any]], unit: ExportUnit) -> Iterator[str]:
    """Dublin Core (the oai_dc record format of OAI-PMH), one <oai_dc:dc> per record."""
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<records xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}">\n'
    )
    for row in rows:
        parts = ["  <oai_dc:dc>\n"]
        if unit is ExportUnit.DOCUMENT:
            parts.append(_dc("identifier", row["citation"] or f"arkhiv:document:{row['id']}"))
            parts.append(_dc("title", row["title"] or row["name"]))
            parts.append(_dc("date", row["date_edtf"]))
            parts.extend(_dc("creator", c) for c in row["creator"])
            parts.append(_dc("description", row["description"]))
            parts.extend(_dc("language", c) for c in row["language"])
            parts.extend(_dc("subject", c) for c in row["subject"])
            parts.append(_dc("rights", row["rights"] or row["access"]))
            parts.append(_dc("source", row["archive"]))
            parts.append(_dc("format", "application/pdf"))
        else:
            parts.append(
                _dc("identifier", row["citation"] or f"{row['document_id']}:{row['page']}")
            )
            parts.append(_dc("title", row["title"]))
            parts.append(_dc("relation", row["document_citation"]))
            parts.append(_dc("description", row["text"]))
            parts.append(_dc("format", "text/plain"))
        parts.append(_dc("type", "Text"))
        parts.append("  </oai_dc:dc>\n")
        yield "".join(parts)
    yield "</records>\n"


def export(
    catalog: Catalog,
    fmt: ExportFormat,
    unit: ExportUnit = ExportUnit.DOCUMENT,
    style: CitationStyle = CitationStyle.LEGEND,
    include_restricted: bool = False,
) -> Iterator[str]:
    """The export as chunks of text (streamed: a large archive is never held in memory)."""
    rows = (page_rows if unit is ExportUnit.PAGE else document_rows)(
        catalog, style, include_restricted
    )
    if fmt is ExportFormat.CSV:
        return to_csv(rows, PAGE_COLUMNS if unit is ExportUnit.PAGE else DOCUMENT_COLUMNS)
    if fmt is ExportFormat.JSON:
        return to_json(rows)
    return to_dc_xml(rows, unit)
