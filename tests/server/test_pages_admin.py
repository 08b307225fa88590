"""/admin/users (list, create with a role binding) and /account/tokens (create: the secret is
shown once; revoke), through the forms with their CSRF tokens."""

from __future__ import annotations

import re

from tests.server.conftest import Running
from tests.server.helpers import PASSWORD, csrf_from, login
from tests.server.matrix_case import SYSTEM_A
from tests.server.pages_data import signed_in

SECRET = re.compile(r'value="(cst_[^"]+)"')


def test_admin_lists_and_creates_users(server: Running) -> None:
    client = signed_in(server, "admin", "engineer_a")["admin"]
    page = client.get("/admin/users")
    assert "engineer on <code>fraud-scoring</code>" in page.text
    form = {"csrf_token": csrf_from(page.text), "username": "newbie", "password": PASSWORD}
    made = client.post("/admin/users", data={**form, "role": "engineer", "system": SYSTEM_A})
    assert made.status_code == 303
    assert made.headers["location"] == "/admin/users?created=newbie"
    listed = client.get(made.headers["location"]).text
    assert "User <strong>newbie</strong> was created." in listed
    login(server.client(), "newbie")  # the new user can sign in


def test_user_form_errors_come_back_on_the_form(server: Running) -> None:
    client = signed_in(server, "admin")["admin"]
    token = csrf_from(client.get("/admin/users").text)
    short = client.post(
        "/admin/users",
        data={"csrf_token": token, "username": "x1", "password": "short", "role": "viewer"},
    )
    assert short.status_code == 400
    assert 'role="alert"' in short.text
    assert 'value="x1"' in short.text  # what was typed stays, except the password
    unbound = client.post(
        "/admin/users",
        data={"csrf_token": token, "username": "x2", "password": PASSWORD, "role": "engineer"},
    )
    assert unbound.status_code == 400
    assert "give the system id" in unbound.text
    assert client.post("/admin/users", data={"username": "x3"}).status_code == 403  # no CSRF


def test_only_admins_manage_users(server: Running) -> None:
    clients = signed_in(server, "auditor")
    assert clients["auditor"].get("/admin/users").status_code == 403


def test_tokens_are_shown_once_and_can_be_revoked(server: Running) -> None:
    client = signed_in(server, "engineer_a")["engineer_a"]
    page = client.get("/account/tokens")
    assert "You have no API tokens yet." in page.text
    data = {
        "csrf_token": csrf_from(page.text), "name": "ci", "role": "engineer",
        "systems": SYSTEM_A, "days": "30",
    }  # fmt: skip
    made = client.post("/account/tokens", data=data)
    assert made.status_code == 200
    secret = SECRET.search(made.text)
    assert secret is not None
    api = server.client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret[1]}"})
    assert api.status_code == 200
    again = client.get("/account/tokens").text
    assert secret[1] not in again
    assert ">ci</th>" in again
    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', again)
    assert token_id is not None
    revoked = client.post(
        f"/account/tokens/{token_id[1]}/revoke", data={"csrf_token": data["csrf_token"]}
    )
    assert revoked.status_code == 303
    assert "The token was revoked." in client.get(revoked.headers["location"]).text
    gone = server.client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret[1]}"})
    assert gone.status_code == 401


def test_token_form_refuses_what_the_rules_refuse(server: Running) -> None:
    clients = signed_in(server, "engineer_a", "admin")
    client = clients["engineer_a"]
    token = csrf_from(client.get("/account/tokens").text)
    wider = client.post(
        "/account/tokens", data={"csrf_token": token, "name": "x", "role": "viewer"}
    )
    assert wider.status_code == 400
    assert "within your own" in wider.text
    long = client.post(
        "/account/tokens",
        data={"csrf_token": token, "name": "x", "role": "engineer", "systems": SYSTEM_A,
              "days": "9999"},
    )  # fmt: skip
    assert long.status_code == 400
    assert "the expiry must be 1 to 365 days" in long.text
    other = clients["admin"]
    other_token = csrf_from(other.get("/account/tokens").text)
    missing = other.post("/account/tokens/424242/revoke", data={"csrf_token": other_token})
    assert missing.status_code == 404


def test_viewers_have_no_tokens_page(server: Running) -> None:
    client = signed_in(server, "viewer")["viewer"]
    assert client.get("/account/tokens").status_code == 403
    assert 'href="/account/tokens"' not in client.get("/").text
