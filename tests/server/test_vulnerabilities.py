"""A system's tracked vulnerabilities on a real server: a CI push of repository evidence opens
them, the API lists them with due dates and exposure, a security officer accepts one (ledger
event, new assessment in which the finding is informational), an engineer may not, another
system's id is not found through this system, the page shows them and its form accepts with
the CSRF token, and the server's clock turns an unaccepted one overdue."""

from __future__ import annotations

from typing import Any

from custos.findings import Severity
from custos.server.rbac import Binding, Role
from tests.server.api_client import bearer
from tests.server.conftest import Running
from tests.server.helpers import csrf_from
from tests.server.inventory_data import SYSTEM_A, SYSTEM_B, digest, manifest
from tests.vulns.samples import match, repository

AT = "2026-06-01T08:00:00+00:00"


def _data() -> dict[str, Any]:
    data = manifest()
    for s in data["systems"]:
        s["assets"].append({"id": f"{s['id']}-repo", "kind": "repository", "location": "src",
                            "classification": "internal", "owner": "ml@example.org"})  # fmt: skip
    return data


def _evidence(system: str) -> dict[str, Any]:
    item = repository(match(), match("pyyaml", "5.3", "PYSEC-2021-142", Severity.high, None, ()),
                      system=system, asset=f"{system}-repo")  # fmt: skip
    return {
        "check": item.check, "check_version": 1, "system": system, "asset": item.asset,
        "result": "fail", "summary": "scanned", "controls": list(item.controls),
        "collected_at": AT, "expires_at": None, "examined": [],
        "findings": [f.to_json() for f in item.findings],
    }  # fmt: skip


def _push(server: Running) -> None:
    data = _data()
    body = {"manifest": data, "manifest_sha256": digest(data), "attestation_files": {},
            "started_at": AT, "finished_at": AT,
            "evidence": [_evidence(SYSTEM_A), _evidence(SYSTEM_B)]}  # fmt: skip
    officer = bearer(server, "pusher", Binding(Role.security_officer))
    pushed = officer.post("/api/v1/push/scan", json=body)
    assert pushed.status_code == 201, pushed.text


def _findings(client: Any, system: str) -> dict[str, str]:
    found = client.get("/api/v1/findings", params={"system": system, "check": "repository"})
    return {f["message"].split(":")[0]: f["severity"] for f in found.json()["items"]}


def test_pushes_open_them_and_an_officer_accepts_one(server: Running) -> None:
    _push(server)
    officer = bearer(server, "officer", Binding(Role.security_officer))
    listing = officer.get(f"/api/v1/systems/{SYSTEM_A}/vulnerabilities").json()
    assert listing["counts"]["open"] == 2
    assert listing["sla_days"]["critical"] == 15
    torch = next(v for v in listing["vulnerabilities"] if v["package"] == "torch")
    assert (torch["state"], torch["due"], torch["exposes"]) == (
        "open", "2026-06-16", [f"{SYSTEM_A}-repo"])  # fmt: skip
    assert _findings(officer, SYSTEM_A)["torch 2.5.1"] == "critical"

    engineer = bearer(server, "eng", Binding(Role.engineer, SYSTEM_A))
    accept = {"reason": "batch job only, weights from our registry", "expires": "2026-08-01"}
    url = f"/api/v1/systems/{SYSTEM_A}/vulnerabilities/{torch['id']}/accept"
    assert engineer.post(url, json=accept).status_code == 403
    b_id = next(v["id"] for v in officer.get(
        f"/api/v1/systems/{SYSTEM_B}/vulnerabilities").json()["vulnerabilities"])  # fmt: skip
    stray = officer.post(f"/api/v1/systems/{SYSTEM_A}/vulnerabilities/{b_id}/accept", json=accept)
    assert stray.status_code == 404
    too_long = officer.post(url, json={**accept, "expires": "2028-01-01"})
    assert too_long.status_code == 422
    assert "at most" in too_long.json()["error"]
    size = int(officer.get("/api/v1/ledger/checkpoint").json()["size"])
    done = officer.post(url, json=accept)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "accepted"
    assert done.json()["accepted"]["by"] == "officer"
    assert int(officer.get("/api/v1/ledger/checkpoint").json()["size"]) > size
    # the new assessment counts it as informational; system B's is untouched
    assert _findings(officer, SYSTEM_A)["torch 2.5.1"] == "info"
    assert _findings(officer, SYSTEM_B)["torch 2.5.1"] == "critical"

    # 40 days on, pyyaml (high, 30 days) is overdue; torch stays accepted until August
    server.clock.advance(days=40)
    later = officer.get(f"/api/v1/systems/{SYSTEM_A}/vulnerabilities",
                        params={"state": "overdue"}).json()  # fmt: skip
    assert [v["package"] for v in later["vulnerabilities"]] == ["pyyaml"]
    reopened = officer.post(f"/api/v1/systems/{SYSTEM_A}/vulnerabilities/{torch['id']}/reopen")
    assert reopened.json()["state"] == "overdue"  # withdrawing buys no time
    rules = officer.get("/api/v1/findings", params={"system": SYSTEM_A}).json()["items"]
    assert sum(f["rule"] == "vuln/overdue" for f in rules) == 2


def test_the_page_lists_them_and_its_form_accepts(server: Running) -> None:
    _push(server)
    server.user("olga", Binding(Role.security_officer))
    server.user("vera", Binding(Role.viewer))
    viewer = server.signed_in("vera")
    page = viewer.get(f"/systems/{SYSTEM_A}/vulnerabilities")
    assert page.status_code == 200
    assert "GHSA-53q9-r3pm-6pq6" in page.text
    assert "Accept risk" not in page.text
    officer = server.signed_in("olga")
    page = officer.get(f"/systems/{SYSTEM_A}/vulnerabilities")
    assert "Accept risk" in page.text
    listing = officer.get(f"/api/v1/systems/{SYSTEM_A}/vulnerabilities").json()
    vuln_id = next(v["id"] for v in listing["vulnerabilities"] if v["package"] == "pyyaml")
    form = {"csrf_token": csrf_from(page.text), "reason": "short", "expires": "2026-07-01"}
    action = f"/systems/{SYSTEM_A}/vulnerabilities/{vuln_id}/accept"
    refused = officer.post(action, data=form)
    assert refused.status_code == 422
    assert "reason" in refused.text
    assert (
        officer.post(
            action, data={**form, "csrf_token": "forged", "reason": "not reachable from input"}
        ).status_code
        == 403
    )
    done = officer.post(action, data={**form, "reason": "not reachable from any input"})
    assert done.status_code == 303
    shown = officer.get(done.headers["location"])
    assert f"Vulnerability {vuln_id} is accepted" in shown.text
    assert "not reachable from any input" in shown.text
