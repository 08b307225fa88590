"""Server tests run a real uvicorn server on 127.0.0.1 (a free port, in a thread) over a real
database, once on SQLite and once on the PostgreSQL at 127.0.0.1:5432 (see tests/store/conftest.py;
under CI=true a missing PostgreSQL fails). Time is a controllable clock, so expiry and lockout
windows are tested without sleeping.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn

from custos.server import accounts
from custos.server.app import create_app
from custos.server.rbac import Binding
from custos.server.settings import Settings
from custos.store import Store
from tests.server.helpers import PASSWORD, login
from tests.store.conftest import empty_url, make_store, pg_database, store  # noqa: F401

T0 = dt.datetime(2026, 6, 1, 9, 0, 0, tzinfo=dt.UTC)


@dataclass
class Clock:
    now: dt.datetime = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Running:
    """A server under test: its base URL, store, settings and clock."""

    url: str
    store: Store
    settings: Settings
    clock: Clock
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self) -> httpx.Client:
        made = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)
        self.clients.append(made)
        return made

    def user(self, username: str, *bindings: Binding) -> str:
        accounts.create_user(
            self.store, self.settings.project_dir, username=username, password=PASSWORD,
            bindings=list(bindings), actor="test", now=self.clock(),
        )  # fmt: skip
        return username

    def signed_in(self, username: str) -> httpx.Client:
        made = self.client()
        login(made, username)
        return made


def _serve(app: object) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # As `custos serve` runs it: X-Forwarded-* is custos.server.proxies' business, not uvicorn's.
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        log_config=None,
        access_log=False,
        lifespan="on",
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Running]]:
    """Start servers over a store; all are stopped after the test."""
    stops: list[tuple[uvicorn.Server, threading.Thread, Running]] = []

    def run(on: Store, clock: Clock | None = None, **options: object) -> Running:
        the_clock = clock or Clock()
        settings = Settings(project_dir=tmp_path, clock=the_clock, **options)  # type: ignore[arg-type]
        server, thread, url = _serve(create_app(settings, on))
        running = Running(url, on, settings, the_clock)
        stops.append((server, thread, running))
        return running

    yield run
    for server, thread, running in stops:
        for made in running.clients:
            made.close()
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server(store: Store, start: Callable[..., Running]) -> Running:  # noqa: F811
    return start(store)
