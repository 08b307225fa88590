"""Assigning an owner and a due date to a roadmap item, through the API and the roadmap page:
the decision is kept in the inventory, ledgered, and the re-assessed roadmap and SoA follow."""

from __future__ import annotations

import httpx

from custos.server.rbac import Binding, Role
from tests.server.api_client import bearer
from tests.server.conftest import Running
from tests.server.helpers import csrf_from
from tests.server.inventory_data import risk, seed

CONTROL = "custos:ai:data-poisoning"


def _item(client: httpx.Client) -> dict[str, object]:
    rows = client.get("/api/v1/roadmap", params={"limit": 500}).json()["items"]
    return next(r for r in rows if r["control"] == CONTROL)


def test_the_api_decides_owner_and_due_date(server: Running) -> None:
    seed(server.store)
    officer = bearer(server, "officer", Binding(Role.security_officer))
    officer.post("/api/v1/risks", json=risk("r2"))  # an assessment exists
    proposed = _item(officer)
    assert proposed["owner"] == "security@example.org"  # the risk owner, as proposed
    body = {"owner": "mlops@example.org", "due": "2026-10-15"}
    put = officer.put(f"/api/v1/roadmap/{CONTROL}/assignment", json=body)
    assert put.status_code == 200, put.text
    decided = _item(officer)
    assert (decided["owner"], decided["due"], decided["phase"]) == (
        "mlops@example.org", "2026-10-15", "91-180",
    )  # fmt: skip
    assert officer.put(f"/api/v1/roadmap/{CONTROL}/assignment", json={}).status_code == 422
    unknown = officer.put("/api/v1/roadmap/iso27002:2022:9.9/assignment", json=body)
    assert unknown.status_code == 422
    assert officer.delete(f"/api/v1/roadmap/{CONTROL}/assignment").status_code == 204
    assert _item(officer)["owner"] == "security@example.org"
    auditor = bearer(server, "auditor", Binding(Role.auditor))
    assert auditor.put(f"/api/v1/roadmap/{CONTROL}/assignment", json=body).status_code == 403


def test_the_roadmap_page_assigns(server: Running) -> None:
    seed(server.store)
    officer = bearer(server, "officer", Binding(Role.security_officer))
    officer.post("/api/v1/risks", json=risk("r2"))
    server.user("alice", Binding(Role.security_officer))
    browser = server.signed_in("alice")
    page = browser.get("/roadmap")
    assert f'action="/roadmap/{CONTROL}/assign"' in page.text
    form = {"csrf_token": csrf_from(page.text), "owner": "dpo@example.org", "due": "2026-07-01"}
    saved = browser.post(f"/roadmap/{CONTROL}/assign", data=form)
    assert saved.status_code == 303
    assert "Saved the plan" in browser.get(saved.headers["location"]).text
    assert _item(officer)["owner"] == "dpo@example.org"
    bad = browser.post(f"/roadmap/{CONTROL}/assign", data={**form, "due": "soon"})
    assert bad.status_code == 422
    assert "not a date" in bad.text
    # A viewer sees the roadmap without the forms.
    server.user("vic", Binding(Role.viewer))
    assert "/assign" not in server.signed_in("vic").get("/roadmap").text
