"""The users file of `arkhiv serve --auth`: hashing, Basic and Bearer checks, loading, writing."""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import os
import re
import stat
import tomllib
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from arkhiv.errors import ExitCode
from arkhiv.fsutil import atomic_write_text
from arkhiv.web import auth
from arkhiv.web.auth import (
    ANONYMOUS,
    AuthError,
    Principal,
    UsersFile,
    hash_password,
    new_token,
    remove,
    set_password,
    verify_password,
)

FAST = 2**10  # scrypt n for tests; the default 2**14 takes 20-200 ms per check
NAME, PASSWORD = "олена", "пароль-ґанок-2026"


@pytest.fixture
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """set_password and the unknown-name dummy check hash with a small n, for speed."""
    monkeypatch.setattr(auth, "hash_password", functools.partial(hash_password, n=FAST))
    auth._dummy_hash.cache_clear()
    yield
    auth._dummy_hash.cache_clear()


@pytest.fixture
def valid_hash() -> str:
    return hash_password(PASSWORD, n=FAST)


def basic(name: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- hashing -------------------------------------------------------------------------------------


def test_hash_round_trip(valid_hash: str) -> None:
    assert valid_hash.startswith(f"scrypt${FAST}$8$1$")
    assert verify_password(PASSWORD, valid_hash)
    assert hash_password(PASSWORD, n=FAST) != valid_hash  # a new salt each time


def test_default_cost_is_written_into_the_hash() -> None:
    assert hash_password("12345678").startswith("scrypt$16384$8$1$")


def test_hash_is_plain_scrypt_of_the_utf8_password() -> None:
    salt = b"sixteen byte slt"
    encoded = hash_password(PASSWORD, n=16, r=2, p=3, salt=salt)
    expected = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=16, r=2, p=3, dklen=32)
    assert encoded == "$".join(
        [
            "scrypt",
            "16",
            "2",
            "3",
            base64.b64encode(salt).decode(),
            base64.b64encode(expected).decode(),
        ]
    )


def test_verify_reads_the_parameters_from_the_hash() -> None:
    encoded = hash_password(PASSWORD, n=2**6, r=4, p=2)
    assert verify_password(PASSWORD, encoded)
    assert not verify_password(PASSWORD, encoded.replace("$64$4$2$", "$64$8$1$"))


@pytest.mark.parametrize("wrong", ["", "пароль-ґанок-2025", PASSWORD + " ", PASSWORD.upper()])
def test_wrong_password(valid_hash: str, wrong: str) -> None:
    assert not verify_password(wrong, valid_hash)


def test_password_is_compared_in_nfc() -> None:
    nfc = "Андрій-пароль"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    assert verify_password(nfd, hash_password(nfc, n=FAST))


def _parts(encoded: str, index: int, value: str) -> str:
    parts = encoded.split("$")
    parts[index] = value
    return "$".join(parts)


@pytest.mark.parametrize(
    "damage",
    [
        lambda h: "",
        lambda h: "scrypt",
        lambda h: h + "$",
        lambda h: h.rsplit("$", 1)[0],
        lambda h: _parts(h, 0, "bcrypt"),
        lambda h: _parts(h, 1, "1000"),  # not a power of 2
        lambda h: _parts(h, 1, str(2**21)),  # too costly
        lambda h: _parts(h, 1, "+1024"),
        lambda h: _parts(h, 1, "１０２４"),  # full-width digits
        lambda h: _parts(h, 2, "0"),
        lambda h: _parts(h, 3, "-1"),
        lambda h: _parts(h, 4, "not base64!"),
        lambda h: _parts(h, 4, "ґ"),
        lambda h: _parts(h, 4, ""),
        lambda h: _parts(h, 5, base64.b64encode(b"short").decode()),
        lambda h: _parts(h, 5, h.split("$")[5].rstrip("=")),  # padding missing
    ],
)
def test_malformed_hash_is_false_not_an_exception(
    valid_hash: str, damage: Callable[[str], str]
) -> None:
    broken = damage(valid_hash)
    assert broken != valid_hash
    assert verify_password(PASSWORD, broken) is False


@pytest.mark.parametrize("password", ["", "1234567", "сім-літ"])
def test_short_password_is_refused(password: str) -> None:
    with pytest.raises(ValueError, match="at least 8 characters"):
        hash_password(password, n=FAST)


@pytest.mark.parametrize(
    ("n", "r", "p"),
    [(2**21, 8, 1), (2**21, 1, 1), (1000, 8, 1), (1, 8, 1), (2**20, 64, 1), (2**20, 8, 2)],
)
def test_hashing_refuses_parameters_it_would_not_verify(n: int, r: int, p: int) -> None:
    with pytest.raises(ValueError, match="scrypt"):
        hash_password(PASSWORD, n=n, r=r, p=p)


# --- Basic and Bearer ----------------------------------------------------------------------------


@pytest.fixture
def users(valid_hash: str, fast_hashing: None) -> UsersFile:
    return UsersFile(
        Path("users.toml"),
        {NAME: (valid_hash, True), "petro": (hash_password("petro-pass", n=FAST), False)},
        {"api": (hashlib.sha256(b"secret-token").hexdigest(), False)},
    )


def test_basic_with_ukrainian_name_and_password(users: UsersFile) -> None:
    assert users.authenticate_basic(basic(NAME, PASSWORD)) == Principal(NAME, True)
    assert users.authenticate(basic(NAME, PASSWORD)) == Principal(NAME, True)
    assert users.authenticate(basic("petro", "petro-pass")) == Principal("petro", False)


def test_basic_scheme_is_case_insensitive_and_password_may_hold_colons(
    users: UsersFile, tmp_path: Path
) -> None:
    assert users.authenticate_basic("basic " + basic(NAME, PASSWORD).split()[1])
    path = tmp_path / "users.toml"
    set_password(path, "a", "with:colons:inside", False)
    assert UsersFile.load(path).authenticate(basic("a", "with:colons:inside")) == Principal(
        "a", False
    )


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Basic",
        "Basic ",
        basic(NAME, PASSWORD).replace("Basic", "Digest"),
        "Bearer secret-token",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:latin-1 password").decode(),
        "Basic " + base64.b64encode(NAME.encode()).decode().rstrip("="),
        "Basic ґ",
        basic(NAME, "пароль-ґанок-2025"),
        basic("nobody", PASSWORD),
        basic("", PASSWORD),
    ],
)
def test_basic_rejects(users: UsersFile, header: str | None) -> None:
    assert users.authenticate_basic(header) is None


def test_basic_needs_the_colon() -> None:
    """Even a (hand-made) hash of the empty password does not let "name" without ':' in."""
    salt = b"0123456789abcdef"
    empty = hashlib.scrypt(b"", salt=salt, n=16, r=1, p=1, dklen=32)
    b64 = base64.b64encode
    users = UsersFile(
        Path("u"), {"x": (f"scrypt$16$1$1${b64(salt).decode()}${b64(empty).decode()}", True)}, {}
    )
    assert users.authenticate("Basic " + b64(b"x:").decode()) == Principal("x", True)
    assert users.authenticate("Basic " + b64(b"x").decode()) is None


def test_nfd_user_name_matches(users: UsersFile) -> None:
    nfd = unicodedata.normalize("NFD", "Андрій")
    users = UsersFile(users.path, {"Андрій": (users.users[NAME][0], False)}, {})
    assert users.authenticate(basic(nfd, PASSWORD)) == Principal("Андрій", False)


def test_bearer_token_create_verify_remove(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    token = new_token(path, "reading-room", restricted=True)
    assert len(token) >= 40
    assert token not in path.read_text(encoding="utf-8")  # only its sha256 is kept
    loaded = UsersFile.load(path)
    assert loaded.authenticate_bearer(f"Bearer {token}") == Principal("reading-room", True)
    assert loaded.authenticate(f"bearer  {token} ") == Principal("reading-room", True)
    for wrong in [None, "Bearer", "Bearer ", f"Bearer {token[:-1]}", f"Basic {token}", "Bearer ґ"]:
        assert loaded.authenticate_bearer(wrong) is None
    assert new_token(path, "scanner", restricted=False) != token
    assert remove(path, "reading-room") is True
    assert UsersFile.load(path).authenticate(f"Bearer {token}") is None
    assert remove(path, "reading-room") is False
    assert list(UsersFile.load(path).tokens) == ["scanner"]


def test_unknown_scheme_and_anonymous(users: UsersFile) -> None:
    assert users.authenticate("Negotiate abc") is None
    assert users.authenticate(None) is None
    assert Principal("", False) == ANONYMOUS
    assert not ANONYMOUS.restricted


def test_repr_does_not_show_hashes(users: UsersFile) -> None:
    assert "scrypt" not in repr(users) and users.tokens["api"][0] not in repr(users)


# --- writing -------------------------------------------------------------------------------------


def test_set_password_keeps_other_entries_and_mode_0600(tmp_path: Path, fast_hashing: None) -> None:
    path = tmp_path / "conf" / "users.toml"
    token = new_token(path, "api", restricted=False)
    assert mode(path) == 0o600
    set_password(path, NAME, PASSWORD, restricted=True)
    set_password(path, "petro", "petro-pass", restricted=False)
    set_password(path, NAME, "нове-пароль-1", restricted=False)
    loaded = UsersFile.load(path)
    assert list(loaded.users) == [NAME, "petro"]  # replaced in place, not moved
    assert loaded.authenticate(basic(NAME, PASSWORD)) is None
    assert loaded.authenticate(basic(NAME, "нове-пароль-1")) == Principal(NAME, False)
    assert loaded.authenticate(basic("petro", "petro-pass")) == Principal("petro", False)
    assert loaded.authenticate(f"Bearer {token}") == Principal("api", False)
    assert mode(path) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["users.toml"]  # no temp files left


def test_set_password_tightens_an_open_file(tmp_path: Path, fast_hashing: None) -> None:
    path = tmp_path / "users.toml"
    path.write_text("", encoding="utf-8")
    os.chmod(path, 0o644)
    set_password(path, NAME, PASSWORD, restricted=True)
    assert mode(path) == 0o600


def test_new_file_is_0600_even_with_an_open_umask(
    tmp_path: Path, fast_hashing: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "users.toml"
    seen: list[int] = []

    def spy(target: Path, text: str) -> None:
        seen.append(mode(target))  # the mode the new content inherits
        atomic_write_text(target, text)

    monkeypatch.setattr(auth, "atomic_write_text", spy)
    old = os.umask(0)
    try:
        set_password(path, NAME, PASSWORD, restricted=False)
    finally:
        os.umask(old)
    assert seen == [0o600]  # never readable by others, not even before the final chmod
    assert mode(path) == 0o600


def test_quotes_and_backslash_in_a_name_round_trip(tmp_path: Path, fast_hashing: None) -> None:
    path = tmp_path / "users.toml"
    odd = 'o"le\\na "x" \\\\ ]\'#'
    set_password(path, odd, PASSWORD, restricted=True)
    new_token(path, 'tok"en\\', restricted=False)
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text)  # valid TOML
    assert set(data) == {"users", "tokens"}
    assert list(data["users"]) == [odd]
    assert data["users"][odd]["restricted"] is True
    assert list(data["tokens"]) == ['tok"en\\']
    assert text.startswith("# arkhiv users: `arkhiv passwd users.toml NAME`")
    loaded = UsersFile.load(path)
    assert loaded.authenticate(basic(odd, PASSWORD)) == Principal(odd, True)


def test_writer_output_is_valid_toml(tmp_path: Path, fast_hashing: None) -> None:
    path = tmp_path / "users.toml"
    set_password(path, NAME, PASSWORD, restricted=True)
    set_password(path, "Ґ ї є '", "12345678", restricted=False)
    new_token(path, "reading-room", restricted=False)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data["users"][NAME]["password"].startswith(f"scrypt${FAST}$")
    assert data["users"]["Ґ ї є '"]["restricted"] is False
    assert len(data["tokens"]["reading-room"]["sha256"]) == 64
    assert UsersFile.load(path).users[NAME][1] is True


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "1 to 64"),
        ("x" * 65, "1 to 64"),
        ("a\nb", "control"),
        ("a\x00", "control"),
        ("tab\there", "control"),
        ("a\x85", "control"),
        ("olena:x", "':'"),
    ],
)
def test_bad_user_names_are_refused(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        set_password(tmp_path / "users.toml", name, PASSWORD, restricted=False)
    assert not (tmp_path / "users.toml").exists()


def test_a_name_is_a_user_or_a_token(tmp_path: Path, fast_hashing: None) -> None:
    path = tmp_path / "users.toml"
    set_password(path, "api", PASSWORD, restricted=False)
    with pytest.raises(ValueError, match="already a user"):
        new_token(path, "api", restricted=False)
    new_token(path, "script", restricted=False)
    with pytest.raises(ValueError, match="already a token"):
        set_password(path, "script", PASSWORD, restricted=False)
    assert remove(path, "api") is True
    assert list(UsersFile.load(path).users) == []


def test_nothing_is_written_over_a_broken_file(tmp_path: Path, fast_hashing: None) -> None:
    path = tmp_path / "users.toml"
    path.write_text("[users.x\n", encoding="utf-8")
    with pytest.raises(AuthError):
        set_password(path, NAME, PASSWORD, restricted=False)
    assert path.read_text(encoding="utf-8") == "[users.x\n"


# --- loading -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[users.olena\n", "line 1"),
        ("[groups.x]\n", "unknown key 'groups'"),
        ('users = "olena"\n', "users"),
        ('[users."olena"]\nrestricted = true\n', '[users."olena"]: no password'),
        ('[users."olena"]\npassword = "plain-text"\n', '[users."olena"]: expected scrypt$'),
        ('[users."olena"]\npassword = 42\n', '[users."olena"]: no password'),
        ('[users."olena"]\npassword = "VALID"\npasword = "x"\n', "unknown key 'pasword'"),
        ('[users."olena"]\npassword = "VALID"\nrestricted = "yes"\n', '"olena"]: restricted'),
        ('[users."olena"]\npassword = "VALID"\nrestricted = 1\n', '"olena"]: restricted'),
        (
            '[users."olena"]\npassword = "scrypt$2097152$8$1$c2FsdHNhbHQ=$'
            'MDEyMzQ1Njc4OWFiY2RlZg=="\n',
            '[users."olena"]: scrypt n=2097152',
        ),
        (
            '[users."olena"]\npassword = "scrypt$2097152$1$1$c2FsdHNhbHQ=$'
            'MDEyMzQ1Njc4OWFiY2RlZg=="\n',
            '[users."olena"]: scrypt n=2097152',
        ),
        (
            '[users."olena"]\npassword = "scrypt$1048576$8$2$c2FsdHNhbHQ=$'
            'MDEyMzQ1Njc4OWFiY2RlZg=="\n',
            "n*r*p",
        ),
        ('[users."olena"]\npassword = "scrypt$1024$8$1$***$***"\n', '"olena"]: the salt'),
        ('[users.""]\npassword = "VALID"\n', '[users.""]: a user name'),
        ('[users."a:b"]\npassword = "VALID"\n', "':'"),
        ('[users."a\\u0007"]\npassword = "VALID"\n', "control"),
        ('[users]\nolena = "VALID"\n', '[users."olena"]: expected a table'),
        ('[tokens."api"]\nrestricted = true\n', '[tokens."api"]: no sha256'),
        ('[tokens."api"]\nsha256 = "abc"\n', '[tokens."api"]: sha256 must be 64 hex'),
        ('[tokens."api"]\nsha256 = "' + "g" * 64 + '"\n', '[tokens."api"]: sha256'),
        ('[tokens."api"]\nsha256 = "' + "a" * 64 + '"\nscope = "all"\n', "unknown key 'scope'"),
        (
            '[users."api"]\npassword = "VALID"\n[tokens."api"]\nsha256 = "' + "a" * 64 + '"\n',
            '[tokens."api"]: also a user name',
        ),
    ],
)
def test_load_errors_name_the_file_and_the_key(
    tmp_path: Path, valid_hash: str, content: str, expected: str
) -> None:
    path = tmp_path / "broken-users.toml"
    path.write_text(content.replace("VALID", valid_hash), encoding="utf-8")
    with pytest.raises(AuthError) as info:
        UsersFile.load(path)
    assert str(info.value).startswith(f"{path}: ")
    assert expected in str(info.value)
    assert info.value.exit_code == ExitCode.USAGE


def test_same_name_in_two_unicode_forms_is_an_error(tmp_path: Path, valid_hash: str) -> None:
    nfd = unicodedata.normalize("NFD", "Андрій")
    path = tmp_path / "users.toml"
    path.write_text(
        f'[users."Андрій"]\npassword = "{valid_hash}"\n'
        f'[users."{nfd}"]\npassword = "{valid_hash}"\n',
        encoding="utf-8",
    )
    with pytest.raises(AuthError, match="the same name twice"):
        UsersFile.load(path)


def test_missing_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(
        AuthError, match="^" + re.escape(f"{tmp_path / 'nope.toml'}: users file not found")
    ):
        UsersFile.load(tmp_path / "nope.toml")
    with pytest.raises(AuthError, match=r"nope\.toml"):
        remove(tmp_path / "nope.toml", NAME)
    (tmp_path / "latin1.toml").write_bytes(b'[users."\xe9"]\n')
    with pytest.raises(AuthError, match=r"latin1\.toml: not a valid TOML"):
        UsersFile.load(tmp_path / "latin1.toml")


def test_load_accepts_hand_written_files(tmp_path: Path, valid_hash: str) -> None:
    path = tmp_path / "users.toml"
    nfd = unicodedata.normalize("NFD", "Андрій")
    path.write_text(
        f"# our users\n[users.'{nfd}']\npassword = '{valid_hash}'\n"
        f'[tokens.api]\nsha256 = "{hashlib.sha256(b"t").hexdigest().upper()}"\n',
        encoding="utf-8",
    )
    os.chmod(path, 0o600)
    loaded = UsersFile.load(path)
    assert loaded.users == {"Андрій": (valid_hash, False)}  # NFC, restricted defaults to false
    assert loaded.authenticate("Bearer t") == Principal("api", False)  # hex in any case
    assert UsersFile.load(tmp_path / "users.toml") == loaded


def test_empty_file_has_no_users(tmp_path: Path) -> None:
    (tmp_path / "users.toml").write_text("", encoding="utf-8")
    loaded = UsersFile.load(tmp_path / "users.toml")
    assert (dict(loaded.users), dict(loaded.tokens)) == ({}, {})


def test_load_warns_about_a_file_others_can_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "users.toml"
    path.write_text("", encoding="utf-8")
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING, logger="arkhiv.web.auth"):
        UsersFile.load(path)
    assert "readable by other users" in caplog.text
