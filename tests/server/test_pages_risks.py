"""/risks: the register and the inherent and residual heat maps."""

from __future__ import annotations

import re

from tests.server.conftest import Running
from tests.server.matrix_case import SYSTEM_A
from tests.server.pages_data import ONLY_B, seed, signed_in


def _cells(html: str, heading: str) -> list[str]:
    """The filled cells of one heat map, as 'count:ids'."""
    start = html.index(heading)
    table = html[start : html.index("</table>", start)]
    return re.findall(r'<span class="count">(\d+)</span>', table)


def test_register_and_heat_maps(server: Running) -> None:
    seed(server.store)
    html = signed_in(server, "viewer")["viewer"].get("/risks").text
    assert 'id="risk-R01-alpha-poisoning"' in html
    assert 'id="risk-R02-bravo-leak"' in html
    assert "4\u00d75 = 20" in html
    assert "2\u00d73 = 6" in html
    assert _cells(html, "Inherent risk") == ["1", "1"]
    assert _cells(html, "Residual risk") == ["1", "1"]
    # R01 sits at likelihood 4, impact 5 (inherent): the top row, fourth column.
    inherent = html[html.index("Inherent risk") : html.index("Residual risk")]
    top_row = inherent[inherent.index(">I5<") : inherent.index(">I4<")]
    cells = top_row.split('<td class="cell')[1:]
    assert [i for i, cell in enumerate(cells, 1) if "R01-alpha-poisoning" in cell] == [4]
    assert "risk_actions" not in html  # the editing block is a template block, not text


def test_filter_and_engineer_view(server: Running) -> None:
    seed(server.store)
    clients = signed_in(server, "viewer", "engineer_a")
    filtered = clients["viewer"].get("/risks", params={"system": SYSTEM_A}).text
    assert "R01-alpha-poisoning" in filtered
    assert "R02-bravo-leak" not in filtered
    own = clients["engineer_a"].get("/risks").text
    assert "R01-alpha-poisoning" in own
    assert ONLY_B not in own
    assert "R02" not in own


def test_empty_states(server: Running) -> None:
    client = signed_in(server, "viewer")["viewer"]
    assert "No assessment yet" in client.get("/risks").text
    seed(server.store)
    none = client.get("/risks", params={"system": "unknown-system"}).text
    assert "No risks in the register for this system" in none
