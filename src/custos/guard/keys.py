"""API keys and bearer tokens: the keys file, hashing, and constant-time verification.

A key is `ID.SECRET`: the id names its entry in the keys file (ids are not secret; they are
what the audit log records), the secret is 32 random bytes (URL-safe base64). The file holds
`{"keys": [{"id", "hash", "rate", "burst"}]}` and never a key.

The hash is HMAC-SHA-256 of the whole key under a pepper (`hmac-sha256:HEX`) or argon2id
(`$argon2id$...`). A slow password hash protects low-entropy secrets against guessing after a
leak of the file; these keys carry 256 random bits, which no guessing reaches, so one fast
keyed hash is as safe and costs a microsecond per request instead of tens of milliseconds. The
pepper (kept outside the keys file) means a leaked file alone cannot even confirm a key.
argon2id stays available for a policy that demands it; a verified argon2 key is remembered
in memory by its HMAC, so only its first request pays.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custos.errors import UserError

HMAC_PREFIX = "hmac-sha256:"
ARGON2_PREFIX = "$argon2"
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
PEPPER_ENV = "CUSTOS_GUARD_PEPPER"
PEPPER_FILE = "guard-pepper"  # beside the keys file unless $CUSTOS_GUARD_PEPPER is set
DEFAULT_RATE = 10.0
DEFAULT_BURST = 20.0


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: str
    hash: str
    rate: float = DEFAULT_RATE
    burst: float = DEFAULT_BURST

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "hash": self.hash, "rate": self.rate, "burst": self.burst}


def new_secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def hmac_hash(key: str, pepper: bytes) -> str:
    return HMAC_PREFIX + hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()


def split_key(key: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed key, else None."""
    key_id, dot, secret = key.partition(".")
    if not dot or not secret or "." in secret or not ID_PATTERN.fullmatch(key_id):
        return None
    return key_id, secret


class KeyRing:
    """The keys of a keys file, verified against presented keys."""

    def __init__(self, records: list[KeyRecord], pepper: bytes) -> None:
        self._by_id = {r.id: r for r in records}
        self._pepper = pepper
        self._argon2_ok: dict[str, str] = {}  # the HMAC of a verified argon2 key -> its id

    def __len__(self) -> int:
        return len(self._by_id)

    def verify(self, key: str) -> KeyRecord | None:
        """The record of a valid key, else None. HMAC keys: one constant-time comparison.
        argon2 keys: the slow check the first time (call it off the event loop)."""
        parts = split_key(key)
        if parts is None:
            return None
        record = self._by_id.get(parts[0])
        if record is None:
            return None
        digest = hmac_hash(key, self._pepper)
        if record.hash.startswith(HMAC_PREFIX):
            return record if hmac.compare_digest(digest, record.hash) else None
        remembered = self._argon2_ok.get(digest)
        if remembered is not None:
            return record if hmac.compare_digest(remembered, record.id) else None
        if self.needs_slow_check(key) and _argon2_verify(record.hash, key):
            if len(self._argon2_ok) > 10_000:
                self._argon2_ok.clear()
            self._argon2_ok[digest] = record.id
            return record
        return None

    def needs_slow_check(self, key: str) -> bool:
        """True when verifying `key` would run argon2 (not yet remembered)."""
        parts = split_key(key)
        record = self._by_id.get(parts[0]) if parts else None
        return (record is not None and record.hash.startswith(ARGON2_PREFIX)
                and hmac_hash(key, self._pepper) not in self._argon2_ok)  # fmt: skip


def _argon2_verify(stored: str, key: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(stored, key)
    except (VerificationError, InvalidHashError):
        return False


def argon2_hash(key: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(key)


def load_pepper(keys_file: Path, create: bool = False) -> bytes:
    """$CUSTOS_GUARD_PEPPER, else the pepper file beside the keys file (created, 0600, with
    `create`)."""
    named = os.environ.get(PEPPER_ENV, "")
    if named:
        return named.encode()
    path = keys_file.parent / PEPPER_FILE
    if path.is_file():
        return path.read_bytes().strip()
    if not create:
        raise UserError(f"no pepper: set ${PEPPER_ENV} or create a key first ({path} missing)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_hex(32).encode())
    return path.read_bytes().strip()


def read_records(path: Path) -> list[KeyRecord]:
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        records = [
            KeyRecord(str(k["id"]), str(k["hash"]), float(k.get("rate", DEFAULT_RATE)),
                      float(k.get("burst", DEFAULT_BURST)))
            for k in data["keys"]
        ]  # fmt: skip
    except (OSError, ValueError, RecursionError, KeyError, TypeError) as e:
        raise UserError(f"{path}: not a keys file ({e})") from e
    for r in records:
        if not ID_PATTERN.fullmatch(r.id) or r.rate <= 0 or r.burst < 1:
            raise UserError(f"{path}: key {r.id!r}: bad id, rate or burst")
        if not r.hash.startswith((HMAC_PREFIX, ARGON2_PREFIX)):
            raise UserError(f"{path}: key {r.id!r}: unknown hash")
    return records


def load_ring(path: Path) -> KeyRing:
    records = read_records(path)
    if not records:
        raise UserError(f"{path}: no keys; create one with `custos guard key create ID`")
    return KeyRing(records, load_pepper(path))


def create_key(path: Path, key_id: str, rate: float, burst: float, argon2: bool = False) -> str:
    """Add a key to the keys file (created 0600) and return it; it is never stored."""
    if not ID_PATTERN.fullmatch(key_id):
        raise UserError(f"key id {key_id!r}: use 1 to 64 letters, digits, '-' or '_'")
    if rate <= 0 or burst < 1:
        raise UserError("rate must be above 0 and burst at least 1")
    records = read_records(path)
    if any(r.id == key_id for r in records):
        raise UserError(f"{path}: key {key_id!r} exists")
    key = f"{key_id}.{new_secret()}"
    digest = argon2_hash(key) if argon2 else hmac_hash(key, load_pepper(path, create=True))
    records.append(KeyRecord(key_id, digest, rate, burst))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"keys": [r.to_json() for r in records]}, f, indent=2)
    tmp.replace(path)
    return key


@dataclass(frozen=True, slots=True)
class JwtSettings:
    """Bearer JWTs besides API keys: HS256 with a shared secret or RS256 with a public key,
    the audience required. The principal is `jwt:<sub>` with the default rate and burst."""

    key: bytes | str
    algorithm: str  # HS256 or RS256
    audience: str
    rate: float = DEFAULT_RATE
    burst: float = DEFAULT_BURST


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


def verify_jwt(token: str, s: JwtSettings) -> KeyRecord | None:
    import warnings

    from authlib.deprecate import AuthlibDeprecationWarning  # type: ignore[import-untyped]

    with warnings.catch_warnings():  # authlib 1.x: "moves to joserfc" on import (as oidc.py)
        warnings.simplefilter("ignore", AuthlibDeprecationWarning)
        from authlib.jose import JsonWebToken  # type: ignore[import-untyped]
        from authlib.jose.errors import JoseError  # type: ignore[import-untyped]

    try:
        claims = JsonWebToken([s.algorithm]).decode(
            token, s.key, claims_options={"aud": {"essential": True, "value": s.audience},
                                          "sub": {"essential": True}})  # fmt: skip
        claims.validate(leeway=30)
    except (JoseError, ValueError):
        return None
    sub = str(claims.get("sub", ""))[:128]
    return KeyRecord(f"jwt:{sub}", "", s.rate, s.burst) if sub else None
