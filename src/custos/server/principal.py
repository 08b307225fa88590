"""Who is calling: a session cookie or a Bearer API token, checked against the database.

Everything is read from the database on each request (stateless app processes). A request
with a Bearer header is judged by the token alone, even if it also carries a cookie.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import Request
from sqlalchemy.engine import Connection

from custos.server.auth import sessions, tokens
from custos.server.context import AppContext, context
from custos.server.errors import Unauthenticated
from custos.server.logging import log_event
from custos.server.rbac import Binding, Principal, Role
from custos.store import auth_store
from custos.store.auth_store import RoleSystem
from custos.store.errors import StoreError


def bindings(pairs: tuple[RoleSystem, ...]) -> tuple[Binding, ...]:
    return tuple(Binding(Role(role), system) for role, system in pairs)


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("the Authorization header must be `Bearer <token>`")
    return value.strip()


def _credential(request: Request) -> tuple[str | None, str | None]:
    """(Bearer token, session cookie): a request with a Bearer header is judged by it alone."""
    secret = bearer(request)
    cookie = request.cookies.get(sessions.COOKIE_NAME) if secret is None else None
    return secret, cookie or None


def _recent_key(secret: str | None, cookie: str | None) -> bytes:
    if secret is not None:
        return b"t" + tokens.token_hash(secret)
    return b"s" + sessions.token_hash(cookie or "")


def recent(request: Request) -> Principal | None:
    """The caller as resolved a moment ago in this process (see auth/recent.py), or None when
    that must be asked of the database. Cheap: no I/O, so it runs on the event loop."""
    secret, cookie = _credential(request)
    if secret is None and cookie is None:
        return None
    ctx = context(request)
    found = ctx.principals.get(_recent_key(secret, cookie), ctx.now())
    return found if isinstance(found, Principal) else None


def resolve(request: Request) -> Principal | None:
    """The caller, or None when the request carries no credential at all. A credential that is
    wrong, expired or revoked is an error (401), not an anonymous request."""
    ctx = context(request)
    secret, cookie = _credential(request)
    if secret is None and cookie is None:
        return None
    writes: list[Write] = []
    with auth_store.transaction(ctx.store) as conn:
        if secret is not None:
            found: Principal | None = _from_token(conn, ctx, secret, writes)
        else:
            found = _from_session(conn, ctx, cookie or "", writes)
    _after(ctx, writes)
    if found is not None:
        ctx.principals.put(_recent_key(secret, cookie), ctx.now(), found)
    return found


Write = Callable[[Connection], None]


def _after(ctx: AppContext, writes: list[Write]) -> None:
    """Bookkeeping (last-seen times, removing a dead session) in a transaction of its own, after
    the read: SQLite refuses a read transaction's late write while another process writes, and
    a missed timestamp must not fail the request it describes."""
    if not writes:
        return
    try:
        with auth_store.transaction(ctx.store) as conn:
            for write in writes:
                write(conn)
    except StoreError as exc:
        log_event("auth.bookkeeping_skipped", logging.WARNING, error=type(exc).__name__)


def _from_session(
    conn: Connection, ctx: AppContext, cookie: str, writes: list[Write]
) -> Principal | None:
    now = ctx.now()
    found = auth_store.find_session(conn, sessions.token_hash(cookie))
    if found is None:
        return None  # logged out or expired and removed: treat as anonymous (login again)
    live = sessions.is_live(found.created_at, found.last_seen_at, now, ctx.settings.sessions)
    user = auth_store.user_by_id(conn, found.user_id) if live else None
    if user is None or not user.active:
        writes.append(lambda c: auth_store.delete_session(c, found.id))
        return None
    if sessions.needs_touch(found.last_seen_at, now):
        writes.append(lambda c: auth_store.touch_session(c, found.id, now))
    return Principal(user.id, user.username, bindings(user.bindings), "session", None, cookie)


def _from_token(conn: Connection, ctx: AppContext, secret: str, writes: list[Write]) -> Principal:
    now = ctx.now()
    found = (
        auth_store.find_token(conn, tokens.token_hash(secret))
        if tokens.looks_like_token(secret)
        else None
    )
    if found is None or found.revoked_at is not None:
        raise Unauthenticated("the API token is not valid")
    if found.expires_at is not None and found.expires_at <= now:
        raise Unauthenticated("the API token has expired")
    user = auth_store.user_by_id(conn, found.user_id)
    if user is None or not user.active:
        raise Unauthenticated("the API token is not valid")
    if found.last_used_at is None or sessions.needs_touch(found.last_used_at, now):
        writes.append(lambda c: auth_store.touch_token(c, found.id, now))
    role = Role(found.role)
    scoped = tuple(Binding(role, s) for s in found.systems) or (Binding(role, None),)
    return Principal(user.id, user.username, scoped, "token", bindings(user.bindings))
