"""Browser sessions: a random cookie token, its SHA-256 in the database, idle and absolute expiry.

The cookie holds 32 random bytes (URL-safe base64); the database holds only their SHA-256, so a
database dump does not let anyone sign in. A session ends after `idle` without a request or
`absolute` after login, whichever comes first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

COOKIE_NAME = "custos_session"
TOKEN_BYTES = 32
# Only record activity this often: a write per request would serialise readers on SQLite.
TOUCH_EVERY = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class SessionPolicy:
    idle: dt.timedelta = dt.timedelta(minutes=30)
    absolute: dt.timedelta = dt.timedelta(hours=12)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def is_live(
    created_at: dt.datetime, last_seen_at: dt.datetime, now: dt.datetime, policy: SessionPolicy
) -> bool:
    return now - last_seen_at < policy.idle and now - created_at < policy.absolute


def needs_touch(last_seen_at: dt.datetime, now: dt.datetime) -> bool:
    return now - last_seen_at >= TOUCH_EVERY
