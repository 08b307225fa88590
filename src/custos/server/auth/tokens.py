"""API tokens: `cst_` + 32 random bytes (URL-safe base64), stored as their SHA-256.

The prefix makes a leaked token recognisable to secret scanners and to people; the secret has
256 bits of entropy, so a plain SHA-256 (no salt, no slow hash) is enough to store it safely.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "cst_"
TOKEN_BYTES = 32
HINT_LENGTH = 8  # "cst_" and 4 characters: enough to tell tokens apart in a list


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(value: str) -> bool:
    return value.startswith(PREFIX) and 20 <= len(value) <= 100


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def hint(token: str) -> str:
    return token[:HINT_LENGTH]
