"""Single sign-on against abuse: which accounts a first sign-in may link to (none unless
`link_by_username` is on, and even then never an administrator or a user with two-factor
sign-in: a claim at the provider must not be enough to take those over), and anonymous starts
that cannot grow the table of sign-ins in flight without bound."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from ipaddress import ip_network

import httpx
import pytest
from sqlalchemy import func, select

from custos.errors import UserError
from custos.server.auth import oidc, totp
from custos.server.auth.throttle import ThrottlePolicy
from custos.server.factory import OIDC_SECRET_ENV, ServeOptions
from custos.server.rbac import Binding, Role
from custos.store import Store, auth_store, oidc_links
from tests.server.conftest import Clock, Running
from tests.server.oidc_provider import LocalProvider, running
from tests.server.test_oidc import _subject, assert_refused, sign_in

VIEWER = Binding(Role.viewer)


@pytest.fixture
def provider() -> Iterator[LocalProvider]:
    made = LocalProvider(Clock(), {"sub": "u-100", "preferred_username": "alice"})
    with running(made):
        yield made
    oidc.clear_caches()


def _server(
    store: Store,
    start: Callable[..., Running],
    provider: LocalProvider,
    throttle: ThrottlePolicy | None = None,
    **config: object,
) -> Running:
    options: dict[str, object] = {"throttle": throttle} if throttle else {}
    return start(store, clock=provider.clock, oidc=provider.config(**config), **options)


def _link(store: Store, username: str, subject: str) -> None:
    with auth_store.transaction(store) as conn:
        user = auth_store.user_by_name(conn, username)
        assert user is not None
        assert oidc_links.link_subject(conn, user.id, subject)


def test_by_default_an_unlinked_identity_is_refused_and_nothing_is_linked(
    store: Store,
    start: Callable[..., Running],
    provider: LocalProvider,
) -> None:
    server = _server(store, start, provider)
    assert server.settings.oidc is not None
    assert server.settings.oidc.link_by_username is False
    server.user("alice", VIEWER)  # the token's preferred_username
    client = server.client()
    answer = sign_in(client)
    assert_refused(server, client, answer, 403)
    assert "not linked to a Custos account; ask an administrator" in answer.text
    assert _subject(server.store, "alice") is None


def test_by_default_an_identity_linked_already_signs_in(
    store: Store,
    start: Callable[..., Running],
    provider: LocalProvider,
) -> None:
    server = _server(store, start, provider)
    server.user("alice", Binding(Role.admin))
    _link(server.store, "alice", f"{provider.url}|u-100")
    client = server.client()
    assert sign_in(client).status_code == 303
    assert client.get("/api/v1/me").json()["username"] == "alice"


def test_an_admin_is_never_linked_by_username(
    store: Store,
    start: Callable[..., Running],
    provider: LocalProvider,
) -> None:
    server = _server(store, start, provider, link_by_username=True)
    server.user("alice", VIEWER, Binding(Role.admin, None))
    client = server.client()
    answer = sign_in(client)
    assert_refused(server, client, answer, 403)
    assert "cannot be linked by username" in answer.text
    assert _subject(server.store, "alice") is None


def test_a_user_with_two_factor_is_never_linked_by_username(
    store: Store,
    start: Callable[..., Running],
    provider: LocalProvider,
) -> None:
    server = _server(store, start, provider, link_by_username=True)
    server.user("alice", VIEWER)
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    with auth_store.transaction(server.store) as conn:
        user = auth_store.user_by_name(conn, "alice")
        assert user is not None
        assert auth_store.set_pending_totp(conn, user.id, totp.new_secret())
        assert auth_store.enable_totp(conn, user.id, now, 1, [])
    client = server.client()
    answer = sign_in(client)
    assert_refused(server, client, answer, 403)
    assert "cannot be linked by username" in answer.text
    assert _subject(server.store, "alice") is None


def test_with_the_setting_a_plain_user_is_linked(
    store: Store,
    start: Callable[..., Running],
    provider: LocalProvider,
) -> None:
    server = _server(store, start, provider, link_by_username=True)
    server.user("alice", VIEWER)
    assert sign_in(server.client()).status_code == 303
    assert _subject(server.store, "alice") == f"{provider.url}|u-100"


def test_the_setting_comes_from_serve_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(OIDC_SECRET_ENV, "a-secret-value")

    def options(link: bool) -> ServeOptions:
        return ServeOptions(
            None, ".", oidc_issuer="https://idp.example", oidc_client_id="custos",
            oidc_link_by_username=link,
        )  # fmt: skip

    off = options(False).settings()
    assert off.oidc is not None
    assert off.oidc.link_by_username is False
    again = ServeOptions(**json.loads(options(True).to_env()))  # as each worker reads it
    on = again.settings()
    assert on.oidc is not None
    assert on.oidc.link_by_username is True
    with pytest.raises(UserError, match="--oidc-link-by-username needs --oidc-issuer"):
        oidc.config_from_options(None, None, "s", link_by_username=True)


# -- anonymous starts --------------------------------------------------------------------------


def _pending(store: Store) -> int:
    with auth_store.transaction(store) as conn:
        return int(conn.execute(select(func.count()).select_from(oidc_links.LOGINS)).scalar_one())


def _start(client: httpx.Client, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.get("/login/oidc", headers=headers).status_code


def test_a_flood_from_one_address_is_throttled_and_stores_nothing_more(
    store: Store, start: Callable[..., Running], provider: LocalProvider
) -> None:
    policy = ThrottlePolicy(oidc_starts_per_client=5)
    server = _server(store, start, provider, policy)
    client = server.client()
    answers = [_start(client) for _ in range(40)]
    assert answers == [303] * 5 + [429] * 35
    assert _pending(server.store) == 5
    assert "too many single sign-on attempts" in client.get("/login/oidc").text
    server.clock.advance(minutes=11)  # the window has passed and the sign-ins have expired
    assert _start(client) == 303
    assert _pending(server.store) == 1  # the expired ones were pruned


def test_the_sign_ins_in_flight_are_capped_whatever_the_addresses(
    store: Store, start: Callable[..., Running], provider: LocalProvider
) -> None:
    policy = ThrottlePolicy(oidc_starts_per_client=1, oidc_pending_max=3)
    loopback = (ip_network("127.0.0.1/32"),)
    server = start(
        store, clock=provider.clock, oidc=provider.config(), throttle=policy,
        trusted_proxies=loopback,
    )  # fmt: skip
    client = server.client()
    # Behind the trusted proxy, every request comes from another address: the per-address
    # limit never bites, the cap does.
    answers = [_start(client, f"203.0.113.{i}") for i in range(1, 21)]
    assert answers == [303] * 3 + [429] * 17
    assert _pending(server.store) == 3
    assert _start(client, "203.0.113.1") == 429  # that address has had its one start
    server.clock.advance(minutes=11)
    assert _start(client, "203.0.113.99") == 303
    assert _pending(server.store) == 1
