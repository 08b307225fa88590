"""A real upstream (http.server in a thread) and guards under uvicorn in threads, on loopback
ports."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp  # noqa: F401 (a dev dependency: without it these tests fail, not skip)
import pytest
import uvicorn

from custos.guard.app import GuardConfig, create_app
from custos.guard.keys import create_key

ANSWER = {"label": "cat", "note": "0.5 is text", "count": 3,
          "probabilities": [0.0123456, 0.7654321, 0.2, 0.0222223]}  # fmt: skip


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 65536  # headers and body in one write

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length", "0"))
        received = self.rfile.read(n)
        if self.path.startswith("/big"):  # an answer of the size the path asks for
            size = int(self.path.rsplit("/", 1)[1])
            if "chunked" in self.path:  # no Content-Length: the guard must count
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for _ in range(size // 1000):
                    self.wfile.write(b"3e8\r\n" + b" " * 1000 + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
                return
            self._send(200, b" " * size)
        elif self.path.startswith("/echo"):
            self._send(200, json.dumps({"headers": dict(self.headers.items()), "path": self.path,
                                        "body": received.decode()}).encode())  # fmt: skip
        else:
            self._send(200, json.dumps(ANSWER).encode())

    def do_GET(self) -> None:
        self._send(200, b"ok", "text/plain")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class Running:
    def __init__(self, config: GuardConfig) -> None:
        self.app, self.guard = create_app(config)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_config=None, access_log=False,
            lifespan="on"))  # fmt: skip
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("guard did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "keys.json"
    made = {"alice": create_key(path, "alice", 1000, 1000),
            "slow": create_key(path, "slow", 0.001, 3),
            "sweeper": create_key(path, "sweeper", 1000, 1000),
            "natural": create_key(path, "natural", 1000, 1000)}  # fmt: skip
    return path, made


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
