"""Batch report -> terminal summary lines and JSON (for --json and --report FILE.json)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from arkhiv.models import BatchReport
from arkhiv.reader import SearchResult

MAX_LISTED_FAILURES = 20


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
            f"{turned} page(s) turned upright, {again} poor page(s) read better from a "
            "cleaned-up copy of the scan"
        )
    for warning in dict.fromkeys(report.warnings):
        lines.append(f"note: {warning}")
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
