"""API tokens: shown once, stored hashed, scoped within the creator's bindings, expiring."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from custos.server.rbac import Binding, Role
from custos.store import auth_store
from custos.store.auth_store import TOKENS
from tests.server.conftest import Running
from tests.server.helpers import api_csrf


def _create(server: Running, username: str, body: dict[str, object]):  # type: ignore[no-untyped-def]
    client = server.signed_in(username)
    return client.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": api_csrf(client)})


def test_token_is_shown_once_stored_hashed_and_usable(server: Running) -> None:
    server.user("officer", Binding(Role.security_officer))
    made = _create(server, "officer", {"name": "ci", "role": "viewer"})
    assert made.status_code == 201
    secret = made.json()["token"]
    assert secret.startswith("cst_")
    with auth_store.transaction(server.store) as conn:
        stored = conn.execute(select(TOKENS)).mappings().one()
    assert stored["token_hash"] == hashlib.sha256(secret.encode()).digest()
    assert secret not in str(dict(stored))
    machine = server.client()
    machine.headers["Authorization"] = f"Bearer {secret}"
    assert machine.get("/api/v1/me").json()["bindings"] == [{"role": "viewer", "system": None}]
    assert machine.get("/api/v1/runs").status_code == 200
    listed = server.signed_in("officer").get("/api/v1/tokens").json()
    assert [t["id"] for t in listed] == [made.json()["id"]]
    assert "token" not in listed[0]


def test_scope_must_be_within_the_creator(server: Running) -> None:
    server.user("eng", Binding(Role.engineer, "sys-a"))
    assert _create(server, "eng", {"name": "x", "role": "admin"}).status_code == 400
    assert (
        _create(server, "eng", {"name": "x", "role": "engineer", "systems": ["sys-b"]}).status_code
        == 400
    )
    assert _create(server, "eng", {"name": "x", "role": "engineer"}).status_code == 400
    ok = _create(server, "eng", {"name": "x", "role": "engineer", "systems": ["sys-a"]})
    assert ok.status_code == 201
    machine = server.client()
    machine.headers["Authorization"] = f"Bearer {ok.json()['token']}"
    assert machine.get("/api/v1/systems/sys-a").status_code == 404  # allowed; no assessment yet
    assert machine.get("/api/v1/systems/sys-b").status_code == 403


def test_revoked_expired_and_bogus_tokens_are_refused(server: Running) -> None:
    server.user("auditor", Binding(Role.auditor))
    owner = server.signed_in("auditor")
    csrf = {"X-CSRF-Token": api_csrf(owner)}
    first = owner.post("/api/v1/tokens", json={"name": "a", "role": "viewer"}, headers=csrf).json()
    second = owner.post(
        "/api/v1/tokens", json={"name": "b", "role": "viewer", "expires_in_days": 1}, headers=csrf
    ).json()
    machine = server.client()
    machine.headers["Authorization"] = f"Bearer {first['token']}"
    assert owner.delete(f"/api/v1/tokens/{first['id']}", headers=csrf).status_code == 204
    assert machine.get("/api/v1/me").status_code == 401
    server.clock.advance(days=1, seconds=1)
    machine.headers["Authorization"] = f"Bearer {second['token']}"
    refused = machine.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.json() == {"error": "the API token has expired"}
    machine.headers["Authorization"] = "Bearer cst_" + "A" * 43
    assert machine.get("/api/v1/me").status_code == 401
    machine.headers["Authorization"] = "Basic abc"
    assert machine.get("/api/v1/me").status_code == 401


def test_other_users_tokens_cannot_be_revoked(server: Running) -> None:
    server.user("auditor", Binding(Role.auditor))
    server.user("officer", Binding(Role.security_officer))
    made = _create(server, "auditor", {"name": "a", "role": "viewer"}).json()
    other = server.signed_in("officer")
    answer = other.delete(f"/api/v1/tokens/{made['id']}", headers={"X-CSRF-Token": api_csrf(other)})
    assert answer.status_code == 404
