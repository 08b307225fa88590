"""Health, readiness, metrics, security headers, error answers, and logs without secrets."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from custos.server.rbac import Binding, Role
from custos.store import Store
from tests.server.conftest import Running
from tests.server.helpers import PASSWORD, login, try_login

TEMPLATES = Path(__file__).parents[2] / "src/custos/server/web/templates"


def test_health_ready_and_metrics(server: Running) -> None:
    client = server.client()
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "database": "ok"}
    client.get("/api/v1/systems/whatever")
    metrics = client.get("/metrics").text
    assert 'custos_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in metrics
    assert 'route="/api/v1/systems/{system_id}",status="401"' in metrics


def test_readyz_fails_on_an_unmigrated_database(
    empty_url: str, make_store: Callable[[str], Store], start: Callable[..., Running]
) -> None:
    running = start(make_store(empty_url))
    answer = running.client().get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["database"] == "not migrated"


def test_strict_csp_and_no_inline_code(server: Running) -> None:
    page = server.client().get("/login")
    csp = page.headers["content-security-policy"]
    assert "unsafe-inline" not in csp
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert "<script" not in text
        assert "<style" not in text
        assert " style=" not in text
    css = server.client().get("/static/custos.css")
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]


def test_errors_are_json_for_the_api_and_pages_for_people(server: Running) -> None:
    server.user("admin", Binding(Role.admin))
    client = server.signed_in("admin")
    assert client.get("/api/v1/nothing").json() == {"error": "not found"}
    page = client.get("/nothing")
    assert page.status_code == 404
    assert "<h1>Page not found</h1>" in page.text
    headers = {"X-CSRF-Token": client.get("/api/v1/me").json()["csrf_token"]}
    bad = client.post("/api/v1/users", json={"username": "x"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json() == {"error": "password: Field required"}
    weak = client.post(
        "/api/v1/users", json={"username": "bob", "password": "short"}, headers=headers
    )
    assert weak.json() == {"error": "the password must have at least 12 characters"}
    eng = client.post(
        "/api/v1/users",
        json={"username": "bob", "password": PASSWORD, "bindings": [{"role": "engineer"}]},
        headers=headers,
    )
    assert eng.json() == {"error": "role engineer is bound to a system: give the system id"}


def test_logs_never_carry_secrets(server: Running, caplog: pytest.LogCaptureFixture) -> None:
    server.user("alice", Binding(Role.viewer))
    caplog.set_level(logging.INFO, logger="custos.server")
    try_login(server.client(), "alice", "the wrong password here")
    client = server.client()
    login(client, "alice")
    cookie = client.cookies["custos_session"]
    client.get("/api/v1/me")
    text = caplog.text + "".join(str(getattr(r, "fields", "")) for r in caplog.records)
    assert "login.failed" in caplog.text
    assert "login.succeeded" in caplog.text
    for secret in (PASSWORD, "the wrong password here", cookie):
        assert secret not in text
