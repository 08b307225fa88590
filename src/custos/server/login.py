"""Signing in and out: throttled password checks and session rows.

A failed login says the same thing whether the user exists or not, and costs the same time.
Attempts are recorded per username and client address; while either is locked, even the right
password is refused (and the attempt still counts), so a lockout cannot be probed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from custos.server.auth import passwords, sessions
from custos.server.auth.throttle import Failures, locked_until
from custos.server.context import AppContext
from custos.server.logging import log_event
from custos.store import auth_store

# Attempts older than this are deleted as new ones arrive: throttling only looks one window back.
KEEP_ATTEMPTS = dt.timedelta(days=1)


class LoginRefused(Exception):
    """Wrong credentials or a lockout; `message` is safe to show."""

    def __init__(self, message: str, locked: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.locked = locked


@dataclass(frozen=True)
class NewSession:
    token: str  # the cookie value: shown to the browser only
    session_id: int
    user_id: int


def login(ctx: AppContext, username: str, password: str, client: str) -> NewSession:
    now = ctx.now()
    policy = ctx.settings.throttle
    name = username[:64]
    with auth_store.transaction(ctx.store) as conn:
        since = now - policy.window
        user_count, user_last = auth_store.failures_since(conn, "username", name, since)
        client_count, client_last = auth_store.failures_since(conn, "client", client, since)
        user = auth_store.user_by_name(conn, name)
    until = locked_until(Failures(user_count, user_last, client_count, client_last), policy)
    # Verify even when locked, so a locked account answers as slowly as an open one.
    ok = passwords.verify(user.password_hash if user else None, password)
    ok = ok and user is not None and user.active and until is None
    with auth_store.transaction(ctx.store) as conn:
        auth_store.record_attempt(conn, name, client, now, ok)
        auth_store.prune_attempts(conn, now - KEEP_ATTEMPTS)
        if ok and user is not None:
            if passwords.needs_rehash(user.password_hash):
                auth_store.set_password(conn, user.id, passwords.hash_password(password), now)
            token = sessions.new_token()
            session_id = auth_store.create_session(conn, sessions.token_hash(token), user.id, now)
    if not ok or user is None:
        locked = until is not None
        log_event("login.failed", logging.WARNING, username=name, client=client, locked=locked)
        if locked:
            raise LoginRefused("too many failed sign-ins: try again in a few minutes", locked=True)
        raise LoginRefused("wrong username or password")
    log_event("login.succeeded", username=name, client=client)
    return NewSession(token, session_id, user.id)


def logout(ctx: AppContext, cookie: str) -> None:
    with auth_store.transaction(ctx.store) as conn:
        found = auth_store.find_session(conn, sessions.token_hash(cookie))
        if found is not None:
            auth_store.delete_session(conn, found.id)
