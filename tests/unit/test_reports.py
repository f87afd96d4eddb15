"""The end-of-batch summary says what the OCR stage did to the pages."""

from __future__ import annotations

import json

from arkhiv.models import BatchReport, PageReport
from arkhiv.reports import report_json, summary_lines


def _report(*pages: PageReport) -> BatchReport:
    return BatchReport(1, "/a", documents=1, pages_ok=len(pages), seconds=2.0, pages=list(pages))


def test_turned_and_reread_pages_are_counted() -> None:
    report = _report(
        PageReport("наказ.tif", "наказ", 1, "ok", rotation=180, ocr_variant="original"),
        PageReport("наказ.tif", "наказ", 2, "ok", ocr_variant="background"),
        PageReport("наказ.tif", "наказ", 3, "ok", ocr_variant="original"),
        PageReport("наказ.tif", "наказ", 4, "skipped", ocr_variant=None),
    )
    lines = summary_lines(report)
    assert (
        "1 page(s) turned upright, 1 read from a straightened or cleaned-up copy of the scan"
        in lines
    )
    pages = json.loads(report_json(report))["pages"]
    assert [(p["rotation"], p["ocr_variant"]) for p in pages] == [
        (180, "original"),
        (0, "background"),
        (0, "original"),
        (0, None),
    ]


def test_nothing_to_say_about_plain_pages() -> None:
    report = _report(PageReport("1.png", "d", 1, "ok", ocr_variant="original"))
    assert not any("turned" in line for line in summary_lines(report))


def test_notes_are_capped_in_the_summary() -> None:
    """Issue 15, item 21: 500 "no text found" lines drowned the summary."""
    report = _report(PageReport("1.png", "d", 1, "ok"))
    report.warnings = [f"{n}.png: no text found (a blank page?)" for n in range(500)]
    lines = summary_lines(report)
    assert sum(line.startswith("note: ") for line in lines) == 20
    assert "... and 480 more notes (see --report)" in lines
