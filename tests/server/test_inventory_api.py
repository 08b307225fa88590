"""The inventory and register over the REST API: create, read, update, delete with pagination
and filters; every change checked against the whole inventory, recorded in the ledger and
followed by a fresh assessment; engineers confined to their systems' assets."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from custos.server.rbac import Binding, Role
from custos.store import auth_store, inventory_store
from tests.server.api_client import bearer
from tests.server.conftest import Running
from tests.server.inventory_data import (
    SYSTEM_A,
    SYSTEM_B,
    asset,
    attestation,
    manifest,
    risk,
    seed,
    system,
)


@pytest.fixture
def officer(server: Running) -> httpx.Client:
    return bearer(server, "officer", Binding(Role.security_officer))


def _kinds(server: Running) -> list[tuple[str, str]]:
    with auth_store.transaction(server.store) as conn:
        return [(i.document.kind, i.document.key) for i in inventory_store.items(conn)]


def test_build_an_inventory_and_it_is_assessed(server: Running, officer: httpx.Client) -> None:
    org = officer.put("/api/v1/organisation", json={"name": "Bank", "scope": "card AI"})
    assert org.status_code == 200, org.text
    assert org.json()["source"] == "server"
    assert officer.post("/api/v1/systems", json=system(SYSTEM_A)).status_code == 201
    made = officer.post(f"/api/v1/systems/{SYSTEM_A}/assets", json=asset("scorer"))
    assert made.status_code == 201, made.text
    assert made.json()["data"]["location"] == "models/scorer.safetensors"
    assert officer.post("/api/v1/risks", json=risk()).status_code == 201
    runs = officer.get("/api/v1/runs").json()
    assert runs
    assert runs[0]["kind"] == "assess"
    assert runs[0]["manifest_path"] == "custos-server:inventory"
    controls = officer.get("/api/v1/controls", params={"system": SYSTEM_A, "limit": 5}).json()
    assert controls["total"] > 5
    assert len(controls["items"]) == 5
    assert {c["system"] for c in controls["items"]} == {SYSTEM_A}
    risks = officer.get("/api/v1/risks").json()
    assert [r["data"]["id"] for r in risks["items"]] == ["poisoning"]
    # The ledger holds the changes, by whom.
    checkpoint = officer.get("/api/v1/ledger/checkpoint").json()
    assert checkpoint["size"] > 4


def test_lists_paginate_and_filter(server: Running, officer: httpx.Client) -> None:
    seed(server.store)
    page = officer.get("/api/v1/systems", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 2
    assert page["limit"] == 1
    assert page["offset"] == 1
    assert [s["data"]["id"] for s in page["items"]] == [SYSTEM_A]
    assert officer.get("/api/v1/systems", params={"lifecycle": "retired"}).json()["total"] == 0
    assets = officer.get(f"/api/v1/systems/{SYSTEM_B}/assets", params={"kind": "model"}).json()
    assert [a["data"]["id"] for a in assets["items"]] == [f"{SYSTEM_B}-model"]
    assert officer.get("/api/v1/risks", params={"system": SYSTEM_B}).json()["total"] == 0
    assert officer.get("/api/v1/risks", params={"system": SYSTEM_A}).json()["total"] == 1
    assert officer.get("/api/v1/systems", params={"limit": 0}).status_code == 422


def test_broken_references_are_refused_and_nothing_changes(
    server: Running, officer: httpx.Client
) -> None:
    seed(server.store)
    before = _kinds(server)
    bad = {**risk("ghost"), "assets": ["no-such-asset"]}
    answer = officer.post("/api/v1/risks", json=bad)
    assert answer.status_code == 422
    assert "unknown asset 'no-such-asset'" in answer.json()["error"]
    unknown = officer.post("/api/v1/risks", json={**risk("x"), "controls": ["iso27002:2022:9.99"]})
    assert "unknown control id" in unknown.json()["error"]
    # A system named by a risk cannot go.
    gone = officer.delete(f"/api/v1/systems/{SYSTEM_A}")
    assert gone.status_code == 422
    assert "unknown system" in gone.json()["error"]
    assert officer.post("/api/v1/systems", json=system(SYSTEM_A)).status_code == 409
    assert officer.put(f"/api/v1/risks/{SYSTEM_A}", json=risk("other")).status_code == 422
    assert officer.get("/api/v1/risks/nope").status_code == 404
    assert _kinds(server) == before
    # Once the risk goes, the system (and its asset) can.
    assert officer.delete("/api/v1/risks/poisoning").status_code == 204
    assert officer.delete(f"/api/v1/systems/{SYSTEM_A}").status_code == 204
    assert ("asset", f"{SYSTEM_A}-model") not in _kinds(server)


def test_engineers_write_only_their_systems_assets(server: Running) -> None:
    seed(server.store)
    engineer = bearer(server, "eng", Binding(Role.engineer, SYSTEM_A))
    assert engineer.post(f"/api/v1/systems/{SYSTEM_A}/assets", json=asset("new")).status_code == 201
    assert engineer.post(f"/api/v1/systems/{SYSTEM_B}/assets", json=asset("b")).status_code == 403
    assert engineer.post("/api/v1/systems", json=system("mine")).status_code == 403
    assert engineer.post("/api/v1/risks", json=risk("r2")).status_code == 403
    listed = engineer.get("/api/v1/systems").json()
    assert [s["data"]["id"] for s in listed["items"]] == [SYSTEM_A]
    assert engineer.get(f"/api/v1/systems/{SYSTEM_B}").status_code == 403
    # The asset of another system is not reachable through this system's URL either.
    wrong = engineer.get(f"/api/v1/systems/{SYSTEM_A}/assets/{SYSTEM_B}-model")
    assert wrong.status_code == 404


def test_attestation_upload_pins_the_file_and_changes_the_status(
    server: Running, officer: httpx.Client
) -> None:
    seed(server.store, {**_without_attestations()})
    control = "iso27002:2022:5.1"
    officer.post("/api/v1/risks", json=risk("r2"))  # an assessment exists
    before = officer.get(f"/api/v1/controls/{control}").json()["statuses"]
    assert officer.post("/api/v1/attestations", json=attestation()).status_code == 201
    content = b"%PDF-1.4 the approved AI security policy"
    uploaded = officer.post(
        "/api/v1/attestations/ai-policy/file",
        files={"file": ("policy<1>.pdf", content, "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    digest = hashlib.sha256(content).hexdigest()
    body = uploaded.json()
    assert body["sha256"] == digest
    assert body["filename"] == "policy_1_.pdf"
    assert body["attestation"]["data"]["sha256"] == digest
    after = officer.get(f"/api/v1/controls/{control}").json()["statuses"]
    assert {s["system"]: s["status"] for s in after} != {s["system"]: s["status"] for s in before}
    assert {s["status"] for s in after} == {"implemented"}
    got = officer.get("/api/v1/attestations/ai-policy/file")
    assert got.content == content
    assert got.headers["x-content-sha256"] == digest
    assert got.headers["content-type"] == "application/octet-stream"
    assert "attachment" in got.headers["content-disposition"]
    # An upload reference cannot be forged through the JSON API.
    forged = {**attestation("forged"), "evidence": "upload:1/policy.pdf"}
    assert officer.post("/api/v1/attestations", json=forged).status_code == 422


def test_exclusions_make_controls_not_applicable(server: Running, officer: httpx.Client) -> None:
    seed(server.store)
    body = {
        "control": "iso27002:2022:7.5",
        "systems": [],
        "justification": "no premises of our own: cloud only",
    }
    made = officer.post("/api/v1/exclusions", json=body)
    assert made.status_code == 201, made.text
    soa = officer.get("/api/v1/soa").json()["items"]
    entry = next(e for e in soa if e["control"] == "iso27002:2022:7.5")
    assert entry["applicable"] is False
    assert officer.post("/api/v1/exclusions", json=body).status_code == 409
    assert officer.delete(f"/api/v1/exclusions/{made.json()['id']}").status_code == 204


def test_auditors_read_and_download_but_change_nothing(server: Running) -> None:
    seed(server.store)
    officer = bearer(server, "officer", Binding(Role.security_officer))
    officer.post("/api/v1/risks", json=risk("r2"))
    auditor = bearer(server, "auditor", Binding(Role.auditor))
    assert auditor.post("/api/v1/risks", json=risk("r3")).status_code == 403
    report = auditor.get("/api/v1/reports/json")
    assert report.status_code == 200
    assert report.json()["schema"] == "custos-assessment/1"
    xlsx = auditor.get("/api/v1/reports/xlsx")
    assert xlsx.content[:2] == b"PK"
    bundle = auditor.get("/api/v1/ledger/bundle")
    assert bundle.status_code == 200
    assert bundle.content.count(b"\n") > 3
    proof = auditor.get("/api/v1/ledger/proofs/0").json()
    assert proof["entry_hashes_to_leaf"] is True


def _without_attestations() -> dict[str, object]:
    return {**manifest(), "attestations": []}


def test_a_download_is_rendered_once_per_hour_and_assessment(server: Running) -> None:
    """Assessing and rendering a large estate takes seconds: a download is kept for the hour
    and for the stored assessment it belongs to, and rendered afresh after either moves."""
    seed(server.store)
    officer = bearer(server, "officer", Binding(Role.security_officer))
    assert officer.post("/api/v1/risks", json=risk("r2")).status_code == 201  # assessed
    first = officer.get("/api/v1/reports/json").json()
    server.clock.advance(minutes=40)  # 09:40, the same hour
    assert officer.get("/api/v1/reports/json").json() == first
    assert officer.get("/api/v1/reports/md").status_code == 200  # a format of its own
    server.clock.advance(minutes=30)  # 10:10
    later = officer.get("/api/v1/reports/json").json()
    assert later["generated_at"] > first["generated_at"]
    assert officer.post("/api/v1/risks", json=risk("r3")).status_code == 201  # a new assessment
    risks = {r["id"] for r in officer.get("/api/v1/reports/json").json()["risks"]}
    assert {"r2", "r3"} <= risks
