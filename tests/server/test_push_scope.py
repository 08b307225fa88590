"""Role escalation through a push (issue 13): `custos scan|assess --push` may change only what
the pusher could change through the API, item by item. A push that would change anything else
is refused whole (422 naming each refused item): nothing stored, no ledger event, no run.
Items identical to the server's are no change, so a CI manifest may carry the whole file."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from custos.inventory.documents import KINDS, Document, Kind, exclusion_key
from custos.inventory.schema import Exclusion
from custos.server.app import create_app
from custos.server.guards import registry
from custos.server.push_diff import diff
from custos.server.push_rights import WRITE_RIGHTS
from custos.server.rbac import Binding, Role
from custos.server.settings import Settings
from custos.store import auth_store, inventory_store
from custos.store.inventory_store import Item
from tests.cli.run import custos
from tests.server.api_client import bearer
from tests.server.conftest import Running
from tests.server.inventory_data import SYSTEM_A, SYSTEM_B, asset, attestation, digest, risk, system

A, B = SYSTEM_A, SYSTEM_B
ORGANISATION = {"name": "Example Bank", "scope": "card payments AI"}
SIGNING = {"public_key": "keys/release.pub"}
JUSTIFIED = "cloud only: no premises of our own"


def _base() -> dict[str, Any]:
    """System A's custos.yaml, every kind of item in it (what the server holds after setup)."""
    return {
        "organisation": dict(ORGANISATION),
        "signing": dict(SIGNING),
        "systems": [{**system(A), "assets": [asset(f"{A}-model"), asset(f"{A}-data", "dataset")]}],
        "risks": [risk("poisoning", systems=(A,))],
        "attestations": [attestation("policy-a", systems=(A,))],
        "exclusions": [
            {"control": "iso27002:2022:7.4", "systems": [A], "justification": JUSTIFIED}
        ],
        "assignments": [
            {"control": "custos:ai:data-poisoning", "owner": "ml@example.org", "due": "2026-09-01"}
        ],
    }


def _other() -> dict[str, Any]:
    """System B's custos.yaml."""
    return {
        "organisation": dict(ORGANISATION),
        "signing": dict(SIGNING),
        "systems": [{**system(B), "assets": [asset(f"{B}-model")]}],
    }


def _new_exclusion() -> dict[str, Any]:
    return {"control": "iso27002:2022:8.30", "systems": [A], "justification": JUSTIFIED}


def _exclusion_id(data: dict[str, Any]) -> str:
    return exclusion_key(Exclusion.model_validate(data))


Mutate = Callable[[dict[str, Any]], object]
# case -> (the change to system A's manifest, the item it changes: action, kind, id, permission)
CASES: dict[str, tuple[Mutate, tuple[str, Kind, str, str]]] = {
    "system": (
        lambda m: m["systems"][0].update(purpose="now also scores loans"),
        ("update", "system", A, "inventory:write"),
    ),
    "asset-update": (
        lambda m: m["systems"][0]["assets"][0].update(location="models/v2.safetensors"),
        ("update", "asset", f"{A}-model", "assets:write"),
    ),
    "asset-create": (
        lambda m: m["systems"][0]["assets"].append(asset(f"{A}-new")),
        ("create", "asset", f"{A}-new", "assets:write"),
    ),
    "asset-delete": (
        lambda m: m["systems"][0]["assets"].pop(),
        ("delete", "asset", f"{A}-data", "assets:write"),
    ),
    "asset-of-another-system": (
        lambda m: m["systems"][0]["assets"].append(asset(f"{B}-model")),
        ("update", "asset", f"{B}-model", "assets:write"),
    ),
    "risk-update": (
        lambda m: m["risks"][0].update(likelihood=1),
        ("update", "risk", "poisoning", "risks:write"),
    ),
    "risk-create": (
        lambda m: m["risks"].append(risk("extraction", systems=(A,))),
        ("create", "risk", "extraction", "risks:write"),
    ),
    "risk-delete": (lambda m: m["risks"].clear(), ("delete", "risk", "poisoning", "risks:write")),
    "attestation-update": (
        lambda m: m["attestations"][0].update(statement="Nobody approved anything."),
        ("update", "attestation", "policy-a", "attestations:write"),
    ),
    "attestation-create": (
        lambda m: m["attestations"].append(attestation("training-a", systems=(A,))),
        ("create", "attestation", "training-a", "attestations:write"),
    ),
    "exclusion-update": (
        lambda m: m["exclusions"][0].update(justification="we simply do not want this one"),
        ("update", "exclusion", _exclusion_id(_base()["exclusions"][0]), "soa:write"),
    ),
    "exclusion-create": (
        lambda m: m["exclusions"].append(_new_exclusion()),
        ("create", "exclusion", _exclusion_id(_new_exclusion()), "soa:write"),
    ),
    "assignment-update": (
        lambda m: m["assignments"][0].update(owner="nobody@example.org"),
        ("update", "assignment", "custos:ai:data-poisoning", "soa:write"),
    ),
}
ASSETS_OF_A = frozenset({"asset-update", "asset-create", "asset-delete"})
# Who may write what through the API (docs/server.md's table), written out by hand.
# (An admin holds every permission an officer does: walking it too would only repeat these.)
ROLES: dict[str, tuple[tuple[Binding, ...], frozenset[str]]] = {
    "officer": ((Binding(Role.security_officer),), frozenset(CASES)),
    "engineer_of_a": ((Binding(Role.engineer, A),), ASSETS_OF_A),
    # Bound to one system, the officer's risks:write and the like do not reach the API's
    # global register routes: nor do they through a push.
    "officer_of_a": ((Binding(Role.security_officer, A),), ASSETS_OF_A),
}
# The API's write routes of each kind (signing has none: it is the organisation's, see rbac).
ROUTES: dict[Kind, list[tuple[str, str]]] = {
    "organisation": [("PUT", "/api/v1/organisation")],
    "system": [
        ("POST", "/api/v1/systems"),
        ("PUT", "/api/v1/systems/{system_id}"),
        ("DELETE", "/api/v1/systems/{system_id}"),
    ],
    "asset": [
        ("POST", "/api/v1/systems/{system_id}/assets"),
        ("PUT", "/api/v1/systems/{system_id}/assets/{asset_id}"),
        ("DELETE", "/api/v1/systems/{system_id}/assets/{asset_id}"),
    ],
    "risk": [
        ("POST", "/api/v1/risks"),
        ("PUT", "/api/v1/risks/{risk_id}"),
        ("DELETE", "/api/v1/risks/{risk_id}"),
    ],
    "attestation": [
        ("POST", "/api/v1/attestations"),
        ("PUT", "/api/v1/attestations/{attestation_id}"),
        ("DELETE", "/api/v1/attestations/{attestation_id}"),
    ],
    "exclusion": [("POST", "/api/v1/exclusions"), ("DELETE", "/api/v1/exclusions/{exclusion_id}")],
    "assignment": [
        ("PUT", "/api/v1/roadmap/{control_id}/assignment"),
        ("DELETE", "/api/v1/roadmap/{control_id}/assignment"),
    ],
}


def _body(data: dict[str, Any], *evidence: dict[str, Any]) -> dict[str, Any]:
    at = "2026-06-01T08:00:00+00:00"
    return {
        "manifest": data, "manifest_sha256": digest(data), "attestation_files": {},
        "started_at": at, "finished_at": at, "evidence": list(evidence),
    }  # fmt: skip


def _push(client: httpx.Client, data: dict[str, Any], *evidence: dict[str, Any]) -> httpx.Response:
    return client.post("/api/v1/push/scan", json=_body(data, *evidence))


def _items(server: Running) -> list[Item]:
    with auth_store.transaction(server.store) as conn:
        return inventory_store.items(conn)


def _state(server: Running, reader: httpx.Client) -> tuple[list[Item], int, int]:
    """Everything a push could change: the inventory (with provenance), the ledger, the runs."""
    ledger = reader.get("/api/v1/ledger/checkpoint").json()["size"]
    runs = reader.get("/api/v1/runs").json()
    return (_items(server), int(ledger), len(runs))


def _restore(server: Running, items: list[Item]) -> None:
    """Put the inventory back as it was, provenance and all (no push: it would need rights)."""
    with auth_store.transaction(server.store) as conn:
        inventory_store.remove(conn, [(i.document.kind, i.document.key) for i in _items(server)])
        for i in items:
            inventory_store.put(
                conn, i.document, source=i.source, now=i.updated_at, actor=i.updated_by
            )


def _setup(server: Running) -> httpx.Client:
    """Both systems pushed by a security officer; an auditor's client to read the state."""
    officer = bearer(server, "setup", Binding(Role.security_officer))
    assert _push(officer, _other()).status_code == 201
    assert _push(officer, _base()).status_code == 201
    return bearer(server, "reader", Binding(Role.auditor))


def _evidence() -> dict[str, Any]:
    return {
        "check": "model-card", "check_version": 1, "system": A, "asset": f"{A}-model",
        "result": "pass", "summary": "model card present", "controls": [],
        "collected_at": "2026-06-01T08:00:00+00:00",
    }  # fmt: skip


def test_write_rights_are_the_api_routes_own() -> None:
    declared = registry(create_app(Settings(db_url="sqlite://")))
    for kind, routes in ROUTES.items():
        for route in routes:
            found = declared[route]
            assert found is not None
            assert (found.permission, found.scope) == WRITE_RIGHTS[kind], route
    assert WRITE_RIGHTS["signing"] == WRITE_RIGHTS["organisation"]
    assert set(WRITE_RIGHTS) == set(KINDS)  # a new kind of item needs its rule here


@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_push_changes_only_what_the_role_may_write(server: Running, role: str) -> None:
    reader = _setup(server)
    bindings, writable = ROLES[role]
    pusher = bearer(server, role, *bindings)
    # The whole file, unchanged, with evidence: nothing in the inventory changes, so it is taken.
    items = _items(server)
    unchanged = _push(pusher, _base(), _evidence())
    assert unchanged.status_code == 201, unchanged.text
    assert _items(server) == items
    for case, (mutate, (action, kind, key, needs)) in CASES.items():
        data = _base()
        mutate(data)
        before = _state(server, reader)
        answer = _push(pusher, data, _evidence())
        if case in writable:
            assert answer.status_code == 201, (case, answer.text)
            after = {(i.document.kind, i.document.key): i for i in _items(server)}
            changed = after.get((kind, key))
            if action == "delete":
                assert changed is None, case
            else:
                assert changed is not None, case
                assert changed.source == "manifest", case
                assert changed.updated_by == role, case
            _restore(server, before[0])
        else:
            assert answer.status_code == 422, (case, answer.text)
            refused = answer.json()["refused"]
            assert refused == [{"kind": kind, "id": key, "action": action, "needs": needs}], case
            assert needs in answer.json()["error"]
            assert _state(server, reader) == before, case


def test_a_refused_push_is_refused_whole(server: Running) -> None:
    reader = _setup(server)
    engineer = bearer(server, "ci", Binding(Role.engineer, A))
    data = _base()
    data["systems"][0]["assets"][0]["location"] = "models/v2.safetensors"  # allowed alone
    data["risks"][0]["treatment"] = "accept"
    data["exclusions"].append(_new_exclusion())
    before = _state(server, reader)
    answer = _push(engineer, data, _evidence())
    assert answer.status_code == 422
    assert [(r["kind"], r["id"]) for r in answer.json()["refused"]] == [
        ("risk", "poisoning"),
        ("exclusion", _exclusion_id(_new_exclusion())),
    ]
    # The asset change was not applied either, the evidence not stored, nothing ledgered.
    assert _state(server, reader) == before
    evidence = reader.get("/api/v1/evidence", params={"check": "model-card"}).json()
    assert evidence["total"] == 0


def test_the_organisation_is_not_an_engineers_to_set(server: Running) -> None:
    engineer = bearer(server, "ci", Binding(Role.engineer, A))
    # An empty server: the first push would create the organisation, the signing policy and
    # the system, and the register items; only the assets are the engineer's.
    first = _push(engineer, _base())
    assert first.status_code == 422
    refused = {(r["kind"], r["action"]) for r in first.json()["refused"]}
    assert {("organisation", "create"), ("signing", "create"), ("system", "create")} <= refused
    assert ("risk", "create") in refused
    assert not any(kind == "asset" for kind, _ in refused)
    assert _items(server) == []
    reader = _setup(server)
    # Once they exist, one system's push keeps them as they are (as before this issue).
    renamed = {**_base(), "organisation": {"name": "Pwned", "scope": "x"}, "signing": None}
    items = _items(server)
    assert _push(engineer, renamed).status_code == 201
    assert _items(server) == items
    assert reader.get("/api/v1/organisation").json()["data"]["name"] == ORGANISATION["name"]


def test_the_cli_prints_each_refused_item(server: Running, tmp_path: Path) -> None:
    _setup(server)
    engineer = bearer(server, "ci", Binding(Role.engineer, A))
    token = engineer.headers["Authorization"].removeprefix("Bearer ")
    data = _base()
    del data["signing"]  # the key file is not there; a system's push leaves it as it is
    data["risks"][0]["impact"] = 1
    data["attestations"][0]["statement"] = "Nobody approved anything."
    project = tmp_path / "repo"
    project.mkdir()
    (project / "custos.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (project / "models").mkdir()
    for each in data["systems"][0]["assets"]:
        (project / each["location"]).write_bytes(b"not a real model")
    env = {"CUSTOS_TOKEN": token, "CUSTOS_HOME": str(tmp_path / "home")}
    result = custos("assess", str(project), "--push", server.url, env=env)
    assert result.code == 2, result.err
    assert "refused the push (422)" in result.err
    assert "refused: update risk 'poisoning': needs risks:write" in result.err
    assert "refused: update attestation 'policy-a': needs attestations:write" in result.err


def _item(doc: Document, source: str = "manifest") -> Item:
    return Item(doc, source, dt.datetime(2026, 6, 1, tzinfo=dt.UTC), "seed")


def test_the_diff_is_what_the_push_changes() -> None:
    org = Document("organisation", "default", {"name": "Bank"})
    mine = Document("risk", "r1", {"id": "r1", "systems": [A]})
    theirs = Document("risk", "r2", {"id": "r2", "systems": [B]})
    made_here = Document("risk", "r3", {"id": "r3", "systems": [A]})
    wide = Document("attestation", "w", {"id": "w", "systems": []})
    existing = {(d.kind, d.key): _item(d) for d in (org, mine, theirs, wide)}
    existing[("risk", "r3")] = _item(made_here, source="server")
    system_a = Document("system", A, {"id": A})
    changed = Document("organisation", "default", {"name": "Other"})
    pushed = [changed, system_a, copy.deepcopy(theirs)]
    # One system's push: the organisation stays; r1 (brought for A, no longer declared) goes;
    # B's risk, the server's own risk and the organisation-wide attestation stay; B's risk,
    # sent unchanged, is no edit.
    edits = diff(pushed, existing, every_system=False)
    assert [(e.action, e.kind, e.key) for e in edits] == [
        ("create", "system", A),
        ("delete", "risk", "r1"),
    ]
    everything = diff(pushed, existing, every_system=True)
    assert [(e.action, e.kind, e.key) for e in everything] == [
        ("update", "organisation", "default"),
        ("create", "system", A),
        ("delete", "risk", "r1"),
    ]
    assert diff([org, mine, theirs, wide], existing, every_system=True) == []
