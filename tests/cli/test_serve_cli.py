"""`arkhiv serve`, `arkhiv passwd`, `arkhiv token`: arguments, messages, the users file."""

from __future__ import annotations

import base64
import os
import stat
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from arkhiv.cli import app
from arkhiv.web.auth import UsersFile

runner = CliRunner()


def test_passwd_adds_a_user_with_a_hashed_password(tmp_path: Path) -> None:
    users = tmp_path / "users.toml"
    result = runner.invoke(
        app,
        ["passwd", str(users), "олена", "--restricted"],
        input="пароль-ґанок-2026\nпароль-ґанок-2026\n",
    )
    assert result.exit_code == 0, result.output
    assert f"{users}: олена saved (may see restricted documents)" in result.stdout
    text = users.read_text("utf-8")
    assert "пароль" not in text  # only the hash is stored
    data = tomllib.loads(text)
    assert data["users"]["олена"]["restricted"] is True
    assert data["users"]["олена"]["password"].startswith("scrypt$")
    assert stat.S_IMODE(os.stat(users).st_mode) == 0o600
    loaded = UsersFile.load(users)
    header = "Basic " + base64.b64encode("олена:пароль-ґанок-2026".encode()).decode()
    who = loaded.authenticate(header)
    assert who is not None and who.name == "олена" and who.restricted


def test_passwd_refuses_a_short_password_and_mismatch(tmp_path: Path) -> None:
    users = tmp_path / "users.toml"
    result = runner.invoke(app, ["passwd", str(users), "ivan"], input="short\nshort\n")
    assert result.exit_code == 2
    assert "at least" in result.stderr
    assert not users.exists()


def test_token_is_printed_once_and_stored_as_a_hash(tmp_path: Path) -> None:
    users = tmp_path / "users.toml"
    result = runner.invoke(app, ["token", str(users), "reading-room"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert len(token) >= 40 and token not in users.read_text("utf-8")
    who = UsersFile.load(users).authenticate(f"Bearer {token}")
    assert who is not None and who.name == "reading-room" and not who.restricted
    removed = runner.invoke(app, ["passwd", str(users), "reading-room", "--remove"])
    assert removed.exit_code == 0 and "removed reading-room" in removed.stdout
    assert UsersFile.load(users).authenticate(f"Bearer {token}") is None


def test_serve_without_an_archive_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--archive", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert f"arkhiv: error: {tmp_path / 'none'}: no arkhiv archive here" in result.stderr


def test_serve_with_a_broken_users_file_names_it(tmp_path: Path) -> None:
    users = tmp_path / "users.toml"
    users.write_text('[users."a"]\nrestricted = true\n', "utf-8")
    result = runner.invoke(app, ["serve", "--archive", str(tmp_path), "--auth", str(users)])
    assert result.exit_code == 2
    assert str(users) in result.stderr


def test_help_of_the_web_commands() -> None:
    for command, words in (
        ("serve", ["--host", "--port", "--auth", "127.0.0.1", "Examples"]),
        ("passwd", ["--restricted", "--remove", "Examples"]),
        ("token", ["Bearer", "Examples"]),
    ):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        for word in words:
            assert word in result.stdout, (command, word)
