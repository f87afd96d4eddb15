"""`arkhiv watch` on the command line: --json-log lines, exit codes, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arkhiv.cli import app
from tests.conftest import SPRAVA

pytestmark = [pytest.mark.tesseract]


def _old(path: Path) -> None:
    t = time.time() - 600
    os.utime(path, (t, t))


def test_once_with_json_log_and_a_corrupt_file(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "bad.tif").write_bytes(b"II*\x00 this is no TIFF")
    _old(inbox / "bad.tif")
    result = CliRunner().invoke(
        app, ["watch", str(inbox), "--archive", str(tmp_path / "a"), "--once", "--json-log"]
    )
    assert result.exit_code == 1, result.output
    events = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events] == ["taken", "failed"]
    assert events[1]["to"] == str(inbox / "failed" / "bad.tif")
    assert events[1]["reason"].startswith("page 1: ")
    assert all("time" in e for e in events)


def test_missing_inbox(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["watch", str(tmp_path / "нема"), "--archive", str(tmp_path / "a"), "--once"]
    )
    assert result.exit_code == 2
    assert f"arkhiv: error: {tmp_path / 'нема'}: the inbox folder does not exist" in result.output


@pytest.mark.slow
def test_sigterm_stops_cleanly_and_a_restart_finishes(tmp_path: Path) -> None:
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    for name in ("1.png", "2.png", "10.png"):
        (inbox / name).write_bytes((SPRAVA / name).read_bytes())
        _old(inbox / name)
    cmd = [sys.executable, "-m", "arkhiv.cli", "watch", str(inbox), "--archive", str(archive)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (archive / "catalog.sqlite").exists():
        time.sleep(0.1)  # waiting for the other process to start work
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert " taken " in out
    assert "stopping after the pages in progress (SIGTERM)" in err
    assert "Traceback" not in err
    again = subprocess.run([*cmd, "--once"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    db = sqlite3.connect(archive / "catalog.sqlite")
    states = db.execute("SELECT state FROM drops").fetchall()
    assert sorted(s for (s,) in states) == ["done", "done", "done"]
    assert db.execute("SELECT count(*) FROM pages WHERE status='ok'").fetchone() == (3,)
