"""`custos scan --push` and `custos assess --push` against a real server: the manifest becomes
the server's inventory, the evidence is kept and ledgered, the server assesses again itself;
tokens are confined to their systems; bad pushes change nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from custos.server.rbac import Binding, Role
from custos.store import auth_store, inventory_store
from tests.cli.run import custos
from tests.server.api_client import bearer
from tests.server.conftest import Running
from tests.server.inventory_data import SYSTEM_A, SYSTEM_B, asset, digest, manifest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud-detection"
AT = "2026-06-01T08:00:00+00:00"


def _evidence(system: str, result: str = "fail") -> dict[str, object]:
    return {
        "check": "model-card", "check_version": 1, "system": system,
        "asset": f"{system}-model", "result": result, "summary": "no model card",
        "controls": ["custos:ai:model-documentation"], "collected_at": AT, "expires_at": None,
        "examined": [{"location": "models/x.safetensors", "sha256": "ab" * 32, "size": 10}],
        "findings": [{"rule": "model-card/missing", "severity": "high", "message": "none",
                      "location": "models", "controls": []}],
    }  # fmt: skip


def _scan(data: dict[str, object], *evidence: dict[str, object]) -> dict[str, object]:
    return {
        "manifest": data, "manifest_sha256": digest(data), "attestation_files": {},
        "started_at": AT, "finished_at": AT, "evidence": list(evidence),
    }  # fmt: skip


def _items(server: Running) -> set[tuple[str, str, str]]:
    with auth_store.transaction(server.store) as conn:
        return {(i.document.kind, i.document.key, i.source) for i in inventory_store.items(conn)}


def test_a_scan_push_fills_the_inventory_and_is_assessed(server: Running) -> None:
    # A security officer brings the system and its register; CI then pushes the same file
    # (no change: the engineer may send it) with the scan's evidence.
    officer = bearer(server, "officer", Binding(Role.security_officer))
    data = manifest(SYSTEM_A, scoped=True)
    assert officer.post("/api/v1/push/assessment", json=_scan(data)).status_code == 201
    ci = bearer(server, "ci", Binding(Role.engineer, SYSTEM_A))
    pushed = ci.post("/api/v1/push/scan", json=_scan(data, _evidence(SYSTEM_A)))
    assert pushed.status_code == 201, pushed.text
    body = pushed.json()
    assert body["systems"] == [SYSTEM_A]
    assert body["assessment_run"] > body["scan_run"]
    assert isinstance(body["overall_score"], float)
    assert ("system", SYSTEM_A, "manifest") in _items(server)
    viewer = bearer(server, "auditor", Binding(Role.auditor))
    found = viewer.get("/api/v1/findings", params={"severity": "high"}).json()
    assert [f["rule"] for f in found["items"]] == ["model-card/missing"]
    evidence = viewer.get("/api/v1/evidence", params={"check": "model-card"}).json()
    assert evidence["items"][0]["examined"][0]["sha256"] == "ab" * 32
    # Every evidence record is in the ledger, with the pushing user as actor.
    proof = viewer.get(f"/api/v1/ledger/proofs/{_last(viewer)}").json()
    assert proof["entry_hashes_to_leaf"]


def _last(client: httpx.Client) -> int:
    return int(client.get("/api/v1/ledger/checkpoint").json()["size"]) - 1


def test_a_token_cannot_push_other_systems(server: Running) -> None:
    ci = bearer(server, "ci", Binding(Role.engineer, SYSTEM_A))
    both = ci.post("/api/v1/push/scan", json=_scan(manifest(), _evidence(SYSTEM_A)))
    assert both.status_code == 403
    assert SYSTEM_B in both.json()["error"]
    stray = ci.post(
        "/api/v1/push/scan", json=_scan(manifest(SYSTEM_A, scoped=True), _evidence(SYSTEM_B))
    )
    assert stray.status_code == 422
    auditor = bearer(server, "auditor", Binding(Role.auditor))
    assert auditor.post("/api/v1/push/scan", json=_scan(manifest(SYSTEM_A))).status_code == 403
    assert _items(server) == set()


def test_a_system_push_cannot_reach_beyond_its_systems(server: Running) -> None:
    officer = bearer(server, "officer", Binding(Role.security_officer))
    assert officer.post("/api/v1/push/assessment", json=_scan(manifest())).status_code == 201
    before = _items(server)
    organisation = officer.get("/api/v1/organisation").json()["data"]
    ci = bearer(server, "ci", Binding(Role.engineer, SYSTEM_A))
    # An organisation-wide attestation (no systems) is a security officer's to change.
    wide = manifest(SYSTEM_A)
    wide["attestations"][0]["statement"] = "Changed by CI."  # type: ignore[index]
    refused = ci.post("/api/v1/push/assessment", json=_scan(wide))
    assert refused.status_code == 422
    assert refused.json()["refused"][0]["id"] == "ai-policy"
    # Another system's asset id, brought under system A, is not taken over.
    grab = manifest(SYSTEM_A)
    grab["systems"][0]["assets"].append(asset(f"{SYSTEM_B}-model"))  # type: ignore[index]
    assert ci.post("/api/v1/push/assessment", json=_scan(grab)).status_code == 422
    assert _items(server) == before
    # The organisation is kept as it is.
    renamed = {**manifest(SYSTEM_A), "organisation": {"name": "Pwned", "scope": "x"}}
    assert ci.post("/api/v1/push/assessment", json=_scan(renamed)).status_code == 201
    assert officer.get("/api/v1/organisation").json()["data"] == organisation
    assert ("system", SYSTEM_B, "manifest") in _items(server)
    assert {i for i in before if i[0] == "asset"} <= _items(server)
    # A pushed attestation cannot point at a file uploaded to the server.
    forged = manifest(SYSTEM_A)
    forged["attestations"][0]["evidence"] = "upload:1/x.pdf"  # type: ignore[index]
    assert ci.post("/api/v1/push/assessment", json=_scan(forged)).status_code == 422


def test_bad_manifests_are_refused_whole(server: Running) -> None:
    ci = bearer(server, "ci", Binding(Role.security_officer))
    broken = manifest(SYSTEM_A)
    broken["risks"] = [{**broken["risks"][0], "systems": ["nope"]}]  # type: ignore[index]
    refused = ci.post("/api/v1/push/assessment", json=_scan(broken))
    assert refused.status_code == 422
    assert "unknown system 'nope'" in refused.json()["error"]
    invalid = ci.post("/api/v1/push/assessment", json=_scan({"systems": []}))
    assert invalid.status_code == 422
    assert invalid.json()["error"].startswith("manifest.")
    assert _items(server) == set()


def test_a_later_push_replaces_what_the_manifest_declared_only(server: Running) -> None:
    ci = bearer(server, "ci", Binding(Role.security_officer))
    assert ci.post("/api/v1/push/assessment", json=_scan(manifest())).status_code == 201
    # Made on the server: survives pushes.
    ci.post("/api/v1/systems", json={**manifest()["systems"][0], "id": "ui-made", "assets": []})  # type: ignore[index]
    smaller = manifest(SYSTEM_A)
    smaller["risks"] = []
    assert ci.post("/api/v1/push/assessment", json=_scan(smaller)).status_code == 201
    items = _items(server)
    assert ("risk", "poisoning", "manifest") not in items  # no longer declared for SYSTEM_A
    assert ("system", SYSTEM_B, "manifest") in items  # another system: not this push's
    assert ("system", "ui-made", "server") in items


def test_the_cli_pushes_a_real_scan(server: Running, tmp_path: Path) -> None:
    project = tmp_path / "fraud-detection"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".custos"))
    officer = bearer(server, "ci", Binding(Role.security_officer))
    token = officer.headers["Authorization"].removeprefix("Bearer ")
    env = {"CUSTOS_TOKEN": token, "CUSTOS_HOME": str(tmp_path / "home")}
    scanned = custos("scan", str(project), "--push", server.url, env=env)
    assert scanned.code == 0, scanned.err
    assert "pushed to" in scanned.err
    systems = officer.get("/api/v1/systems").json()
    assert systems["total"] == 2
    assessed = custos("assess", str(project), "--push", server.url, env=env)
    assert assessed.code == 0, assessed.err
    runs = officer.get("/api/v1/runs").json()
    # (the test server's clock stands still, so runs are not in push order)
    assert sorted(r["kind"] for r in runs) == ["assess", "assess", "scan"]
    # Refused and unreachable pushes: one line, exit 2 and 3.
    bad = custos("assess", str(project), "--push", server.url, env={**env, "CUSTOS_TOKEN": "x"})
    assert bad.code == 2
    assert "refused the push (401)" in bad.err
    gone = custos("assess", str(project), "--push", "http://127.0.0.1:9", env=env)
    assert gone.code == 3
    assert "cannot push" in gone.err
    missing = custos("assess", str(project), "--push", server.url, env={"CUSTOS_TOKEN": ""})
    assert missing.code == 2
    assert "CUSTOS_TOKEN" in missing.err
    slow = custos(
        "assess", str(project), "--push", server.url, env={**env, "CUSTOS_PUSH_TIMEOUT": "soon"}
    )
    assert slow.code == 2
    assert "CUSTOS_PUSH_TIMEOUT" in slow.err
    patient = custos(
        "assess", str(project), "--push", server.url, env={**env, "CUSTOS_PUSH_TIMEOUT": "600"}
    )
    assert patient.code == 0, patient.err
