"""Signing in and out: throttled password checks and session rows.

A failed login says the same thing whether the user exists or not, and costs the same time.
Attempts are recorded per username and client address; while either is locked, even the right
password is refused (and the attempt still counts), so a lockout cannot be probed.

A user with TOTP on also needs a current code or an unused recovery code in the same request (the
sign-in stays one stateless POST, so any app process can take it). A missing or wrong code is a
failed attempt like a wrong password; only when the password was right and nothing is locked
does the answer ask for the code, so the prompt cannot be used to test passwords of a locked
account.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from enum import Enum
from typing import NoReturn

from sqlalchemy.engine import Connection

from custos.errors import UserError
from custos.server import accounts
from custos.server.auth import passwords, sessions, totp
from custos.server.auth.throttle import Failures, locked_until
from custos.server.context import AppContext
from custos.server.logging import log_event
from custos.server.rbac import Principal
from custos.store import auth_store

# Attempts older than this are deleted as new ones arrive: throttling only looks one window back.
KEEP_ATTEMPTS = dt.timedelta(days=1)
WRONG_CREDENTIALS = "wrong username or password"
CODE_NEEDED = "enter the code from your authenticator app (or a recovery code)"
LOCKED = "too many failed sign-ins: try again in a few minutes"
WRONG_CURRENT = "the current password is wrong"


class Factor(Enum):
    """How the second factor of one attempt went."""

    not_needed = "not_needed"  # TOTP is off for the user (or the password already failed)
    missing = "missing"
    wrong = "wrong"  # invalid, replayed or already spent
    totp = "totp"
    recovery = "recovery"

    @property
    def passed(self) -> bool:
        return self in (Factor.not_needed, Factor.totp, Factor.recovery)


class LoginRefused(Exception):
    """Wrong credentials or a lockout; `message` is safe to show."""

    def __init__(self, message: str, locked: bool = False, needs_code: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.locked = locked
        self.needs_code = needs_code  # the password was right: ask for the second factor


@dataclass(frozen=True)
class NewSession:
    token: str  # the cookie value: shown to the browser only
    session_id: int
    user_id: int


def login(ctx: AppContext, username: str, password: str, client: str, code: str = "") -> NewSession:
    """Sign in: the password (and the second factor when the user has TOTP on) opens a session.
    Raises LoginRefused."""
    user = authenticate(ctx, username, password, client, code)
    now = ctx.now()
    with auth_store.transaction(ctx.store) as conn:
        if passwords.needs_rehash(user.password_hash):
            auth_store.set_password(conn, user.id, passwords.hash_password(password), now)
        token = sessions.new_token()
        session_id = auth_store.create_session(conn, sessions.token_hash(token), user.id, now)
    return NewSession(token, session_id, user.id)


def authenticate(
    ctx: AppContext,
    username: str,
    password: str,
    client: str,
    code: str = "",
    *,
    event: str = "login",
    second_factor: bool = True,
) -> auth_store.User:
    """Check a password and, for a user with TOTP on, the code (spending it), as one throttled
    attempt; the user on success, else LoginRefused. Also used to confirm who is at the keyboard
    before account changes (two-factor, password), so guessing there counts towards the same
    lockout. `event` names the log events (`<event>.failed`, `<event>.succeeded`);
    `second_factor=False` checks the password alone, for a caller whose session already
    passed the second factor."""
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
    if not (ok and user is not None and user.active and until is None):
        user = None  # from here on, None means: refused before the second factor
    with auth_store.transaction(ctx.store) as conn:
        # In the same transaction as the attempt, so a code is spent only along with a recorded
        # attempt; the conditional updates stop two processes taking one code.
        factor = Factor.not_needed
        if user is not None and second_factor:
            factor = _second_factor(conn, user, code, now)
        ok = user is not None and factor.passed
        auth_store.record_attempt(conn, name, client, now, ok)
        auth_store.prune_attempts(conn, now - KEEP_ATTEMPTS)
        if ok and user is not None and factor is Factor.recovery:
            _record_recovery_use(ctx, conn, user, now)
    if not ok or user is None:
        _refuse(event, name, client, locked=until is not None, factor=factor)
    log_event(f"{event}.succeeded", username=name, client=client, factor=factor.value)
    return user


def change_password(
    ctx: AppContext, principal: Principal, *, current: str, new: str, client: str
) -> None:
    """Change the caller's password. The current one is checked as a sign-in attempt would be
    (counted, and refused while the username or address is locked), so a stolen session cannot
    guess it faster than the login form allows; then the other sessions end. Raises UserError
    for an unacceptable new password, LoginRefused for a wrong current one or a lockout."""
    accounts.check_password(new)  # before any attempt: nothing about `current` is learnt here
    if new == current:
        raise UserError("the new password must differ from the current one")
    try:
        authenticate(
            ctx, principal.username, current, client, event="password_change", second_factor=False
        )
    except LoginRefused as refused:
        if refused.locked:
            raise
        raise LoginRefused(WRONG_CURRENT) from None
    accounts.set_password(
        ctx.store, ctx.settings.project_dir, principal, new=new, now=ctx.now(),
        keep_session=principal.session_token,
    )  # fmt: skip


def _second_factor(conn: Connection, user: auth_store.User, code: str, now: dt.datetime) -> Factor:
    """Check (and spend) the second factor of a user whose password was right."""
    if not user.totp_enabled or user.totp_secret is None:
        return Factor.not_needed
    if not code.strip():
        return Factor.missing
    if totp.looks_like_totp(code):
        step = totp.verify(user.totp_secret, code, now, user.totp_last_step)
        accepted = step is not None and auth_store.record_totp_step(conn, user.id, step)
        return Factor.totp if accepted else Factor.wrong
    spent = auth_store.use_recovery_code(conn, user.id, totp.recovery_hash(code), now)
    return Factor.recovery if spent else Factor.wrong


def _record_recovery_use(
    ctx: AppContext, conn: Connection, user: auth_store.User, now: dt.datetime
) -> None:
    """A spent recovery code means the authenticator was not at hand: worth an audit trail
    (how many codes remain, never which one was used)."""
    payload = {
        "action": "user.recovery_code_used",
        "user": user.username,
        "remaining": auth_store.unused_recovery_codes(conn, user.id),
    }
    accounts.record_event(conn, ctx.settings.project_dir, user.username, now, payload)


def _refuse(event: str, name: str, client: str, *, locked: bool, factor: Factor) -> NoReturn:
    log_event(
        f"{event}.failed",
        logging.WARNING,
        username=name,
        client=client,
        locked=locked,
        factor=factor.value,
    )
    if locked:
        raise LoginRefused(LOCKED, locked=True)
    # `missing` only arises after a right password on an open account (see `authenticate`).
    if factor is Factor.missing:
        raise LoginRefused(CODE_NEEDED, needs_code=True)
    raise LoginRefused(WRONG_CREDENTIALS)


def logout(ctx: AppContext, cookie: str) -> None:
    with auth_store.transaction(ctx.store) as conn:
        found = auth_store.find_session(conn, sessions.token_hash(cookie))
        if found is not None:
            auth_store.delete_session(conn, found.id)
