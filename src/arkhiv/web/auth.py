"""Who may see restricted documents in `arkhiv serve --auth`: the users file and its checks.

The users file is TOML, written by `arkhiv passwd` / `arkhiv token` and readable by hand::

    # arkhiv users: `arkhiv passwd users.toml NAME` adds or changes one; ...
    [users."olena"]
    password = "scrypt$16384$8$1$<salt b64>$<hash b64>"
    restricted = true        # may see documents marked access: restricted
    [tokens."reading-room"]
    sha256 = "<hex sha256 of the token>"
    restricted = false

`restricted` defaults to false. Names: 1-64 characters, no control characters, compared in NFC;
no ':' in a user name (Basic sends "name:password"); a name is a user or a token, not both.
Scrypt N, r, p are read from each hash (N at most 2**20); a token is kept only as its sha256.
Changes rewrite the whole file atomically with mode 0600 (hand-written comments are lost).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from arkhiv.errors import ArkhivError, ExitCode
from arkhiv.fsutil import atomic_write_text

log = logging.getLogger(__name__)
_Entries = dict[str, tuple[str, bool]]  # name -> (password hash or token sha256, restricted)

MIN_PASSWORD = 8
MAX_NAME = 64
MAX_N = 2**20  # a hostile file must not make one check take seconds (2**20 at r=8: 1 GiB)
MAX_R, MAX_P = 32, 16
_MAX_WORK = MAX_N * 8  # bound on n*r*p, so r and p cannot stretch the time instead of n
_NUMBER = re.compile(r"[1-9][0-9]{0,9}")  # not int()'s "+16", " 16", "1_6" or non-ASCII digits
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ESCAPES = {ord('"'): '\\"', ord("\\"): "\\\\"} | {c: f"\\u{c:04x}" for c in [*range(32), 127]}
_HEADER = (
    "# arkhiv users: `arkhiv passwd users.toml NAME` adds or changes one;"
    " `arkhiv token users.toml NAME` makes a token\n"
    "# restricted = true: may see documents marked access: restricted"
)


class AuthError(ArkhivError):
    """A users file that cannot be used: missing, not TOML, an unknown key or a bad value."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user or token by name, and whether restricted documents are shown."""

    name: str
    restricted: bool  # may see restricted documents


ANONYMOUS = Principal("", False)


def _check_name(name: str, kind: str) -> str:
    """`name` in NFC, or ValueError saying what is wrong with it."""
    name = unicodedata.normalize("NFC", name)
    if not 1 <= len(name) <= MAX_NAME:
        raise ValueError(f"a {kind} name must have 1 to {MAX_NAME} characters: {name!r}")
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise ValueError(f"a {kind} name must not contain control characters: {name!r}")
    if kind == "user" and ":" in name:  # RFC 7617: the user-id of Basic credentials has no ':'
        raise ValueError(f"a user name must not contain ':': {name!r}")
    return name


def _check_params(n: int, r: int, p: int) -> None:
    if n < 2 or n & (n - 1) or n > MAX_N or not (1 <= r <= MAX_R and 1 <= p <= MAX_P):
        raise ValueError(f"scrypt n={n} r={r} p={p}: n must be a power of 2 up to {MAX_N}")
    if n * r * p > _MAX_WORK:
        raise ValueError(f"scrypt n={n} r={r} p={p}: n*r*p over {_MAX_WORK}")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    secret = unicodedata.normalize("NFC", password).encode("utf-8")
    # OpenSSL needs about 128*r*(n+p+2) bytes; hashlib's default maxmem (32 MiB) stops at 2**15.
    maxmem = 128 * r * (n + p + 2) + 2**20
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)


def hash_password(
    password: str, *, n: int = 2**14, r: int = 8, p: int = 1, salt: bytes | None = None
) -> str:
    """`scrypt$N$r$p$SALT$HASH` (standard base64) of the password in NFC."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password must have at least {MIN_PASSWORD} characters")
    _check_params(n, r, p)
    salt = secrets.token_bytes(16) if salt is None else salt
    if len(salt) < 8:
        raise ValueError("a salt must have at least 8 bytes")
    digest = _scrypt(password, salt, n, r, p, 32)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


def _parse_hash(encoded: str) -> tuple[int, int, int, bytes, bytes]:
    """(n, r, p, salt, digest) of an encoded hash, or ValueError saying what is wrong."""
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        raise ValueError("expected scrypt$N$r$p$SALT$HASH")
    if not all(_NUMBER.fullmatch(x) for x in parts[1:4]):
        raise ValueError("N, r and p must be positive whole numbers")
    n, r, p = (int(x) for x in parts[1:4])
    _check_params(n, r, p)
    try:
        salt, digest = (base64.b64decode(x, validate=True) for x in parts[4:])
    except ValueError as e:  # binascii.Error, or non-ASCII text
        raise ValueError("the salt or the hash is not base64") from e
    if len(salt) < 8 or not 16 <= len(digest) <= 64:
        raise ValueError("the salt must have at least 8 bytes and the hash 16 to 64")
    return n, r, p, salt, digest


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches `encoded` (constant-time); False for a malformed hash."""
    # Stateless on purpose: the server verifies once per request, and 20-50 ms at n=2**14 is
    # the price of hashing. A caller may cache successful checks if it must.
    try:
        n, r, p, salt, digest = _parse_hash(encoded)
        return hmac.compare_digest(_scrypt(password, salt, n, r, p, len(digest)), digest)
    except (ValueError, MemoryError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """A hash no password matches; checked for unknown names so they take as long as known."""
    return hash_password(secrets.token_urlsafe(24))


def _split(header: str | None) -> tuple[str, str]:
    scheme, _, value = (header or "").strip().partition(" ")
    return scheme.lower(), value.strip()  # RFC 7235: the scheme is case-insensitive


def _where(path: Path, section: str, name: str) -> str:
    return f"{path}: [{section}.{_toml_str(name)}]"


def _entries(path: Path, data: dict[str, Any], section: str, key: str) -> _Entries:
    table = data.get(section, {})
    if not isinstance(table, dict):
        raise AuthError(f'{path}: {section}: expected [{section}."NAME"] tables')
    out: _Entries = {}
    for raw, entry in table.items():
        where = _where(path, section, raw)
        try:
            name = _check_name(raw, section[:-1])
            if not isinstance(entry, dict):
                raise ValueError(f"expected a table with {key} and restricted")
            unknown = sorted(set(entry) - {key, "restricted"})
            if unknown:
                raise ValueError(f"unknown key {unknown[0]!r}")
            if not isinstance(entry.get(key), str):
                raise ValueError(f"no {key} (a string)")
            secret = entry[key] if section == "users" else entry[key].lower()
            if section == "users":
                _parse_hash(secret)
            elif not _HEX64.fullmatch(secret):
                raise ValueError("sha256 must be 64 hex digits")
        except ValueError as e:
            raise AuthError(f"{where}: {e}") from e
        restricted = entry.get("restricted", False)
        if not isinstance(restricted, bool):
            raise AuthError(f"{where}: restricted must be true or false, not {restricted!r}")
        if name in out:
            raise AuthError(f"{where}: the same name twice (once in another Unicode form)")
        out[name] = (secret, restricted)
    return out


@dataclass(frozen=True)
class UsersFile:
    """A loaded users file; checks Basic and Bearer credentials against it."""

    path: Path
    users: Mapping[str, tuple[str, bool]] = field(repr=False)  # name -> (hash, restricted)
    tokens: Mapping[str, tuple[str, bool]] = field(repr=False)  # name -> (sha256 hex, restricted)

    @classmethod
    def load(cls, path: Path) -> UsersFile:
        """Read and check the whole file; AuthError naming the file and the entry otherwise."""
        try:
            data = tomllib.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError as e:
            raise AuthError(
                f"{path}: users file not found", hint=f"create it: arkhiv passwd {path} NAME"
            ) from e
        except OSError as e:
            raise AuthError(f"{path}: cannot read the users file: {e.strerror}") from e
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise AuthError(f"{path}: not a valid TOML users file: {e}") from e
        unknown = sorted(set(data) - {"users", "tokens"})
        if unknown:
            raise AuthError(f"{path}: unknown key {unknown[0]!r} (expected users and tokens)")
        users = _entries(path, data, "users", "password")
        tokens = _entries(path, data, "tokens", "sha256")
        if both := sorted(users.keys() & tokens.keys()):
            raise AuthError(f"{_where(path, 'tokens', both[0])}: also a user name; rename one")
        if path.stat().st_mode & 0o077:
            log.warning("%s: readable by other users; it holds password hashes (chmod 600)", path)
        return cls(path, MappingProxyType(users), MappingProxyType(tokens))

    def authenticate_basic(self, header: str | None) -> Principal | None:
        """The user of a `Basic base64(name:password)` header (UTF-8); None if absent or wrong."""
        scheme, value = _split(header)
        if scheme != "basic":
            return None
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except ValueError:  # binascii.Error, UnicodeDecodeError, non-ASCII header text
            return None
        name, colon, password = decoded.partition(":")
        name = unicodedata.normalize("NFC", name)
        entry = self.users.get(name)
        if not colon or entry is None:
            verify_password(password, _dummy_hash())  # do not tell unknown names by the time
            return None
        return Principal(name, entry[1]) if verify_password(password, entry[0]) else None

    def authenticate_bearer(self, header: str | None) -> Principal | None:
        """The token of a `Bearer TOKEN` header; None if absent or unknown."""
        scheme, token = _split(header)
        if scheme != "bearer" or not token:
            return None
        digest = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
        found = None
        for name, (expected, restricted) in self.tokens.items():  # no early exit: same time
            if hmac.compare_digest(digest, expected) and found is None:
                found = Principal(name, restricted)
        return found

    def authenticate(self, authorization: str | None) -> Principal | None:
        """The principal of an Authorization header of either scheme; None if none or invalid."""
        check = {"basic": self.authenticate_basic, "bearer": self.authenticate_bearer}
        scheme = _split(authorization)[0]
        return check[scheme](authorization) if scheme in check else None


def _toml_str(s: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    return '"' + s.translate(_ESCAPES) + '"'


def _render(users: _Entries, tokens: _Entries) -> str:
    lines = [_HEADER]
    for section, key, entries in (("users", "password", users), ("tokens", "sha256", tokens)):
        for name, (secret, restricted) in entries.items():
            lines += [f"[{section}.{_toml_str(name)}]", f"{key} = {_toml_str(secret)}"]
            lines.append(f"restricted = {'true' if restricted else 'false'}")
    return "\n".join(lines) + "\n"


def _read(path: Path, *, missing_ok: bool = True) -> tuple[_Entries, _Entries]:
    if missing_ok and not path.exists():
        return {}, {}
    current = UsersFile.load(path)
    return dict(current.users), dict(current.tokens)


def _save(path: Path, users: _Entries, tokens: _Entries) -> None:
    # Last writer wins if two commands change the file at once; the file is edited rarely.
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # created 0600 first, so the new file is never readable by others, not even briefly
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        os.chmod(path, 0o600)
    atomic_write_text(path, _render(users, tokens))  # keeps the mode of the file it replaces
    os.chmod(path, 0o600)


def set_password(path: Path, name: str, password: str, restricted: bool) -> None:
    """Add or replace a user, keeping every other entry; creates the file (0600) if missing."""
    name = _check_name(name, "user")
    encoded = hash_password(password)
    users, tokens = _read(path)
    if name in tokens:
        raise ValueError(f"{name!r} is already a token name; choose another user name")
    users[name] = (encoded, restricted)
    _save(path, users, tokens)


def new_token(path: Path, name: str, restricted: bool) -> str:
    """Make (or replace) a token; stores only its sha256 and returns it, to be shown once."""
    name = _check_name(name, "token")
    users, tokens = _read(path)
    if name in users:
        raise ValueError(f"{name!r} is already a user name; choose another token name")
    token = secrets.token_urlsafe(32)
    tokens[name] = (hashlib.sha256(token.encode("ascii")).hexdigest(), restricted)
    _save(path, users, tokens)
    return token


def remove(path: Path, name: str) -> bool:
    """Remove the user or token of that name; False if there is none (AuthError if no file)."""
    name = unicodedata.normalize("NFC", name)
    users, tokens = _read(path, missing_ok=False)
    found = users.pop(name, None) is not None
    found = tokens.pop(name, None) is not None or found
    if found:
        _save(path, users, tokens)
    return found
