"""Changing one's password: the current password is checked as a sign-in attempt (counted, and
refused during a lockout, like the login form), and a change ends the other sessions but keeps
this one and the API tokens."""

from __future__ import annotations

import datetime as dt

import httpx

from custos.server.auth import totp
from custos.server.rbac import Binding, Role
from custos.store import auth_store
from tests.server.conftest import Running
from tests.server.helpers import PASSWORD, api_csrf, csrf_from, login, try_login

NEW = "a new long password"


def _change(client: httpx.Client, current: str, new: str = NEW) -> httpx.Response:
    token = csrf_from(client.get("/password").text)
    return client.post("/password", data={"csrf_token": token, "current": current, "new": new})


def test_wrong_current_passwords_lock_the_account_as_failed_sign_ins_do(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    here = server.signed_in("alice")
    for _ in range(5):
        wrong = _change(here, "not the password at all")
        assert wrong.status_code == 400
        assert "the current password is wrong" in wrong.text
    locked = _change(here, PASSWORD)  # even the right one, as at the login form
    assert locked.status_code == 429
    assert "too many failed sign-ins" in locked.text
    assert try_login(server.client(), "alice", PASSWORD).status_code == 429  # one lockout
    server.clock.advance(minutes=16)
    assert _change(here, PASSWORD).status_code == 200
    login(server.client(), "alice", NEW)


def test_a_refused_new_password_costs_no_attempt(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    here = server.signed_in("alice")
    for _ in range(6):
        assert _change(here, "whatever it is", new="short").status_code == 400
    assert _change(here, PASSWORD).status_code == 200


def test_a_change_ends_other_sessions_but_keeps_this_one_and_the_tokens(server: Running) -> None:
    server.user("alice", Binding(Role.auditor))
    here = server.signed_in("alice")
    elsewhere = server.signed_in("alice")
    made = here.post(
        "/api/v1/tokens",
        json={"name": "ci", "role": "viewer"},
        headers={"X-CSRF-Token": api_csrf(here)},
    )
    assert made.status_code == 201
    bearer = {"Authorization": f"Bearer {made.json()['token']}"}
    assert _change(here, PASSWORD).status_code == 200
    assert here.get("/api/v1/me").status_code == 200
    assert elsewhere.get("/api/v1/me").status_code == 401
    assert server.client().get("/api/v1/me", headers=bearer).status_code == 200


def test_a_two_factor_user_changes_the_password_without_a_code(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    here = server.signed_in("alice")
    with auth_store.transaction(server.store) as conn:
        user = auth_store.user_by_name(conn, "alice")
        assert user is not None
        assert auth_store.set_pending_totp(conn, user.id, totp.new_secret())
        assert auth_store.enable_totp(conn, user.id, dt.datetime(2026, 6, 1, tzinfo=dt.UTC), 1, [])
    # This session already passed sign-in; the password form asks for no code.
    assert _change(here, PASSWORD).status_code == 200
