"""Text a database cannot keep is the caller's bad input: 422, never "database unavailable"
(503), and nothing is changed. Lone UTF-16 surrogates are refused when the JSON is parsed; a
NUL character reaches PostgreSQL, which refuses it in text columns (SQLite keeps it). Found by
schemathesis; the fix is in the one place where database errors are mapped
(custos.store.errors), so it holds for every route."""

from __future__ import annotations

import json

import httpx
import pytest

from custos.server.rbac import Binding, Role
from custos.store import auth_store
from tests.server.api_client import bearer
from tests.server.conftest import Running
from tests.server.helpers import api_csrf
from tests.server.inventory_data import SYSTEM_A, risk, system

NUL = "nul\u0000inside"
BAD = [NUL, "lone \udb5d surrogate", "\ud932"]
JSON = {"Content-Type": "application/json"}


def _raw(value: object) -> bytes:
    # json.dumps escapes NUL and lone surrogates (\u0000, \udb5d), as an attacker's client would.
    return json.dumps(value).encode("ascii")


@pytest.mark.parametrize("text", BAD)
def test_role_bindings_with_unstorable_text_are_refused(server: Running, text: str) -> None:
    server.user("root", Binding(Role.admin))
    server.user("alice", Binding(Role.viewer))
    admin = server.signed_in("root")
    with auth_store.transaction(server.store) as conn:
        alice = auth_store.user_by_name(conn, "alice")
    assert alice is not None
    body = {"bindings": [{"role": "engineer", "system": text}]}
    answer = admin.put(
        f"/api/v1/users/{alice.id}/bindings",
        content=_raw(body),
        headers={"X-CSRF-Token": api_csrf(admin), **JSON},
    )
    if text == NUL and server.store.url.startswith("sqlite"):
        assert answer.status_code == 200, answer.text  # SQLite stores NUL characters
        return
    assert answer.status_code == 422, answer.text
    if text == NUL:
        assert "NUL character or an unpaired surrogate" in answer.json()["error"]
    with auth_store.transaction(server.store) as conn:
        kept = auth_store.user_by_name(conn, "alice")
    assert kept is not None
    assert kept.bindings == alice.bindings
    assert admin.get("/api/v1/users").status_code == 200  # nothing left half done


@pytest.mark.parametrize("text", BAD)
def test_inventory_documents_never_answer_5xx(server: Running, text: str) -> None:
    officer: httpx.Client = bearer(server, "officer", Binding(Role.security_officer))
    assert officer.post("/api/v1/systems", json=system(SYSTEM_A)).status_code == 201
    answer = officer.post("/api/v1/risks", content=_raw({**risk(), "title": text}), headers=JSON)
    listed = [r["data"]["title"] for r in officer.get("/api/v1/risks").json()["items"]]
    if text == NUL:  # documents are stored as JSON, where NUL is an escape like any other
        assert answer.status_code == 201, answer.text
        assert listed == [NUL]
    else:
        assert answer.status_code == 422, answer.text
        assert listed == []
