"""Editing in the browser: risks (add, edit, delete), attestations with their document, and
applicability (exclusions), through the forms of the real server; refusals re-render the page
with the one-line message and store nothing; readers see no forms and are refused."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import httpx
import pytest

from custos.server.assessment import reassess
from custos.server.context import AppContext
from custos.server.rbac import Binding, Role
from custos.store import auth_store, inventory_store
from tests.server.conftest import Running
from tests.server.helpers import csrf_from
from tests.server.inventory_data import SYSTEM_A, SYSTEM_B, manifest, seed

CONTROL = "iso27002:2022:5.1"
PHYSICAL = "iso27002:2022:7.1"


def _assessed(server: Running, data: dict[str, Any] | None = None) -> None:
    """The inventory as a push would leave it, and its assessment (the pages read that)."""
    seed(server.store, data)
    reassess(AppContext(server.settings, server.store), "seed")


def _signed_in(server: Running, name: str, role: Role, system: str | None = None) -> httpx.Client:
    server.user(name, Binding(role, system))
    return server.signed_in(name)


def _post(client: httpx.Client, path: str, data: dict[str, Any], **kw: Any) -> httpx.Response:
    token = csrf_from(client.get("/risks").text)
    return client.post(path, data={"csrf_token": token, **data}, **kw)


def _stored(server: Running, kind: str) -> dict[str, dict[str, Any]]:
    with auth_store.transaction(server.store) as conn:
        return {
            i.document.key: dict(i.document.body)
            for i in inventory_store.items(conn)
            if i.document.kind == kind
        }


def _risk_form(**change: Any) -> dict[str, Any]:
    return {
        "id": "R9-prompt-injection", "title": "Prompt injection through the chat",
        "threats": "owasp:LLM01:2025,\natlas:AML.T0051", "systems": [SYSTEM_B],
        "likelihood": "4", "impact": "5", "treatment": "mitigate",
        "controls": "custos:ai:input-validation", "owner": "appsec@example.org",
        "review_date": "2026-12-01", "residual_likelihood": "2", "residual_impact": "3",
        **change,
    }  # fmt: skip


def _row(html: str, marker: str) -> str:
    start = html.index(marker)
    return html[start : html.index("</tr>", start)]


def test_add_edit_and_delete_a_risk_through_the_forms(server: Running) -> None:
    _assessed(server)
    officer = _signed_in(server, "officer", Role.security_officer)
    page = officer.get("/risks").text
    assert 'action="/risks/new"' in page
    assert 'href="/risks/poisoning/edit"' in page  # the seeded risk is in the inventory
    added = _post(officer, "/risks/new", _risk_form())
    assert added.status_code == 303, added.text
    assert added.headers["location"].startswith("/risks?done=risk-added&item=R9-prompt-injection")
    register = officer.get(added.headers["location"]).text
    assert "Risk R9-prompt-injection was added to the register." in register
    row = _row(register, 'id="risk-R9-prompt-injection"')
    assert "4\u00d75 = 20" in row
    assert "2\u00d73 = 6" in row
    assert "appsec@example.org" in row
    stored = _stored(server, "risk")["R9-prompt-injection"]
    assert stored["threats"] == ["owasp:LLM01:2025", "atlas:AML.T0051"]
    assert stored["residual"] == {"likelihood": 2, "impact": 3}

    form = officer.get("/risks/R9-prompt-injection/edit").text
    assert 'value="Prompt injection through the chat"' in form
    assert f'value="{SYSTEM_B}" id="edit-risk-system-1" checked' in form  # sorted: B first
    assert '<option value="5" selected>5 \u2013 severe</option>' in form
    saved = _post(
        officer, "/risks/R9-prompt-injection/edit",
        _risk_form(id="ignored", title="Prompt injection, reviewed", impact="3",
                   residual_likelihood="", residual_impact=""),
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    row = _row(officer.get("/risks").text, 'id="risk-R9-prompt-injection"')
    assert "Prompt injection, reviewed" in row
    assert "4\u00d73 = 12" in row
    assert "ignored" not in _stored(server, "risk")  # the URL's id is the one edited

    deleted = _post(officer, "/risks/R9-prompt-injection/delete", {})
    assert deleted.status_code == 303
    after = officer.get(deleted.headers["location"]).text
    assert "Risk R9-prompt-injection was deleted." in after
    assert 'id="risk-R9-prompt-injection"' not in after
    assert set(_stored(server, "risk")) == {"poisoning"}
    activity = officer.get("/activity").text  # the ledger's user actions
    for action in ("risk.created", "risk.updated", "risk.deleted"):
        assert action in activity
    assert officer.get("/risks/R9-prompt-injection/edit").status_code == 404


def test_a_broken_reference_shows_one_line_and_stores_nothing(server: Running) -> None:
    _assessed(server)
    officer = _signed_in(server, "officer", Role.security_officer)
    before = _stored(server, "risk")
    ghost = _post(officer, "/risks/new", _risk_form(systems=["ghost-system"]))
    assert ghost.status_code == 422
    assert "systems[0]: unknown system &#39;ghost-system&#39;" in ghost.text
    assert '<details class="card form-card" id="add-risk" open>' in ghost.text
    assert 'fieldset class="choices span-all" aria-invalid="true"' in ghost.text
    assert 'value="Prompt injection through the chat"' in ghost.text  # what was typed stays
    not_a_threat = _post(officer, "/risks/new", _risk_form(threats="iso27002:2022:5.1"))
    assert not_a_threat.status_code == 422
    assert "threats[0]: &#39;iso27002:2022:5.1&#39; is not a threat" in not_a_threat.text
    shape = _post(officer, "/risks/new", _risk_form(threats="no spaces please!"))
    assert shape.status_code == 422
    assert "threats[0]: &#39;no&#39; is not a valid id (and 2 more)" in shape.text
    missing = _post(officer, "/risks/new", _risk_form(likelihood=""))
    assert missing.status_code == 422
    assert "likelihood: Field required" in missing.text
    twice = _post(officer, "/risks/new", _risk_form(id="poisoning"))
    assert twice.status_code == 409
    assert "risk &#39;poisoning&#39; already exists" in twice.text
    edit = _post(officer, "/risks/poisoning/edit", _risk_form(controls="custos:ai:nope"))
    assert edit.status_code == 422
    assert "controls[0]: unknown control id &#39;custos:ai:nope&#39;" in edit.text
    assert "<h1>Edit risk <code>poisoning</code></h1>" in edit.text
    assert _stored(server, "risk") == before


def test_an_attestation_with_its_file_makes_the_control_implemented(server: Running) -> None:
    _assessed(server, {**manifest(), "attestations": []})
    officer = _signed_in(server, "officer", Role.security_officer)
    assert "implemented" not in _statuses(officer.get(f"/controls/{CONTROL}").text)
    evidence = officer.get(f"/evidence?attest={CONTROL}").text
    assert 'enctype="multipart/form-data"' in evidence
    assert f'value="{CONTROL}"' in evidence  # the control page's link fills it in
    assert 'value="officer"' in evidence  # author: the signed-in user
    assert 'value="2026-06-01"' in evidence  # date: today (the test clock)
    policy = b"%PDF-1.4 the AI security policy"
    made = _post(
        officer, "/attestations/new",
        {"id": "ai-policy", "control": CONTROL, "statement": "The AI policy is approved.",
         "author": "ciso@example.org", "date": "2026-05-01", "expires": "2027-05-01"},
        files={"file": ("AI policy.pdf", policy, "application/pdf")},
    )  # fmt: skip
    assert made.status_code == 303, made.text
    assert _statuses(officer.get(f"/controls/{CONTROL}").text) == ["implemented", "implemented"]
    stored = _stored(server, "attestation")["ai-policy"]
    assert stored["sha256"] == hashlib.sha256(policy).hexdigest()
    listed = officer.get(made.headers["location"]).text
    assert "Attestation ai-policy was recorded." in listed
    assert 'href="/api/v1/attestations/ai-policy/file" download' in listed
    download = officer.get("/api/v1/attestations/ai-policy/file")
    assert download.content == policy
    assert download.headers["content-type"] == "application/octet-stream"

    # Replacing the file pins the new digest.
    newer = b"%PDF-1.4 the AI security policy, version 2"
    replaced = _post(
        officer, "/attestations/ai-policy/file", {}, files={"file": ("v2.pdf", newer, "x/y")}
    )
    assert replaced.status_code == 303
    assert _stored(server, "attestation")["ai-policy"]["sha256"] == (
        hashlib.sha256(newer).hexdigest()
    )
    empty = _post(officer, "/attestations/ai-policy/file", {}, files={"file": ("e.pdf", b"")})
    assert empty.status_code == 422
    assert "Attestation ai-policy: file: empty" in empty.text
    assert officer.post("/attestations/nope/file", data={}).status_code == 403  # no CSRF token
    gone = _post(officer, "/attestations/nope/file", {}, files={"file": ("a.pdf", b"x")})
    assert gone.status_code == 404


def test_a_refused_attestation_stores_nothing(server: Running) -> None:
    _assessed(server, {**manifest(), "attestations": []})
    officer = _signed_in(server, "officer", Role.security_officer)
    fields = {"id": "a1", "control": "iso27002:2022:99.9", "statement": "Approved.",
              "author": "ciso", "date": "2026-05-01"}  # fmt: skip
    unknown = _post(officer, "/attestations/new", fields, files={"file": ("p.pdf", b"%PDF")})
    assert unknown.status_code == 422
    assert "control: unknown control id &#39;iso27002:2022:99.9&#39;" in unknown.text
    dates = _post(
        officer, "/attestations/new", {**fields, "control": CONTROL, "expires": "2026-01-01"}
    )
    assert dates.status_code == 422
    assert "expires must be after date" in dates.text
    empty = _post(
        officer, "/attestations/new", {**fields, "control": CONTROL}, files={"file": ("p", b"")}
    )
    assert empty.status_code == 422
    assert "file: empty" in empty.text
    assert _stored(server, "attestation") == {}


def _statuses(html: str) -> list[str]:
    section = html[
        html.index('id="h-status"') : html.index("</section>", html.index('id="h-status"'))
    ]
    # the table's status cells, not the counts per status above the table
    return re.findall(r'<td><span class="badge status-(\w+)"', section)


def _soa_line(client: httpx.Client, control: str) -> str:
    return _row(client.get("/soa").text, f'href="/controls/{control.replace(":", "%3A")}"')


def test_an_exclusion_makes_a_control_not_applicable(server: Running) -> None:
    _assessed(server)
    officer = _signed_in(server, "officer", Role.security_officer)
    page = officer.get(f"/controls/{PHYSICAL}").text
    assert "Mark not applicable" in page
    assert "<td>yes</td>" in _soa_line(officer, PHYSICAL)
    short = _post(
        officer, f"/controls/{PHYSICAL}/exclusions", {"scope": "all", "justification": "none"}
    )
    assert short.status_code == 422
    assert "justification: String should have at least 10 characters" in short.text
    unticked = _post(
        officer, f"/controls/{PHYSICAL}/exclusions",
        {"scope": "some", "justification": "We have no premises of our own."},
    )  # fmt: skip
    assert unticked.status_code == 422
    assert "systems: tick the systems, or choose every system" in unticked.text
    assert _stored(server, "exclusion") == {}
    made = _post(
        officer, f"/controls/{PHYSICAL}/exclusions",
        {"scope": "all", "systems": [SYSTEM_A], "justification": "We have no premises of our own."},
    )  # fmt: skip
    assert made.status_code == 303, made.text
    line = _soa_line(officer, PHYSICAL)
    assert "<td>no</td>" in line
    assert "We have no premises of our own." in line
    ((key, body),) = _stored(server, "exclusion").items()
    assert body["systems"] == []  # "every system" wins over a stray tick
    shown = officer.get(made.headers["location"]).text
    assert "The control was marked not applicable." in shown
    assert f'action="/exclusions/{key}/delete"' in shown
    again = _post(
        officer, f"/controls/{PHYSICAL}/exclusions",
        {"scope": "all", "justification": "We have no premises of our own."},
    )  # fmt: skip
    assert again.status_code == 409
    assert "already marked not applicable" in again.text
    back = _post(officer, f"/exclusions/{key}/delete", {})
    assert back.status_code == 303
    assert back.headers["location"].startswith(f"/controls/{PHYSICAL}?done=applicable")
    assert "<td>yes</td>" in _soa_line(officer, PHYSICAL)
    assert _stored(server, "exclusion") == {}


def test_forms_need_the_csrf_token(server: Running) -> None:
    _assessed(server)
    officer = _signed_in(server, "officer", Role.security_officer)
    assert officer.post("/risks/new", data=_risk_form()).status_code == 403
    multipart = officer.post(
        "/attestations/new", data={"id": "a"}, files={"file": ("p.pdf", b"%PDF")}
    )
    assert multipart.status_code == 403
    wrong = officer.post(
        f"/controls/{PHYSICAL}/exclusions",
        data={"csrf_token": "forged", "scope": "all", "justification": "no premises at all"},
    )
    assert wrong.status_code == 403
    assert "CSRF" in wrong.text
    assert set(_stored(server, "risk")) == {"poisoning"}
    assert _stored(server, "exclusion") == {}


FORMS = ('action="/risks/new"', "Record an attestation", "Mark not applicable", '/edit"')


@pytest.mark.parametrize("role", [Role.viewer, Role.auditor])
def test_readers_see_no_forms_and_are_refused(server: Running, role: Role) -> None:
    _assessed(server)
    reader = _signed_in(server, "reader", role)
    for path in ("/risks", "/evidence", f"/controls/{CONTROL}", f"/controls/{PHYSICAL}"):
        html = reader.get(path).text
        assert not [f for f in FORMS if f in html], path
        assert 'enctype="multipart/form-data"' not in html
    for path, data in (
        ("/risks/new", _risk_form()),
        ("/risks/poisoning/edit", _risk_form()),
        ("/risks/poisoning/delete", {}),
        ("/attestations/new", {"id": "a1"}),
        (f"/controls/{PHYSICAL}/exclusions", {"scope": "all", "justification": "no premises"}),
    ):
        assert _post(reader, path, data).status_code == 403, path
    assert reader.get("/risks/poisoning/edit").status_code == 403
    assert set(_stored(server, "risk")) == {"poisoning"}


def test_an_engineer_cannot_edit_risks(server: Running) -> None:
    _assessed(server)
    engineer = _signed_in(server, "engineer_a", Role.engineer, SYSTEM_A)
    assert 'action="/risks/new"' not in engineer.get("/risks").text
    assert engineer.get("/risks/poisoning/edit").status_code == 403
    assert _post(engineer, "/risks/new", _risk_form(systems=[SYSTEM_A])).status_code == 403
    assert _post(engineer, "/risks/poisoning/delete", {}).status_code == 403
    assert set(_stored(server, "risk")) == {"poisoning"}
