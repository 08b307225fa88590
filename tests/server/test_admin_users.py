"""Admins deactivate and reactivate users and reset a user's second factor, through the API and
the users page: a deactivated user's sessions end and their tokens are refused at once, an
admin cannot lock themselves out, and every change is a ledger event with the admin as actor."""

from __future__ import annotations

import datetime as dt
import re

import httpx
from sqlalchemy import func, select

from custos.ledger.entry import LedgerEntry
from custos.server.auth import totp
from custos.server.rbac import Binding, Role
from custos.store import Store, auth_store, ledger
from tests.server.conftest import Running
from tests.server.helpers import PASSWORD, api_csrf, csrf_from, login, try_login

API = "/api/v1/users"


def _id(store: Store, username: str) -> int:
    with auth_store.transaction(store) as conn:
        user = auth_store.user_by_name(conn, username)
        assert user is not None
        return user.id


def _events(store: Store) -> list[tuple[str | None, dict[str, object]]]:
    with auth_store.transaction(store) as conn:
        entries = [LedgerEntry.from_canonical(d) for _s, _h, d in ledger.stream_entries(conn)]
    return [(e.actor, e.payload) for e in entries if e.kind == "event"]


def _sessions_of(store: Store, user_id: int) -> int:
    query = select(func.count()).where(auth_store.SESSIONS.c.user_id == user_id)
    with auth_store.transaction(store) as conn:
        return int(conn.execute(query).scalar_one())


def _token(client: httpx.Client) -> dict[str, str]:
    made = client.post(
        "/api/v1/tokens", json={"name": "ci", "role": "viewer"},
        headers={"X-CSRF-Token": api_csrf(client)},
    )  # fmt: skip
    assert made.status_code == 201
    return {"Authorization": f"Bearer {made.json()['token']}"}


def _with_totp(store: Store, username: str) -> None:
    with auth_store.transaction(store) as conn:
        user_id = _id(store, username)
        assert auth_store.set_pending_totp(conn, user_id, totp.new_secret())
        hashes = [totp.recovery_hash(c) for c in totp.new_recovery_codes()]
        assert auth_store.enable_totp(
            conn, user_id, dt.datetime(2026, 6, 1, tzinfo=dt.UTC), 1, hashes
        )


def _setup(server: Running) -> tuple[httpx.Client, httpx.Client, int]:
    server.user("root", Binding(Role.admin))
    server.user("bob", Binding(Role.auditor))
    return server.signed_in("root"), server.signed_in("bob"), _id(server.store, "bob")


# -- the API -----------------------------------------------------------------------------------


def test_deactivation_ends_sessions_and_refuses_tokens_until_reactivated(server: Running) -> None:
    admin, bob, bob_id = _setup(server)
    bearer = _token(bob)
    csrf = {"X-CSRF-Token": api_csrf(admin)}
    gone = admin.post(f"{API}/{bob_id}/deactivate", headers=csrf)
    assert gone.status_code == 200, gone.text
    assert gone.json()["active"] is False
    assert _sessions_of(server.store, bob_id) == 0
    assert bob.get("/api/v1/me").status_code == 401
    assert server.client().get("/api/v1/me", headers=bearer).status_code == 401
    assert try_login(server.client(), "bob", PASSWORD).status_code == 401
    back = admin.post(f"{API}/{bob_id}/reactivate", headers=csrf)
    assert back.status_code == 200
    assert back.json()["active"] is True
    assert server.client().get("/api/v1/me", headers=bearer).status_code == 200
    login(server.client(), "bob")
    events = _events(server.store)
    assert ("root", {"action": "user.deactivated", "user": "bob"}) in events
    assert ("root", {"action": "user.reactivated", "user": "bob"}) in events
    # Asking twice changes nothing and records nothing more.
    assert admin.post(f"{API}/{bob_id}/reactivate", headers=csrf).status_code == 200
    assert len(_events(server.store)) == len(events)


def test_an_admin_cannot_deactivate_themselves(server: Running) -> None:
    admin, _bob, _bob_id = _setup(server)
    root_id = _id(server.store, "root")
    answer = admin.post(f"{API}/{root_id}/deactivate", headers={"X-CSRF-Token": api_csrf(admin)})
    assert answer.status_code == 400
    assert answer.json() == {"error": "you cannot deactivate your own account"}
    assert admin.get("/api/v1/me").status_code == 200


def test_unknown_users_and_non_admins(server: Running) -> None:
    admin, bob, bob_id = _setup(server)
    csrf = {"X-CSRF-Token": api_csrf(admin)}
    assert admin.post(f"{API}/999999/deactivate", headers=csrf).status_code == 404
    assert admin.delete(f"{API}/999999/two-factor", headers=csrf).status_code == 404
    root_id = _id(server.store, "root")
    answer = bob.post(f"{API}/{root_id}/deactivate", headers={"X-CSRF-Token": api_csrf(bob)})
    assert answer.status_code == 403
    assert admin.post(f"{API}/{bob_id}/deactivate").status_code == 403  # no CSRF header


def test_a_second_factor_reset_removes_the_seed_and_the_recovery_codes(server: Running) -> None:
    admin, _bob, bob_id = _setup(server)
    _with_totp(server.store, "bob")
    assert try_login(server.client(), "bob", PASSWORD).status_code == 401  # needs the code now
    listed = {u["username"]: u for u in admin.get(API).json()}
    assert listed["bob"]["two_factor"] is True
    reset = admin.delete(f"{API}/{bob_id}/two-factor", headers={"X-CSRF-Token": api_csrf(admin)})
    assert reset.status_code == 200
    assert reset.json()["two_factor"] is False
    with auth_store.transaction(server.store) as conn:
        user = auth_store.user_by_id(conn, bob_id)
        assert user is not None
        assert user.totp_secret is None
        assert auth_store.unused_recovery_codes(conn, bob_id) == 0
    login(server.client(), "bob")  # the password alone, until bob enrols again
    assert ("root", {"action": "user.totp_reset", "user": "bob"}) in _events(server.store)


# -- the users page ----------------------------------------------------------------------------


def test_the_users_page_deactivates_reactivates_and_resets(server: Running) -> None:
    admin, bob, bob_id = _setup(server)
    _with_totp(server.store, "bob")
    page = admin.get("/admin/users").text
    root_id = _id(server.store, "root")
    assert f'action="/admin/users/{bob_id}/deactivate"' in page
    assert f'action="/admin/users/{root_id}/deactivate"' not in page  # not oneself
    assert f'action="/admin/users/{bob_id}/two-factor/reset"' in page
    token = csrf_from(page)

    done = admin.post(f"/admin/users/{bob_id}/deactivate", data={"csrf_token": token})
    assert done.status_code == 303
    assert done.headers["location"] == f"/admin/users?done=deactivated&user={bob_id}"
    shown = admin.get(done.headers["location"]).text
    assert "User bob was deactivated" in shown
    assert f'action="/admin/users/{bob_id}/reactivate"' in shown
    assert bob.get("/api/v1/me").status_code == 401

    back = admin.post(f"/admin/users/{bob_id}/reactivate", data={"csrf_token": token})
    assert back.status_code == 303
    assert "User bob was reactivated." in admin.get(back.headers["location"]).text

    reset = admin.post(f"/admin/users/{bob_id}/two-factor/reset", data={"csrf_token": token})
    assert reset.status_code == 303
    assert "The second factor of bob was removed" in admin.get(reset.headers["location"]).text
    login(server.client(), "bob")


def test_the_users_page_refuses_self_deactivation_and_forms_without_csrf(server: Running) -> None:
    admin, _bob, bob_id = _setup(server)
    root_id = _id(server.store, "root")
    token = csrf_from(admin.get("/admin/users").text)
    refused = admin.post(f"/admin/users/{root_id}/deactivate", data={"csrf_token": token})
    assert refused.status_code == 400
    assert re.search(r'role="alert">you cannot deactivate your own account<', refused.text)
    assert admin.post(f"/admin/users/{bob_id}/deactivate", data={}).status_code == 403
    assert admin.post(f"/admin/users/{bob_id}/two-factor/reset", data={}).status_code == 403
    assert admin.get("/api/v1/me").status_code == 200
    # A notice names only a user read from the database: a made-up link shows none.
    page = admin.get("/admin/users", params={"done": "deactivated", "user": 999999}).text
    assert "was deactivated" not in page


# -- roles -------------------------------------------------------------------------------------


def test_changing_roles_narrows_the_user_and_their_tokens_at_once(server: Running) -> None:
    admin, bob, bob_id = _setup(server)
    bearer = _token(bob)  # a viewer token under bob's auditor role
    assert server.client().get("/api/v1/trend", headers=bearer).status_code == 200
    csrf = {"X-CSRF-Token": api_csrf(admin)}
    body = {"bindings": [{"role": "engineer", "system": "fraud-scoring"}]}
    changed = admin.put(f"{API}/{bob_id}/bindings", json=body, headers=csrf)
    assert changed.status_code == 200, changed.text
    assert changed.json()["bindings"] == [{"role": "engineer", "system": "fraud-scoring"}]
    # The session and the token follow on their next request: no global view any more.
    assert bob.get("/api/v1/trend").status_code == 403
    assert server.client().get("/api/v1/trend", headers=bearer).status_code == 403
    assert ("root", {
        "action": "user.bindings_changed", "user": "bob",
        "bindings": [{"role": "engineer", "system": "fraud-scoring"}],
    }) in _events(server.store)  # fmt: skip
    wrong = admin.put(
        f"{API}/{bob_id}/bindings", json={"bindings": [{"role": "engineer"}]}, headers=csrf
    )
    assert wrong.status_code == 400  # an engineer is bound to a system
    assert "bound to a system" in wrong.text


def test_an_admin_cannot_take_their_own_admin_role(server: Running) -> None:
    admin, _bob, _ = _setup(server)
    root_id = _id(server.store, "root")
    csrf = {"X-CSRF-Token": api_csrf(admin)}
    refused = admin.put(
        f"{API}/{root_id}/bindings", json={"bindings": [{"role": "viewer"}]}, headers=csrf
    )
    assert refused.status_code == 400
    assert "your own admin role" in refused.text
    with auth_store.transaction(server.store) as conn:
        root = auth_store.user_by_id(conn, root_id)
    assert root is not None
    assert root.bindings == (("admin", None),)


def test_roles_are_added_and_removed_on_the_users_page(server: Running) -> None:
    admin, _bob, bob_id = _setup(server)
    page = admin.get("/admin/users")
    token = csrf_from(page.text)
    added = admin.post(
        f"/admin/users/{bob_id}/roles/add",
        data={"csrf_token": token, "role": "engineer", "system": "chargeback-bot"},
    )
    assert added.status_code == 303
    shown = admin.get(added.headers["location"]).text
    assert "The roles of bob were changed" in shown
    with auth_store.transaction(server.store) as conn:
        bob = auth_store.user_by_id(conn, bob_id)
    assert bob is not None
    assert bob.bindings == (("auditor", None), ("engineer", "chargeback-bot"))
    removed = admin.post(
        f"/admin/users/{bob_id}/roles/remove",
        data={"csrf_token": token, "role": "auditor", "system": ""},
    )
    assert removed.status_code == 303
    with auth_store.transaction(server.store) as conn:
        bob = auth_store.user_by_id(conn, bob_id)
    assert bob is not None
    assert bob.bindings == (("engineer", "chargeback-bot"),)
    no_csrf = admin.post(f"/admin/users/{bob_id}/roles/remove", data={"role": "engineer"})
    assert no_csrf.status_code == 403
    bad = admin.post(
        f"/admin/users/{bob_id}/roles/add", data={"csrf_token": token, "role": "wizard"}
    )
    assert bad.status_code == 400
    assert "unknown role" in bad.text
