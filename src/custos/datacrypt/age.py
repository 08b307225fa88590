"""age files (age-encryption.org/v1, X25519 recipients), verified through `pyrage` for interop:
a team that already encrypts datasets with age keeps doing so, and the `encryption` check still
proves every byte authenticates. Custos never writes age files.

Identities come from `CUSTOS_AGE_IDENTITY`: either the secret keys themselves
(`AGE-SECRET-KEY-1...`, several separated by newlines or commas) or the path of an identity
file as `age -i` reads it (one key per line, `#` comments). The plaintext is streamed into a
sink that counts bytes: nothing is written and memory holds one chunk."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Literal

from custos.errors import UserError

IDENTITY_ENV = "CUSTOS_AGE_IDENTITY"
SECRET_PREFIX = "AGE-SECRET-KEY-1"  # noqa: S105 (the format's prefix, not a secret)
Verdict = Literal["verified", "no-matching-identity"]


class AgeUnavailable(Exception):
    """pyrage is not installed, or no identity was given: the file cannot be verified."""


class AgeAuthenticationError(ValueError):
    """The age file does not decrypt: changed, truncated or damaged."""


class _Sink(io.RawIOBase):
    def __init__(self) -> None:
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        size = len(data)
        self.count += size
        return size


def _pyrage() -> Any:
    try:
        import pyrage
    except ImportError:
        raise AgeUnavailable("pyrage is not installed (pip install 'custos[age]')") from None
    return pyrage


def identities(environ: dict[str, str] | None = None) -> list[Any]:
    """The X25519 identities in $CUSTOS_AGE_IDENTITY; AgeUnavailable when it is unset or pyrage
    is missing, UserError when what it names is not a set of age identities."""
    env = os.environ if environ is None else environ
    value = env.get(IDENTITY_ENV, "").strip()
    if not value:
        raise AgeUnavailable(f"${IDENTITY_ENV} is not set")
    pyrage = _pyrage()
    if value.startswith(SECRET_PREFIX):
        lines = value.replace(",", "\n").splitlines()
        where = f"${IDENTITY_ENV}"
    else:
        try:
            lines = Path(value).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"${IDENTITY_ENV}: cannot read identity file {value}: {exc}") from None
        where = value
    keys = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not keys:
        raise UserError(f"{where}: no age identity in it")
    parsed = []
    for number, key in enumerate(keys, 1):
        try:
            parsed.append(pyrage.x25519.Identity.from_str(key))
        except Exception:  # pyrage.IdentityError; the key itself is never echoed
            raise UserError(f"{where}: identity {number} is not an age X25519 secret key") from None
    return parsed


def verify(path: Path, keys: list[Any]) -> Verdict:
    """Decrypt `path` into nothing: "verified" when every chunk authenticated, or
    "no-matching-identity" when the file is for other recipients; AgeAuthenticationError when
    it does not decrypt."""
    pyrage = _pyrage()
    try:
        with path.open("rb") as handle:
            pyrage.decrypt_io(handle, _Sink(), keys)
    except pyrage.DecryptError as exc:
        if "no matching keys" in str(exc).lower():
            return "no-matching-identity"
        raise AgeAuthenticationError(f"does not decrypt: {exc}") from None
    except OSError as exc:  # pyrage reports a failed chunk tag as an I/O error
        if isinstance(exc, FileNotFoundError | PermissionError):
            raise
        raise AgeAuthenticationError(f"does not decrypt: {exc}") from None
    return "verified"
