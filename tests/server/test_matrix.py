"""The authorisation matrix: every registered route, walked with no login, with every role, and
with another system's engineer; each answer is checked against the table below.

The table is written out by hand (not derived from the role definitions), and the first test
keeps it equal to the app's routes: a new route fails here until its row is added.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from custos.server.app import create_app
from custos.server.guards import registry, routes
from custos.server.rbac import Binding, Role
from custos.server.settings import Settings
from custos.store import Store
from tests.server import inventory_data
from tests.server.conftest import Running
from tests.server.helpers import api_csrf, csrf_from
from tests.server.matrix_case import (
    ALL,
    CALLERS,
    GLOBAL_READERS,
    SYSTEM_A,
    SYSTEM_B,
    Case,
)
from tests.store import samples

CORE: dict[tuple[str, str], Case] = {
    ("GET", "/healthz"): Case(ALL, 200, public=True),
    ("GET", "/readyz"): Case(ALL, 200, public=True),
    ("GET", "/metrics"): Case(ALL, 200, public=True),
    ("GET", "/login"): Case(ALL, 303, public=True),  # signed in: sent on to the start page
    ("POST", "/login"): Case(ALL, 422, public=True),  # no form fields: refused for anyone
    ("POST", "/logout"): Case(ALL, 303, page=True),
    ("GET", "/"): Case(ALL, 200, page=True),
    ("GET", "/password"): Case(ALL, 200, page=True),
    ("POST", "/password"): Case(ALL, 400, page=True, body=lambda _c: {"current": "x", "new": "y"}),
    ("GET", "/api/v1/me"): Case(ALL, 200),
    ("GET", "/api/v1/runs"): Case(GLOBAL_READERS, 200),
    ("GET", "/api/v1/ledger/checkpoint"): Case(GLOBAL_READERS, 200),
    ("GET", "/api/v1/users"): Case(frozenset({"admin"}), 200),
    ("POST", "/api/v1/users"): Case(
        frozenset({"admin"}),
        201,
        body=lambda c: {"username": f"new-{c}", "password": "a long enough password"},
    ),
    ("GET", "/api/v1/tokens"): Case(ALL - {"viewer"}, 200),
    ("POST", "/api/v1/tokens"): Case(
        ALL - {"viewer"},
        201,
        body=lambda c: {
            "name": "ci",
            "role": "engineer" if c.startswith("engineer") else "viewer",
            "systems": [SYSTEM_A if c == "engineer_a" else SYSTEM_B] if c.startswith("eng") else [],
        },
    ),
    ("DELETE", "/api/v1/tokens/{token_id}"): Case(
        ALL - {"viewer"}, 404, path="/api/v1/tokens/999999"
    ),
}


# Each area's routes bring their rows in a module of their own: tests/server/rows_<area>.py
# with `ROWS: dict[tuple[str, str], Case]`.
MATRIX: dict[tuple[str, str], Case] = {**CORE}
for _info in pkgutil.iter_modules([str(Path(__file__).parent)]):
    if _info.name.startswith("rows_"):
        _rows = importlib.import_module(f"tests.server.{_info.name}").ROWS
        assert not set(_rows) & set(MATRIX), f"{_info.name} repeats routes"
        MATRIX.update(_rows)


def test_the_matrix_covers_every_route_and_every_route_declares() -> None:
    app = create_app(Settings(db_url="sqlite://"))
    declared = registry(app)
    assert set(declared) == set(MATRIX)
    assert all(d is not None for d in declared.values())
    for (method, path), case in MATRIX.items():
        decl = declared[(method, path)]
        assert decl is not None
        assert (decl.permission is None) == case.public, (method, path)
    others = {path for path, r in routes(app) if not isinstance(r, APIRoute)}
    # Only the OpenAPI document and the static files are served outside the registry.
    assert others == {"/openapi.json", "/static"}
    assert all(isinstance(r, Route | Mount) for _path, r in routes(app))


def _callers(server: Running) -> dict[str, httpx.Client]:
    server.user("admin", Binding(Role.admin))
    server.user("officer", Binding(Role.security_officer))
    server.user("engineer_a", Binding(Role.engineer, SYSTEM_A))
    server.user("auditor", Binding(Role.auditor))
    server.user("viewer", Binding(Role.viewer))
    server.user("engineer_b", Binding(Role.engineer, SYSTEM_B))
    clients = {name: server.signed_in(name) for name in CALLERS if name != "anonymous"}
    clients["anonymous"] = server.client()
    return clients


def _seed(store: Store, server: Running) -> None:
    store.save_assessment(
        samples.report(), manifest_path="custos.yaml", manifest_sha256=samples.SHA
    )
    inventory_data.seed(store)
    server.user("seed", Binding(Role.viewer))  # appends a ledger event: a checkpoint exists


def _call(client: httpx.Client, caller: str, method: str, path: str, case: Case) -> httpx.Response:
    headers: dict[str, str] = {}
    if method != "GET" and caller != "anonymous":
        if case.page:
            data = {
                "csrf_token": csrf_from(client.get("/").text),
                **(case.body(caller) if case.body else {}),
            }
            return client.request(method, path, data=data)
        headers["X-CSRF-Token"] = api_csrf(client)
    body = case.body(caller) if case.body else None
    if case.page:
        return client.request(method, path, data=body)
    return client.request(method, path, json=body, headers=headers)


def test_every_route_with_every_caller(server: Running) -> None:
    _seed(server.store, server)
    clients = _callers(server)
    failures = []
    for (method, route), case in MATRIX.items():
        path = case.path or route
        for caller in CALLERS:
            if (method, route) == ("POST", "/logout"):
                continue  # walked last: it ends the session
            response = _call(clients[caller], caller, method, path, case)
            expected = _expected(case, caller, route)
            if response.status_code != expected:
                failures.append(f"{caller} {method} {path}: {response.status_code} != {expected}")
            if route.startswith("/api/") and response.status_code in (401, 403):
                assert "error" in response.json()
    for caller in CALLERS:
        case = MATRIX[("POST", "/logout")]
        response = _call(clients[caller], caller, "POST", "/logout", case)
        expected = _expected(case, caller, "/logout")
        if response.status_code != expected:
            failures.append(f"{caller} POST /logout: {response.status_code} != {expected}")
    assert failures == []


def _expected(case: Case, caller: str, route: str) -> int:
    if case.public:
        if (route, case.ok) == ("/login", 303) and caller == "anonymous":
            return 200
        return case.ok
    if caller == "anonymous":
        return 303 if case.page else 401
    return case.ok if caller in case.allowed else 403


@pytest.mark.parametrize("caller", ["engineer_a", "engineer_b"])
def test_system_list_is_filtered_per_engineer(server: Running, caller: str) -> None:
    _seed(server.store, server)
    clients = _callers(server)
    listed = clients[caller].get("/api/v1/systems").json()["items"]
    assert [s["data"]["id"] for s in listed] == [SYSTEM_A if caller == "engineer_a" else SYSTEM_B]
    everyone = clients["viewer"].get("/api/v1/systems").json()["items"]
    assert {s["data"]["id"] for s in everyone} == {SYSTEM_A, SYSTEM_B}
