"""Authorisation matrix rows of the web pages (dashboard, read-only pages, ledger, activity,
admin and account pages); see tests/server/test_matrix.py. The start page "/" is a CORE row."""

from __future__ import annotations

from typing import Any

from tests.server.matrix_case import ALL, GLOBAL_READERS, SYSTEM_A, SYSTEM_B, Case

AUDIT = frozenset({"admin", "officer", "auditor"})  # ledger:export and activity:read
# risks:write, attestations:write and soa:write. The editing forms' rows post the empty form:
# a re-rendered page naming the missing field (422), or 404 for an item that does not exist.
EDITORS = frozenset({"admin", "officer"})
TOKEN_MAKERS = ALL - {"viewer"}
ADMIN = frozenset({"admin"})


def _token_form(caller: str) -> dict[str, Any]:
    if caller.startswith("engineer"):
        system = SYSTEM_A if caller == "engineer_a" else SYSTEM_B
        return {"name": "ci", "role": "engineer", "systems": system, "days": "30"}
    return {"name": "ci", "role": "viewer", "days": "30"}


ROWS: dict[tuple[str, str], Case] = {
    ("GET", "/systems"): Case(ALL, 200, page=True),
    ("GET", "/systems/{system_id}"): Case(
        GLOBAL_READERS | {"engineer_a"}, 200, page=True, path=f"/systems/{SYSTEM_A}"
    ),
    ("GET", "/risks"): Case(ALL, 200, page=True),
    ("POST", "/risks/new"): Case(EDITORS, 422, page=True),
    ("GET", "/risks/{risk_id}/edit"): Case(EDITORS, 200, page=True, path="/risks/poisoning/edit"),
    ("POST", "/risks/{risk_id}/edit"): Case(EDITORS, 422, page=True, path="/risks/poisoning/edit"),
    ("POST", "/risks/{risk_id}/delete"): Case(EDITORS, 404, page=True, path="/risks/nope/delete"),
    ("POST", "/attestations/new"): Case(EDITORS, 422, page=True),
    ("POST", "/attestations/{attestation_id}/file"): Case(
        EDITORS, 422, page=True, path="/attestations/ai-policy/file"
    ),
    ("POST", "/controls/{control_id}/exclusions"): Case(
        EDITORS, 422, page=True, path="/controls/iso27002:2022:7.1/exclusions"
    ),
    ("POST", "/exclusions/{exclusion_id}/delete"): Case(
        EDITORS, 404, page=True, path="/exclusions/x-nope/delete"
    ),
    ("GET", "/controls"): Case(ALL, 200, page=True),
    ("GET", "/controls/{control_id}"): Case(
        ALL, 200, page=True, path="/controls/iso27002:2022:5.37"
    ),
    ("GET", "/soa"): Case(ALL, 200, page=True),
    ("GET", "/findings"): Case(ALL, 200, page=True),
    ("GET", "/evidence"): Case(ALL, 200, page=True),
    ("GET", "/roadmap"): Case(ALL, 200, page=True),
    ("GET", "/ledger"): Case(GLOBAL_READERS, 200, page=True),
    ("POST", "/ledger/verify"): Case(GLOBAL_READERS, 200, page=True),
    ("GET", "/ledger/bundle"): Case(AUDIT, 200, page=True),
    ("GET", "/activity"): Case(AUDIT, 200, page=True),
    ("GET", "/admin/users"): Case(frozenset({"admin"}), 200, page=True),
    ("POST", "/admin/users"): Case(
        frozenset({"admin"}),
        303,
        page=True,
        body=lambda c: {
            "username": f"page-{c}",
            "password": "a long enough password",
            "role": "viewer",
        },
    ),
    # No such user: an admin gets 404, so the walk deactivates nobody it still needs.
    ("POST", "/admin/users/{user_id}/deactivate"): Case(
        ADMIN, 404, page=True, path="/admin/users/999999/deactivate"
    ),
    ("POST", "/admin/users/{user_id}/reactivate"): Case(
        ADMIN, 404, page=True, path="/admin/users/999999/reactivate"
    ),
    ("POST", "/admin/users/{user_id}/roles/add"): Case(
        ADMIN,
        404,
        page=True,
        path="/admin/users/999999/roles/add",
        body=lambda _c: {"role": "viewer"},
    ),
    ("POST", "/admin/users/{user_id}/roles/remove"): Case(
        ADMIN,
        404,
        page=True,
        path="/admin/users/999999/roles/remove",
        body=lambda _c: {"role": "viewer"},
    ),
    ("POST", "/admin/users/{user_id}/two-factor/reset"): Case(
        ADMIN, 404, page=True, path="/admin/users/999999/two-factor/reset"
    ),
    ("GET", "/account/tokens"): Case(TOKEN_MAKERS, 200, page=True),
    ("POST", "/account/tokens"): Case(TOKEN_MAKERS, 200, page=True, body=_token_form),
    ("POST", "/account/tokens/{token_id}/revoke"): Case(
        TOKEN_MAKERS, 404, page=True, path="/account/tokens/999999/revoke"
    ),
}
