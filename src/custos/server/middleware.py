"""Pure ASGI middleware: a body size limit checked before any route reads the body, and the
access log. Plain ASGI rather than Starlette's `BaseHTTPMiddleware`, which costs a task and a
stream per layer and request (a third of a small request's time here)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from custos.server.auth.recent import Recent
from custos.server.logging import log_event

MiB = 1024 * 1024


class BodyLimit:
    """Refuse request bodies over a limit with 413, by Content-Length up front and by counting
    what arrives (chunked uploads). `routes` pairs a path prefix with its own limit."""

    def __init__(self, app: ASGIApp, default: int, routes: Sequence[tuple[str, int]] = ()) -> None:
        self.app = app
        self.default = default
        self.routes = tuple(routes)

    def limit_for(self, path: str) -> int:
        return next((n for prefix, n in self.routes if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, limit)
            return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            # Past the limit: answer 413 now and tell the app the client went away, so no
            # route parses a partial body (and whatever it answers then is dropped).
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    if not started:
                        await _too_large(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, tracked)


async def _too_large(send: Send, limit: int) -> None:
    body = b'{"error":"the request body is larger than %d bytes"}' % limit
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AccessLog:
    """One JSON line per request: method, path (never the query string, which may carry user
    input), status and duration. Headers are never logged: they carry credentials."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: list[int] = [500]

        async def seen(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, seen)
        finally:
            log_event(
                "http.request",
                logging.INFO,
                method=scope["method"],
                path=scope["path"],
                status=status[0],
                ms=round((time.perf_counter() - started) * 1000, 1),
            )


def header_list(message: Message) -> list[tuple[bytes, bytes]]:
    """The response headers of an `http.response.start` message, as a list to extend."""
    headers: Any = message.setdefault("headers", [])
    if not isinstance(headers, list):
        headers = list(headers)
        message["headers"] = headers
    return headers  # type: ignore[no-any-return]


class Wrap:
    """`app.add_middleware(Wrap, wrap=f)` for middleware written as a function of the app."""

    def __init__(self, app: ASGIApp, wrap: Callable[[ASGIApp], ASGIApp]) -> None:
        self.inner = wrap(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.inner(scope, receive, send)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ForgetPrincipals:
    """Empties the recent-principal cache after every state-changing request, whatever it
    changed: a revoked token, a logout or a new binding counts from the next request on."""

    def __init__(self, app: ASGIApp, recent: Recent) -> None:
        self.app = app
        self.recent = recent

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return

        async def answered(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.recent.clear()  # before the client can hear the change is done
            await send(message)

        try:
            await self.app(scope, receive, answered)
        finally:
            self.recent.clear()
