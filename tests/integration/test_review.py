"""Pages that lose their text are read again or flagged, never passed off as fine (issue 14):
with the real Tesseract, OCRmyPDF and SQLite, through the library and the command line."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from rapidfuzz.distance import Levenshtein
from typer.testing import CliRunner

from arkhiv import api
from arkhiv.cli import app
from arkhiv.config import load_pipeline, load_settings
from tests.conftest import REPO, needs_tesseract

pytestmark = needs_tesseract()

PAGES = REPO / "tests" / "resources" / "pages"
PROTOKOL = PAGES / "протокол_рамка_перекіс.jpg"
VIDOMIST = PAGES / "відомість_бліда_200dpi.png"


def _cer(text: str, gt: str) -> float:
    a, b = " ".join(text.split()), " ".join(gt.split())
    return Levenshtein.distance(a, b) / len(b)


def _ingest(page: Path, archive: Path, **ocr: object) -> api.BatchReport:
    settings = load_settings(env={}, overrides={"": {"archive": archive}, "ingest": {"jobs": 1}})
    pipeline = load_pipeline("default", settings)
    pipeline = replace(pipeline, ocr=replace(pipeline.ocr, **ocr))
    return api.ingest(page, settings, pipeline)


def test_a_skewed_bordered_page_is_read_straightened_and_not_flagged(tmp_path: Path) -> None:
    report = _ingest(PROTOKOL, tmp_path / "a")
    (page,) = report.pages
    assert page.status == "ok" and page.review == []
    assert page.ocr_variant is not None
    assert "straightened" in page.ocr_variant and "border masked" in page.ocr_variant
    text = (tmp_path / "a" / str(page.text_path)).read_text(encoding="utf-8")
    assert _cer(text, PROTOKOL.with_suffix(".gt.txt").read_text(encoding="utf-8")) < 0.05
    assert "ПРОТОКОЛ № 51" in text  # the № the ukr model cannot write, put back
    alto = (tmp_path / "a" / str(page.text_path).replace(".txt", ".alto.xml")).read_text("utf-8")
    assert 'CONTENT="ПРОТОКОЛ"' in alto


def test_the_same_page_read_as_it_is_has_its_rows_split_and_is_flagged(tmp_path: Path) -> None:
    """Without straightening (and no further readings), Tesseract reads the page with high
    confidence but splits every row into two blocks: the words come out in the wrong order.
    The completeness check sees it and the page is flagged."""
    report = _ingest(PROTOKOL, tmp_path / "a", deskew=False, retry=False)
    (page,) = report.pages
    assert page.status == "ok" and page.ocr_variant == "original"
    assert page.confidence is not None and page.confidence > 80
    assert any(r.startswith("layout-split: ") for r in page.review), page.review
    text = (tmp_path / "a" / str(page.text_path)).read_text(encoding="utf-8")
    assert _cer(text, PROTOKOL.with_suffix(".gt.txt").read_text(encoding="utf-8")) > 0.10


def test_a_doubtful_page_stays_flagged_until_an_archivist_clears_it(tmp_path: Path) -> None:
    archive = tmp_path / "a"
    runner = CliRunner()
    ingest = runner.invoke(app, ["ingest", str(VIDOMIST), "--archive", str(archive), "-q"])
    assert ingest.exit_code == 0, ingest.output
    assert (
        f"1 page(s) need review (their text may be incomplete): arkhiv review --archive {archive}"
        in ingest.output
    )

    listed = runner.invoke(app, ["review", "--archive", str(archive), "--json"])
    assert listed.exit_code == 1  # pages need review: monitoring sees it
    (item,) = json.loads(listed.output)
    assert item["page"] == 1 and item["reasons"]
    assert all(
        r.split(":")[0]
        in ("text-missed", "low-confidence", "no-text-on-inked-page", "layout-split")
        for r in item["reasons"]
    )
    shown = json.loads(
        runner.invoke(
            app, ["show", str(item["document_id"]), "--archive", str(archive), "--json"]
        ).output
    )
    assert shown[0]["pages"][0]["review"] == item["reasons"]
    exported = runner.invoke(
        app, ["export", "--per", "page", "--format", "json", "--archive", str(archive)]
    )
    assert json.loads(exported.output)[0]["review"] == item["reasons"]

    vague = runner.invoke(
        app, ["review", "--resolve", str(item["document_id"]), "--archive", str(archive)]
    )
    assert vague.exit_code == 2 and "say which page was checked" in vague.output

    cleared = runner.invoke(
        app,
        ["review", "--resolve", str(item["document_id"]), "--page", "1", "--note", "перевірено",
         "--archive", str(archive)],
    )  # fmt: skip
    assert cleared.exit_code == 0 and "cleared: page 1" in cleared.output
    after = runner.invoke(app, ["review", "--archive", str(archive)])
    assert after.exit_code == 0 and "0 page(s) need review" in after.output
    db = sqlite3.connect(archive / "catalog.sqlite")
    (resolved,) = db.execute("SELECT review_resolved FROM pages").fetchone()
    assert json.loads(resolved)["reasons"] == item["reasons"]
    assert json.loads(resolved)["note"] == "перевірено"

    # The same scan ingested again is not read again and stays cleared.
    again = _ingest(VIDOMIST, archive)
    assert again.pages_skipped == 1
    assert runner.invoke(app, ["review", "--archive", str(archive)]).exit_code == 0


@pytest.mark.parametrize("page", [PROTOKOL, VIDOMIST])
def test_the_evidence_is_recorded_with_the_page(tmp_path: Path, page: Path) -> None:
    _ingest(page, tmp_path / "a")
    db = sqlite3.connect(tmp_path / "a" / "catalog.sqlite")
    (evidence,) = db.execute("SELECT ocr_evidence FROM pages").fetchone()
    data = json.loads(evidence)
    assert next(r for r in data["readings"] if r["kept"])["strategy"] == data["kept"]
    assert all(
        {"unread", "confidence", "words", "split_lines"} <= r.keys() for r in data["readings"]
    )
