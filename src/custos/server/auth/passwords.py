"""Password hashing with argon2id (argon2-cffi), and the minimum a password must meet.

argon2-cffi's defaults follow RFC 9106's second recommended option (argon2id, t=3, m=64 MiB,
p=4). A hash made with older parameters is re-hashed on the next successful login.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 accepts more, but hashing megabytes on request is a denial of service

_HASHER = PasswordHasher(type=Type.ID)
# Verified when the username does not exist, so an unknown user costs as much as a wrong password.
_DUMMY = _HASHER.hash("custos-dummy-password-for-timing")


def problem(password: str) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"the password must have at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"the password must have at most {MAX_LENGTH} characters"
    if not password.strip():
        return "the password must not be only spaces"
    return None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored`; with no stored hash, spends the same time and
    returns False."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored if stored is not None else _DUMMY, password) and (
            stored is not None
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)
