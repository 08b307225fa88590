"""Errors a request can end in, and how they are answered: JSON `{"error": ...}` under /api,
friendly HTML pages (or a redirect to /login) for the web UI.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from custos.errors import UserError
from custos.server.auth.passwords import Busy
from custos.server.logging import log_event
from custos.store.errors import StoreError, UnstorableText

if TYPE_CHECKING:
    from custos.server.web.render import Pages


class ApiError(Exception):
    """A request that cannot be served; `status` and a one-line message safe to show, and for
    the API optional `details`: more fields of the JSON answer beside `error`."""

    status = 400

    def __init__(
        self, message: str, status: int | None = None, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details: Mapping[str, Any] = details or {}
        if status is not None:
            self.status = status


class Unauthenticated(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class Unprocessable(ApiError):
    """Well-formed but refused: it would break the inventory (an unknown reference, ...)."""

    status = 422


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _answer(
    request: Request,
    pages: Pages,
    status: int,
    message: str,
    details: Mapping[str, Any] | None = None,
) -> Response:
    if is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        body = {**(details or {}), "error": message}
        return JSONResponse(body, status_code=status, headers=headers)
    if status == 401:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return pages.error(request, status, message)


def install(app: FastAPI, pages: Pages) -> None:
    """Register the handlers: every error answer is made here."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return _answer(request, pages, exc.status, exc.message, exc.details)

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> Response:
        return _answer(request, pages, 400, str(exc).splitlines()[0])

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: "not found", 405: "method not allowed"}
        message = messages.get(exc.status_code) or str(exc.detail)
        return _answer(request, pages, exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request"
        return _answer(request, pages, 422, message)

    @app.exception_handler(Busy)
    async def _busy(request: Request, _exc: Busy) -> Response:
        # Nothing was checked (no attempt is recorded): asking again shortly is safe.
        log_event("auth.hashing_busy", logging.WARNING, path=request.url.path)
        return _answer(request, pages, 503, "the server is busy; try again in a moment")

    @app.exception_handler(UnstorableText)
    async def _unstorable(request: Request, exc: UnstorableText) -> Response:
        return _answer(request, pages, 422, str(exc))

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError) -> Response:
        log_event("store.error", logging.ERROR, path=request.url.path, error=type(exc).__name__)
        return _answer(request, pages, 503, "the database is unavailable; try again later")

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        log_event("internal.error", logging.ERROR, path=request.url.path, error=type(exc).__name__)
        return _answer(request, pages, 500, "internal error")
