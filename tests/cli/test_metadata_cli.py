"""Archival metadata on the command line without OCR: `ingest --check`, usage errors, --help."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from arkhiv.cli import app
from tests.conftest import SAMPLES, SPRAVA

runner = CliRunner()


def _png(path: Path) -> Path:
    """A 1x1 white PNG: --check discovers files, it never decodes them for OCR."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (1, 1), 255).save(path)
    return path


def _check(*args: str | Path) -> Result:
    return runner.invoke(app, ["ingest", *map(str, args), "--check"])


def test_check_samples_with_manifest_lists_each_document(tmp_path: Path) -> None:
    archive = tmp_path / "a"
    result = _check(SAMPLES, "--manifest", SAMPLES / "manifest.csv", "--archive", archive)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        f"ok      {SAMPLES / 'наказ_1937.tif'}: ДАКО, ф. Р-200, оп. 1, спр. 7; 2 page(s), арк. 1–2"
        in lines
    )
    assert f"ok      {SPRAVA}: ДАЗО, ф. Р-123, оп. 4, спр. 56; 3 page(s), арк. 1–3" in lines
    # газета_1950.jpg is the one image of the samples folder itself: that folder's document.
    assert f"ok      {SAMPLES}: ДАЗО, ф. Р-310, оп. 2, спр. 15а; 1 page(s), арк. 1" in lines
    assert lines[-1] == "3 document(s) checked, all valid; nothing ingested"
    assert not archive.exists()


def test_check_layout_set_and_sides_writes_nothing(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    doc = scans / "ДАЗО" / "Р-123" / "4" / "56"
    _png(doc / "1.png")
    _png(doc / "2.png")
    archive = tmp_path / "a"
    result = _check(
        scans,
        "--layout",
        "{archive}/{fond}/{opys}/{sprava}",
        "--set",
        "title=Протоколи засідань",
        "--sides",
        "recto-verso",
        "--archive",
        archive,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"ok      {doc}: ДАЗО, ф. Р-123, оп. 4, спр. 56; 2 page(s), арк. 1–1 зв.",
        "1 document(s) checked, all valid; nothing ingested",
    ]
    assert not archive.exists()
    assert sorted(p.name for p in doc.iterdir()) == ["1.png", "2.png"]


def test_check_json_has_metadata_and_leaves(tmp_path: Path) -> None:
    doc = tmp_path / "scans" / "справа"
    _png(doc / "1.png")
    _png(doc / "2.png")
    (doc / "arkhiv.yaml").write_text(
        "ref: ДАЗО, ф. P-123, оп. 4, спр. 56\ndate: 1947-1949\nfirst_leaf: 5\n", "utf-8"
    )
    result = _check(tmp_path / "scans", "--json", "--archive", tmp_path / "a")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert data["problems"] == []
    [entry] = data["documents"]
    assert entry["path"] == str(doc)
    assert entry["citation"] == "ДАЗО, ф. Р-123, оп. 4, спр. 56"  # Latin P made Cyrillic
    assert entry["leaves"] == ["5", "6"]
    assert entry["metadata"]["date"]["year_from"] == 1947
    assert entry["metadata"]["date"]["year_to"] == 1949
    assert entry["metadata"]["origin"]["fond"] == str(doc / "arkhiv.yaml")
    assert entry["errors"] == []
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize(
    ("sidecar", "expected"),
    [
        ("title: Накази\ndate: 31.02.1937\n", "date: invalid date '31.02.1937'"),
        ("title: Накази\ncolour: red\n", "unknown key 'colour'"),
        ("access: secret\n", "access: bad access 'secret': expected open or restricted"),
        ("leaves: багато\n", "leaves: expected a whole number of 1 or more, not 'багато'"),
    ],
)
def test_check_bad_sidecar_names_file_and_key(tmp_path: Path, sidecar: str, expected: str) -> None:
    scans = tmp_path / "scans"
    good = scans / "добра"
    bad = scans / "погана"
    _png(good / "1.png")
    _png(bad / "1.png")
    (bad / "arkhiv.yaml").write_text(sidecar, "utf-8")
    result = _check(scans, "--archive", tmp_path / "a")
    assert result.exit_code == 1, result.output
    assert f"INVALID {bad}: (no reference); 1 page(s)" in result.stdout.splitlines()
    assert f"  error: {bad / 'arkhiv.yaml'}: {expected}" in result.stderr
    assert f"ok      {good}: (no reference); 1 page(s), арк. 1" in result.stdout.splitlines()
    assert "2 document(s) checked, 1 problem(s); nothing was ingested" in result.stdout
    assert not (tmp_path / "a").exists()


def test_check_json_lists_errors_per_document(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    good = scans / "добра"
    bad = scans / "погана"
    _png(good / "1.png")
    _png(bad / "1.png")
    (bad / "arkhiv.yaml").write_text("ref: ф. Р-1, оп. 2, спр. 3\nleaves: 7\n", "utf-8")
    result = _check(scans, "--json", "--archive", tmp_path / "a")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is False
    docs = {Path(d["path"]).name: d for d in data["documents"]}
    assert docs["погана"]["ok"] is False
    assert docs["погана"]["citation"] == "ф. Р-1, оп. 2, спр. 3"
    assert docs["погана"]["errors"] == [
        f"{bad / 'arkhiv.yaml'}: declared 7 leaves, but no scan of leaves 2-7 (the scans cover 1)"
    ]
    assert docs["добра"]["ok"] is True
    assert docs["добра"]["errors"] == []
    assert docs["добра"]["leaves"] == ["1"]


def test_check_sides_filenames_reports_duplicate_and_unreadable_leaves(tmp_path: Path) -> None:
    doc = tmp_path / "справа"
    for name in ("0007.png", "7.png", "скан.png"):
        _png(doc / name)
    result = _check(doc, "--sides", "filenames", "--archive", tmp_path / "a")
    assert result.exit_code == 1, result.output
    assert (
        "  error: скан.png: the file name does not give a leaf number "
        "(expected e.g. 0007.tif, 0007zv.tif for арк. 7 зв.)"
    ) in result.stderr
    (doc / "скан.png").unlink()
    again = _check(doc, "--sides", "filenames", "--archive", tmp_path / "a")
    assert again.exit_code == 1, again.output
    assert "  error: арк. 7 appears twice: 7.png and 0007.png" in again.stderr


def test_manifest_with_unknown_column_is_exit_2(tmp_path: Path) -> None:
    _png(tmp_path / "scans" / "d1" / "1.png")
    manifest = tmp_path / "opys.csv"
    manifest.write_text("path,title,x\nd1,Накази,1\n", "utf-8")
    result = _check(tmp_path / "scans", "--manifest", manifest, "--archive", tmp_path / "a")
    assert result.exit_code == 2, result.output
    assert f"arkhiv: error: {manifest}: row 1, column 3: unknown field 'x'" in result.stderr
    assert "  the columns are path and any of: ref, archive, archive_id, fond" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "a").exists()


def test_manifest_excel_style_semicolons_and_bom(tmp_path: Path) -> None:
    doc = tmp_path / "scans" / "d1"
    _png(doc / "1.png")
    manifest = tmp_path / "opys.csv"
    manifest.write_bytes("path;fond;opys;sprava;date\nd1;p-200;1;7;бл. 1930\n".encode("utf-8-sig"))
    result = _check(
        tmp_path / "scans", "--manifest", manifest, "--json", "--archive", tmp_path / "a"
    )
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)["documents"]
    assert entry["citation"] == "ф. Р-200, оп. 1, спр. 7"
    assert entry["metadata"]["date"]["approximate"] is True
    assert entry["metadata"]["origin"]["fond"] == f"{manifest}: row 2"


def test_manifest_row_naming_no_document_is_exit_1(tmp_path: Path) -> None:
    doc = tmp_path / "scans" / "d1"
    _png(doc / "1.png")
    manifest = tmp_path / "opys.csv"
    manifest.write_text("path,title\nnosuch,Накази\n", "utf-8")
    result = _check(
        tmp_path / "scans", "--manifest", manifest, "--json", "--archive", tmp_path / "a"
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert [p["file"] for p in data["problems"]] == [str(manifest)]
    assert data["problems"][0]["reason"].endswith(
        f"row 2: no document at 'nosuch' (paths are relative to {tmp_path / 'scans'}, "
        "with / between folders)"
    )
    assert data["documents"][0]["ok"] is True  # the document itself is fine


def test_manifest_problem_names_the_manifest_once(tmp_path: Path) -> None:
    _png(tmp_path / "scans" / "d1" / "1.png")
    manifest = tmp_path / "opys.csv"
    manifest.write_text("path,title\nnosuch,Накази\n", "utf-8")
    result = _check(tmp_path / "scans", "--manifest", manifest, "--archive", tmp_path / "a")
    assert result.exit_code == 1, result.output
    assert (
        f"FAILED {manifest}: row 2: no document at 'nosuch' (paths are relative to "
        f"{tmp_path / 'scans'}, with / between folders)"
    ) in result.stderr.splitlines()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "title"], "arkhiv: error: --set 'title': expected key=value"),
        (["--set", "=Накази"], "arkhiv: error: --set '=Накази': expected key=value"),
        (["--set", "colour=red"], "arkhiv: error: --set 'colour=red': unknown key 'colour'"),
        (
            ["--set", "date=31.02.1937"],
            "arkhiv: error: --set: date: invalid date '31.02.1937'",
        ),
        (
            ["--layout", "{foo}/{fond}"],
            "arkhiv: error: layout '{foo}/{fond}': unknown placeholder {foo}",
        ),
        (
            ["--layout", "{fond}/{fond}"],
            "arkhiv: error: layout '{fond}/{fond}': twice {fond}",
        ),
        (
            ["--sides", "zigzag"],
            "arkhiv: error: bad sides 'zigzag': expected recto, recto-verso or filenames",
        ),
    ],
)
def test_bad_metadata_arguments_are_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    _png(tmp_path / "scans" / "d1" / "1.png")
    result = _check(tmp_path / "scans", *args, "--archive", tmp_path / "a")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "a").exists()


def test_layout_that_does_not_match_fails_that_document(tmp_path: Path) -> None:
    doc = tmp_path / "scans" / "ДАЗО" / "56"
    _png(doc / "1.png")
    archive = tmp_path / "a"
    result = _check(tmp_path / "scans", "--layout", "ф. {fond}/{sprava}", "--archive", archive)
    assert result.exit_code == 1, result.output
    assert f"INVALID {doc}: (no reference); 1 page(s)" in result.stdout
    assert "does not match" in result.stderr
    assert "'ДАЗО'" in result.stderr
    assert not archive.exists()


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_ingest_with_unusable_manifest_creates_no_archive(tmp_path: Path) -> None:
    _png(tmp_path / "scans" / "d1" / "1.png")
    manifest = tmp_path / "opys.csv"
    manifest.write_text("path,title,x\nd1,Накази,1\n", "utf-8")
    archive = tmp_path / "a"
    result = runner.invoke(
        app,
        ["ingest", str(tmp_path / "scans"), "--manifest", str(manifest), "--archive", str(archive)],
    )
    assert result.exit_code == 2, result.output
    assert f"arkhiv: error: {manifest}: row 1, column 3: unknown field 'x'" in result.stderr
    assert not archive.exists(), sorted(p.name for p in archive.iterdir())


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("ingest", ["--layout", "--manifest", "--set", "--sides", "--check"]),
        ("search", ["--repository", "--fond", "--opys", "--sprava", "--from", "--to"]),
        ("show", ["A citation (either form)", "--json", "Арк. 2"]),
        ("export", ["--format", "--per", "--out", "--include-restricted"]),
    ],
)
def test_help_mentions_the_metadata_options(command: str, options: list[str]) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    for option in options:
        assert option in result.output, option
    assert "Examples:" in result.output
    assert "Exit codes:" in result.output


def test_ingest_help_lists_every_metadata_key_and_the_precedence() -> None:
    result = runner.invoke(app, ["ingest", "--help"])
    text = " ".join(result.output.split())
    assert (
        "--layout < arkhiv.yaml sidecars (inherited by subfolders) < --manifest rows < --set"
        in (text)
    )
    for key in ("ref", "archive_id", "opys", "sprava", "first_leaf", "sides", "access"):
        assert key in text, key


def test_export_rejects_unknown_format_and_unit(tmp_path: Path) -> None:
    bad_format = runner.invoke(app, ["export", "--format", "xlsx", "--archive", str(tmp_path)])
    assert bad_format.exit_code == 2
    assert "arkhiv: error: --format 'xlsx': expected csv, json or dc-xml" in bad_format.stderr
    bad_unit = runner.invoke(app, ["export", "--per", "leaf", "--archive", str(tmp_path)])
    assert bad_unit.exit_code == 2
    assert "arkhiv: error: --per 'leaf': expected document or page" in bad_unit.stderr


def test_show_without_archive_is_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", "1", "--archive", str(tmp_path / "a")])
    assert result.exit_code == 2
    assert f"arkhiv: error: {tmp_path / 'a'}: no arkhiv archive here (no catalog.sqlite)" in (
        result.stderr
    )
