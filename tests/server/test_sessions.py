"""Sessions: cookie flags, server-side rows, expiry, logout, password change, shared database."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from sqlalchemy import select

from custos.server.rbac import Binding, Role
from custos.store import Store, auth_store
from custos.store.auth_store import SESSIONS
from tests.server.conftest import Running
from tests.server.helpers import PASSWORD, csrf_from, login, try_login

COOKIE = "custos_session"


def _session_hashes(store: Store) -> list[bytes]:
    with auth_store.transaction(store) as conn:
        return list(conn.execute(select(SESSIONS.c.token_hash)).scalars())


def test_login_sets_a_strict_cookie_and_stores_only_its_hash(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    client = server.client()
    response = login(client, "alice")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP and no --secure-cookies
    value = client.cookies[COOKIE]
    assert len(value) >= 43  # 32 random bytes, base64
    assert _session_hashes(server.store) == [hashlib.sha256(value.encode()).digest()]
    page = client.get("/")
    assert page.status_code == 200
    assert 'Account <span class="muted">(alice)</span>' in page.text


def test_secure_cookies_setting_marks_the_cookie_secure(
    store: Store, start: Callable[..., Running]
) -> None:
    running = start(store, secure_cookies=True)
    form = running.client().get("/login")
    cookie = form.headers["set-cookie"]
    assert cookie.startswith("custos_login_csrf=")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


def test_anonymous_pages_redirect_and_api_answers_401(server: Running) -> None:
    client = server.client()
    page = client.get("/password")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fpassword"
    api = client.get("/api/v1/me")
    assert api.status_code == 401
    assert api.json() == {"error": "sign in or send an API token"}


def test_wrong_password_and_unknown_user_look_the_same(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    wrong = try_login(server.client(), "alice", "not the password at all")
    unknown = try_login(server.client(), "mallory", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "wrong username or password" in wrong.text
    assert "wrong username or password" in unknown.text
    assert _session_hashes(server.store) == []


def test_login_redirects_only_to_local_paths(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    for target, expected in (
        ("/password", "/password"),
        ("//evil.example/", "/"),
        ("https://evil.example", "/"),
    ):
        client = server.client()
        token = csrf_from(client.get("/login").text)
        response = client.post(
            "/login",
            data={"username": "alice", "password": PASSWORD, "csrf_token": token, "next": target},
        )
        assert response.headers["location"] == expected


def test_logout_deletes_the_session_row(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    client = server.signed_in("alice")
    cookie = client.cookies[COOKIE]
    token = csrf_from(client.get("/").text)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert _session_hashes(server.store) == []
    replay = server.client()
    replay.cookies.set(COOKIE, cookie)
    assert replay.get("/api/v1/me").status_code == 401


def test_idle_expiry(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    client = server.signed_in("alice")
    server.clock.advance(minutes=29)
    assert client.get("/api/v1/me").status_code == 200  # activity moves the idle window
    server.clock.advance(minutes=29)
    assert client.get("/api/v1/me").status_code == 200
    server.clock.advance(minutes=31)
    assert client.get("/api/v1/me").status_code == 401
    assert _session_hashes(server.store) == []  # the expired row is removed


def test_absolute_expiry_despite_activity(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    client = server.signed_in("alice")
    for _ in range(35):  # 35 x 20 min = 11 h 40 min of steady use
        server.clock.advance(minutes=20)
        assert client.get("/api/v1/me").status_code == 200
    server.clock.advance(minutes=21)
    assert client.get("/api/v1/me").status_code == 401


def test_two_app_instances_share_logins(store: Store, start: Callable[..., Running]) -> None:
    first = start(store)
    second = start(store, clock=first.clock)
    first.user("alice", Binding(Role.viewer))
    on_first = first.signed_in("alice")
    on_second = second.client()
    on_second.cookies.set(COOKIE, on_first.cookies[COOKIE])
    assert on_second.get("/api/v1/me").json()["username"] == "alice"
    token = csrf_from(on_second.get("/").text)
    assert on_second.post("/logout", data={"csrf_token": token}).status_code == 303
    assert on_first.get("/api/v1/me").status_code == 401  # logged out everywhere


def test_password_change_ends_other_sessions(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    here = server.signed_in("alice")
    elsewhere = server.signed_in("alice")
    token = csrf_from(here.get("/password").text)
    refused = here.post(
        "/password", data={"csrf_token": token, "current": "wrong", "new": "a new long password"}
    )
    assert refused.status_code == 400
    assert "the current password is wrong" in refused.text
    short = here.post("/password", data={"csrf_token": token, "current": PASSWORD, "new": "short"})
    assert short.status_code == 400
    assert "at least 12 characters" in short.text
    done = here.post(
        "/password",
        data={"csrf_token": token, "current": PASSWORD, "new": "a new long password"},
    )
    assert done.status_code == 200
    assert "Your password was changed." in done.text
    assert here.get("/api/v1/me").status_code == 200
    assert elsewhere.get("/api/v1/me").status_code == 401
    assert try_login(server.client(), "alice", PASSWORD).status_code == 401
    login(server.client(), "alice", "a new long password")
    events = [e.payload for e in _events(server.store)]
    assert {"action": "user.password_changed", "user": "alice"} in events


def _events(store: Store) -> list:  # type: ignore[type-arg]
    from custos.ledger.entry import LedgerEntry
    from custos.store import ledger

    with auth_store.transaction(store) as conn:
        return [LedgerEntry.from_canonical(d) for _s, _h, d in ledger.stream_entries(conn)]
