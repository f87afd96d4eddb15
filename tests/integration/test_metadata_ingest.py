"""Archival metadata end to end: samples/ with its sidecars and manifest through the real
Tesseract and OCRmyPDF into PDF/A XMP, document.json, the catalog and the index; then search
filters, `arkhiv show`, `arkhiv export` and re-ingest after a sidecar edit (no OCR)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from arkhiv import api
from arkhiv.cli import app
from arkhiv.config import Settings, load_pipeline, load_settings
from arkhiv.export import DOCUMENT_COLUMNS
from arkhiv.metadata.sources import MetadataRequest
from arkhiv.models import BatchReport
from arkhiv.search import PageIndex, SearchFilters
from tests.conftest import SAMPLES, SPRAVA, needs_tesseract

pytestmark = [pytest.mark.tesseract, pytest.mark.slow, needs_tesseract()]

runner = CliRunner()

DC = "{http://purl.org/dc/elements/1.1/}"
ARKHIV = "{https://arkhiv.org/ns/1.0/}"
OAI_DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}"

NAKAZ = "наказ_1937.tif"
GAZETA = "samples"  # газета_1950.jpg, the one image of the samples folder itself
SPRAVA_TITLE = "Довідки, протоколи та списки сіл Ужгородського району"
NAKAZ_REF = "ДАКО, ф. Р-200, оп. 1, спр. 7"
GAZETA_REF = "ДАЗО, ф. Р-310, оп. 2, спр. 15а"
SPRAVA_REF = "ДАЗО, ф. Р-123, оп. 4, спр. 56"

# What each document of samples/ must carry (from samples/arkhiv.yaml, the справа's sidecar
# and samples/manifest.csv): XMP values, arkhiv: reference parts, catalog columns.
EXPECTED: dict[str, dict[str, Any]] = {
    NAKAZ: {
        "title": "Накази Київського обласного архівного управління",
        "citation": NAKAZ_REF,
        "dates": ["1937"],
        "edtf": "1937",
        "ref": {"archive": "ДАКО", "fond": "Р-200", "opys": "1", "sprava": "7"},
        "years": (1937, 1937),
        "access": "open",
        "pages": 2,
    },
    GAZETA: {
        "title": "Газета «Вісті Ужгорода», № 61",
        "citation": GAZETA_REF,
        "dates": ["1950-03-26"],
        "edtf": "1950-03-26",
        "ref": {"archive": "ДАЗО", "fond": "Р-310", "opys": "2", "sprava": "15а"},
        "years": (1950, 1950),
        "access": "restricted",
        "pages": 1,
    },
    SPRAVA.name: {
        "title": SPRAVA_TITLE,
        "citation": SPRAVA_REF,
        "dates": ["1947", "1949"],
        "edtf": "1947/1949",
        "ref": {"archive": "ДАЗО", "fond": "Р-123", "opys": "4", "sprava": "56"},
        "years": (1947, 1949),
        "access": "open",
        "pages": 3,
    },
}


def _settings(archive: Path) -> Settings:
    return load_settings(env={}, overrides={"": {"archive": archive}, "ingest": {"jobs": 2}})


def _ingest(scans: Path, archive: Path, manifest: Path | None) -> BatchReport:
    settings = _settings(archive)
    return api.ingest(
        scans,
        settings,
        load_pipeline("default", settings),
        metadata=MetadataRequest(manifest=manifest),
    )


@dataclass(frozen=True)
class Ingested:
    scans: Path  # a copy of samples/ (its sidecars may be edited by a test, then restored)
    archive: Path
    report: BatchReport


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    """samples/ (copied) ingested once with samples/manifest.csv: 3 documents, 6 pages."""
    root = tmp_path_factory.mktemp("metadata")
    scans = root / "samples"
    shutil.copytree(SAMPLES, scans)
    archive = root / "archive"
    report = _ingest(scans, archive, scans / "manifest.csv")
    return Ingested(scans, archive, report)


def _db(archive: Path) -> sqlite3.Connection:
    db = sqlite3.connect(archive / "catalog.sqlite")
    db.row_factory = sqlite3.Row
    return db


def _documents(archive: Path) -> dict[str, sqlite3.Row]:
    return {r["name"]: r for r in _db(archive).execute("SELECT * FROM documents")}


def _copy_archive(archive: Path, target: Path) -> Path:
    """A copy of an archive that still points at the same originals (no OCR needed)."""
    shutil.copytree(archive, target, symlinks=True)
    return target


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _no_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_ocr(*args: object, **kwargs: object) -> None:
        raise AssertionError("a page was sent to OCR again")

    monkeypatch.setattr("arkhiv.pipeline.executor.ProcessPoolExecutor.submit", no_ocr)


# ingest: PDF/A with XMP, document.json, catalog


def test_samples_are_ingested_with_their_metadata(ingested: Ingested) -> None:
    report = ingested.report
    assert report.failures == []
    assert (report.documents, report.pages_ok, report.pages_failed) == (3, 6, 0)
    assert sorted(_documents(ingested.archive)) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_pdf_xmp_and_info_carry_the_metadata(ingested: Ingested, name: str) -> None:
    want = EXPECTED[name]
    row = _documents(ingested.archive)[name]
    with pikepdf.open(ingested.archive / row["pdf_path"]) as pdf:
        assert len(pdf.pages) == want["pages"] == row["page_count"]
        meta = pdf.open_metadata()
        assert meta.pdfa_status == "2B"
        assert meta["dc:title"] == want["title"]
        assert meta["dc:identifier"] == want["citation"]
        assert list(meta["dc:date"]) == want["dates"]
        assert set(meta["dc:language"]) == {"uk"}  # from samples/arkhiv.yaml, inherited
        for part, value in want["ref"].items():
            assert meta[f"{ARKHIV}{part}"] == value, part
        assert meta[f"{ARKHIV}dates"] == want["edtf"]
        # The document information dictionary agrees with the XMP (PDF/A requires it).
        assert str(pdf.docinfo["/Title"]) == meta["dc:title"]
        assert str(pdf.docinfo["/Producer"]) == meta["pdf:Producer"]
        # OCRmyPDF's PDF/A output intent survived the metadata rewrite.
        intents = pdf.Root.OutputIntents
        assert len(intents) >= 1
        assert intents[0].S == pikepdf.Name.GTS_PDFA1
        assert "/DestOutputProfile" in intents[0]
        raw = pdf.Root.Metadata.read_bytes()
    # The packet as stored, parsed as plain XML.
    root = ET.fromstring(raw)
    assert root.find(f".//{DC}identifier").text == want["citation"]  # type: ignore[union-attr]
    titles = [li.text for li in root.iter("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}li")]
    assert want["title"] in titles
    assert root.find(f".//{ARKHIV}fond").text == want["ref"]["fond"]  # type: ignore[union-attr]
    assert b"pdfaExtension:schemas" in raw  # the arkhiv: namespace is declared for PDF/A


def test_sprava_pdf_has_creator_subjects_and_leaves(ingested: Ingested) -> None:
    row = _documents(ingested.archive)[SPRAVA.name]
    with pikepdf.open(ingested.archive / row["pdf_path"]) as pdf:
        meta = pdf.open_metadata()
        assert list(meta["dc:creator"]) == ["Виконавчий комітет Ужгородської міської ради"]
        assert set(meta["dc:subject"]) == {"населені пункти", "архівні довідки"}
        assert meta[f"{ARKHIV}leaves"] == "3"
        assert str(pdf.docinfo["/Author"]) == "Виконавчий комітет Ужгородської міської ради"
        assert str(pdf.docinfo["/Keywords"]) == "населені пункти; архівні довідки"


def test_restricted_document_says_so_in_its_pdf(ingested: Ingested) -> None:
    row = _documents(ingested.archive)[GAZETA]
    with pikepdf.open(ingested.archive / row["pdf_path"]) as pdf:
        assert pdf.open_metadata()["dc:rights"] == "restricted access"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_document_json_beside_each_pdf(ingested: Ingested, name: str) -> None:
    want = EXPECTED[name]
    row = _documents(ingested.archive)[name]
    pdf = ingested.archive / row["pdf_path"]
    record = json.loads((pdf.parent / "document.json").read_text("utf-8"))
    assert record["name"] == name
    assert record["citation"] == want["citation"]
    assert record["pdf"] == "document.pdf"
    assert record["pdf_sha256"] == _sha(pdf) == row["pdf_sha256"]
    meta = record["metadata"]
    assert meta["title"] == want["title"]
    assert meta["reference"] == want["ref"]
    assert (meta["date"]["year_from"], meta["date"]["year_to"]) == want["years"]
    assert meta["access"] == want["access"]
    assert meta["language"] == ["uk"]
    assert [p["number"] for p in record["pages"]] == list(range(1, want["pages"] + 1))
    for page in record["pages"]:
        assert page["status"] == "ok"
        assert page["arkush"] == page["number"]  # recto: one image per leaf, from 1
        assert page["verso"] is False
        assert page["citation"] == f"{want['citation']}, арк. {page['number']}"
        assert page["pdf_page"] == page["number"]
        assert (pdf.parent / page["text"]).is_file()


def test_metadata_origin_names_sidecar_and_manifest_row(ingested: Ingested) -> None:
    docs = _documents(ingested.archive)
    sprava = json.loads(docs[SPRAVA.name]["metadata"])["origin"]
    assert sprava["archive"] == str(ingested.scans / "arkhiv.yaml")  # inherited
    assert sprava["title"] == str(ingested.scans / SPRAVA.name / "arkhiv.yaml")  # deeper wins
    gazeta = json.loads(docs[GAZETA]["metadata"])["origin"]
    assert gazeta["access"] == f"{ingested.scans / 'manifest.csv'}: row 3"
    assert gazeta["archive"] == str(ingested.scans / "arkhiv.yaml")  # the empty cell is unset
    nakaz = json.loads(docs[NAKAZ]["metadata"])["origin"]
    assert nakaz["archive"] == f"{ingested.scans / 'manifest.csv'}: row 2"  # manifest wins


def test_catalog_columns(ingested: Ingested) -> None:
    db = _db(ingested.archive)
    for name, want in EXPECTED.items():
        row = db.execute(
            "SELECT repository, fond, opys, sprava, volume, title, year_from, year_to, access"
            " FROM documents WHERE name=?",
            (name,),
        ).fetchone()
        ref = want["ref"]
        assert tuple(row) == (
            ref["archive"],
            ref["fond"],
            ref["opys"],
            ref["sprava"],
            None,
            want["title"],
            *want["years"],
            want["access"],
        ), name
    leaves = db.execute(
        "SELECT p.number, p.arkush, p.verso FROM pages p JOIN documents d ON d.id=p.document_id"
        " WHERE d.name=? ORDER BY p.number",
        (SPRAVA.name,),
    ).fetchall()
    assert [tuple(r) for r in leaves] == [(1, 1, 0), (2, 2, 0), (3, 3, 0)]
    assert db.execute("SELECT count(*) FROM pages WHERE arkush IS NULL").fetchone()[0] == 0


# search with filters


def _docs_of(result: api.SearchResult) -> set[str]:
    return {h.document for h in result.hits}


def test_search_fond_filter_accepts_latin_letters(ingested: Ingested) -> None:
    result = api.search(ingested.archive, "року", limit=20, filters=SearchFilters(fond="P-123"))
    assert result.total >= 2
    assert _docs_of(result) == {SPRAVA.name}
    assert {h.reference["fond"] for h in result.hits} == {"Р-123"}
    everything = api.search(ingested.archive, "року", limit=20)
    assert _docs_of(everything) == set(EXPECTED)  # the filter, not the query, left them out


def test_search_year_range_keeps_overlapping_documents(ingested: Ingested) -> None:
    def docs(year_from: int | None, year_to: int | None) -> set[str]:
        filters = SearchFilters(year_from=year_from, year_to=year_to)
        return _docs_of(api.search(ingested.archive, "року", limit=20, filters=filters))

    # 1947-1949 overlaps 1948..1960 and 26.03.1950 is inside; the order of 1937 is not.
    assert docs(1948, 1960) == {SPRAVA.name, GAZETA}
    assert docs(None, 1947) == {NAKAZ, SPRAVA.name}
    assert docs(1949, None) == {SPRAVA.name, GAZETA}
    assert docs(1950, 1950) == {GAZETA}
    assert docs(1937, 1937) == {NAKAZ}
    assert docs(1938, 1946) == set()


def test_search_field_syntax_in_the_query(ingested: Ingested) -> None:
    result = api.search(ingested.archive, "fond:Р-200 AND року", limit=20)
    assert result.total >= 1
    assert _docs_of(result) == {NAKAZ}
    latin = api.search(ingested.archive, "sprava:15a AND fond:p310", limit=20)  # Latin a, p
    assert _docs_of(latin) == {GAZETA}
    title = api.search(ingested.archive, "title:протокол", limit=20)
    assert _docs_of(title) == {SPRAVA.name}
    assert title.total == 3  # every page of the справа carries its title


def test_every_hit_has_its_leaf_citation(ingested: Ingested) -> None:
    result = api.search(ingested.archive, "року", limit=20)
    assert result.total >= 5
    for hit in result.hits:
        doc_citation = EXPECTED[hit.document]["citation"]
        assert hit.arkush == hit.page
        assert hit.citation == f"{doc_citation}, арк. {hit.arkush}"
        assert hit.title == EXPECTED[hit.document]["title"]


def test_cli_search_with_filters(ingested: Ingested) -> None:
    archive = str(ingested.archive)
    result = runner.invoke(
        app, ["search", "року", "--archive", archive, "--fond", "P-123", "--json", "-n", "20"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total"] >= 2
    assert {h["document"] for h in data["hits"]} == {SPRAVA.name}
    for hit in data["hits"]:
        assert re.fullmatch(re.escape(SPRAVA_REF) + r", арк\. [123]", hit["citation"])
        assert hit["citation"].endswith(f"арк. {hit['arkush']}")
    plain = runner.invoke(
        app, ["search", "року", "--archive", archive, "--from", "1948", "--to", "1960"]
    )
    assert plain.exit_code == 0, plain.output
    assert f"{SPRAVA_REF}, арк. 1 — {SPRAVA.name} «{SPRAVA_TITLE}», page 1" in plain.stdout
    assert f"{GAZETA_REF}, арк. 1 — {GAZETA}" in plain.stdout
    assert "Р-200" not in plain.stdout
    repo = runner.invoke(
        app, ["search", "року", "--archive", archive, "--repository", "ДАКО", "--json"]
    )
    assert {h["document"] for h in json.loads(repo.stdout)["hits"]} == {NAKAZ}
    field = runner.invoke(app, ["search", "fond:Р-200 AND року", "--archive", archive, "--json"])
    assert field.exit_code == 0, field.output
    assert {h["citation"] for h in json.loads(field.stdout)["hits"]} <= {
        f"{NAKAZ_REF}, арк. 1",
        f"{NAKAZ_REF}, арк. 2",
    }


# changed metadata: no OCR, but XMP, document.json and the index are redone


def test_edited_sidecar_is_applied_without_ocr(
    ingested: Ingested, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _copy_archive(ingested.archive, tmp_path / "archive")
    docs_before = _documents(archive)
    indexed_before = PageIndex.open(archive, create=False).doc_count()
    sidecar = ingested.scans / SPRAVA.name / "arkhiv.yaml"
    original = sidecar.read_text("utf-8")
    new_title = "НОВИЙ перелік протоколів сільрад"
    _no_ocr(monkeypatch)
    try:
        sidecar.write_text(
            re.sub(r"(?m)^title: .*$", f"title: {new_title}", original), encoding="utf-8"
        )
        again = _ingest(ingested.scans, archive, ingested.scans / "manifest.csv")
    finally:
        sidecar.write_text(original, encoding="utf-8")
    assert again.failures == []
    assert (again.pages_ok, again.pages_skipped, again.pages_failed) == (0, 6, 0)
    docs = _documents(archive)
    row = docs[SPRAVA.name]
    pdf_path = archive / row["pdf_path"]
    with pikepdf.open(pdf_path) as pdf:
        meta = pdf.open_metadata()
        assert meta["dc:title"] == new_title
        assert str(pdf.docinfo["/Title"]) == new_title
        assert meta["dc:identifier"] == SPRAVA_REF
        assert meta.pdfa_status == "2B"
        assert len(pdf.pages) == 3
        assert len(pdf.Root.OutputIntents) >= 1
    record = json.loads((pdf_path.parent / "document.json").read_text("utf-8"))
    assert record["metadata"]["title"] == new_title
    assert record["pdf_sha256"] == _sha(pdf_path) == row["pdf_sha256"]
    assert row["title"] == new_title
    # Only the edited document was rewritten.
    for name in (NAKAZ, GAZETA):
        assert docs[name]["pdf_sha256"] == docs_before[name]["pdf_sha256"], name
    assert docs_before[SPRAVA.name]["pdf_sha256"] != row["pdf_sha256"]
    # The index: the stored title changed, no page indexed twice.
    found = api.search(archive, "title:НОВИЙ", limit=20)
    assert found.total == 3
    assert {h.title for h in found.hits} == {new_title}
    assert {h.page for h in found.hits} == {1, 2, 3}
    assert api.search(archive, "title:протокол", limit=20).total == 3  # протоколів
    assert api.search(archive, "title:Довідки", limit=20).total == 0  # the old title is gone
    assert PageIndex.open(archive, create=False).doc_count() == indexed_before == 6
    assert _db(archive).execute("SELECT count(*) FROM pages").fetchone()[0] == 6


def test_metadata_edit_survives_a_crash_before_the_pdf_is_rewritten(
    ingested: Ingested, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new metadata is committed to the catalog before the PDF is rebuilt; a crash in
    between must not leave the old XMP (or a missing document.json) for good."""
    archive = _copy_archive(ingested.archive, tmp_path / "archive")
    sidecar = ingested.scans / SPRAVA.name / "arkhiv.yaml"
    original = sidecar.read_text("utf-8")
    new_title = "Після збою"
    _no_ocr(monkeypatch)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed while assembling")

    try:
        sidecar.write_text(
            re.sub(r"(?m)^title: .*$", f"title: {new_title}", original), encoding="utf-8"
        )
        with monkeypatch.context() as m:
            m.setattr("arkhiv.pipeline.assemble.assemble_document", crash)
            with pytest.raises(RuntimeError, match="killed"):
                _ingest(ingested.scans, archive, ingested.scans / "manifest.csv")
        row = _documents(archive)[SPRAVA.name]
        assert row["title"] == new_title  # the catalog has the new metadata already
        (archive / row["pdf_path"]).with_name("document.json").unlink()  # lost in the crash
        again = _ingest(ingested.scans, archive, ingested.scans / "manifest.csv")
    finally:
        sidecar.write_text(original, encoding="utf-8")
    assert again.failures == [] and again.pages_ok == 0
    row = _documents(archive)[SPRAVA.name]
    pdf_path = archive / row["pdf_path"]
    with pikepdf.open(pdf_path) as pdf:
        assert pdf.open_metadata()["dc:title"] == new_title
    record = json.loads(pdf_path.with_name("document.json").read_text("utf-8"))
    assert record["metadata"]["title"] == new_title
    assert record["pdf_sha256"] == _sha(pdf_path)
    assert {h.title for h in api.search(archive, "title:збою", limit=10).hits} == {new_title}


def test_same_manifest_given_relative_rewrites_nothing(
    ingested: Ingested, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _copy_archive(ingested.archive, tmp_path / "archive")
    before = _documents(archive)[NAKAZ]["pdf_sha256"]
    _no_ocr(monkeypatch)
    monkeypatch.chdir(ingested.scans)
    again = _ingest(ingested.scans, archive, Path("manifest.csv"))
    assert again.failures == []
    row = _documents(archive)[NAKAZ]
    assert row["pdf_sha256"] == before  # nothing changed: the PDF is not rewritten
    assert json.loads(row["metadata"])["origin"]["title"] == (
        f"{ingested.scans / 'manifest.csv'}: row 2"
    )


# invalid metadata fails its document only


def _png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (1, 1), 255).save(path)


def test_invalid_metadata_fails_that_document_only(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    good = scans / "добра"
    good.mkdir(parents=True)
    shutil.copy(SPRAVA / "2.png", good / "1.png")
    (good / "arkhiv.yaml").write_text("ref: ДАЗО, ф. Р-123, оп. 4, спр. 56\nleaves: 1\n", "utf-8")
    too_few = scans / "мало_аркушів"
    _png(too_few / "1.png")
    (too_few / "arkhiv.yaml").write_text("ref: ф. Р-1, оп. 2, спр. 3\nleaves: 7\n", "utf-8")
    bad_date = scans / "погана_дата"
    _png(bad_date / "1.png")
    (bad_date / "arkhiv.yaml").write_text("date: 31.02.1937\n", "utf-8")
    archive = tmp_path / "a"
    report_file = tmp_path / "report.json"
    result = runner.invoke(
        app, ["ingest", str(scans), "--archive", str(archive), "--report", str(report_file)]
    )
    assert result.exit_code == 1, result.output
    assert (
        f"FAILED {too_few}: invalid metadata: {too_few / 'arkhiv.yaml'}: declared 7 leaves, "
        "but no scan of leaves 2-7 (the scans cover 1)"
    ) in result.stderr.splitlines()
    assert (
        f"FAILED {bad_date}: invalid metadata: {bad_date / 'arkhiv.yaml'}: date: invalid date "
        "'31.02.1937'"
    ) in result.stderr
    assert "3 document(s): 1 page(s) OCRed, 0 already done, 0 failed, 2 input(s) not ingested" in (
        result.stdout
    )
    report = json.loads(report_file.read_text("utf-8"))
    failed = {f["file"]: f["reason"] for f in report["failures"]}
    assert set(failed) == {str(too_few), str(bad_date)}
    assert all(r.startswith("invalid metadata: ") for r in failed.values())
    # Not ingested at all: no document, no page, no PDF; the good one is complete.
    db = _db(archive)
    assert [r["name"] for r in db.execute("SELECT name FROM documents")] == ["добра"]
    pages = db.execute("SELECT source_path, status, arkush FROM pages").fetchall()
    assert [(Path(p["source_path"]).parent.name, p["status"], p["arkush"]) for p in pages] == [
        ("добра", "ok", 1)
    ]
    assert [p.name for p in (archive / "documents").iterdir()] == ["000001-добра"]
    hits = api.search(archive, "архівні дані", limit=5)
    assert [h.citation for h in hits.hits] == ["ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 1"]


# arkhiv show


def test_show_by_citation_in_legend_form(ingested: Ingested) -> None:
    result = runner.invoke(app, ["show", SPRAVA_REF, "--archive", str(ingested.archive)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    doc_id = _documents(ingested.archive)[SPRAVA.name]["id"]
    assert lines[0] == f"[{doc_id}] {SPRAVA_REF}"
    assert f"  title        {SPRAVA_TITLE}" in lines
    assert "  date         1947–1949" in lines
    assert "  access       open" in lines
    assert "  leaves       3" in lines
    page_lines = [line for line in lines if "page " in line and "арк." in line]
    assert [line.split()[:4] for line in page_lines] == [
        ["page", "1", "арк.", "1"],
        ["page", "2", "арк.", "2"],
        ["page", "3", "арк.", "3"],
    ]
    assert not any(line.startswith(" >") for line in lines)  # no leaf asked for


def test_show_by_bibliographic_citation_marks_the_leaf(ingested: Ingested) -> None:
    result = runner.invoke(
        app,
        ["show", "ДАЗО. Ф. Р-123. Оп. 4. Спр. 56. Арк. 2", "--archive", str(ingested.archive)],
    )
    assert result.exit_code == 0, result.output
    marked = [line for line in result.stdout.splitlines() if line.startswith(" >")]
    assert len(marked) == 1
    assert marked[0].split()[:5] == [">page", "2", "арк.", "2", "ok"]


def test_show_by_id_as_json(ingested: Ingested) -> None:
    doc_id = _documents(ingested.archive)[NAKAZ]["id"]
    result = runner.invoke(app, ["show", str(doc_id), "--archive", str(ingested.archive), "--json"])
    assert result.exit_code == 0, result.output
    [view] = json.loads(result.stdout)
    assert view["id"] == doc_id
    assert view["name"] == NAKAZ
    assert view["citation"] == NAKAZ_REF
    assert view["metadata"]["title"] == EXPECTED[NAKAZ]["title"]
    assert view["leaf"] is None
    assert [(p["number"], p["arkush"], p["status"]) for p in view["pages"]] == [
        (1, 1, "ok"),
        (2, 2, "ok"),
    ]
    leaf = runner.invoke(
        app, ["show", f"{SPRAVA_REF}, арк. 3", "--archive", str(ingested.archive), "--json"]
    )
    assert json.loads(leaf.stdout)[0]["leaf"] == "3"


@pytest.mark.parametrize(
    "ref",
    ["ф. Р-999, оп. 1, спр. 1", "ДАКО, ф. Р-123, оп. 4, спр. 56", "немає такої справи"],
)
def test_show_unknown_citation_is_exit_2(ingested: Ingested, ref: str) -> None:
    result = runner.invoke(app, ["show", ref, "--archive", str(ingested.archive)])
    assert result.exit_code == 2, result.output
    assert f"arkhiv: error: no document matches {ref!r}" in result.stderr
    assert "Traceback" not in result.output


# arkhiv export


def _export(archive: Path, *args: str) -> Result:
    return runner.invoke(app, ["export", "--archive", str(archive), *args])


def test_export_csv_leaves_out_restricted(ingested: Ingested) -> None:
    result = _export(ingested.archive, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert result.stdout.splitlines()[0] == ",".join(DOCUMENT_COLUMNS)
    assert {r["citation"] for r in rows} == {NAKAZ_REF, SPRAVA_REF}
    sprava = next(r for r in rows if r["citation"] == SPRAVA_REF)
    assert sprava["title"] == SPRAVA_TITLE
    assert (sprava["fond"], sprava["opys"], sprava["sprava"]) == ("Р-123", "4", "56")
    assert sprava["date_edtf"] == "1947/1949"
    assert (sprava["year_from"], sprava["year_to"]) == ("1947", "1949")
    assert sprava["subject"] == "населені пункти; архівні довідки"
    assert (sprava["pages"], sprava["leaves"], sprava["access"]) == ("3", "3", "open")
    everything = _export(ingested.archive, "--format", "csv", "--include-restricted")
    rows = list(csv.DictReader(io.StringIO(everything.stdout)))
    assert len(rows) == 3
    assert {r["citation"]: r["access"] for r in rows}[GAZETA_REF] == "restricted"


def test_export_csv_to_a_file_is_utf8(ingested: Ingested, tmp_path: Path) -> None:
    target = tmp_path / "відкриті_дані.csv"
    result = _export(ingested.archive, "--format", "csv", "--out", str(target))
    assert result.exit_code == 0, result.output
    assert f"wrote {target}" in result.stderr
    assert result.stdout == ""
    raw = target.read_bytes()
    text = raw.decode("utf-8")
    assert not text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    docs = _documents(ingested.archive)
    open_docs = sorted((docs[n]["id"], n) for n in EXPECTED if EXPECTED[n]["access"] == "open")
    # One row per document, in id order.
    assert [(int(r["id"]), r["name"]) for r in rows] == open_docs
    assert [r["citation"] for r in rows] == [EXPECTED[n]["citation"] for _, n in open_docs]
    assert SPRAVA_TITLE.encode("utf-8") in raw


def test_export_json_per_page_has_text_and_leaves(ingested: Ingested) -> None:
    result = _export(ingested.archive, "--format", "json", "--per", "page")
    assert result.exit_code == 0, result.output
    pages = json.loads(result.stdout)
    assert len(pages) == 5  # the restricted newspaper's page is left out
    assert {p["document_citation"] for p in pages} == {NAKAZ_REF, SPRAVA_REF}
    for p in pages:
        assert p["citation"] == f"{p['document_citation']}, арк. {p['arkush']}"
        assert p["arkush"] == p["page"]
        assert len(p["text"]) > 100
    sprava_2 = next(p for p in pages if p["document_citation"] == SPRAVA_REF and p["arkush"] == 2)
    assert "комісії" in sprava_2["text"]
    assert sprava_2["title"] == SPRAVA_TITLE
    nakaz_1 = next(p for p in pages if p["document_citation"] == NAKAZ_REF and p["arkush"] == 1)
    assert "НАКАЗ" in nakaz_1["text"]


def test_export_dc_xml(ingested: Ingested, tmp_path: Path) -> None:
    target = tmp_path / "records.xml"
    result = _export(ingested.archive, "--format", "dc-xml", "--out", str(target))
    assert result.exit_code == 0, result.output
    root = ET.fromstring(target.read_bytes())
    records = root.findall(f"{OAI_DC}dc")
    assert len(records) == 2
    by_id = {r.findtext(f"{DC}identifier"): r for r in records}
    assert set(by_id) == {NAKAZ_REF, SPRAVA_REF}
    sprava = by_id[SPRAVA_REF]
    assert sprava.findtext(f"{DC}title") == SPRAVA_TITLE
    assert sprava.findtext(f"{DC}date") == "1947/1949"
    assert [e.text for e in sprava.findall(f"{DC}subject")] == [
        "населені пункти",
        "архівні довідки",
    ]
    assert sprava.findtext(f"{DC}source") == "ДАЗО"
    assert by_id[NAKAZ_REF].findtext(f"{DC}language") == "uk"
    pages = _export(ingested.archive, "--format", "dc-xml", "--per", "page", "--include-restricted")
    page_root = ET.fromstring(pages.stdout.encode("utf-8"))
    identifiers = [r.findtext(f"{DC}identifier") for r in page_root.findall(f"{OAI_DC}dc")]
    assert len(identifiers) == 6
    assert f"{GAZETA_REF}, арк. 1" in identifiers


def test_export_out_file_has_the_usual_permissions(ingested: Ingested, tmp_path: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    expected = 0o666 & ~umask
    if expected == 0o600:
        pytest.skip("the umask itself gives 0600")
    target = tmp_path / "opendata.csv"
    result = _export(ingested.archive, "--format", "csv", "--out", str(target))
    assert result.exit_code == 0, result.output
    assert target.stat().st_mode & 0o777 == expected
