"""The pages of this foundation: sign in, sign out, the start page and password change.

The login form is protected against login CSRF with a double-submit cookie (there is no session
yet to tie a token to); every later form carries the session's CSRF token, checked by `requires`.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from custos.errors import UserError
from custos.server.auth import passwords, sessions
from custos.server.context import context
from custos.server.errors import Forbidden
from custos.server.guards import optional_principal, public, requires
from custos.server.login import LoginRefused, change_password, login, logout
from custos.server.proxies import client_address
from custos.server.rbac import Permission, Principal
from custos.server.web import cookies
from custos.server.web.render import Pages

LOGIN_CSRF_COOKIE = "custos_login_csrf"

Self = Annotated[Principal, requires(Permission.self_, "any")]
MaybeUser = Annotated[Principal | None, Depends(optional_principal)]


def safe_next(target: str) -> str:
    """Only local paths: an open redirect would make the login page a phishing aid."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def login_form(
        request: Request,
        *,
        message: str = "",
        next_: str = "/",
        username: str = "",
        status: int = 200,
        needs_code: bool = False,
    ) -> Response:
        token = secrets.token_urlsafe(32)
        response = pages.render(
            "login.html",
            title="Sign in",
            message=message,
            next=safe_next(next_),
            username=username,
            login_csrf=token,
            status=status,
            needs_code=needs_code,
            oidc=context(request).settings.oidc is not None,  # the single sign-on button
        )
        cookies.set_private(
            response, request, LOGIN_CSRF_COOKIE, token, path="/login", samesite="strict"
        )
        return response

    @routes.get("/login", dependencies=[public()])
    def login_page(request: Request, principal: MaybeUser, next: str = "/") -> Response:
        if principal is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        return login_form(request, next_=next)

    @routes.post("/login", dependencies=[public()])
    def login_submit(
        request: Request,
        username: Annotated[str, Form(max_length=200)],
        password: Annotated[str, Form(max_length=passwords.MAX_LENGTH)],
        csrf_token: Annotated[str, Form(max_length=200)] = "",
        next: Annotated[str, Form(max_length=2000)] = "/",
        code: Annotated[str, Form(max_length=64)] = "",  # TOTP or recovery code, when enabled
    ) -> Response:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(expected, csrf_token):
            raise Forbidden("the sign-in form expired; reload the page and try again")
        try:
            made = login(context(request), username, password, client_address(request), code)
        except LoginRefused as refused:
            status = 429 if refused.locked else 401
            return login_form(
                request,
                message=refused.message,
                next_=next,
                username=username[:64],
                status=status,
                needs_code=refused.needs_code,
            )
        response = RedirectResponse(safe_next(next), status_code=303)
        cookies.set_session(response, request, made.token)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    @routes.post("/logout")
    def logout_submit(request: Request, principal: Self) -> Response:
        if principal.session_token is not None:
            logout(context(request), principal.session_token)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(sessions.COOKIE_NAME, path="/")
        return response

    # The start page "/" is the dashboard (custos.server.web.dashboard).

    def password_form(
        principal: Principal, *, message: str = "", status: int = 200, done: bool = False
    ) -> Response:
        return pages.render(
            "password.html",
            principal=principal,
            title="Change password",
            min_length=passwords.MIN_LENGTH,
            message=message,
            status=status,
            done=done,
        )

    @routes.get("/password")
    def password_page(principal: Self) -> Response:
        return password_form(principal)

    @routes.post("/password")
    def password_submit(
        request: Request,
        principal: Self,
        current: Annotated[str, Form(max_length=passwords.MAX_LENGTH)],
        new: Annotated[str, Form(max_length=passwords.MAX_LENGTH)],
    ) -> Response:
        client = client_address(request)
        try:
            change_password(context(request), principal, current=current, new=new, client=client)
        except UserError as exc:
            return password_form(principal, message=str(exc), status=400)
        except LoginRefused as refused:
            # A wrong current password counts as a failed sign-in; a lockout says so.
            return password_form(
                principal, message=refused.message, status=429 if refused.locked else 400
            )
        return password_form(principal, message="Your password was changed.", done=True)

    return routes
