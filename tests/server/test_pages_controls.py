"""/controls (filters, pages), /controls/{id} (status per system, reasons, mappings, the AI
requirements under an ISO 27002 control) and /soa."""

from __future__ import annotations

from tests.server.conftest import Running
from tests.server.matrix_case import SYSTEM_A, SYSTEM_B
from tests.server.pages_data import ONLY_B, seed, signed_in

PARENT = "iso27002:2022:5.37"


def _rows(html: str) -> int:
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return body.count("<tr>")


def test_the_list_filters_by_framework_system_and_status(server: Running) -> None:
    seed(server.store)
    client = signed_in(server, "viewer")["viewer"]
    everything = client.get("/controls").text
    assert _rows(everything) == 6  # 3 controls x 2 systems in samples.report()
    iso = client.get("/controls", params={"framework": "iso27002"}).text
    assert _rows(iso) == 2
    assert "custos:ai:model-documentation</code>" not in iso
    one = client.get("/controls", params={"system": SYSTEM_A, "status": "implemented"}).text
    assert _rows(one) == 3
    assert f'href="/systems/{SYSTEM_B}"' not in one
    none = client.get("/controls", params={"status": "partial"}).text
    assert "No controls match these filters." in none
    # Filters stay selected, and a page past the end shows the last page.
    assert '<option value="implemented" selected>' in one
    assert _rows(client.get("/controls", params={"page": 99}).text) == 6


def test_an_engineer_lists_only_their_system(server: Running) -> None:
    seed(server.store)
    html = signed_in(server, "engineer_a")["engineer_a"].get("/controls").text
    assert _rows(html) == 3
    assert SYSTEM_B not in html


def test_a_control_shows_statuses_requirements_and_mappings(server: Running) -> None:
    seed(server.store)
    html = signed_in(server, "viewer")["viewer"].get(f"/controls/{PARENT}").text
    assert "Documented operating procedures" in html
    assert "model card complete" in html  # a reason from the report
    assert f'href="/evidence?system={SYSTEM_A}&amp;check=model-card"' in html
    requirements = html[html.index("AI requirements under this control") :]
    assert "custos:ai:model-documentation" in requirements
    assert "custos:ai:decision-documentation" in requirements  # in the catalog, not assessed
    mappings = html[html.index("Mappings to other frameworks") :]
    assert "iso42001:2023:A.6.2.7" in mappings
    assert "intersect" in mappings


def test_an_inferred_status_is_marked(server: Running) -> None:
    seed(server.store)
    html = signed_in(server, "viewer")["viewer"].get("/controls/iso42001:2023:A.6.2.7").text
    assert "inferred through mappings" in html


def test_control_detail_is_filtered_and_unknown_ids_are_404(server: Running) -> None:
    seed(server.store)
    client = signed_in(server, "engineer_a")["engineer_a"]
    html = client.get(f"/controls/{PARENT}").text
    assert SYSTEM_A in html
    assert SYSTEM_B not in html
    missing = client.get("/controls/nope:1")
    assert missing.status_code == 404
    assert "nope:1" in missing.text


def test_soa_lines_with_justification_and_exclusion(server: Running) -> None:
    seed(server.store)
    clients = signed_in(server, "auditor", "engineer_a")
    html = clients["auditor"].get("/soa").text
    assert "risk: R01-alpha-poisoning" in html
    assert "no premises of our own" in html
    assert "Status (weakest)" in html
    assert SYSTEM_B in html
    excluded = clients["auditor"].get("/soa", params={"applicable": "false"}).text
    assert "iso27002:2022:7.1" in excluded
    assert "iso27002:2022:5.37</code>" not in excluded
    own = clients["engineer_a"].get("/soa").text
    # The pooled status would tell about system B; the engineer sees their own column only.
    assert "Status (weakest)" not in own
    assert SYSTEM_B not in own
    assert ONLY_B not in own


def test_empty_states(server: Running) -> None:
    client = signed_in(server, "viewer")["viewer"]
    for path in ("/controls", "/soa"):
        assert "No assessment yet" in client.get(path).text
    # The catalog still answers for a control when nothing was assessed.
    html = client.get(f"/controls/{PARENT}").text
    assert "Mappings to other frameworks" in html
    assert "No assessment yet" in html
