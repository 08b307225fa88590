"""The second factor: TOTP codes (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps) and one-time
recovery codes. Pure functions, no I/O: the caller keeps the secret, the last accepted step and
the recovery code hashes in the database.

A code is accepted for the current step or one step either side (a phone's clock may drift),
and never for a step at or before the last one accepted, so a code seen over a shoulder or in a
proxy log cannot be used again, not even within its own 30 seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

import pyotp

ISSUER = "Custos"
DIGITS = 6
DRIFT_STEPS = 1  # steps accepted either side of the current one
RECOVERY_COUNT = 10
# Codes are typed from paper: no 0/o, 1/l/i to mix up. 31 symbols x 12 = 59 bits per code,
# far beyond what throttled online guessing (5 tries per 15 minutes) can reach.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_GROUPS, RECOVERY_GROUP_LEN = 3, 4
_SEPARATORS = re.compile(r"[\s-]+")
_TOTP_CODE = re.compile(rf"[0-9]{{{DIGITS}}}")


def new_secret() -> str:
    """A random base32 seed (160 bits, the RFC 4226 recommended length)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """The `otpauth://` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def _clean(code: str) -> str:
    """What the user typed without spaces and dashes ("123 456" as some apps show it)."""
    return _SEPARATORS.sub("", code).lower()


def looks_like_totp(code: str) -> bool:
    """Six digits: a TOTP code; anything else is taken for a recovery code."""
    return _TOTP_CODE.fullmatch(_clean(code)) is not None


def verify(secret: str, code: str, now: dt.datetime, last_step: int | None) -> int | None:
    """The step `code` belongs to when it is valid at `now` (within the drift window) and later
    than `last_step`; None otherwise. Record the returned step as the new last step."""
    typed = _clean(code)
    if _TOTP_CODE.fullmatch(typed) is None:
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS)
    current = totp.timecode(now)
    accepted: int | None = None
    # Every candidate is compared (no early exit), in constant time, so the answer's timing
    # does not tell which step matched.
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        fresh = last_step is None or step > last_step
        if hmac.compare_digest(totp.generate_otp(step), typed) and fresh:
            accepted = step
    return accepted


def new_recovery_codes(count: int = RECOVERY_COUNT) -> list[str]:
    """`count` random codes shaped `xxxx-xxxx-xxxx`, to show the user once."""
    return [_recovery_code() for _ in range(count)]


def _recovery_code() -> str:
    groups = (
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LEN))
        for _ in range(RECOVERY_GROUPS)
    )
    return "-".join(groups)


def recovery_hash(code: str) -> bytes:
    """SHA-256 of the normalised code (lower case, no dashes or spaces), so "ABCD EFGH JKMN"
    and "abcd-efgh-jkmn" are the same code. Only this digest is stored; a plain hash suffices
    because the codes are long random strings, not passwords."""
    return hashlib.sha256(_clean(code).encode("utf-8")).digest()
