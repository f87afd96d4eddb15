"""The command line: exit codes, exact error messages, --help with examples, --json."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from arkhiv.cli import app
from tests.conftest import SPRAVA

runner = CliRunner()


@pytest.mark.parametrize("command", ["ingest", "search", "doctor", "reindex", "watch"])
def test_every_command_has_help_with_examples(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert "Exit codes:" in result.output


def test_top_level_help_documents_exit_codes() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "1 partial failure" in result.output


def test_ingest_missing_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path / "немає"), "--archive", str(tmp_path)])
    assert result.exit_code == 2
    assert f"arkhiv: error: {tmp_path / 'немає'}: no such file or folder" in result.output
    assert "Traceback" not in result.output


def test_search_without_archive(tmp_path: Path) -> None:
    result = runner.invoke(app, ["search", "дані", "--archive", str(tmp_path / "a")])
    assert result.exit_code == 2
    assert f"arkhiv: error: {tmp_path / 'a'}: no arkhiv archive here (no catalog.sqlite)" in (
        result.output
    )
    assert "arkhiv ingest SCANS_DIR --archive" in result.output


def test_bad_config_key(tmp_path: Path) -> None:
    cfg = tmp_path / "arkhiv.toml"
    cfg.write_text("[ingest]\nthreads = 4\n", "utf-8")
    result = runner.invoke(app, ["search", "x", "--config", str(cfg)])
    assert result.exit_code == 2
    assert f"arkhiv: error: {cfg} [ingest]: unknown key 'threads'" in result.output


def test_unknown_pipeline(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["ingest", str(tmp_path), "--pipeline", "nosuch", "--archive", str(tmp_path / "a")]
    )
    assert result.exit_code == 2
    assert "arkhiv: error: pipeline 'nosuch' not found" in result.output


@pytest.mark.tesseract
def test_doctor_reports_missing_language() -> None:
    result = runner.invoke(app, ["doctor", "--lang", "ukr+xyz"])
    assert result.exit_code == 3
    assert "MISSING tesseract language xyz" in result.output
    assert "sudo apt-get install tesseract-ocr-xyz" in result.output
    assert "ok      tesseract language ukr: installed" in result.output


@pytest.mark.tesseract
def test_doctor_json() -> None:
    result = runner.invoke(app, ["doctor", "--lang", "ukr", "--json"])
    assert result.exit_code == 0, result.output
    checks = {c["name"]: c for c in json.loads(result.output)}
    assert checks["tesseract language ukr"]["ok"]


def test_missing_tesseract_is_a_clear_error(tmp_path: Path) -> None:
    """Run the real entry point with a PATH that has no tesseract."""
    scans = tmp_path / "in"
    scans.mkdir()
    shutil.copy(SPRAVA / "1.png", scans / "1.png")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    env = {**os.environ, "PATH": str(bindir)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "arkhiv.cli",
            "ingest",
            str(scans),
            "--archive",
            str(tmp_path / "a"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr
    assert "arkhiv: error: tesseract: tesseract is not installed" in proc.stderr
    assert "sudo apt-get install tesseract-ocr tesseract-ocr-ukr" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "a").exists()


@pytest.mark.tesseract
@pytest.mark.slow
def test_ingest_and_search_json_end_to_end(tmp_path: Path) -> None:
    scans = tmp_path / "справа"
    scans.mkdir()
    shutil.copy(SPRAVA / "2.png", scans / "2.png")
    (scans / "3.tif").write_bytes(b"II*\x00 broken tiff")
    archive = tmp_path / "a"
    report_file = tmp_path / "звіт.json"
    result = runner.invoke(
        app,
        ["ingest", str(scans), "--archive", str(archive), "--report", str(report_file), "-j", "2"],
    )
    assert result.exit_code == 1, result.output  # partial: one page failed
    assert f"FAILED {scans / '3.tif'}: " in result.output
    report = json.loads(report_file.read_text("utf-8"))
    assert report["status"] == "partial"
    pages = {Path(p["source"]).name: p for p in report["pages"]}
    assert pages["2.png"]["status"] == "ok"
    assert pages["2.png"]["confidence"] > 50
    assert pages["2.png"]["text_path"].endswith("pages/0001.txt")
    assert pages["3.tif"]["status"] == "failed" and pages["3.tif"]["reason"]

    found = runner.invoke(app, ["search", "архівні дані", "--archive", str(archive), "--json"])
    assert found.exit_code == 0, found.output
    data = json.loads(found.output)
    assert data["total"] == 1
    assert data["hits"][0]["page"] == 1
    assert "[[архівних]] [[даних]]" in data["hits"][0]["snippet"]

    plain = runner.invoke(app, ["search", "архівні дані", "--archive", str(archive)])
    assert plain.exit_code == 0
    assert "1 page(s) found" in plain.output
    assert "справа, page 1" in plain.output
    assert "[[архівних]] [[даних]]" in plain.output  # not a terminal: marks kept

    empty = runner.invoke(app, ["search", "   ", "--archive", str(archive)])
    assert empty.exit_code == 2
    assert "arkhiv: error: empty query" in empty.output


def test_unexpected_error_is_a_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("arkhiv.api.search", boom)
    result = runner.invoke(app, ["search", "дані", "--archive", str(tmp_path)])
    assert result.exit_code == 4
    assert "arkhiv: internal error: RuntimeError: disk on fire" in result.output
    assert "Traceback" not in result.output


def test_an_archive_that_is_a_file_is_refused(tmp_path: Path) -> None:
    """Issue 15, item 15: an internal FileExistsError (exit 4), while --check said all valid."""
    scans = tmp_path / "scans"
    scans.mkdir()
    Image.new("L", (100, 100), 255).save(scans / "1.png", dpi=(300, 300))
    taken = tmp_path / "notes.txt"
    taken.write_text("не архів", encoding="utf-8")
    for extra in ([], ["--check"]):
        result = CliRunner().invoke(app, ["ingest", str(scans), "--archive", str(taken), *extra])
        assert result.exit_code == 2, result.output
        assert f"arkhiv: error: {taken}: not a folder" in result.output
    assert taken.read_text(encoding="utf-8") == "не архів"


def test_a_pipe_as_the_scans_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "scans"
    os.mkfifo(fifo)
    result = CliRunner().invoke(app, ["ingest", str(fifo), "--archive", str(tmp_path / "a")])
    assert result.exit_code == 2, result.output
    assert f"arkhiv: error: {fifo}: not a file or folder of scans" in result.output


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--pipeline", "nosuch"], 2, "pipeline 'nosuch' not found"),
        (["--lang", "ukrainian"], 2, "'ukrainian' is not a Tesseract language code"),
        (["--lang", "ukr+zzz"], 3, "zzz"),
    ],
)
def test_check_refuses_what_the_ingest_refuses(
    tmp_path: Path, extra: list[str], code: int, message: str
) -> None:
    """Issue 15, item 21: --check said all valid for a profile or language the ingest refused."""
    scans = tmp_path / "scans"
    scans.mkdir()
    Image.new("L", (100, 100), 255).save(scans / "1.png", dpi=(300, 300))
    result = CliRunner().invoke(app, ["ingest", str(scans), "--check", *extra])
    assert result.exit_code == code, result.output
    assert message in result.output


def test_check_during_an_ingest_says_the_archive_is_busy(tmp_path: Path) -> None:
    """Issue 15, item 21: `check` during an ingest reported the pages in progress as missing."""
    from arkhiv.catalog import Catalog
    from arkhiv.fsutil import archive_lock

    Catalog.open(tmp_path / "a", create=True).close()
    with archive_lock(tmp_path / "a"):  # as an ingest holds it
        result = CliRunner().invoke(app, ["check", "--archive", str(tmp_path / "a")])
    assert result.exit_code == 5, result.output
    assert "is writing to this archive; check it when done" in result.output
    after = CliRunner().invoke(app, ["check", "--archive", str(tmp_path / "a")])
    assert after.exit_code != 5 and "writing to this archive" not in after.output


def test_check_decodes_the_images_as_the_ingest_would(tmp_path: Path) -> None:
    """Issue 15, item 21: --check said all valid for a truncated TIFF the ingest fails on."""
    corpus = Path(__file__).resolve().parents[1] / "resources" / "bad" / "corpus"
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(corpus / "truncated.tif", scans / "truncated.tif")
    shutil.copy(corpus / "bomb-40000x40000.png", scans / "bomb.png")  # never decoded
    result = CliRunner().invoke(app, ["ingest", str(scans), "--check"])
    assert result.exit_code == 1, result.output
    assert (
        f"FAILED {scans / 'truncated.tif'}: cannot decode the image: image file is truncated"
        in (result.output)
    )
    assert "bomb.png: cannot decode" not in result.output
