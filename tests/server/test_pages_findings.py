"""/findings (filters by severity, system, check and rule) and /evidence (evidence records and
attestations with their expiry)."""

from __future__ import annotations

from tests.server.conftest import Running
from tests.server.matrix_case import SYSTEM_B
from tests.server.pages_data import ONLY_B, seed, signed_in


def _body(html: str, after: str = "") -> str:
    start = html.index("<tbody>", html.index(after) if after else 0)
    return html[start : html.index("</tbody>", start)]


def test_findings_filters(server: Running) -> None:
    seed(server.store)
    client = signed_in(server, "viewer")["viewer"]
    everything = _body(client.get("/findings").text)
    assert everything.count("<tr>") == 3
    assert everything.index("critical") < everything.index("low")  # most severe first
    cases = {
        "severity": ("high", "undeclared model alpha.pkl"),
        "system": (SYSTEM_B, ONLY_B),
        "check": ("model-card", "model card lacks limitations"),
        "rule": ("model-signature/rule", ONLY_B),
    }
    for key, (value, expected) in cases.items():
        html = _body(client.get("/findings", params={key: value}).text)
        assert html.count("<tr>") == 1, key
        assert expected in html, key
    none = client.get("/findings", params={"severity": "info"}).text
    assert "No findings match these filters." in none


def test_an_engineer_never_sees_another_systems_findings(server: Running) -> None:
    seed(server.store)
    client = signed_in(server, "engineer_a")["engineer_a"]
    html = client.get("/findings").text
    assert _body(html).count("<tr>") == 2
    assert ONLY_B not in html
    assert SYSTEM_B not in html
    asked = client.get("/findings", params={"system": SYSTEM_B}).text
    assert "No findings match these filters." in asked
    assert ONLY_B not in asked


def test_evidence_and_attestations_with_expiry(server: Running) -> None:
    seed(server.store)
    client = signed_in(server, "viewer")["viewer"]
    html = client.get("/evidence").text
    evidence = _body(html)
    assert evidence.count("<tr>") == 3
    assert "expires soon" in evidence  # collected 20 days before "now", valid 30 days
    assert "sha256 9f86d081" in evidence  # the examined file's digest
    attestations = _body(html, "Attestations")
    assert "ATT-alpha" in attestations
    assert "ATT-everyone" in attestations
    assert attestations.count("expires soon") == 2  # alpha and bravo, not everyone's
    failing = _body(client.get("/evidence", params={"result": "pass"}).text)
    assert failing.count("<tr>") == 1
    assert "model-file" in failing


def test_evidence_of_an_engineer(server: Running) -> None:
    seed(server.store)
    html = signed_in(server, "engineer_a")["engineer_a"].get("/evidence").text
    assert ONLY_B not in html
    assert SYSTEM_B not in html
    assert "ATT-everyone" in html  # an attestation for every system is theirs too


def test_empty_states(server: Running) -> None:
    client = signed_in(server, "viewer")["viewer"]
    assert "No assessment yet" in client.get("/findings").text
    html = client.get("/evidence").text
    assert "No evidence yet" in html
    assert "No assessment yet" in html
