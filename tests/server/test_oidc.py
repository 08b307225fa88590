"""Signing in with OpenID Connect, end to end: a real Custos server (SQLite and PostgreSQL), a
real provider (tests/server/oidc_provider.py), and httpx following each redirect by hand."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import func, select, update

from custos.errors import UserError
from custos.ledger.entry import LedgerEntry
from custos.server.auth import oidc, sessions
from custos.server.logging import LOGGER_NAME
from custos.server.rbac import Binding, Role
from custos.server.web.oidc_pages import STATE_COOKIE
from custos.store import Store, auth_store, ledger, oidc_links
from tests.cli.run import custos
from tests.server.conftest import Clock, Running
from tests.server.oidc_provider import CLIENT_ID, LocalProvider, rsa_key, running

VIEWER = Binding(Role.viewer)


@pytest.fixture
def provider() -> Iterator[LocalProvider]:
    made = LocalProvider(Clock(), {"sub": "u-100", "preferred_username": "alice"})
    with running(made):
        yield made
    oidc.clear_caches()


@pytest.fixture
def custos_server(store: Store, start: Callable[..., Running], provider: LocalProvider) -> Running:
    """A server that links first sign-ins by username (most tests here are about that)."""
    assert isinstance(provider.clock, Clock)
    return start(store, clock=provider.clock, oidc=provider.config(link_by_username=True))


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    """The server's log records (its logger does not propagate to pytest's capture)."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Keep()
    log = logging.getLogger(LOGGER_NAME)
    log.addHandler(handler)
    old_level = log.level
    log.setLevel(logging.INFO)
    yield seen
    log.removeHandler(handler)
    log.setLevel(old_level)


def _to_provider(client: httpx.Client, next_path: str = "/") -> str:
    started = client.get("/login/oidc", params={"next": next_path})
    assert started.status_code == 303, started.text
    return started.headers["location"]


def _from_provider(authorize_url: str) -> str:
    answer = httpx.get(authorize_url, timeout=30)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def sign_in(client: httpx.Client, next_path: str = "/") -> httpx.Response:
    """The whole browser round trip; the callback's answer."""
    return client.get(_from_provider(_to_provider(client, next_path)))


def _session_count(store: Store) -> int:
    with auth_store.transaction(store) as conn:
        return int(conn.execute(select(func.count()).select_from(auth_store.SESSIONS)).scalar_one())


def _events(store: Store) -> list[LedgerEntry]:
    with auth_store.transaction(store) as conn:
        return [LedgerEntry.from_canonical(d) for _s, _h, d in ledger.stream_entries(conn)]


def _subject(store: Store, username: str) -> str | None:
    with auth_store.transaction(store) as conn:
        user = auth_store.user_by_name(conn, username)
        assert user is not None
        return oidc_links.subject_of(conn, user.id)


def assert_refused(
    server: Running, client: httpx.Client, answer: httpx.Response, status: int
) -> None:
    assert answer.status_code == status, answer.text
    assert sessions.COOKIE_NAME not in answer.cookies
    assert client.get("/api/v1/me").status_code == 401
    assert _session_count(server.store) == 0


# -- success -----------------------------------------------------------------------------------


def test_first_sign_in_links_the_subject_and_opens_a_session(
    custos_server: Running, provider: LocalProvider, records: list[logging.LogRecord]
) -> None:
    custos_server.user("alice", VIEWER)
    client = custos_server.client()
    callback = _from_provider(_to_provider(client, "/password"))
    answer = client.get(callback)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/password"
    cookies = {c.split("=")[0]: c.lower() for c in answer.headers.get_list("set-cookie")}
    assert "httponly" in cookies[sessions.COOKIE_NAME]
    assert "samesite=lax" in cookies[sessions.COOKIE_NAME]
    assert "path=/;" in cookies[sessions.COOKIE_NAME] + ";"
    assert "max-age=0" in cookies[STATE_COOKIE]  # the state cookie is spent
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert _subject(custos_server.store, "alice") == f"{provider.url}|u-100"
    linked = [e.payload for e in _events(custos_server.store) if e.kind == "event"]
    link = {"action": "user.oidc_linked", "user": "alice", "issuer": provider.url}
    assert {**link, "subject": "u-100"} in linked
    events = [(r.getMessage(), getattr(r, "fields", {})) for r in records]
    succeeded = {"via": "oidc", "username": "alice", "client": "127.0.0.1"}
    assert ("login.succeeded", succeeded) in events
    logged = repr(events)
    query = parse_qs(urlsplit(callback).query)
    session = answer.cookies[sessions.COOKIE_NAME]
    for secret in [*provider.tokens_issued, session, query["code"][0], query["state"][0]]:
        assert secret not in logged


def test_a_linked_subject_wins_over_the_username_claim(
    custos_server: Running, provider: LocalProvider
) -> None:
    custos_server.user("alice", VIEWER)
    assert sign_in(custos_server.client()).status_code == 303
    provider.claims["preferred_username"] = "renamed-at-the-provider"
    again = custos_server.client()
    assert sign_in(again).status_code == 303
    assert again.get("/api/v1/me").json()["username"] == "alice"
    links = [
        e for e in _events(custos_server.store) if e.payload.get("action") == "user.oidc_linked"
    ]
    assert len(links) == 1  # linked once


def test_email_is_the_fallback_only_when_verified(
    custos_server: Running, provider: LocalProvider
) -> None:
    custos_server.user("carol@example.org", VIEWER)
    provider.claims = {"sub": "u-7", "email": "carol@example.org", "email_verified": False}
    first = custos_server.client()
    refused = sign_in(first)
    assert_refused(custos_server, first, refused, 403)
    assert "sent no username" in refused.text
    provider.claims["email_verified"] = True
    client = custos_server.client()
    assert sign_in(client).status_code == 303
    assert client.get("/api/v1/me").json()["username"] == "carol@example.org"


def test_client_secret_post_and_a_rotated_key(
    store: Store, start: Callable[..., Running], provider: LocalProvider
) -> None:
    provider.auth_method = "client_secret_post"
    server = start(store, clock=provider.clock, oidc=provider.config(link_by_username=True))
    server.user("alice", VIEWER)
    assert sign_in(server.client()).status_code == 303
    fetches = provider.jwks_fetches
    provider.rotate(rsa_key(1), "key-2")  # the cached key set lacks key-2: fetched again once
    assert sign_in(server.client()).status_code == 303
    assert provider.jwks_fetches == fetches + 1


# -- the state ---------------------------------------------------------------------------------


def _with_state(callback: str, state: str) -> str:
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | {"state": state}
    return parts._replace(query=urlencode(query)).geturl()


def test_a_wrong_state_is_refused_and_leaves_the_real_one_usable(custos_server: Running) -> None:
    custos_server.user("alice", VIEWER)
    client = custos_server.client()
    callback = _from_provider(_to_provider(client))
    wrong = client.get(_with_state(callback, "not-the-state"))
    assert_refused(custos_server, client, wrong, 400)
    assert "not started in this browser" in wrong.text
    assert client.get(callback).status_code == 303  # the forged callback spent nothing


def test_a_callback_from_another_browser_is_refused(custos_server: Running) -> None:
    custos_server.user("alice", VIEWER)
    callback = _from_provider(_to_provider(custos_server.client()))
    victim = custos_server.client()  # login CSRF: the attacker's callback URL in a victim's browser
    assert_refused(custos_server, victim, victim.get(callback), 400)


def test_a_replayed_state_is_refused(custos_server: Running) -> None:
    custos_server.user("alice", VIEWER)
    client = custos_server.client()
    callback = _from_provider(_to_provider(client))
    state = parse_qs(urlsplit(callback).query)["state"][0]
    assert client.get(callback).status_code == 303
    replay = custos_server.client()
    replay.cookies.set(STATE_COOKIE, state, domain="127.0.0.1", path="/login/oidc")
    answer = replay.get(callback)
    assert answer.status_code == 400
    assert "expired or was already used" in answer.text
    assert replay.get("/api/v1/me").status_code == 401


def test_a_sign_in_older_than_ten_minutes_is_refused(custos_server: Running) -> None:
    custos_server.user("alice", VIEWER)
    client = custos_server.client()
    callback = _from_provider(_to_provider(client))
    state = parse_qs(urlsplit(callback).query)["state"][0]
    with auth_store.transaction(custos_server.store) as conn:
        row = conn.execute(select(oidc_links.LOGINS)).mappings().one()
    assert row["state_hash"] == oidc.state_hash(state)  # only the digest is stored
    assert state not in {str(v) for v in row.values()}
    custos_server.clock.advance(minutes=11)
    assert_refused(custos_server, client, client.get(callback), 400)
    with auth_store.transaction(custos_server.store) as conn:
        rows = conn.execute(select(func.count()).select_from(oidc_links.LOGINS)).scalar_one()
    assert rows == 0  # pruned


# -- the ID token ------------------------------------------------------------------------------

ANOTHER_KEY = object()  # stands for a private key the provider does not publish
TOKEN_FAULTS: dict[str, tuple[dict[str, Any], str]] = {
    "wrong nonce": ({"nonce": "another-sign-in"}, "nonce does not match"),
    "wrong audience": ({"audience": "another-client"}, "meant for another application"),
    "several audiences, no azp": ({"audience": [CLIENT_ID, "other"]}, "no authorized party"),
    "wrong azp": ({"azp": "other"}, "issued to another application"),
    "wrong issuer": ({"issuer": "https://evil.example"}, "issued by another provider"),
    "expired": ({"issued_ago": 400}, "has expired"),
    "issued in the future": ({"issued_ago": -600}, "issued in the future"),
    "another key, same kid": ({"sign_with": ANOTHER_KEY}, "signature does not verify"),
    "an unpublished kid": ({"sign_with": ANOTHER_KEY, "kid": "key-x"}, "does not publish"),
    "HS256 keyed with the client secret": ({"alg": "HS256"}, "signature does not verify"),
    "unsigned (alg none)": ({"alg": "none"}, "signature does not verify"),
}


@pytest.mark.parametrize("fault", TOKEN_FAULTS)
def test_a_bad_id_token_is_refused(
    custos_server: Running, provider: LocalProvider, fault: str
) -> None:
    custos_server.user("alice", VIEWER)
    changes, message = TOKEN_FAULTS[fault]
    for name, value in changes.items():
        setattr(provider.faults, name, rsa_key(1) if value is ANOTHER_KEY else value)
    client = custos_server.client()
    answer = sign_in(client)
    assert_refused(custos_server, client, answer, 401)
    assert message in answer.text
    assert _subject(custos_server.store, "alice") is None
    for token in provider.tokens_issued:
        assert token not in answer.text


def test_an_unpublished_kid_fetches_the_key_set_once_more(
    custos_server: Running, provider: LocalProvider
) -> None:
    custos_server.user("alice", VIEWER)
    provider.faults.kid = "key-x"
    before = provider.jwks_fetches
    assert sign_in(custos_server.client()).status_code == 401
    assert provider.jwks_fetches - before == 2  # the first fetch (nothing cached) and one retry
    assert sign_in(custos_server.client()).status_code == 401
    assert provider.jwks_fetches - before == 3  # cached now, so just the one retry


# -- the account -------------------------------------------------------------------------------


def test_an_unknown_user_is_refused_and_nobody_is_created(
    custos_server: Running, provider: LocalProvider
) -> None:
    provider.claims["preferred_username"] = "mallory"
    client = custos_server.client()
    answer = sign_in(client)
    assert_refused(custos_server, client, answer, 403)
    assert "no Custos account for mallory; ask an administrator" in answer.text
    with auth_store.transaction(custos_server.store) as conn:
        assert auth_store.list_users(conn) == []


def test_an_inactive_user_is_refused_and_not_linked(custos_server: Running) -> None:
    custos_server.user("alice", VIEWER)
    with auth_store.transaction(custos_server.store) as conn:
        conn.execute(update(auth_store.USERS).values(active=False))
    client = custos_server.client()
    answer = sign_in(client)
    assert_refused(custos_server, client, answer, 403)
    assert "deactivated" in answer.text
    assert _subject(custos_server.store, "alice") is None


def test_a_linked_user_deactivated_later_is_refused(custos_server: Running) -> None:
    custos_server.user("alice", VIEWER)
    assert sign_in(custos_server.client()).status_code == 303
    with auth_store.transaction(custos_server.store) as conn:
        conn.execute(update(auth_store.USERS).values(active=False))
        conn.execute(auth_store.SESSIONS.delete())
    client = custos_server.client()
    assert_refused(custos_server, client, sign_in(client), 403)


def test_an_account_linked_to_another_subject_is_not_taken_over(
    custos_server: Running, provider: LocalProvider
) -> None:
    custos_server.user("alice", VIEWER)
    assert sign_in(custos_server.client()).status_code == 303
    with auth_store.transaction(custos_server.store) as conn:
        conn.execute(auth_store.SESSIONS.delete())
    provider.claims["sub"] = "u-666"  # another identity calling itself alice
    client = custos_server.client()
    answer = sign_in(client)
    assert_refused(custos_server, client, answer, 403)
    assert "linked to another single sign-on identity" in answer.text
    assert _subject(custos_server.store, "alice") == f"{provider.url}|u-100"


# -- the provider ------------------------------------------------------------------------------


def test_a_provider_error_is_refused(custos_server: Running, provider: LocalProvider) -> None:
    custos_server.user("alice", VIEWER)
    provider.faults.deny = True
    client = custos_server.client()
    answer = sign_in(client)
    assert_refused(custos_server, client, answer, 401)
    assert "(access_denied)" in answer.text


def test_a_discovery_document_naming_another_issuer_is_refused(
    custos_server: Running, provider: LocalProvider
) -> None:
    provider.faults.discovery_issuer = "https://evil.example"
    answer = custos_server.client().get("/login/oidc")
    assert answer.status_code == 502
    assert "names another issuer" in answer.text


def test_a_wrong_client_secret_is_refused(
    store: Store, start: Callable[..., Running], provider: LocalProvider
) -> None:
    wrong = "not-the-secret-4711"
    server = start(store, clock=provider.clock, oidc=provider.config(client_secret=wrong))
    server.user("alice", VIEWER)
    client = server.client()
    answer = sign_in(client)
    assert_refused(server, client, answer, 401)
    assert "(invalid_client)" in answer.text
    assert wrong not in answer.text


# -- configuration -----------------------------------------------------------------------------


def test_without_configuration_both_routes_are_404_and_the_button_is_hidden(
    server: Running,
) -> None:
    client = server.client()
    assert client.get("/login/oidc").status_code == 404
    assert client.get("/login/oidc/callback", params={"state": "x", "code": "y"}).status_code == 404
    assert "single sign-on" not in client.get("/login").text


def test_the_login_page_offers_single_sign_on_when_configured(custos_server: Running) -> None:
    page = custos_server.client().get("/login", params={"next": "/password?x=1"})
    assert 'href="/login/oidc?next=/password%3Fx%3D1"' in page.text
    assert page.text.index("Sign in with single sign-on") > page.text.index("</form>")


@pytest.mark.parametrize(
    ("issuer", "client_id", "secret", "message"),
    [
        ("https://idp.example", None, "s", "give both --oidc-issuer and --oidc-client-id"),
        (None, "custos", "s", "give both --oidc-issuer and --oidc-client-id"),
        ("https://idp.example", "custos", None, "$CUSTOS_OIDC_CLIENT_SECRET"),
        ("http://idp.example", "custos", "s", "must be an https:// URL"),
        ("https://idp.example?x=1", "custos", "s", "must not have a query"),
    ],
)
def test_incomplete_or_unsafe_configuration_is_a_user_error(
    issuer: str | None, client_id: str | None, secret: str | None, message: str
) -> None:
    with pytest.raises(UserError, match=re.escape(message)):
        oidc.config_from_options(issuer, client_id, secret)


def test_configuration_from_options() -> None:
    assert oidc.config_from_options(None, None, "ignored") is None
    made = oidc.config_from_options("http://127.0.0.1:9/realm", "custos", "hunter2-secret")
    assert made is not None
    assert (made.issuer, made.client_id, made.scopes) == (
        "http://127.0.0.1:9/realm", "custos", "openid profile email",
    )  # fmt: skip
    assert "hunter2" not in repr(made)


def test_serve_refuses_half_a_configuration() -> None:
    result = custos("serve", "--oidc-issuer", "https://idp.example", "--port", "1")
    assert result.code == 2
    assert "give both --oidc-issuer and --oidc-client-id, or neither" in result.err
    result = custos(
        "serve", "--oidc-issuer", "https://idp.example", "--oidc-client-id", "c", "--port", "1",
        env={"CUSTOS_OIDC_CLIENT_SECRET": ""},
    )  # fmt: skip
    assert result.code == 2
    assert "$CUSTOS_OIDC_CLIENT_SECRET" in result.err
