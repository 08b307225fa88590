"""API clients for the server tests: a user's Bearer token, as CI and scripts call the API."""

from __future__ import annotations

import httpx

from custos.server.rbac import Binding
from tests.server.conftest import Running
from tests.server.helpers import api_csrf


def bearer(server: Running, username: str, *bindings: Binding) -> httpx.Client:
    """A client authenticated with a new token of a new user holding `bindings` (the token
    gets the first binding's role and every bound system)."""
    server.user(username, *bindings)
    browser = server.signed_in(username)
    systems = [b.system for b in bindings if b.system]
    body = {"name": "test", "role": bindings[0].role.value, "systems": systems}
    made = browser.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": api_csrf(browser)})
    assert made.status_code == 201, made.text
    client = server.client()
    client.headers["Authorization"] = f"Bearer {made.json()['token']}"
    return client
