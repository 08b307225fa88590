"""Real HTTP servers on 127.0.0.1, each in a thread, that log every request they receive.

- `secure`: a key is required (Authorization: Bearer), 429 after `limit` keyed requests, nosniff
  and no-store on every answer, no documentation, rounded scores.
- `leaky`: everything the rules look for: no key needed (`mode="open"`) or any key at all,
  also in the query string (`mode="any-key"`); a Python traceback on bad JSON that echoes the
  request headers; `Server: uvicorn/0.30.1`; /docs, /openapi.json, /metrics, /v1/models,
  /collections and /api/kernels open; wildcard CORS with credentials; raw probability vectors;
  no rate limit. /redoc redirects to another port (the `decoy`), which must never be asked.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

KEY = "sk-test-5f0c9a1e7b2d4c6e8a0b1c2d3e4f5a6b"

TRACEBACK = """Traceback (most recent call last):
  File "/srv/app/server.py", line 88, in predict
    payload = json.loads(body)
  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads
    return _default_decoder.decode(s)
json.decoder.JSONDecodeError: Expecting value: line 1 column 18 (char 17)
request headers: {headers}
"""


@dataclass
class Hit:
    method: str
    path: str
    host: str
    client: str


@dataclass
class Running:
    port: int
    hits: list[Hit] = field(default_factory=list)
    state: dict[str, int] = field(default_factory=dict)

    def url(self, path: str = "/predict", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def reset(self) -> None:
        self.hits.clear()
        self.state.clear()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    running: Running
    server_header = "api"

    def version_string(self) -> str:
        return self.server_header

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _hit(self) -> None:
        self.running.hits.append(Hit(self.command, self.path, self.headers.get("host", ""),
                                     self.client_address[0]))  # fmt: skip

    def answer(self, status: int, body: str | bytes, headers: dict[str, str] | None = None,
               kind: str = "application/json") -> None:  # fmt: skip
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # http.server's naming
        self._hit()
        self.get()

    def do_POST(self) -> None:
        self._hit()
        self.post(self._body())

    def do_OPTIONS(self) -> None:
        self._hit()
        self.options()

    def get(self) -> None:
        raise NotImplementedError

    def post(self, body: bytes) -> None:
        raise NotImplementedError

    def options(self) -> None:
        raise NotImplementedError


def secure_handler(limit: int = 20) -> type[_Handler]:
    class Secure(_Handler):
        SAFE: ClassVar[dict[str, str]] = {
            "x-content-type-options": "nosniff",
            "cache-control": "no-store",
        }

        def _authorised(self) -> bool:
            if self.headers.get("authorization") == f"Bearer {KEY}":
                return True
            self.answer(401, '{"error": "unauthorized"}',
                        {**self.SAFE, "www-authenticate": "Bearer"})  # fmt: skip
            return False

        def get(self) -> None:
            if self._authorised():
                self.answer(404, '{"error": "not found"}', self.SAFE)

        def options(self) -> None:
            self.answer(204, b"", {**self.SAFE, "allow": "POST, OPTIONS"})

        def post(self, body: bytes) -> None:
            if not self._authorised():
                return
            count = self.running.state["keyed"] = self.running.state.get("keyed", 0) + 1
            if count > limit:
                self.answer(429, '{"error": "slow down"}', {**self.SAFE, "retry-after": "1"})
                return
            try:
                json.loads(body or b"null")
            except ValueError:
                self.answer(400, '{"error": "invalid JSON"}', self.SAFE)
                return
            self.answer(200, '{"label": "fraud", "scores": [0.73, 0.27]}', self.SAFE)

    return Secure


def leaky_handler(mode: str = "open", decoy_port: int = 9) -> type[_Handler]:
    class Leaky(_Handler):
        server_header = "uvicorn/0.30.1"
        CORS: ClassVar[dict[str, str]] = {
            "access-control-allow-origin": "*",
            "access-control-allow-credentials": "true",
        }
        PAGES: ClassVar[dict[str, tuple[str, str]]] = {
            "/openapi.json": ('{"openapi": "3.1.0", "info": {"title": "Fraud scorer"}}',
                              "application/json"),
            "/docs": ("<html><title>Fraud scorer - Swagger UI</title>"
                      "<div id='swagger-ui'></div></html>", "text/html"),
            "/v1/models": ('{"object": "list", "data": [{"id": "fraud-v3"}]}',
                           "application/json"),
            "/metrics": ("# HELP requests_total Requests.\n# TYPE requests_total counter\n"
                         "requests_total 12\n", "text/plain"),
            "/collections": ('{"result": {"collections": [{"name": "cases"}]}, "status": "ok"}',
                             "application/json"),
            "/api/kernels": ('[{"id": "k1", "name": "python3"}]', "application/json"),
        }  # fmt: skip

        def _authorised(self) -> bool:
            if mode == "open":
                return True
            query = parse_qs(urlsplit(self.path).query)
            if self.headers.get("authorization") or "api_key" in query or "key" in query:
                return True
            self.answer(401, '{"error": "unauthorized"}')
            return False

        def get(self) -> None:
            path = urlsplit(self.path).path
            if path == "/redoc":
                self.answer(302, b"", {"location": f"http://127.0.0.1:{decoy_port}/redoc"})
            elif path in self.PAGES:
                text, kind = self.PAGES[path]
                self.answer(200, text, kind=kind)
            else:
                self.answer(404, "not found", kind="text/plain")

        def options(self) -> None:
            self.answer(204, b"", {**self.CORS, "access-control-allow-methods": "POST"})

        def post(self, body: bytes) -> None:
            if not self._authorised():
                return
            try:
                json.loads(body or b"null")
            except ValueError:
                shown = dict(self.headers.items())
                self.answer(500, TRACEBACK.format(headers=shown), kind="text/plain")
                return
            self.answer(200, '{"label": "fraud", "probabilities": [0.7312345, 0.2687655]}',
                        self.CORS)  # fmt: skip

    return Leaky


@contextmanager
def serving(handler: type[_Handler], tls: ssl.SSLContext | None = None) -> Iterator[Running]:
    """Serve `handler` on 127.0.0.1 (an ephemeral port) in a thread, TLS when `tls` is given."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    running = Running(server.server_address[1])
    handler.running = running
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)  # fmt: skip
    thread.start()
    try:
        yield running
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def tls_context(cert: str, key: str, configure: Callable[[ssl.SSLContext], None] | None = None
                ) -> ssl.SSLContext:  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if configure is not None:
        configure(context)
    context.load_cert_chain(cert, key)
    return context
