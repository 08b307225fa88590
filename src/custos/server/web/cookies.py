"""The cookies the web pages set, all HttpOnly, with one rule for Secure: always with
`--secure-cookies` (behind a TLS-terminating proxy), else when the request itself is HTTPS or a
trusted proxy says it was (X-Forwarded-Proto, see custos.server.proxies)."""

from __future__ import annotations

from typing import Literal

from fastapi import Request, Response

from custos.server.auth import sessions
from custos.server.context import context, is_https
from custos.server.proxies import forwarded_https

SameSite = Literal["lax", "strict"]


def secure(request: Request) -> bool:
    settings = context(request).settings
    return settings.secure_cookies or is_https(request) or forwarded_https(request)


def set_private(
    response: Response,
    request: Request,
    name: str,
    value: str,
    *,
    path: str,
    samesite: SameSite = "lax",
    max_age: int | None = None,
) -> None:
    """A cookie no script may read (HttpOnly), sent only under `path`."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite=samesite,
        path=path,
        secure=secure(request),
    )


def set_session(response: Response, request: Request, token: str) -> None:
    """The session cookie after a sign-in (password or single sign-on). SameSite=Lax, not
    Strict: a link from elsewhere (a mail, the provider's redirect) must arrive signed in."""
    set_private(response, request, sessions.COOKIE_NAME, token, path="/")
