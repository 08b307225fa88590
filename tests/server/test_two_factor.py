"""Two-factor sign-in against a real server: enrolment with a QR code, sign-in with TOTP codes
and recovery codes, replay refusal, throttling, turning it off, and the ledger trail."""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

import httpx
import pyotp
from sqlalchemy import select

from custos.server.rbac import Binding, Role
from custos.store import Store, auth_store
from custos.store.auth_store import RECOVERY, USERS
from tests.server.conftest import Running
from tests.server.helpers import PASSWORD, api_csrf, csrf_from

PAGE = "/account/two-factor"
CODE_NEEDED = "enter the code from your authenticator app (or a recovery code)"
WRONG = "wrong username or password"
NOT_THE_PASSWORD = "not the password at all"  # noqa: S105
_KEY = re.compile(r"<code>([A-Z2-7 ]+)</code>")
_QR = re.compile(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')
_RECOVERY = re.compile(r"<code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code>")


def sign_in(client: httpx.Client, username: str, password: str, code: str = "") -> httpx.Response:
    token = csrf_from(client.get("/login").text)
    data = {"username": username, "password": password, "csrf_token": token, "code": code}
    return client.post("/login", data=data)


def post(client: httpx.Client, path: str, **fields: str) -> httpx.Response:
    return client.post(path, data={"csrf_token": csrf_from(client.get(PAGE).text), **fields})


def code_now(server: Running, secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(server.clock() + dt.timedelta(seconds=30 * steps))


def enrol(server: Running, client: httpx.Client) -> str:
    """Start enrolment; the base32 key as the page shows it for manual entry."""
    page = post(client, f"{PAGE}/enrol", password=PASSWORD)
    assert page.status_code == 200, page.text
    found = _KEY.search(page.text)
    assert found is not None
    return found.group(1).replace(" ", "")


def turn_on(server: Running, client: httpx.Client) -> tuple[str, list[str]]:
    """Enrol and confirm; the key and the recovery codes. Leaves the clock one step later, so
    the confirming code is not the current one."""
    secret = enrol(server, client)
    shown = post(client, f"{PAGE}/confirm", code=code_now(server, secret))
    assert shown.status_code == 200, shown.text
    server.clock.advance(seconds=30)
    return secret, _RECOVERY.findall(shown.text)


def user_row(store: Store, username: str) -> Any:
    with auth_store.transaction(store) as conn:
        return conn.execute(select(USERS).where(USERS.c.username == username)).mappings().one()


def events(store: Store) -> list[dict[str, Any]]:
    from custos.ledger.entry import LedgerEntry
    from custos.store import ledger

    with auth_store.transaction(store) as conn:
        entries = [LedgerEntry.from_canonical(d) for _s, _h, d in ledger.stream_entries(conn)]
    return [dict(e.payload) for e in entries if e.payload.get("user") == "alice"]


def test_enrolment_shows_a_qr_code_without_inline_style_or_script(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    client = server.signed_in("alice")
    assert "Two-factor sign-in is <strong>off</strong>" in client.get(PAGE).text
    page = post(client, f"{PAGE}/enrol", password=PASSWORD)
    assert "default-src 'none'" in page.headers["content-security-policy"]
    found = _QR.search(page.text)
    assert found is not None
    svg = base64.b64decode(found.group(1)).decode()
    assert svg.startswith("<svg")
    assert "style" not in svg
    assert "script" not in svg
    assert "style=" not in page.text
    secret = _KEY.search(page.text)
    assert secret is not None
    assert user_row(server.store, "alice")["totp_secret"] == secret.group(1).replace(" ", "")
    assert user_row(server.store, "alice")["totp_enabled_at"] is None  # pending until confirmed
    assert sign_in(server.client(), "alice", PASSWORD).status_code == 303  # not required yet


def test_enrolment_needs_the_password_and_a_valid_first_code(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    client = server.signed_in("alice")
    wrong = post(client, f"{PAGE}/enrol", password=NOT_THE_PASSWORD)
    assert wrong.status_code == 400
    assert "the password is wrong" in wrong.text
    assert user_row(server.store, "alice")["totp_secret"] is None
    no_enrolment = post(client, f"{PAGE}/confirm", code="123456")
    assert no_enrolment.status_code == 409
    secret = enrol(server, client)
    stale = post(client, f"{PAGE}/confirm", code=code_now(server, secret, steps=-3))
    assert stale.status_code == 400
    assert "that code is not valid" in stale.text
    assert _QR.search(stale.text) is not None  # the QR code stays on the page
    assert user_row(server.store, "alice")["totp_enabled_at"] is None
    assert post(client, f"{PAGE}/confirm", code=code_now(server, secret)).status_code == 200
    again = post(client, f"{PAGE}/enrol", password=PASSWORD)
    assert again.status_code == 409  # an enabled key is never replaced: turn it off first


def test_sign_in_with_totp_and_recovery_codes(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    secret, codes = turn_on(server, server.signed_in("alice"))
    assert len(codes) == 10
    with auth_store.transaction(server.store) as conn:
        stored = list(conn.execute(select(RECOVERY.c.code_hash)).scalars())
    assert len(stored) == 10
    assert not any(c.encode() in blob for c in codes for blob in stored)  # digests only

    missing = sign_in(server.client(), "alice", PASSWORD)
    assert missing.status_code == 401
    assert CODE_NEEDED in missing.text
    wrong_code = sign_in(server.client(), "alice", PASSWORD, "000000")
    assert wrong_code.status_code == 401
    assert WRONG in wrong_code.text
    wrong_password = sign_in(server.client(), "alice", NOT_THE_PASSWORD)
    assert WRONG in wrong_password.text
    assert CODE_NEEDED not in wrong_password.text

    code = code_now(server, secret)
    client = server.client()
    assert sign_in(client, "alice", PASSWORD, code).status_code == 303
    assert client.get("/api/v1/me").json()["username"] == "alice"
    replayed = sign_in(server.client(), "alice", PASSWORD, code)
    assert replayed.status_code == 401  # the same code, within its 30 seconds: refused
    assert (
        sign_in(server.client(), "alice", PASSWORD, code_now(server, secret, steps=-1)).status_code
        == 401
    )
    assert (
        user_row(server.store, "alice")["totp_last_step"] == int(server.clock().timestamp()) // 30
    )

    server.clock.advance(minutes=16)  # past the throttle window of those failures
    typed = codes[0].upper().replace("-", " ")  # normalised before hashing
    assert sign_in(server.client(), "alice", PASSWORD, typed).status_code == 303
    spent = sign_in(server.client(), "alice", PASSWORD, codes[0])
    assert spent.status_code == 401
    assert {"action": "user.recovery_code_used", "user": "alice", "remaining": 9} in events(
        server.store
    )


def test_missing_codes_count_towards_the_lockout(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    secret, _codes = turn_on(server, server.signed_in("alice"))
    for _ in range(5):
        assert sign_in(server.client(), "alice", PASSWORD).status_code == 401
    locked = sign_in(server.client(), "alice", PASSWORD, code_now(server, secret))
    assert locked.status_code == 429
    assert "too many failed sign-ins" in locked.text
    # Locked: the right password without a code must not be told apart from a wrong one.
    assert CODE_NEEDED not in sign_in(server.client(), "alice", PASSWORD).text
    assert (
        user_row(server.store, "alice")["totp_last_step"]
        == int((server.clock() - dt.timedelta(seconds=30)).timestamp()) // 30
    )  # the code tried while locked was not spent
    server.clock.advance(minutes=16)
    assert sign_in(server.client(), "alice", PASSWORD, code_now(server, secret)).status_code == 303


def test_turning_it_off_needs_the_password_and_a_code(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    client = server.signed_in("alice")
    secret, codes = turn_on(server, client)
    assert "Two-factor sign-in is <strong>on</strong>" in client.get(PAGE).text
    assert "<strong>10</strong> unused recovery codes" in client.get(PAGE).text
    wrong = post(client, f"{PAGE}/disable", password=PASSWORD, code="000000")
    assert wrong.status_code == 400
    assert "the password or code is wrong" in wrong.text
    no_password = post(
        client, f"{PAGE}/disable", password=NOT_THE_PASSWORD, code=code_now(server, secret)
    )
    assert no_password.status_code == 400
    assert user_row(server.store, "alice")["totp_enabled_at"] is not None
    server.clock.advance(seconds=30)
    off = post(client, f"{PAGE}/disable", password=PASSWORD, code=code_now(server, secret))
    assert off.status_code == 200
    assert "Two-factor sign-in is off." in off.text
    row = user_row(server.store, "alice")
    assert (row["totp_secret"], row["totp_enabled_at"], row["totp_last_step"]) == (None,) * 3
    with auth_store.transaction(server.store) as conn:
        assert list(conn.execute(select(RECOVERY))) == []
    assert sign_in(server.client(), "alice", PASSWORD).status_code == 303
    assert sign_in(server.client(), "alice", PASSWORD, codes[1]).status_code == 303  # ignored
    actions = [e["action"] for e in events(server.store)]
    assert actions == ["user.created", "user.totp_enabled", "user.totp_disabled"]
    for entry in events(server.store):
        assert set(entry) <= {"action", "user", "bindings", "remaining"}  # no key, no code


def test_a_recovery_code_turns_it_off_when_the_device_is_lost(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    client = server.signed_in("alice")
    _secret, codes = turn_on(server, client)
    off = post(client, f"{PAGE}/disable", password=PASSWORD, code=codes[3])
    assert off.status_code == 200
    assert user_row(server.store, "alice")["totp_enabled_at"] is None


def test_api_tokens_cannot_manage_two_factor(server: Running) -> None:
    server.user("alice", Binding(Role.auditor))
    owner = server.signed_in("alice")
    made = owner.post(
        "/api/v1/tokens",
        json={"name": "ci", "role": "viewer"},
        headers={"X-CSRF-Token": api_csrf(owner)},
    )
    machine = server.client()
    machine.headers["Authorization"] = f"Bearer {made.json()['token']}"
    assert machine.get(PAGE).status_code == 403
    assert machine.post(f"{PAGE}/enrol", data={"password": PASSWORD}).status_code == 403
    assert user_row(server.store, "alice")["totp_secret"] is None


def test_the_forms_need_the_csrf_token(server: Running) -> None:
    server.user("alice", Binding(Role.viewer))
    client = server.signed_in("alice")
    for action in ("enrol", "confirm", "disable"):
        forged = client.post(f"{PAGE}/{action}", data={"password": PASSWORD, "code": "123456"})
        assert forged.status_code == 403
    assert user_row(server.store, "alice")["totp_secret"] is None
