"""OpenID Connect in the database: sign-ins in flight (`oidc_logins`) and the subjects linked to
users (`users.oidc_subject`, "issuer|sub"). Functions over the caller's `Connection`, as
custos.store.auth_store; open one with `auth_store.transaction(store)`.

A sign-in in flight is kept here rather than in the app process, so the provider's callback may
reach any replica. Its `state` is stored only as a SHA-256 digest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from custos.store import auth_store
from custos.store.models import OidcLoginRow

LOGINS = cast(Table, OidcLoginRow.__table__)
USERS = auth_store.USERS

# How long a user may take at the provider; older sign-ins are refused and pruned.
MAX_AGE = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class PendingLogin:
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)
    next_path: str
    created_at: dt.datetime


def save_login(
    conn: Connection,
    *,
    state_hash: bytes,
    nonce: str,
    code_verifier: str,
    next_path: str,
    now: dt.datetime,
    max_pending: int,
) -> bool:
    """Store a sign-in in flight; False (nothing stored) when `max_pending` are in flight
    already, so anonymous traffic cannot grow the table beyond that."""
    # Pruning as rows arrive keeps abandoned sign-ins from piling up without a background job.
    prune_logins(conn, now - MAX_AGE)
    if pending_logins(conn) >= max_pending:
        return False
    values = {
        "state_hash": state_hash,
        "nonce": nonce,
        "code_verifier": code_verifier,
        "next_path": next_path,
        "created_at": now,
    }
    conn.execute(insert(LOGINS), values)
    return True


def pending_logins(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(LOGINS)).scalar_one())


def take_login(conn: Connection, state_hash: bytes, now: dt.datetime) -> PendingLogin | None:
    """The sign-in with this state, deleted as it is read (None if unknown, already taken or
    older than MAX_AGE). One DELETE ... RETURNING: of two callbacks racing with one state, on
    any replicas, only one gets the row."""
    statement = (
        delete(LOGINS)
        .where(LOGINS.c.state_hash == state_hash)
        .returning(LOGINS.c.nonce, LOGINS.c.code_verifier, LOGINS.c.next_path, LOGINS.c.created_at)
    )
    row = conn.execute(statement).mappings().first()
    prune_logins(conn, now - MAX_AGE)
    if row is None or row["created_at"] < now - MAX_AGE:
        return None
    return PendingLogin(row["nonce"], row["code_verifier"], row["next_path"], row["created_at"])


def prune_logins(conn: Connection, before: dt.datetime) -> None:
    conn.execute(delete(LOGINS).where(LOGINS.c.created_at < before))


def user_by_subject(conn: Connection, subject: str) -> auth_store.User | None:
    user_id = conn.execute(select(USERS.c.id).where(USERS.c.oidc_subject == subject)).scalar()
    return auth_store.user_by_id(conn, int(user_id)) if user_id is not None else None


def subject_of(conn: Connection, user_id: int) -> str | None:
    value = conn.execute(select(USERS.c.oidc_subject).where(USERS.c.id == user_id)).scalar()
    return str(value) if value is not None else None


def link_subject(conn: Connection, user_id: int, subject: str) -> bool:
    """Link `subject` to a user who has none yet; False if the user is already linked (to this
    or another subject), so a link is never silently replaced."""
    statement = (
        update(USERS)
        .where(USERS.c.id == user_id, USERS.c.oidc_subject.is_(None))
        .values(oidc_subject=subject)
    )
    return int(conn.execute(statement).rowcount) == 1
