"""The server's accounts in the database: users, role bindings, sessions, login attempts and API
tokens. Functions over the caller's `Connection` (as custos.store.ledger), so a user action and
its ledger entry share one transaction; `transaction(store)` opens one on a `Store`.

Secrets never reach this module: sessions, tokens and recovery codes arrive as SHA-256 digests,
passwords as argon2id hashes. The one exception is a user's TOTP seed, which the server needs in
the clear to compute codes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from custos.errors import UserError
from custos.store.models import (
    ApiTokenRow,
    LoginAttemptRow,
    RecoveryCodeRow,
    RoleBindingRow,
    SessionRow,
    UserRow,
)

if TYPE_CHECKING:
    from custos.store.store import Store

USERS = cast(Table, UserRow.__table__)
BINDINGS = cast(Table, RoleBindingRow.__table__)
SESSIONS = cast(Table, SessionRow.__table__)
ATTEMPTS = cast(Table, LoginAttemptRow.__table__)
TOKENS = cast(Table, ApiTokenRow.__table__)
RECOVERY = cast(Table, RecoveryCodeRow.__table__)

RoleSystem = tuple[str, str | None]  # (role, system or None for every system)


@contextmanager
def transaction(store: Store) -> Iterator[Connection]:
    """One transaction on `store` (schema checked once per Store), committed when the block
    ends; database errors become StoreError."""
    with store._session() as session:  # the Store's own unit of work, as Store._ledger uses
        yield session.connection()


@dataclass(frozen=True)
class User:
    id: int
    username: str
    password_hash: str
    active: bool
    created_at: dt.datetime
    bindings: tuple[RoleSystem, ...]
    totp_secret: str | None = None  # pending while totp_enabled_at is None
    totp_enabled_at: dt.datetime | None = None
    totp_last_step: int | None = None

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None and self.totp_secret is not None


@dataclass(frozen=True)
class SessionInfo:
    id: int
    user_id: int
    created_at: dt.datetime
    last_seen_at: dt.datetime


@dataclass(frozen=True)
class Token:
    id: int
    name: str
    hint: str
    user_id: int
    role: str
    systems: tuple[str, ...]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


# -- users -------------------------------------------------------------------------------------


def create_user(
    conn: Connection,
    username: str,
    password_hash: str,
    bindings: Sequence[RoleSystem],
    now: dt.datetime,
) -> int:
    taken = conn.execute(select(USERS.c.id).where(USERS.c.username == username)).first()
    if taken is not None:
        raise UserError(f"user {username!r} already exists")
    user_id = conn.execute(
        insert(USERS).returning(USERS.c.id),
        {
            "username": username,
            "password_hash": password_hash,
            "active": True,
            "created_at": now,
            "password_changed_at": now,
        },
    ).scalar_one()
    if bindings:
        conn.execute(
            insert(BINDINGS),
            [{"user_id": user_id, "role": role, "system": system} for role, system in bindings],
        )
    return int(user_id)


def _bindings(conn: Connection, user_ids: Sequence[int]) -> dict[int, list[RoleSystem]]:
    found: dict[int, list[RoleSystem]] = {}
    query = (
        select(BINDINGS.c.user_id, BINDINGS.c.role, BINDINGS.c.system)
        .where(BINDINGS.c.user_id.in_(user_ids))
        .order_by(BINDINGS.c.id)
    )
    for user_id, role, system in conn.execute(query):
        found.setdefault(user_id, []).append((role, system))
    return found


def _users(conn: Connection, where: object | None = None) -> list[User]:
    query = select(USERS).order_by(USERS.c.username)
    if where is not None:
        query = query.where(where)  # type: ignore[arg-type]
    rows = conn.execute(query).mappings().all()
    bindings = _bindings(conn, [r["id"] for r in rows]) if rows else {}
    return [
        User(
            id=r["id"],
            username=r["username"],
            password_hash=r["password_hash"],
            active=bool(r["active"]),
            created_at=r["created_at"],
            bindings=tuple(bindings.get(r["id"], ())),
            totp_secret=r["totp_secret"],
            totp_enabled_at=r["totp_enabled_at"],
            totp_last_step=r["totp_last_step"],
        )
        for r in rows
    ]


def user_by_name(conn: Connection, username: str) -> User | None:
    found = _users(conn, USERS.c.username == username)
    return found[0] if found else None


def user_by_id(conn: Connection, user_id: int) -> User | None:
    found = _users(conn, USERS.c.id == user_id)
    return found[0] if found else None


def list_users(conn: Connection) -> list[User]:
    return _users(conn)


def set_bindings(conn: Connection, user_id: int, bindings: Sequence[RoleSystem]) -> None:
    """Replace the user's role bindings with `bindings` (in that order)."""
    conn.execute(delete(BINDINGS).where(BINDINGS.c.user_id == user_id))
    if bindings:
        conn.execute(
            insert(BINDINGS),
            [{"user_id": user_id, "role": role, "system": system} for role, system in bindings],
        )


def set_active(conn: Connection, user_id: int, active: bool) -> None:
    conn.execute(update(USERS).where(USERS.c.id == user_id).values(active=active))


def set_password(conn: Connection, user_id: int, password_hash: str, now: dt.datetime) -> None:
    conn.execute(
        update(USERS)
        .where(USERS.c.id == user_id)
        .values(password_hash=password_hash, password_changed_at=now)
    )


# -- sessions ----------------------------------------------------------------------------------


def create_session(conn: Connection, token_hash: bytes, user_id: int, now: dt.datetime) -> int:
    values = {"token_hash": token_hash, "user_id": user_id, "created_at": now, "last_seen_at": now}
    return int(conn.execute(insert(SESSIONS).returning(SESSIONS.c.id), values).scalar_one())


def find_session(conn: Connection, token_hash: bytes) -> SessionInfo | None:
    row = (
        conn.execute(select(SESSIONS).where(SESSIONS.c.token_hash == token_hash)).mappings().first()
    )
    if row is None:
        return None
    return SessionInfo(row["id"], row["user_id"], row["created_at"], row["last_seen_at"])


def touch_session(conn: Connection, session_id: int, now: dt.datetime) -> None:
    conn.execute(update(SESSIONS).where(SESSIONS.c.id == session_id).values(last_seen_at=now))


def delete_session(conn: Connection, session_id: int) -> None:
    conn.execute(delete(SESSIONS).where(SESSIONS.c.id == session_id))


def delete_sessions_of(conn: Connection, user_id: int, keep: int | None = None) -> int:
    """End a user's sessions (all but `keep`); returns how many ended."""
    statement = delete(SESSIONS).where(SESSIONS.c.user_id == user_id)
    if keep is not None:
        statement = statement.where(SESSIONS.c.id != keep)
    return int(conn.execute(statement).rowcount)


# -- login attempts ----------------------------------------------------------------------------


def record_attempt(
    conn: Connection, username: str, client: str, now: dt.datetime, succeeded: bool
) -> None:
    values = {"username": username, "client": client, "at": now, "succeeded": succeeded}
    conn.execute(insert(ATTEMPTS), values)


def failures_since(
    conn: Connection, column: str, value: str, since: dt.datetime
) -> tuple[int, dt.datetime | None]:
    """Failed attempts by `column` ("username" or "client") at or after `since`: count, latest."""
    key = ATTEMPTS.c[column]
    query = select(func.count(), func.max(ATTEMPTS.c.at)).where(
        key == value, ATTEMPTS.c.at >= since, ATTEMPTS.c.succeeded.is_(False)
    )
    count, last = conn.execute(query).one()
    if isinstance(last, str):  # SQLite returns max() of a datetime column as text
        last = dt.datetime.fromisoformat(last).replace(tzinfo=dt.UTC)
    return int(count), last


def prune_attempts(conn: Connection, before: dt.datetime) -> None:
    conn.execute(delete(ATTEMPTS).where(ATTEMPTS.c.at < before))


# -- API tokens --------------------------------------------------------------------------------


def create_token(
    conn: Connection,
    *,
    token_hash: bytes,
    hint: str,
    name: str,
    user_id: int,
    role: str,
    systems: Sequence[str],
    now: dt.datetime,
    expires_at: dt.datetime | None,
) -> int:
    values = {
        "token_hash": token_hash,
        "hint": hint,
        "name": name,
        "user_id": user_id,
        "role": role,
        "systems": list(systems),
        "created_at": now,
        "expires_at": expires_at,
    }
    return int(conn.execute(insert(TOKENS).returning(TOKENS.c.id), values).scalar_one())


def _token(row: object) -> Token:
    r = cast("dict[str, object]", row)
    return Token(
        id=cast(int, r["id"]),
        name=cast(str, r["name"]),
        hint=cast(str, r["hint"]),
        user_id=cast(int, r["user_id"]),
        role=cast(str, r["role"]),
        systems=tuple(cast("list[str]", r["systems"])),
        created_at=cast(dt.datetime, r["created_at"]),
        expires_at=cast("dt.datetime | None", r["expires_at"]),
        revoked_at=cast("dt.datetime | None", r["revoked_at"]),
        last_used_at=cast("dt.datetime | None", r["last_used_at"]),
    )


def find_token(conn: Connection, token_hash: bytes) -> Token | None:
    row = conn.execute(select(TOKENS).where(TOKENS.c.token_hash == token_hash)).mappings().first()
    return _token(row) if row is not None else None


def token_by_id(conn: Connection, token_id: int) -> Token | None:
    row = conn.execute(select(TOKENS).where(TOKENS.c.id == token_id)).mappings().first()
    return _token(row) if row is not None else None


def tokens_of(conn: Connection, user_id: int | None) -> list[Token]:
    """A user's tokens (every user's with None), newest first."""
    query = select(TOKENS).order_by(TOKENS.c.id.desc())
    if user_id is not None:
        query = query.where(TOKENS.c.user_id == user_id)
    return [_token(row) for row in conn.execute(query).mappings()]


def revoke_token(conn: Connection, token_id: int, now: dt.datetime) -> None:
    conn.execute(
        update(TOKENS)
        .where(TOKENS.c.id == token_id, TOKENS.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def touch_token(conn: Connection, token_id: int, now: dt.datetime) -> None:
    conn.execute(update(TOKENS).where(TOKENS.c.id == token_id).values(last_used_at=now))


# -- second factor (TOTP and recovery codes) ---------------------------------------------------
# The TOTP seed must be stored as is (the server recomputes codes from it); recovery codes arrive
# as SHA-256 digests like every other secret here.


def set_pending_totp(conn: Connection, user_id: int, secret: str) -> bool:
    """Store a new seed awaiting its first code; False when TOTP is already on (an enabled seed
    is never replaced: disable first)."""
    statement = (
        update(USERS)
        .where(USERS.c.id == user_id, USERS.c.totp_enabled_at.is_(None))
        .values(totp_secret=secret, totp_last_step=None)
    )
    return int(conn.execute(statement).rowcount) == 1


def clear_pending_totp(conn: Connection, user_id: int) -> None:
    conn.execute(
        update(USERS)
        .where(USERS.c.id == user_id, USERS.c.totp_enabled_at.is_(None))
        .values(totp_secret=None, totp_last_step=None)
    )


def enable_totp(
    conn: Connection, user_id: int, now: dt.datetime, step: int, code_hashes: Sequence[bytes]
) -> bool:
    """Turn the pending seed on, with `step` (the confirming code's) as the last one used, and
    replace the recovery codes. False when there is no pending seed."""
    statement = (
        update(USERS)
        .where(
            USERS.c.id == user_id,
            USERS.c.totp_secret.is_not(None),
            USERS.c.totp_enabled_at.is_(None),
        )
        .values(totp_enabled_at=now, totp_last_step=step)
    )
    if int(conn.execute(statement).rowcount) != 1:
        return False
    conn.execute(delete(RECOVERY).where(RECOVERY.c.user_id == user_id))
    if code_hashes:
        rows = [{"user_id": user_id, "code_hash": h, "used_at": None} for h in code_hashes]
        conn.execute(insert(RECOVERY), rows)
    return True


def disable_totp(conn: Connection, user_id: int) -> None:
    conn.execute(
        update(USERS)
        .where(USERS.c.id == user_id)
        .values(totp_secret=None, totp_enabled_at=None, totp_last_step=None)
    )
    conn.execute(delete(RECOVERY).where(RECOVERY.c.user_id == user_id))


def record_totp_step(conn: Connection, user_id: int, step: int) -> bool:
    """Move the last accepted step forward to `step`. False when it is not later than the stored
    one: another process accepted the same (or a later) code first, so this one is a replay."""
    last = USERS.c.totp_last_step
    statement = (
        update(USERS)
        .where(USERS.c.id == user_id, last.is_(None) | (last < step))
        .values(totp_last_step=step)
    )
    return int(conn.execute(statement).rowcount) == 1


def use_recovery_code(conn: Connection, user_id: int, code_hash: bytes, now: dt.datetime) -> bool:
    """Spend a recovery code; False when the user has no such unused code. One conditional
    update, so two processes cannot both spend the same code."""
    statement = (
        update(RECOVERY)
        .where(
            RECOVERY.c.user_id == user_id,
            RECOVERY.c.code_hash == code_hash,
            RECOVERY.c.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return int(conn.execute(statement).rowcount) >= 1


def unused_recovery_codes(conn: Connection, user_id: int) -> int:
    query = select(func.count()).where(RECOVERY.c.user_id == user_id, RECOVERY.c.used_at.is_(None))
    return int(conn.execute(query).scalar_one())
