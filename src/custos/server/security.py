"""Security headers on every response: a strict Content-Security-Policy (no inline scripts or
styles: pages load /static files only), no framing, no MIME sniffing, no referrer leaks, and no
caching of pages that may show private data."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from custos.server.middleware import header_list

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    """Adds the headers above to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(_ENCODED)
        if not scope["path"].startswith("/static/"):
            extra.append((b"cache-control", b"no-store"))
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", b"max-age=31536000"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = header_list(message)
                present = {name.lower() for name, _ in headers}
                headers.extend((n, v) for n, v in extra if n not in present)
            await send(message)

        await self.app(scope, receive, with_headers)


_ENCODED = tuple((name.lower().encode(), value.encode()) for name, value in HEADERS.items())
