"""Forged evidence over push: a real local project scans (its evidence appended to its own
ledger) and pushes to a real server. With the project's ledger key registered for its systems
the evidence is verified and counts; without it, or forged in any way, it is only claimed, and
a claimed pass never makes a control implemented."""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from custos.ledger.checkpoint import generate_log_key, open_note, sign_note, verifier_of
from custos.push import scan_payload
from custos.server.rbac import Binding, Role
from custos.server.web.views import PER_PAGE
from custos.store.ledger_key import load_signer
from custos.workspace import open_workspace, scan_recorded
from tests.cli.run import custos
from tests.server.api_client import bearer
from tests.server.conftest import Running
from tests.server.helpers import api_csrf

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud-detection"
SYSTEMS = ("fraud-scoring", "credit-limit-advisor")
Scan = tuple[dict[str, Any], str]  # the push payload, the local ledger's verifier key


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    """One real local scan of the example project (its own SQLite store and ledger key)."""
    project = tmp_path_factory.mktemp("local") / "fraud-detection"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".custos"))
    ws = open_workspace(project, None)
    try:
        started = dt.datetime.now(dt.UTC).replace(microsecond=0)
        done = scan_recorded(ws, when=started)
        payload = scan_payload(ws, done.evidence, started, started, done.entries)
    finally:
        ws.store.close()
    return payload, verifier_of(load_signer(project, {}, create=False))


def _register(client: httpx.Client, system: str, verifier: str) -> httpx.Response:
    return client.post(
        f"/api/v1/systems/{system}/ledger-keys", json={"verifier_key": verifier, "label": "CI"}
    )


def _push(client: httpx.Client, payload: dict[str, Any]) -> None:
    pushed = client.post("/api/v1/push/scan", json=payload)
    assert pushed.status_code == 201, pushed.text


def _evidence(client: httpx.Client) -> dict[tuple[str, str, str | None], dict[str, Any]]:
    rows = client.get("/api/v1/evidence", params={"limit": 500}).json()["items"]
    return {(r["check"], r["system"], r["asset"]): r for r in rows}


def _implemented(client: httpx.Client) -> set[tuple[str, str]]:
    params = {"framework": "custos-ai", "status": "implemented", "limit": 500}
    rows = client.get("/api/v1/controls", params=params).json()["items"]
    return {(r["system"], r["id"]) for r in rows}


def _officer(server: Running) -> httpx.Client:
    return bearer(server, "officer", Binding(Role.security_officer))


def test_registered_key_verifies_and_counts_and_a_claim_does_not(
    server: Running, scanned: Scan
) -> None:
    payload, verifier = scanned
    officer = _officer(server)
    base = {k: v for k, v in payload.items() if k not in ("evidence", "checkpoint")}
    base.pop("started_at"), base.pop("finished_at")
    assert officer.post("/api/v1/push/assessment", json=base).status_code == 201
    without_evidence = _implemented(officer)

    _push(officer, payload)  # no key registered yet: everything is only claimed
    claimed = _evidence(officer)
    assert {r["provenance"]["kind"] for r in claimed.values()} == {"claimed"}
    assert {r["provenance"]["reason"] for r in claimed.values()} == {"no-key"}
    assert _implemented(officer) <= without_evidence
    failing = [k for k, r in claimed.items() if r["result"] == "fail"]
    assert failing  # a claimed failure still counts as failing
    control = officer.get("/api/v1/controls", params={"status": "not_implemented"}).json()
    assert control["total"] > 0
    texts = [r["text"] for c in _all_controls(officer) for r in c["reasons"]]
    assert any("claimed by an unverified push (no-key" in t for t in texts)
    _pages_mark_claims(server, claimed)

    for system in SYSTEMS:
        made = _register(officer, system, verifier)
        assert made.status_code == 201, made.text
        assert made.json()["active"] is True
    _push(officer, payload)
    verified = _evidence(officer)
    kinds = {r["provenance"]["kind"] for r in verified.values()}
    assert kinds == {"verified"}
    one = next(iter(verified.values()))["provenance"]
    assert one["pushed_by"] == "officer"
    assert one["origin"] == verifier.split("+")[0]
    assert isinstance(one["index"], int)
    assert one["size"] > one["index"]
    assert _implemented(officer) > without_evidence

    # The server's own ledger entry for the pushed evidence records its provenance.
    lines = list(server.store.ledger_export())
    entries = [json.loads(line) for line in lines if line.startswith(b'{"actor"')]
    pushed = [e["payload"] for e in entries if e["kind"] == "evidence"]
    assert {p["provenance"]["kind"] for p in pushed} == {"claimed", "verified"}
    events = [e["payload"].get("action") for e in entries if e["kind"] == "event"]
    assert events.count("ledger_key.added") == len(SYSTEMS)


def _pages_mark_claims(
    server: Running, claimed: dict[tuple[str, str, str | None], dict[str, Any]]
) -> None:
    """The evidence and findings pages badge claimed records; a control page says why a claimed
    pass did not count and marks a claimed failure."""
    browser = server.signed_in("officer")
    badge = 'class="badge provenance-claimed"'
    pages = (len(claimed) + PER_PAGE - 1) // PER_PAGE  # the page holds PER_PAGE records
    shown = sum(browser.get(f"/evidence?page={n}").text.count(badge) for n in range(1, pages + 1))
    assert shown == len(claimed)
    assert badge in browser.get("/findings").text
    record = next(r for r in claimed.values() if r["result"] == "pass" and r["controls"])
    page = browser.get(f"/controls/{record['controls'][0]}").text
    assert "claimed by an unverified push (no-key" in page
    failed = next(r for r in claimed.values() if r["result"] == "fail" and r["controls"])
    assert "[claimed: no-key]" in browser.get(f"/controls/{failed['controls'][0]}").text


def _all_controls(client: httpx.Client) -> list[dict[str, Any]]:
    return list(client.get("/api/v1/controls", params={"limit": 500}).json()["items"])


def _key_of(record: dict[str, Any]) -> tuple[str, str, str | None]:
    return (record["check"], record["system"], record["asset"])


def _pushed(server: Running) -> dict[tuple[str, str, str | None], str | None]:
    """Why each record of the last pushed scan is claimed (None: verified), as the server's
    ledger entries for them record it."""
    lines = [line for line in server.store.ledger_export() if line.startswith(b'{"actor"')]
    entries = [json.loads(line) for line in lines]
    evidence = [e["payload"] for e in entries if e["kind"] == "evidence"]
    last = max(p["scan"] for p in evidence)
    return {_key_of(p): p["provenance"].get("reason") for p in evidence if p["scan"] == last}


def test_a_claimed_pass_hides_no_earlier_failure(server: Running, scanned: Scan) -> None:
    payload, verifier = scanned
    officer = _officer(server)
    for system in SYSTEMS:
        assert _register(officer, system, verifier).status_code == 201
    _push(officer, payload)
    before = _implemented(officer), _findings(officer)
    later = copy.deepcopy(payload)
    for record in later["evidence"]:  # every failure "fixed" a day later, without a proof
        if record["result"] == "fail":
            record["result"], record["findings"] = "pass", []
            record["collected_at"] = "2099-01-01T00:00:00+00:00"
        record.pop("ledger")
    _push(officer, later)
    assert (_implemented(officer), _findings(officer)) == before
    rows = officer.get("/api/v1/evidence", params={"limit": 500}).json()["items"]
    claims = [r for r in rows if r["provenance"]["kind"] == "claimed"]
    assert claims  # shown beside the verified failures they do not replace
    assert {r["provenance"]["reason"] for r in claims} == {"no-proof"}
    verified = {_key_of(r) for r in rows if r["provenance"]["kind"] == "verified"}
    assert {_key_of(r) for r in claims} <= verified


def _findings(client: httpx.Client) -> list[tuple[str, str]]:
    rows = client.get("/api/v1/findings", params={"limit": 500}).json()["items"]
    return sorted((r["rule"], r["location"]) for r in rows)


def test_forged_pushes_are_claimed_with_the_reason(server: Running, scanned: Scan) -> None:
    payload, verifier = scanned
    officer = _officer(server)
    for system in SYSTEMS:
        assert _register(officer, system, verifier).status_code == 201

    # A failing result flipped to pass after signing.
    flipped = copy.deepcopy(payload)
    fail = next(r for r in flipped["evidence"] if r["result"] == "fail")
    fail["result"], fail["findings"] = "pass", []
    # Another record's entry and proof under a record.
    passing = [r for r in flipped["evidence"] if r["result"] == "pass"]
    passing[0]["ledger"] = passing[1]["ledger"]
    _push(officer, flipped)
    found = _evidence(officer)
    assert found[_key_of(fail)]["provenance"]["reason"] == "payload-mismatch"
    assert found[_key_of(fail)]["result"] == "pass"  # shown as pushed, marked claimed
    assert found[_key_of(passing[0])]["provenance"]["reason"] == "payload-mismatch"
    assert found[_key_of(passing[1])]["provenance"]["kind"] == "verified"
    statuses = {(c["system"], c["id"]): c for c in _all_controls(officer)}
    for control in fail["controls"]:
        status = statuses.get((fail["system"], control))
        assert status is None or status["status"] != "implemented"

    # A checkpoint signed by another key of the same name (the registered one did not sign).
    forged_signer, _ = generate_log_key(verifier.split("+")[0])
    resigned = copy.deepcopy(payload)
    text = resigned["checkpoint"].split("\n\n")[0] + "\n"
    resigned["checkpoint"] = sign_note(text, forged_signer)
    _push(officer, resigned)
    assert set(_pushed(server).values()) == {"bad-signature"}

    # A proof that does not lead to the checkpoint's root.
    bent = copy.deepcopy(payload)
    for record in bent["evidence"]:
        record["ledger"]["proof"] = ["00" * 32, *record["ledger"]["proof"][1:]]
    _push(officer, bent)
    assert set(_pushed(server).values()) == {"bad-proof"}

    # A retired key verifies nothing pushed after its retirement.
    for system in SYSTEMS:
        keys = officer.get(f"/api/v1/systems/{system}/ledger-keys").json()
        retired = officer.delete(f"/api/v1/systems/{system}/ledger-keys/{keys[0]['id']}")
        assert retired.status_code == 200
        assert retired.json()["active"] is False
    _push(officer, payload)
    assert set(_pushed(server).values()) == {"retired-key"}
    assert open_note(payload["checkpoint"], verifier)  # the checkpoint itself is genuine


def test_only_governance_registers_keys(server: Running, scanned: Scan) -> None:
    _payload, verifier = scanned
    engineer = bearer(server, "eng", Binding(Role.engineer, SYSTEMS[0]))
    refused = _register(engineer, SYSTEMS[0], verifier)
    assert refused.status_code == 403
    assert engineer.get(f"/api/v1/systems/{SYSTEMS[0]}/ledger-keys").json() == []
    officer = _officer(server)
    made = _register(officer, SYSTEMS[0], verifier)
    assert made.status_code == 201
    retire = engineer.delete(f"/api/v1/systems/{SYSTEMS[0]}/ledger-keys/{made.json()['id']}")
    assert retire.status_code == 403
    assert _register(officer, SYSTEMS[0], verifier).status_code == 409  # already active
    assert _register(officer, SYSTEMS[0], "not a key").status_code == 422
    browser = server.signed_in("officer")
    no_csrf = browser.post(
        f"/api/v1/systems/{SYSTEMS[0]}/ledger-keys", json={"verifier_key": verifier}
    )
    assert no_csrf.status_code == 403
    with_csrf = browser.delete(
        f"/api/v1/systems/{SYSTEMS[0]}/ledger-keys/{made.json()['id']}",
        headers={"X-CSRF-Token": api_csrf(browser)},
    )
    assert with_csrf.status_code == 200


def test_the_cli_push_is_verified_with_the_ci_key(server: Running, tmp_path: Path) -> None:
    project = tmp_path / "fraud-detection"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".custos"))
    signer, verifier = generate_log_key("custos-ledger/ci-fraud")  # as kept in a CI secret
    officer = _officer(server)
    for system in SYSTEMS:
        assert _register(officer, system, verifier).status_code == 201
    token = officer.headers["Authorization"].removeprefix("Bearer ")
    env = {"CUSTOS_TOKEN": token, "CUSTOS_LEDGER_KEY": signer, "CUSTOS_HOME": str(tmp_path)}
    shown = custos("ledger", "key", str(project), env=env)
    assert shown.code == 0, shown.err
    assert shown.out.strip() == verifier
    scanned = custos("scan", str(project), "--push", server.url, env=env)
    assert scanned.code == 0, scanned.err
    assert "claimed" not in scanned.err
    kinds = {r["provenance"]["kind"] for r in _evidence(officer).values()}
    assert kinds == {"verified"}
    # Another key in the CI secret: the push is kept, claimed, and the CLI says so.
    other, _ = generate_log_key("custos-ledger/ci-fraud")
    moved = tmp_path / "moved"  # a fresh local ledger for the new key
    shutil.copytree(EXAMPLE, moved, ignore=shutil.ignore_patterns(".custos"))
    again = custos(
        "scan", str(moved), "--push", server.url, env={**env, "CUSTOS_LEDGER_KEY": other}
    )
    assert again.code == 0, again.err
    assert "bad-signature" in again.err
    assert "claimed" in again.err
