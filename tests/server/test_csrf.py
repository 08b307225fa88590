"""CSRF: cookie-authenticated state changes need the session's token; Bearer calls do not."""

from __future__ import annotations

from custos.server.rbac import Binding, Role
from tests.server.conftest import Running
from tests.server.helpers import PASSWORD, api_csrf, csrf_from

TOKEN_BODY = {"name": "ci", "role": "viewer"}


def test_api_call_with_cookie_needs_the_header(server: Running) -> None:
    server.user("alice", Binding(Role.auditor))
    client = server.signed_in("alice")
    missing = client.post("/api/v1/tokens", json=TOKEN_BODY)
    assert missing.status_code == 403
    assert "CSRF" in missing.json()["error"]
    wrong = client.post("/api/v1/tokens", json=TOKEN_BODY, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    right = client.post(
        "/api/v1/tokens", json=TOKEN_BODY, headers={"X-CSRF-Token": api_csrf(client)}
    )
    assert right.status_code == 201


def test_another_sessions_token_is_refused(server: Running) -> None:
    server.user("alice", Binding(Role.auditor))
    server.user("bob", Binding(Role.auditor))
    alice, bob = server.signed_in("alice"), server.signed_in("bob")
    response = alice.post(
        "/api/v1/tokens", json=TOKEN_BODY, headers={"X-CSRF-Token": api_csrf(bob)}
    )
    assert response.status_code == 403


def test_forms_need_the_hidden_field(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    client = server.signed_in("alice")
    form = {"current": PASSWORD, "new": "another long password"}
    refused = client.post("/password", data=form)
    assert refused.status_code == 403
    assert "<h1>Not allowed</h1>" in refused.text  # a page, not JSON
    assert client.post("/logout", data={"csrf_token": "nope"}).status_code == 403
    assert client.get("/api/v1/me").status_code == 200  # still signed in
    token = csrf_from(client.get("/").text)
    assert client.post("/password", data={**form, "csrf_token": token}).status_code == 200


def test_login_form_needs_its_double_submit_token(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    client = server.client()
    form = {"username": "alice", "password": PASSWORD}
    assert client.post("/login", data={**form, "csrf_token": "forged"}).status_code == 403
    token = csrf_from(client.get("/login").text)
    assert client.post("/login", data={**form, "csrf_token": "forged"}).status_code == 403
    assert client.post("/login", data={**form, "csrf_token": token}).status_code == 303


def test_bearer_calls_are_exempt(server: Running) -> None:
    server.user("alice", Binding(Role.auditor))
    client = server.signed_in("alice")
    made = client.post(
        "/api/v1/tokens", json=TOKEN_BODY, headers={"X-CSRF-Token": api_csrf(client)}
    ).json()
    machine = server.client()
    machine.headers["Authorization"] = f"Bearer {made['token']}"
    # A token of an auditor may not act as an auditor beyond viewer, but may revoke itself.
    assert machine.get("/api/v1/me").json()["csrf_token"] is None
    assert machine.delete(f"/api/v1/tokens/{made['id']}").status_code == 403  # viewer scope
