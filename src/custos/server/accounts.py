"""User management: create users, change passwords, deactivate and reactivate users, reset
a second factor, create and revoke API tokens.

Each action is one transaction that also appends a kind "event" entry to the evidence ledger
(who did what, never a secret), so the ledger shows every change to who may do what.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from custos import ledger_records as records
from custos.errors import UserError
from custos.server.auth import passwords, sessions, tokens
from custos.server.rbac import Binding, Principal, Role, within
from custos.store import auth_store, ledger
from custos.store.ledger_key import load_signer
from custos.store.store import Store

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
TOKEN_NAME_MAX = 200


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username):
        raise UserError(
            f"username {username[:64]!r} must be 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    return username


def check_password(password: str) -> str:
    why = passwords.problem(password)
    if why is not None:
        raise UserError(why)
    return password


def record_event(
    conn: Connection, project_dir: Path, actor: str, now: dt.datetime, payload: dict[str, Any]
) -> None:
    """Append one user-action event to the ledger inside the caller's transaction."""
    entry = records.event_entry(payload, now, actor)
    ledger.append(conn, [entry], load_signer(project_dir, create=True))


def create_user(
    store: Store,
    project_dir: Path,
    *,
    username: str,
    password: str,
    bindings: Sequence[Binding],
    actor: str,
    now: dt.datetime,
) -> int:
    check_username(username)
    check_password(password)
    hashed = passwords.hash_password(password)  # slow: outside the transaction
    pairs = [(b.role.value, b.system) for b in bindings]
    with auth_store.transaction(store) as conn:
        user_id = auth_store.create_user(conn, username, hashed, pairs, now)
        payload = {
            "action": "user.created",
            "user": username,
            "bindings": [{"role": r, "system": s} for r, s in pairs],
        }
        record_event(conn, project_dir, actor, now, payload)
    return user_id


def set_password(
    store: Store,
    project_dir: Path,
    principal: Principal,
    *,
    new: str,
    now: dt.datetime,
    keep_session: str | None,
) -> None:
    """Set the caller's new password and end their other sessions (all but the one whose
    cookie is `keep_session`); API tokens stay. The caller has checked the current password
    (custos.server.login.change_password does, throttled like a sign-in)."""
    check_password(new)
    hashed = passwords.hash_password(new)  # slow: outside the transaction
    with auth_store.transaction(store) as conn:
        auth_store.set_password(conn, principal.user_id, hashed, now)
        kept = auth_store.find_session(conn, sessions.token_hash(keep_session or ""))
        auth_store.delete_sessions_of(conn, principal.user_id, keep=kept.id if kept else None)
        payload = {"action": "user.password_changed", "user": principal.username}
        record_event(conn, project_dir, principal.username, now, payload)


def set_active(
    store: Store,
    project_dir: Path,
    actor: Principal,
    user_id: int,
    *,
    active: bool,
    now: dt.datetime,
) -> auth_store.User | None:
    """Deactivate a user (their sessions end now; their API tokens are refused while they are
    inactive, since every request checks the owner) or reactivate one (their unexpired tokens
    work again). None when there is no such user. Admins cannot deactivate themselves: the
    last one would lock everybody out of user management."""
    if not active and user_id == actor.user_id:
        raise UserError("you cannot deactivate your own account")
    with auth_store.transaction(store) as conn:
        user = auth_store.user_by_id(conn, user_id)
        if user is None:
            return None
        if not active:
            auth_store.delete_sessions_of(conn, user_id)  # also any left from a race
        if user.active != active:
            auth_store.set_active(conn, user_id, active)
            action = "user.reactivated" if active else "user.deactivated"
            record_event(
                conn, project_dir, actor.username, now, {"action": action, "user": user.username}
            )
        return auth_store.user_by_id(conn, user_id)


def set_bindings(
    store: Store,
    project_dir: Path,
    actor: Principal,
    user_id: int,
    bindings: Sequence[Binding],
    *,
    now: dt.datetime,
) -> auth_store.User | None:
    """Replace a user's role bindings (duplicates dropped, order kept). None when there is no
    such user. An admin cannot take away their own global admin binding: the last one would
    lock everybody out of user management. API tokens never exceed their creator's current
    bindings, so a narrowed user's tokens narrow at once."""
    pairs = list(dict.fromkeys((b.role.value, b.system) for b in bindings))
    if user_id == actor.user_id and (Role.admin.value, None) not in pairs:
        raise UserError("you cannot remove your own admin role")
    with auth_store.transaction(store) as conn:
        user = auth_store.user_by_id(conn, user_id)
        if user is None:
            return None
        if list(user.bindings) != pairs:
            auth_store.set_bindings(conn, user_id, pairs)
            payload = {
                "action": "user.bindings_changed",
                "user": user.username,
                "bindings": [{"role": r, "system": s} for r, s in pairs],
            }
            record_event(conn, project_dir, actor.username, now, payload)
        return auth_store.user_by_id(conn, user_id)


def reset_second_factor(
    store: Store, project_dir: Path, actor: Principal, user_id: int, *, now: dt.datetime
) -> auth_store.User | None:
    """Remove a user's TOTP seed (on or pending) and recovery codes, for someone who lost their
    authenticator: they sign in with the password alone until they enrol again. None when there
    is no such user; nothing is recorded when there was nothing to remove."""
    with auth_store.transaction(store) as conn:
        user = auth_store.user_by_id(conn, user_id)
        if user is None:
            return None
        codes = auth_store.unused_recovery_codes(conn, user_id)
        if user.totp_secret is not None or codes:
            auth_store.disable_totp(conn, user_id)
            payload = {"action": "user.totp_reset", "user": user.username}
            record_event(conn, project_dir, actor.username, now, payload)
        return auth_store.user_by_id(conn, user_id)


@dataclass(frozen=True)
class NewToken:
    token: auth_store.Token
    secret: str  # shown once, never stored


def create_token(
    store: Store,
    project_dir: Path,
    principal: Principal,
    *,
    name: str,
    role: Role,
    systems: Sequence[str],
    expires_at: dt.datetime | None,
    now: dt.datetime,
) -> NewToken:
    if not name.strip() or len(name) > TOKEN_NAME_MAX:
        raise UserError(f"the token name must have 1-{TOKEN_NAME_MAX} characters")
    if expires_at is not None and expires_at <= now:
        raise UserError("the token expiry must be in the future")
    scoped = [Binding(role, s) for s in systems] or [Binding(role)]
    if not within(scoped, principal.bindings) or principal.ceiling is not None:
        # A token may not mint tokens, and nobody may give a token more than they hold.
        raise UserError("a token's role and systems must be within your own")
    secret = tokens.new_token()
    with auth_store.transaction(store) as conn:
        token_id = auth_store.create_token(
            conn,
            token_hash=tokens.token_hash(secret),
            hint=tokens.hint(secret),
            name=name,
            user_id=principal.user_id,
            role=role.value,
            systems=list(systems),
            now=now,
            expires_at=expires_at,
        )
        payload = {
            "action": "token.created",
            "token": token_id,
            "owner": principal.username,
            "role": role.value,
            "systems": list(systems),
            "expires_at": expires_at.isoformat() if expires_at else None,
        }
        record_event(conn, project_dir, principal.username, now, payload)
        created = auth_store.token_by_id(conn, token_id)
    assert created is not None
    return NewToken(created, secret)


def revoke_token(
    store: Store,
    project_dir: Path,
    principal: Principal,
    token_id: int,
    *,
    is_admin: bool,
    now: dt.datetime,
) -> bool:
    """Revoke one of the caller's tokens (any token for an admin). False when there is no such
    token the caller may see."""
    with auth_store.transaction(store) as conn:
        found = auth_store.token_by_id(conn, token_id)
        if found is None or (found.user_id != principal.user_id and not is_admin):
            return False
        if found.revoked_at is None:
            auth_store.revoke_token(conn, token_id, now)
            payload = {"action": "token.revoked", "token": token_id}
            record_event(conn, project_dir, principal.username, now, payload)
    return True
