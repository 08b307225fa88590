"""The client address behind reverse proxies: X-Forwarded-For is believed only from trusted
peers, and then only up to the right-most address that is not a trusted proxy."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import ip_network

import httpx
import pytest

from custos.errors import UserError
from custos.server.auth import sessions
from custos.server.auth.throttle import ThrottlePolicy
from custos.server.proxies import client_from, https_from, parse_address, parse_networks
from custos.server.rbac import Binding, Role
from custos.store import Store
from tests.server.conftest import Running
from tests.server.helpers import PASSWORD, csrf_from

PROXIES = parse_networks(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # No trusted peer: the header is whatever the client made up.
        ("198.51.100.4", ["1.2.3.4"], "198.51.100.4"),
        ("198.51.100.4", [], "198.51.100.4"),
        # A trusted peer without the header: the proxy itself.
        ("10.0.0.1", [], "10.0.0.1"),
        ("10.0.0.1", [""], "10.0.0.1"),
        # The right-most untrusted entry; what the client wrote to its left is ignored.
        ("10.0.0.1", ["203.0.113.9"], "203.0.113.9"),
        ("10.0.0.1", ["6.6.6.6, 203.0.113.9"], "203.0.113.9"),
        ("10.0.0.1", ["6.6.6.6, 203.0.113.9, 10.1.1.1"], "203.0.113.9"),
        ("10.0.0.1", ["6.6.6.6", "203.0.113.9, 192.0.2.7"], "203.0.113.9"),  # several headers
        # A client forging a trusted address to its left gains nothing.
        ("10.0.0.1", ["10.9.9.9, 203.0.113.9"], "203.0.113.9"),
        # Every entry trusted: the left-most (a client inside the proxies' network).
        ("10.0.0.1", ["10.2.2.2, 10.1.1.1"], "10.2.2.2"),
        # Garbage where a proxy would have written an address: the last good one.
        ("10.0.0.1", ["203.0.113.9, not-an-ip"], "10.0.0.1"),
        ("10.0.0.1", ["not-an-ip, 10.1.1.1"], "10.1.1.1"),
        # Ports and brackets as some proxies write them; IPv6.
        ("10.0.0.1", ["203.0.113.9:4711"], "203.0.113.9"),
        ("10.0.0.1", ["[2001:db9::1]:443"], "2001:db9::1"),
        ("2001:db8::5", ["2001:DB9::0:1"], "2001:db9::1"),
        ("10.0.0.1", ["2001:db8::1, 198.51.100.4"], "198.51.100.4"),
        # No peer at all.
        (None, ["1.2.3.4"], "unknown"),
        ("", [], "unknown"),
    ],
)
def test_client_from(peer: str | None, forwarded: list[str], client: str) -> None:
    assert client_from(peer, forwarded, PROXIES) == client


def test_the_default_trusts_nobody() -> None:
    assert client_from("10.0.0.1", ["203.0.113.9"], ()) == "10.0.0.1"


def test_a_long_chain_is_walked_only_so_far() -> None:
    chain = ", ".join(["203.0.113.9", *(f"10.0.0.{i}" for i in range(1, 101))])
    assert client_from("10.0.0.1", [chain], PROXIES) != "203.0.113.9"


def test_parse_address_and_networks() -> None:
    assert str(parse_address(" 192.0.2.1 ")) == "192.0.2.1"
    assert parse_address("[::1") is None
    assert parse_address("unknown") is None
    assert parse_networks(["10.1.2.3/8"]) == (ip_network("10.0.0.0/8"),)  # host bits allowed
    with pytest.raises(UserError, match=r"--trusted-proxy 'proxy\.internal' is not an IP"):
        parse_networks(["proxy.internal"])


@pytest.mark.parametrize(
    ("peer", "protos", "https"),
    [
        ("10.0.0.1", ["https"], True),
        ("10.0.0.1", ["http, https"], True),  # the nearest proxy's word
        ("10.0.0.1", ["https, http"], False),
        ("10.0.0.1", [], False),
        ("198.51.100.4", ["https"], False),  # not a proxy of ours: made up
        (None, ["https"], False),
    ],
)
def test_https_from(peer: str | None, protos: list[str], https: bool) -> None:
    assert https_from(peer, protos, PROXIES) is https


def _fail_login(client: httpx.Client, forwarded_for: str) -> int:
    headers = {"X-Forwarded-For": forwarded_for}
    token = csrf_from(client.get("/login", headers=headers).text)
    data = {"username": "nobody", "password": "guess guess guess", "csrf_token": token}
    return client.post("/login", data=data, headers=headers).status_code


def test_without_trusted_proxies_a_forged_header_does_not_escape_the_lockout(
    store: Store, start: Callable[..., Running]
) -> None:
    server = start(store, throttle=ThrottlePolicy(max_per_client=3))
    server.user("carol", Binding(Role.viewer))
    client = server.client()
    statuses = [_fail_login(client, f"203.0.113.{i}") for i in range(1, 5)]
    assert statuses == [401, 401, 401, 429]  # one address, whatever the header said


def test_behind_a_trusted_proxy_each_client_is_throttled_on_its_own(
    store: Store, start: Callable[..., Running]
) -> None:
    server = start(
        store, throttle=ThrottlePolicy(max_per_client=3),
        trusted_proxies=parse_networks(["127.0.0.1"]),
    )  # fmt: skip
    server.user("carol", Binding(Role.viewer))
    client = server.client()
    assert [_fail_login(client, "203.0.113.1") for _ in range(4)] == [401, 401, 401, 429]
    # Another client behind the same proxy is not locked out by the first one's failures.
    headers = {"X-Forwarded-For": "203.0.113.2"}
    token = csrf_from(client.get("/login", headers=headers).text)
    data = {"username": "carol", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data, headers=headers).status_code == 303


def _session_cookie(server: Running, proto: str) -> str:
    client = server.client()
    headers = {"X-Forwarded-Proto": proto}
    token = csrf_from(client.get("/login").text)
    data = {"username": "carol", "password": PASSWORD, "csrf_token": token}
    answer = client.post("/login", data=data, headers=headers)
    assert answer.status_code == 303
    cookies = [c for c in answer.headers.get_list("set-cookie") if sessions.COOKIE_NAME in c]
    return cookies[0].lower()


def test_forwarded_https_marks_cookies_secure_only_from_a_trusted_proxy(
    store: Store, start: Callable[..., Running]
) -> None:
    untrusted = start(store)
    untrusted.user("carol", Binding(Role.viewer))
    assert "secure" not in _session_cookie(untrusted, "https")
    trusted = start(store, trusted_proxies=parse_networks(["127.0.0.1"]))
    assert "secure" in _session_cookie(trusted, "https")
    assert "secure" not in _session_cookie(trusted, "http")
