"""Talking to the server like a browser: the login form, cookies and CSRF tokens."""

from __future__ import annotations

import re

import httpx

PASSWORD = "correct horse battery staple"  # noqa: S105  (a test user's password)
_HIDDEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_from(html: str) -> str:
    found = _HIDDEN.search(html)
    assert found is not None, "no csrf_token field in the page"
    return found.group(1)


def login(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    """Fill in and send the login form; asserts the sign-in worked."""
    response = try_login(client, username, password)
    assert response.status_code == 303, response.text
    return response


def try_login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    form = client.get("/login")
    assert form.status_code == 200
    token = csrf_from(form.text)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def api_csrf(client: httpx.Client) -> str:
    """The session's CSRF token, as the API hands it to scripts."""
    token = client.get("/api/v1/me").json()["csrf_token"]
    assert isinstance(token, str)
    return token
