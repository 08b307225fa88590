"""Two-factor sign-in pages under /account/two-factor: turn TOTP on (QR code, a first code to
confirm, recovery codes shown once) and off.

Every change first proves who is at the keyboard (the password; to turn it off, a code too)
through `login.authenticate`, so guesses here count towards the same lockout as the sign-in
form. The changes are made from a browser session only: an API token is a credential of its own
and must not be able to weaken the account it belongs to. Turning TOTP on or off goes to the
evidence ledger, never with a secret or code in the entry.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Annotated

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from custos.server import accounts
from custos.server.auth import passwords, totp
from custos.server.context import AppContext, context
from custos.server.errors import Forbidden
from custos.server.guards import requires
from custos.server.login import LOCKED, LoginRefused, authenticate
from custos.server.proxies import client_address
from custos.server.rbac import Permission, Principal
from custos.server.web.render import Pages
from custos.store import auth_store

BASE = "/account/two-factor"
CODE_MAX = 64  # generous: codes may be typed with spaces or dashes
QR_SCALE = 5
TITLE = "Two-factor sign-in"
EVENT = "two_factor.check"  # log events of the re-authentication on these pages
RETRY = "two-factor sign-in changed in another window: check the state below"

Self = Annotated[Principal, requires(Permission.self_, "any")]
Password = Annotated[str, Form(max_length=passwords.MAX_LENGTH)]
Code = Annotated[str, Form(max_length=CODE_MAX)]


def qr_data_uri(content: str) -> str:
    """`content` as a QR code in an SVG data URI for an <img> (the CSP's img-src allows data:).
    segno's SVG is paths with presentation attributes, no `style` and no script, and an SVG
    loaded as an image could not run a script anyway."""
    buffer = io.BytesIO()
    segno.make(content, error="m").save(
        buffer,
        kind="svg",
        scale=QR_SCALE,
        xmldecl=False,
        svgclass=None,
        lineclass=None,
        dark="#000",
        light="#fff",  # scanners need the quiet zone light whatever the page colours
    )
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def spaced(secret: str) -> str:
    """The base32 seed in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _browser_only(principal: Principal) -> None:
    if principal.via != "session":
        raise Forbidden("two-factor sign-in is managed in the browser, not with an API token")


@dataclass(frozen=True)
class State:
    user: auth_store.User
    remaining: int  # unused recovery codes

    @property
    def pending(self) -> bool:
        return self.user.totp_secret is not None and not self.user.totp_enabled


def _state(ctx: AppContext, principal: Principal) -> State:
    with auth_store.transaction(ctx.store) as conn:
        user = auth_store.user_by_id(conn, principal.user_id)
        if user is None:  # deleted while signed in
            raise Forbidden("this account no longer exists")
        return State(user, auth_store.unused_recovery_codes(conn, user.id))


def _refusal(refused: LoginRefused, what: str) -> tuple[str, int]:
    """The message and status for a failed re-authentication on these pages."""
    if refused.locked:
        return LOCKED, 429
    if refused.needs_code:
        return refused.message, 400
    return f"the {what} is wrong", 400


def _event(principal: Principal, action: str) -> dict[str, str]:
    """A ledger payload: who and what, never the seed or a code."""
    return {"action": action, "user": principal.username}


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def show(
        principal: Principal,
        state: State,
        *,
        message: str = "",
        done: bool = False,
        status: int = 200,
    ) -> Response:
        """The page for the user's current state: off, enrolment pending (QR code) or on."""
        user = state.user
        enrolment: dict[str, str] = {}
        if state.pending and user.totp_secret is not None:
            uri = totp.provisioning_uri(user.totp_secret, user.username)
            enrolment = {"qr": qr_data_uri(uri), "manual_key": spaced(user.totp_secret)}
        return pages.render(
            "mfa.html",
            principal=principal,
            title=TITLE,
            base=BASE,
            enabled=user.totp_enabled,
            enabled_at=user.totp_enabled_at,
            pending=state.pending,
            remaining=state.remaining,
            message=message,
            done=done,
            status=status,
            **enrolment,
        )

    @routes.get(BASE)
    def state_page(request: Request, principal: Self) -> Response:
        _browser_only(principal)
        return show(principal, _state(context(request), principal))

    @routes.post(f"{BASE}/enrol")
    def enrol(request: Request, principal: Self, password: Password) -> Response:
        """Check the password and store a new pending seed; the page shows it as a QR code."""
        _browser_only(principal)
        ctx = context(request)
        state = _state(ctx, principal)
        if state.user.totp_enabled:
            return show(principal, state, message="two-factor sign-in is already on", status=409)
        try:
            authenticate(ctx, principal.username, password, client_address(request), event=EVENT)
        except LoginRefused as refused:
            message, status = _refusal(refused, "password")
            return show(principal, state, message=message, status=status)
        with auth_store.transaction(ctx.store) as conn:
            auth_store.set_pending_totp(conn, principal.user_id, totp.new_secret())
        return show(principal, _state(ctx, principal))

    @routes.post(f"{BASE}/confirm")
    def confirm(request: Request, principal: Self, code: Code) -> Response:
        """A first valid code proves the app holds the seed: turn TOTP on, show recovery codes."""
        _browser_only(principal)
        ctx = context(request)
        state = _state(ctx, principal)
        secret = state.user.totp_secret
        if not state.pending or secret is None:
            message = "start by entering your password to get a QR code"
            return show(principal, state, message=message, status=409)
        now = ctx.now()
        step = totp.verify(secret, code, now, None)
        if step is None:
            message = "that code is not valid: check the clock on your device and try again"
            return show(principal, state, message=message, status=400)
        codes = totp.new_recovery_codes()
        with auth_store.transaction(ctx.store) as conn:
            hashes = [totp.recovery_hash(c) for c in codes]
            if not auth_store.enable_totp(conn, principal.user_id, now, step, hashes):
                # Another request turned it on (or restarted enrolment) in the meantime.
                return show(principal, _state(ctx, principal), message=RETRY, status=409)
            payload = _event(principal, "user.totp_enabled")
            accounts.record_event(conn, ctx.settings.project_dir, principal.username, now, payload)
        return pages.render(
            "mfa_codes.html", principal=principal, title="Your recovery codes", codes=codes
        )

    @routes.post(f"{BASE}/disable")
    def disable(request: Request, principal: Self, password: Password, code: Code) -> Response:
        """Password and a current code (or a recovery code) turn TOTP off."""
        _browser_only(principal)
        ctx = context(request)
        state = _state(ctx, principal)
        if not state.user.totp_enabled:
            return show(principal, state, message="two-factor sign-in is not on", status=409)
        client = client_address(request)
        try:
            authenticate(ctx, principal.username, password, client, code, event=EVENT)
        except LoginRefused as refused:
            message, status = _refusal(refused, "password or code")
            return show(principal, _state(ctx, principal), message=message, status=status)
        now = ctx.now()
        with auth_store.transaction(ctx.store) as conn:
            auth_store.disable_totp(conn, principal.user_id)
            payload = _event(principal, "user.totp_disabled")
            accounts.record_event(conn, ctx.settings.project_dir, principal.username, now, payload)
        message = "Two-factor sign-in is off."
        return show(principal, _state(ctx, principal), message=message, done=True)

    return routes
