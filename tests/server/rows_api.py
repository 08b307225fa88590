"""Matrix rows for the inventory, register, results, ledger and push routes of /api/v1, and the
user-management routes added after the CORE rows."""

from __future__ import annotations

from typing import Any

from tests.server.inventory_data import asset, attestation, digest, manifest, risk, system
from tests.server.matrix_case import ALL, GLOBAL_READERS, SYSTEM_A, SYSTEM_B, Case

ADMIN = frozenset({"admin"})
WRITERS = frozenset({"admin", "officer"})
AUDIT = frozenset({"admin", "officer", "auditor"})
SYSTEM_A_READERS = GLOBAL_READERS | {"engineer_a"}
SYSTEM_A_WRITERS = WRITERS | {"engineer_a"}
PUSHERS = WRITERS | {"engineer_a", "engineer_b"}
API = "/api/v1"
A = f"{API}/systems/{SYSTEM_A}"


def _push(caller: str, scan: bool) -> dict[str, Any]:
    ids = {"engineer_a": (SYSTEM_A,), "engineer_b": (SYSTEM_B,)}.get(caller, ())
    data = manifest(*ids, scoped=bool(ids))
    if ids:
        # An engineer's push may change only assets: it carries the register as the server
        # already holds it (tests/server/test_push_scope.py walks what else is refused).
        data["risks"] = [r for r in data["risks"] if r["id"] == "poisoning"]
        data["attestations"] = []
    body: dict[str, Any] = {"manifest": data, "manifest_sha256": digest(data)}
    if scan:
        at = "2026-06-01T08:00:00+00:00"
        body.update(started_at=at, finished_at=at, evidence=[])
    return body


ROWS: dict[tuple[str, str], Case] = {
    # Accounts (the other user routes are CORE rows). No such user: an admin gets 404, so the
    # walk deactivates nobody it still needs.
    ("POST", f"{API}/users/{{user_id}}/deactivate"): Case(
        ADMIN, 404, path=f"{API}/users/999999/deactivate"
    ),
    ("POST", f"{API}/users/{{user_id}}/reactivate"): Case(
        ADMIN, 404, path=f"{API}/users/999999/reactivate"
    ),
    ("PUT", f"{API}/users/{{user_id}}/bindings"): Case(
        ADMIN,
        404,
        path=f"{API}/users/999999/bindings",
        body=lambda _c: {"bindings": [{"role": "viewer"}]},
    ),
    ("DELETE", f"{API}/users/{{user_id}}/two-factor"): Case(
        ADMIN, 404, path=f"{API}/users/999999/two-factor"
    ),
    ("GET", f"{API}/organisation"): Case(ALL, 200),
    ("PUT", f"{API}/organisation"): Case(
        WRITERS, 200, body=lambda _c: {"name": "B", "scope": "AI"}
    ),
    ("GET", f"{API}/systems"): Case(ALL, 200),
    ("POST", f"{API}/systems"): Case(WRITERS, 201, body=lambda c: system(f"sys-{c}")),
    ("GET", f"{API}/systems/{{system_id}}"): Case(SYSTEM_A_READERS, 200, path=A),
    ("PUT", f"{API}/systems/{{system_id}}"): Case(
        WRITERS, 200, path=A, body=lambda _c: system(SYSTEM_A)
    ),
    ("DELETE", f"{API}/systems/{{system_id}}"): Case(WRITERS, 404, path=f"{API}/systems/nope"),
    ("GET", f"{API}/systems/{{system_id}}/assets"): Case(SYSTEM_A_READERS, 200, path=f"{A}/assets"),
    ("POST", f"{API}/systems/{{system_id}}/assets"): Case(
        SYSTEM_A_WRITERS, 201, path=f"{A}/assets", body=lambda c: asset(f"asset-{c}")
    ),
    ("GET", f"{API}/systems/{{system_id}}/assets/{{asset_id}}"): Case(
        SYSTEM_A_READERS, 200, path=f"{A}/assets/{SYSTEM_A}-model"
    ),
    ("PUT", f"{API}/systems/{{system_id}}/assets/{{asset_id}}"): Case(
        SYSTEM_A_WRITERS,
        200,
        path=f"{A}/assets/{SYSTEM_A}-model",
        body=lambda _c: asset(f"{SYSTEM_A}-model"),
    ),
    ("DELETE", f"{API}/systems/{{system_id}}/assets/{{asset_id}}"): Case(
        SYSTEM_A_WRITERS, 404, path=f"{A}/assets/nope"
    ),
    ("GET", f"{API}/risks"): Case(ALL, 200),
    ("POST", f"{API}/risks"): Case(WRITERS, 201, body=lambda c: risk(f"r-{c}")),
    ("GET", f"{API}/risks/{{risk_id}}"): Case(SYSTEM_A_READERS, 200, path=f"{API}/risks/poisoning"),
    ("PUT", f"{API}/risks/{{risk_id}}"): Case(
        WRITERS, 200, path=f"{API}/risks/poisoning", body=lambda _c: risk("poisoning")
    ),
    ("DELETE", f"{API}/risks/{{risk_id}}"): Case(WRITERS, 404, path=f"{API}/risks/nope"),
    ("GET", f"{API}/attestations"): Case(ALL, 200),
    ("POST", f"{API}/attestations"): Case(WRITERS, 201, body=lambda c: attestation(f"a-{c}")),
    ("GET", f"{API}/attestations/{{attestation_id}}"): Case(
        GLOBAL_READERS, 200, path=f"{API}/attestations/ai-policy"
    ),
    ("PUT", f"{API}/attestations/{{attestation_id}}"): Case(
        WRITERS, 200, path=f"{API}/attestations/ai-policy", body=lambda _c: attestation()
    ),
    ("DELETE", f"{API}/attestations/{{attestation_id}}"): Case(
        WRITERS, 404, path=f"{API}/attestations/nope"
    ),
    # JSON instead of a multipart upload: refused as invalid for those allowed to upload.
    ("POST", f"{API}/attestations/{{attestation_id}}/file"): Case(
        WRITERS, 422, path=f"{API}/attestations/ai-policy/file"
    ),
    ("GET", f"{API}/attestations/{{attestation_id}}/file"): Case(
        GLOBAL_READERS, 404, path=f"{API}/attestations/ai-policy/file"
    ),
    ("GET", f"{API}/exclusions"): Case(ALL, 200),
    ("POST", f"{API}/exclusions"): Case(
        WRITERS,
        201,
        body=lambda c: {
            "control": f"iso27002:2022:7.{5 if c == 'admin' else 6}",
            "justification": "cloud only: no premises of our own",
        },
    ),
    ("DELETE", f"{API}/exclusions/{{exclusion_id}}"): Case(
        WRITERS, 404, path=f"{API}/exclusions/nope"
    ),
    ("GET", f"{API}/controls"): Case(ALL, 200),
    ("GET", f"{API}/controls/{{control_id}}"): Case(
        ALL, 200, path=f"{API}/controls/iso27002:2022:5.1"
    ),
    ("GET", f"{API}/soa"): Case(ALL, 200),
    ("GET", f"{API}/gaps"): Case(ALL, 200),
    ("GET", f"{API}/roadmap"): Case(ALL, 200),
    ("GET", f"{API}/findings"): Case(ALL, 200),
    ("GET", f"{API}/evidence"): Case(ALL, 200),
    ("GET", f"{API}/trend"): Case(GLOBAL_READERS, 200),
    ("GET", f"{API}/reports/{{report_format}}"): Case(AUDIT, 200, path=f"{API}/reports/md"),
    ("GET", f"{API}/ledger/proofs/{{index}}"): Case(
        GLOBAL_READERS, 200, path=f"{API}/ledger/proofs/0"
    ),
    ("GET", f"{API}/ledger/bundle"): Case(AUDIT, 200),
    ("PUT", f"{API}/roadmap/{{control_id}}/assignment"): Case(
        WRITERS,
        200,
        path=f"{API}/roadmap/custos:ai:data-poisoning/assignment",
        body=lambda c: {"owner": f"{c}@example.org"},
    ),
    ("DELETE", f"{API}/roadmap/{{control_id}}/assignment"): Case(
        WRITERS, 404, path=f"{API}/roadmap/iso27002:2022:9.9/assignment"
    ),
    # The page form: an empty form clears a decision that does not exist (404 for planners).
    ("POST", "/roadmap/{control_id}/assign"): Case(
        WRITERS, 404, page=True, path="/roadmap/iso27002:2022:9.9/assign"
    ),
    ("POST", f"{API}/push/scan"): Case(PUSHERS, 201, body=lambda c: _push(c, scan=True)),
    ("POST", f"{API}/push/assessment"): Case(PUSHERS, 201, body=lambda c: _push(c, scan=False)),
}
