"""Signing in with OpenID Connect: `/login/oidc` sends the browser to the provider, and
`/login/oidc/callback` takes it back, checks everything and opens a session as `/login` does.

The sign-in in flight lives in the database (any replica may take the callback) and its state is
also set in a cookie, so a callback URL made in one browser cannot sign in another (login CSRF).
Starting is anonymous, so it is throttled per client address and the sign-ins in flight are
capped (custos.server.auth.throttle): anonymous traffic cannot grow the table without bound.

Users are matched by their linked subject. Only with `link_by_username` on is an unlinked
identity linked, once, to the account its username claim names, and never to an administrator
or a user with two-factor sign-in (whoever controls that claim would otherwise take those over
with the provider's password alone). Nobody is created here.
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
from custos.server.auth.throttle import Bursts
from custos.server.context import AppContext, context
from custos.server.errors import NotFound
from custos.server.guards import public
from custos.server.logging import log_event
from custos.server.proxies import client_address
from custos.server.rbac import Role
from custos.server.web import cookies
from custos.server.web.pages import safe_next
from custos.server.web.render import Pages
from custos.store import auth_store, oidc_links

START_PATH = "/login/oidc"
CALLBACK_PATH = "/login/oidc/callback"
STATE_COOKIE = "custos_oidc_state"
AGAIN = "start again from the sign-in page"
STATE_MISMATCH = "state_mismatch"  # the `reason` of a callback whose state is not this browser's
TOO_MANY = "too many single sign-on attempts; try again in a few minutes"

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
    starts = Bursts()  # per app (so per process): counts in memory, nothing written per request

    @routes.get(START_PATH, dependencies=[public()])
    def start(request: Request, next: Param = "/") -> Response:
        ctx = context(request)
        config = configured(ctx)
        policy = ctx.settings.throttle
        client = client_address(request)
        if not starts.allow(
            client, ctx.now(), policy.oidc_starts_per_client, policy.oidc_start_window
        ):
            log_event("oidc.throttled", logging.WARNING, client=client, reason="client")
            return pages.error(request, 429, TOO_MANY)
        try:
            provider = oidc.discover(config)
        except oidc.OidcError as exc:
            log_event("oidc.unavailable", logging.WARNING, reason=exc.message)
            return pages.error(request, 502, f"single sign-on is unavailable: {exc.message}")
        pending = oidc.new_pending()
        with auth_store.transaction(ctx.store) as conn:
            saved = oidc_links.save_login(
                conn,
                state_hash=oidc.state_hash(pending.state),
                nonce=pending.nonce,
                code_verifier=pending.code_verifier,
                next_path=safe_next(next),
                now=ctx.now(),
                max_pending=policy.oidc_pending_max,
            )
        if not saved:
            log_event("oidc.throttled", logging.WARNING, client=client, reason="pending_max")
            return pages.error(request, 429, TOO_MANY)
        target = oidc.authorization_url(provider, config, pending, redirect_uri(request, config))
        response = RedirectResponse(target, status_code=303)
        # Lax, not Strict: the provider's redirect back is a cross-site navigation.
        cookies.set_private(
            response,
            request,
            STATE_COOKIE,
            pending.state,
            path=START_PATH,
            max_age=int(oidc_links.MAX_AGE.total_seconds()),
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
    cookies.set_session(response, request, made.token)
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
    return _open_session(ctx, config, identity, provider.issuer, pending.next_path)


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
    ctx: AppContext, config: oidc.OidcConfig, identity: oidc.Identity, issuer: str, next_path: str
) -> SignedIn:
    now = ctx.now()
    with auth_store.transaction(ctx.store) as conn:
        user = _account(conn, ctx, config, identity, issuer)
        token = sessions.new_token()
        auth_store.create_session(conn, sessions.token_hash(token), user.id, now)
    return SignedIn(token, user.username, next_path)


def _account(
    conn: Connection,
    ctx: AppContext,
    config: oidc.OidcConfig,
    identity: oidc.Identity,
    issuer: str,
) -> auth_store.User:
    """The user this identity signs in as: the one linked to its subject, else (only with
    `link_by_username`) the active user of that username, linked now (and recorded in the
    ledger). Refuses anyone else."""
    user = oidc_links.user_by_subject(conn, identity.subject)
    if user is None and not config.link_by_username:
        name = identity.username[:64] if identity.username else None
        raise Refused(
            403,
            "your single sign-on identity is not linked to a Custos account; ask an administrator",
            "not_linked",
            name,
        )
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
    if _not_linkable(user):
        # These accounts guard more than the provider's password does: linking them on a claim
        # would hand them to whoever can set that claim, and skip their second factor.
        raise Refused(
            403,
            f"the Custos account {name} cannot be linked by username (it is an administrator "
            "or uses two-factor sign-in); ask an administrator",
            "not_linkable",
            name,
        )
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


def _not_linkable(user: auth_store.User) -> bool:
    is_admin = any(role == Role.admin.value for role, _system in user.bindings)
    return is_admin or user.totp_enabled
