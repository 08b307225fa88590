"""Signing in with OpenID Connect: `/login/oidc` sends the browser to the provider, and
`/login/oidc/callback` takes it back, checks everything and opens a session as `/login` does.

The sign-in in flight lives in the database (any replica may take the callback) and its state is
also set in a cookie, so a callback URL made in one browser cannot sign in another (login CSRF).
Users are matched by their linked subject, else once by username (then linked); nobody is
created here.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Connection

from custos.server import accounts
from custos.server.auth import oidc, sessions
from custos.server.context import AppContext, client_address, context, is_https
from custos.server.errors import NotFound
from custos.server.guards import public
from custos.server.logging import log_event
from custos.server.web.pages import safe_next
from custos.server.web.render import Pages
from custos.store import auth_store, oidc_links

START_PATH = "/login/oidc"
CALLBACK_PATH = "/login/oidc/callback"
STATE_COOKIE = "custos_oidc_state"
AGAIN = "start again from the sign-in page"
STATE_MISMATCH = "state_mismatch"  # the `reason` of a callback whose state is not this browser's

Param = Annotated[str, Query(max_length=4000)]


class Refused(Exception):
    """A sign-in that ends on an error page; `message` is safe to show, `reason` to log."""

    def __init__(self, status: int, message: str, reason: str, username: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.username = username


@dataclass(frozen=True)
class SignedIn:
    token: str  # the session cookie's value
    username: str
    next_path: str


def secure_cookies(request: Request) -> bool:
    """As pages.py decides for its cookies: Secure when configured or over HTTPS."""
    return context(request).settings.secure_cookies or is_https(request)


def configured(ctx: AppContext) -> oidc.OidcConfig:
    if ctx.settings.oidc is None:
        raise NotFound("not found")  # as if the route did not exist
    return ctx.settings.oidc


def redirect_uri(request: Request, config: oidc.OidcConfig) -> str:
    # Sent twice (authorization and token requests) and compared by the provider with the
    # registered one; behind a proxy the request's own URL may differ, hence the setting.
    return config.redirect_url or str(request.base_url).rstrip("/") + CALLBACK_PATH


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get(START_PATH, dependencies=[public()])
    def start(request: Request, next: Param = "/") -> Response:
        ctx = context(request)
        config = configured(ctx)
        try:
            provider = oidc.discover(config)
        except oidc.OidcError as exc:
            log_event("oidc.unavailable", logging.WARNING, reason=exc.message)
            return pages.error(request, 502, f"single sign-on is unavailable: {exc.message}")
        pending = oidc.new_pending()
        with auth_store.transaction(ctx.store) as conn:
            oidc_links.save_login(
                conn,
                state_hash=oidc.state_hash(pending.state),
                nonce=pending.nonce,
                code_verifier=pending.code_verifier,
                next_path=safe_next(next),
                now=ctx.now(),
            )
        target = oidc.authorization_url(provider, config, pending, redirect_uri(request, config))
        response = RedirectResponse(target, status_code=303)
        # Lax, not Strict: the provider's redirect back is a cross-site navigation.
        response.set_cookie(
            STATE_COOKIE,
            pending.state,
            max_age=int(oidc_links.MAX_AGE.total_seconds()),
            httponly=True,
            samesite="lax",
            path=START_PATH,
            secure=secure_cookies(request),
        )
        return response

    @routes.get(CALLBACK_PATH, dependencies=[public()])
    def callback(
        request: Request, state: Param = "", code: Param = "", error: Param = ""
    ) -> Response:
        ctx = context(request)
        config = configured(ctx)
        try:
            made = complete(ctx, config, request, state=state, code=code, error=error)
        except Refused as refused:
            return _refused_page(pages, request, refused)
        return _signed_in(request, made)

    return routes


def _signed_in(request: Request, made: SignedIn) -> Response:
    log_event("login.succeeded", via="oidc", username=made.username, client=client_address(request))
    response = RedirectResponse(safe_next(made.next_path), status_code=303)
    response.set_cookie(
        sessions.COOKIE_NAME,
        made.token,
        httponly=True,
        samesite="lax",
        path="/",
        secure=secure_cookies(request),
    )
    response.delete_cookie(STATE_COOKIE, path=START_PATH)  # spent with its sign-in
    return response


def _refused_page(pages: Pages, request: Request, refused: Refused) -> Response:
    log_event(
        "login.failed",
        logging.WARNING,
        via="oidc",
        username=refused.username,
        client=client_address(request),
        reason=refused.reason,
        detail=refused.message,  # made by us: never a token, code or secret
    )
    response = pages.error(request, refused.status, refused.message)
    if refused.reason != STATE_MISMATCH:
        # Spent. A state that did not match leaves the cookie alone: it may belong to a sign-in
        # of this browser still in flight, which a forged callback must not disturb.
        response.delete_cookie(STATE_COOKIE, path=START_PATH)
    return response


def complete(
    ctx: AppContext, config: oidc.OidcConfig, request: Request, *, state: str, code: str, error: str
) -> SignedIn:
    """The callback's work: the sign-in in flight, the provider's answer, the account, the
    session. Raises Refused."""
    pending = _take_pending(ctx, request, state)
    if error:
        message = f"the single sign-on provider did not sign you in ({oidc.error_code(error)})"
        raise Refused(401, f"{message}; {AGAIN}", "provider_error")
    if not code:
        raise Refused(400, f"the single sign-on answer has no code; {AGAIN}", "no_code")
    uri = redirect_uri(request, config)
    try:
        provider = oidc.discover(config)
        token = oidc.exchange_code(provider, config, code, pending.code_verifier, uri)
        identity = oidc.validate_id_token(
            token, provider, config, nonce=pending.nonce, now=ctx.now()
        )
    except oidc.ProviderUnavailable as exc:
        raise Refused(502, f"single sign-on is unavailable: {exc.message}", "unavailable") from None
    except oidc.OidcError as exc:
        message = f"single sign-on failed: {exc.message}; {AGAIN}"
        raise Refused(401, message, "invalid_token") from None
    return _open_session(ctx, identity, provider.issuer, pending.next_path)


def _take_pending(ctx: AppContext, request: Request, state: str) -> oidc_links.PendingLogin:
    # The cookie first: a callback URL replayed in another browser must not use up the sign-in
    # it names.
    cookie = request.cookies.get(STATE_COOKIE, "")
    if not state or not cookie or not secrets.compare_digest(cookie.encode(), state.encode()):
        raise Refused(
            400,
            f"this sign-in was not started in this browser or has expired; {AGAIN}",
            STATE_MISMATCH,
        )
    with auth_store.transaction(ctx.store) as conn:
        pending = oidc_links.take_login(conn, oidc.state_hash(state), ctx.now())
    if pending is None:
        raise Refused(
            400, f"this sign-in has expired or was already used; {AGAIN}", "state_unknown"
        )
    return pending


def _open_session(
    ctx: AppContext, identity: oidc.Identity, issuer: str, next_path: str
) -> SignedIn:
    now = ctx.now()
    with auth_store.transaction(ctx.store) as conn:
        user = _account(conn, ctx, identity, issuer)
        token = sessions.new_token()
        auth_store.create_session(conn, sessions.token_hash(token), user.id, now)
    return SignedIn(token, user.username, next_path)


def _account(
    conn: Connection, ctx: AppContext, identity: oidc.Identity, issuer: str
) -> auth_store.User:
    """The user this identity signs in as: the one linked to its subject, else the active user
    of that username, linked now (and recorded in the ledger). Refuses anyone else."""
    user = oidc_links.user_by_subject(conn, identity.subject)
    if user is None:
        user = _link_by_username(conn, ctx, identity, issuer)
    if not user.active:
        raise Refused(
            403,
            f"the Custos account {user.username} is deactivated; ask an administrator",
            "inactive",
            user.username,
        )
    return user


def _link_by_username(
    conn: Connection, ctx: AppContext, identity: oidc.Identity, issuer: str
) -> auth_store.User:
    name = identity.username
    if name is None:
        raise Refused(
            403,
            "the single sign-on provider sent no username for you; ask an administrator",
            "no_username",
        )
    user = auth_store.user_by_name(conn, name[:64])
    # Compared again in full: the column holds 64 characters, a claim may be longer.
    if user is None or user.username != name:
        raise Refused(
            403,
            f"no Custos account for {name[:64]}; ask an administrator",
            "unknown_user",
            name[:64],
        )
    if not user.active:
        return user  # refused by the caller, and not linked
    if not oidc_links.link_subject(conn, user.id, identity.subject):
        # Already linked to another subject: a second identity must not take the account over.
        raise Refused(
            403,
            f"the Custos account {name} is linked to another single sign-on identity; "
            "ask an administrator",
            "linked_elsewhere",
            name,
        )
    payload = {
        "action": "user.oidc_linked",
        "user": name,
        "issuer": issuer,
        "subject": identity.subject.removeprefix(f"{issuer}|"),
    }
    accounts.record_event(conn, ctx.settings.project_dir, name, ctx.now(), payload)
    return user
