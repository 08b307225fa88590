"""/ledger (checkpoint, verification) and its audit bundle, and /activity (user actions)."""

from __future__ import annotations

from custos import ledger_records as records
from custos.ledger.audit import audit
from custos.ledger.bundle import read
from custos.server.rbac import Binding, Role
from custos.store.ledger_key import load_signer
from tests.server.conftest import Running
from tests.server.helpers import csrf_from
from tests.server.pages_data import signed_in


def test_the_ledger_page_shows_the_latest_checkpoint(server: Running) -> None:
    client = signed_in(server, "viewer")["viewer"]  # creating the user appended an event
    info = server.store.ledger_info()
    assert info is not None
    html = client.get("/ledger").text
    assert info.origin in html
    assert f"{info.size} entries" in html
    assert info.verifier_key in html
    assert info.checkpoint is not None
    assert info.checkpoint.splitlines()[0] in html
    assert "Download the audit bundle" not in html  # viewers may not export


def test_verify_runs_the_audit(server: Running) -> None:
    client = signed_in(server, "auditor")["auditor"]
    page = client.get("/ledger")
    answer = client.post("/ledger/verify", data={"csrf_token": csrf_from(page.text)})
    assert answer.status_code == 200
    assert "Verified." in answer.text
    assert "1 entries" in answer.text
    refused = client.post("/ledger/verify", data={})
    assert refused.status_code == 403  # no CSRF token


def test_the_bundle_downloads_and_verifies(server: Running) -> None:
    clients = signed_in(server, "auditor", "viewer")
    answer = clients["auditor"].get("/ledger/bundle")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    header, notes, entries = read(iter(answer.content.splitlines(keepends=True)), "bundle")
    result = audit(
        ((seq, None, data) for seq, data in enumerate(entries)),
        notes,
        header.verifier_key,
        declared_size=header.size,
        origin=header.origin,
    )
    assert result.ok
    assert result.entries == 2
    assert clients["viewer"].get("/ledger/bundle").status_code == 403


def test_activity_lists_user_actions_newest_first(server: Running) -> None:
    clients = signed_in(server, "auditor", "viewer")
    server.user("zed", Binding(Role.viewer))
    html = clients["auditor"].get("/activity").text
    assert html.count("<code>user.created</code>") == 3
    assert html.index("user: zed") < html.index("user: viewer") < html.index("user: auditor")
    assert "role: viewer" in html
    assert clients["viewer"].get("/activity").status_code == 403


def test_activity_pages(server: Running) -> None:
    client = signed_in(server, "admin")["admin"]
    signer = load_signer(server.settings.project_dir, create=True)
    for number in range(55):
        entry = records.event_entry({"action": "test.event", "n": number}, server.clock(), "t")
        server.store.ledger_append([entry], signer)
    first = client.get("/activity").text
    assert "1\u201350 of 56 actions" in first
    assert 'rel="next"' in first
    second = client.get("/activity", params={"page": 2}).text
    assert "51\u201356 of 56 actions" in second
    assert "user: admin" in second


def test_activity_shows_what_was_appended_since_the_last_view(server: Running) -> None:
    client = signed_in(server, "auditor")["auditor"]
    assert "1\u20131 of 1 actions" in client.get("/activity").text
    signer = load_signer(server.settings.project_dir, create=True)
    # Appended by another process (the CLI): this one has read the ledger up to here already.
    entry = records.event_entry({"action": "test.later"}, server.clock(), "cli")
    server.store.ledger_append([entry], signer)
    html = client.get("/activity").text
    assert "1\u20132 of 2 actions" in html
    assert html.index("<code>test.later</code>") < html.index("<code>user.created</code>")
