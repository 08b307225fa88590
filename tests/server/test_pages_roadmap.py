"""/roadmap: the Gantt chart (SVG bars from start to due date) and the table."""

from __future__ import annotations

from tests.server.conftest import Running
from tests.server.matrix_case import SYSTEM_B
from tests.server.pages_data import ONLY_B, seed, signed_in


def test_gantt_and_table(server: Running) -> None:
    seed(server.store)
    client = signed_in(server, "viewer")["viewer"]
    html = client.get("/roadmap").text
    assert html.count('<rect class="gantt-bar') == 2
    assert 'class="gantt-bar phase-1"' in html
    assert 'class="gantt-bar phase-2"' in html
    assert "Ada" in html
    assert f"Owner {ONLY_B}" in html
    assert 'class="today"' in html  # "now" lies within the roadmap
    later = client.get("/roadmap", params={"phase": "31-90"}).text
    assert later.count('<rect class="gantt-bar') == 1
    assert "Ada" not in later.split("<tbody>")[1]


def test_an_engineer_sees_their_items(server: Running) -> None:
    seed(server.store)
    html = signed_in(server, "engineer_a")["engineer_a"].get("/roadmap").text
    assert html.count('<rect class="gantt-bar') == 1
    assert ONLY_B not in html
    assert SYSTEM_B not in html


def test_empty_state(server: Running) -> None:
    html = signed_in(server, "viewer")["viewer"].get("/roadmap").text
    assert "No assessment yet" in html
