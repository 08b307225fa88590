"""Login throttling per username and per client address, kept in the database."""

from __future__ import annotations

from collections.abc import Callable

from custos.server.auth.throttle import ThrottlePolicy
from custos.server.rbac import Binding, Role
from custos.store import Store
from tests.server.conftest import Running
from tests.server.helpers import PASSWORD, try_login


def test_username_lockout_and_unlock_after_the_window(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    client = server.client()
    for _ in range(5):
        assert try_login(client, "alice", "wrong password!").status_code == 401
    locked = try_login(client, "alice", PASSWORD)  # even the right password
    assert locked.status_code == 429
    assert "too many failed sign-ins" in locked.text
    server.clock.advance(minutes=14)
    assert try_login(client, "alice", PASSWORD).status_code == 429  # that attempt counted too
    server.clock.advance(minutes=15, seconds=1)
    assert try_login(client, "alice", PASSWORD).status_code == 303


def test_lockout_is_per_username(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    server.user("bob", Binding(Role.viewer))
    client = server.client()
    for _ in range(5):
        try_login(client, "alice", "wrong password!")
    assert try_login(client, "alice", PASSWORD).status_code == 429
    assert try_login(client, "bob", PASSWORD).status_code == 303


def test_client_address_lockout(store: Store, start: Callable[..., Running]) -> None:
    running = start(store, throttle=ThrottlePolicy(max_per_client=3))
    running.user("carol", Binding(Role.viewer))
    client = running.client()
    for name in ("x1", "x2", "x3"):  # spraying different usernames from one address
        assert try_login(client, name, "guess guess guess").status_code == 401
    assert try_login(client, "carol", PASSWORD).status_code == 429
    running.clock.advance(minutes=16)
    assert try_login(client, "carol", PASSWORD).status_code == 303


def test_lockout_is_shared_by_app_instances(store: Store, start: Callable[..., Running]) -> None:
    first = start(store)
    second = start(store, clock=first.clock)
    first.user("alice", Binding(Role.viewer))
    for _ in range(3):
        try_login(first.client(), "alice", "wrong password!")
    for _ in range(2):
        try_login(second.client(), "alice", "wrong password!")
    assert try_login(first.client(), "alice", PASSWORD).status_code == 429
