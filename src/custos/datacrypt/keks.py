"""Key-encryption keys (KEKs): a registry of ids and their status in the project, and the
keys themselves kept outside the database and the registry.

- **file** (the default): `.custos/keks/<id>.key`, the KEK sealed with AES-256-GCM under a key
  derived from a passphrase by scrypt (n=2**15, r=8, p=1). The passphrase comes from
  `CUSTOS_KEK_PASSPHRASE` or, in the CLI, a prompt.
- **env**: the KEK is in an environment variable (base64 of 32 bytes) that the registry
  names: what a CI secret or a vault agent provides.
- an external KMS plugs in as a `KekSource` (one method: the key of an id).

Retired KEKs still open files (so they can be rekeyed), but the `encryption` check reports a
file under a retired KEK. A destroyed KEK (`custos shred --destroy-kek`) opens nothing again:
its key file is overwritten and removed, and the registry keeps its id, status and date so
every file still under it is known to be unrecoverable."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from custos._files import write_atomic
from custos.datacrypt.format import KEY_SIZE, check_kek_id
from custos.errors import UserError

PASSPHRASE_ENV = "CUSTOS_KEK_PASSPHRASE"  # noqa: S105 (a variable name)
MIN_PASSPHRASE = 12
REGISTRY = Path(".custos") / "keks.json"
KEY_DIR = Path(".custos") / "keks"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
Status = Literal["active", "retired", "destroyed"]


class KekSource(Protocol):
    """Where a KEK's bytes come from (a file, the environment, a KMS)."""

    def key(self, kek_id: str) -> bytes: ...


@dataclass(frozen=True)
class KekEntry:
    id: str
    status: Status
    source: Literal["file", "env"]
    created: str
    env: str | None = None  # the variable holding it, for source "env"
    destroyed: str | None = None  # when `custos shred --destroy-kek` destroyed it


def _registry_path(base: Path) -> Path:
    return base / REGISTRY


def load_registry(base: Path) -> dict[str, KekEntry]:
    path = _registry_path(base)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
        return {e["id"]: KekEntry(**e) for e in data["keks"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: not a KEK registry ({exc})") from None


def save_registry(base: Path, entries: dict[str, KekEntry]) -> None:
    body = {"keks": [asdict(e) for e in sorted(entries.values(), key=lambda e: e.id)]}
    write_atomic(_registry_path(base), (json.dumps(body, indent=2) + "\n").encode())


def _derive(passphrase: bytes, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=KEY_SIZE, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase)


def seal_key(kek_id: str, key: bytes, passphrase: bytes) -> bytes:
    """The key file's bytes: the KEK sealed under a passphrase (scrypt, AES-256-GCM)."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise UserError(f"the KEK passphrase must be at least {MIN_PASSPHRASE} characters")
    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(_derive(passphrase, salt)).encrypt(nonce, key, kek_id.encode())
    body = {
        "id": kek_id, "kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
        "salt": salt.hex(), "nonce": nonce.hex(), "sealed": sealed.hex(),
    }  # fmt: skip
    return (json.dumps(body, indent=2) + "\n").encode()


def open_key(path: Path, kek_id: str, passphrase: bytes) -> bytes:
    try:
        body = json.loads(path.read_text())
        salt, nonce = bytes.fromhex(body["salt"]), bytes.fromhex(body["nonce"])
        sealed = bytes.fromhex(body["sealed"])
        if (body["kdf"], body["n"], body["r"], body["p"]) != (
            "scrypt",
            SCRYPT_N,
            SCRYPT_R,
            SCRYPT_P,
        ):
            raise ValueError("unknown key derivation")
    except FileNotFoundError:
        raise UserError(f"{path}: the key file of KEK {kek_id!r} is missing") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: not a Custos KEK file ({exc})") from None
    try:
        return AESGCM(_derive(passphrase, salt)).decrypt(nonce, sealed, kek_id.encode())
    except InvalidTag:
        raise UserError(f"{path}: wrong passphrase for KEK {kek_id!r}") from None


def env_key(variable: str, kek_id: str) -> bytes:
    value = os.environ.get(variable)
    if not value:
        raise UserError(f"KEK {kek_id!r}: ${variable} is not set")
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise UserError(f"KEK {kek_id!r}: ${variable} is not base64") from None
    if len(key) != KEY_SIZE:
        raise UserError(f"KEK {kek_id!r}: ${variable} holds {len(key)} bytes, not {KEY_SIZE}")
    return key


@dataclass
class Keks:
    """The project's KEKs: the registry and a way to ask for the passphrase once."""

    base: Path
    passphrase: Callable[[], bytes]
    _cache: dict[str, bytes] | None = None

    @property
    def entries(self) -> dict[str, KekEntry]:
        return load_registry(self.base)

    def entry(self, kek_id: str) -> KekEntry:
        found = self.entries.get(kek_id)
        if found is None:
            raise UserError(f"KEK {kek_id!r} is not in {self.base / REGISTRY}")
        return found

    def key(self, kek_id: str) -> bytes:
        """The KEK's bytes (retired ones too: they still open files, to rekey them)."""
        cache = self._cache if self._cache is not None else {}
        self._cache = cache
        if kek_id not in cache:
            entry = self.entry(kek_id)
            if entry.status == "destroyed":
                raise UserError(f"KEK {kek_id!r} was destroyed on {entry.destroyed}: "
                                "files under it cannot be opened")  # fmt: skip
            if entry.source == "env":
                cache[kek_id] = env_key(entry.env or "", kek_id)
            else:
                cache[kek_id] = open_key(self.key_file(kek_id), kek_id, self.passphrase())
        return cache[kek_id]

    def key_file(self, kek_id: str) -> Path:
        return self.base / KEY_DIR / f"{kek_id}.key"

    def active(self, wanted: str | None) -> str:
        """The KEK to encrypt with: `wanted`, or the only active one."""
        if wanted is not None:
            if self.entry(wanted).status != "active":
                raise UserError(f"KEK {wanted!r} is retired: encrypt with an active one")
            return wanted
        active = [e.id for e in self.entries.values() if e.status == "active"]
        if len(active) != 1:
            what = "no active KEK (create one with `custos kek create ID`)" if not active else (
                f"{len(active)} active KEKs ({', '.join(sorted(active))}): choose one with --kek"
            )  # fmt: skip
            raise UserError(what)
        return active[0]

    def create(self, kek_id: str, env: str | None, now: dt.datetime) -> KekEntry:
        check = check_kek_id(kek_id)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", check):
            raise UserError(f"KEK id {kek_id!r}: letters, digits, '.', '_' and '-' only")
        entries = self.entries
        if kek_id in entries:
            raise UserError(f"KEK {kek_id!r} exists already")
        created = now.replace(microsecond=0).isoformat()
        if env is not None:
            if not _ENV_NAME.fullmatch(env):
                raise UserError(f"--env {env!r} is not an environment variable name")
            env_key(env, kek_id)  # it must hold a valid key now
            entry = KekEntry(kek_id, "active", "env", created, env)
        else:
            path = self.key_file(kek_id)
            if path.exists():
                raise UserError(f"{path}: exists already; move it away first")
            sealed = seal_key(kek_id, AESGCM.generate_key(bit_length=256), self.passphrase())
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(sealed)
            entry = KekEntry(kek_id, "active", "file", created)
        save_registry(self.base, {**entries, kek_id: entry})
        return entry

    def retire(self, kek_id: str) -> KekEntry:
        entries = self.entries
        entry = self.entry(kek_id)
        if entry.status == "destroyed":
            raise UserError(f"KEK {kek_id!r} was destroyed on {entry.destroyed}")
        retired = KekEntry(entry.id, "retired", entry.source, entry.created, entry.env)
        save_registry(self.base, {**entries, kek_id: retired})
        return retired

    def destroy(self, kek_id: str, now: dt.datetime) -> KekEntry:
        """Destroy a KEK for good: overwrite its key file and remove it, and mark it destroyed
        in the registry. A KEK held in an environment variable can only be marked: whoever
        keeps that secret must delete it (the caller says so)."""
        entries = self.entries
        entry = self.entry(kek_id)
        if entry.source == "file":
            overwrite_and_remove(self.key_file(kek_id))
        if self._cache:
            self._cache.pop(kek_id, None)
        when = now.replace(microsecond=0).isoformat()
        gone = KekEntry(entry.id, "destroyed", entry.source, entry.created, entry.env, when)
        save_registry(self.base, {**entries, kek_id: gone})
        return gone


def overwrite_and_remove(path: Path) -> None:
    """Overwrite a file with random bytes, fsync, remove it and fsync its directory. On
    copy-on-write filesystems and flash storage the old blocks may survive the overwrite, which
    is why crypto-shredding destroys a key rather than relying on wiping the data."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with path.open("r+b") as handle:
        left = size
        while left > 0:
            step = min(left, 1024 * 1024)
            handle.write(os.urandom(step))
            left -= step
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()
    sync_directory(path.parent)


def sync_directory(path: Path) -> None:
    """Make a removal or rename in `path` durable (POSIX; a no-op where directories cannot be
    opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
