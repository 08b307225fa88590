"""Pages on an estate with more systems than fit on a screen: the SoA counts systems per status
instead of a column each (one system's column on request), a roadmap item lists its first
systems and links to the rest, and a caller's view of the assessment is kept between requests
(re-cut only for another set of visible systems or a new assessment)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from jinja2.filters import do_urlencode

from custos.assess.model import RoadmapItem, SoAEntry
from custos.server.context import AppContext
from custos.server.latest_view import latest_visible
from custos.server.rbac import Binding, Principal, Role
from custos.server.settings import Settings
from custos.server.web.render import urlencode
from custos.server.web.views import COLUMNS, status_counts
from custos.store import Store
from tests.server.conftest import T0, Running
from tests.server.pages_data import LATER, signed_in
from tests.store import samples

SYSTEMS = [f"sys-{n:02d}" for n in range(60)]  # more than fit as columns, or on one page
assert len(SYSTEMS) > COLUMNS
STATUS_OF = {s: ("implemented" if n % 3 else "partial") for n, s in enumerate(SYSTEMS)}


def _large_report() -> samples.AssessmentReport:
    base = samples.report(at=T0, scores=dict.fromkeys(SYSTEMS, 50.0))
    line = SoAEntry(
        control="iso27002:2022:5.37", framework="iso27002",
        title="Documented operating procedures", applicable=True,
        justification=("baseline",), exclusion=None, status="partial",
        per_system=STATUS_OF, owner="CISO", target_date=LATER,
    )  # fmt: skip
    item = RoadmapItem(
        rank=1, control="iso27002:2022:5.37", title="Documented operating procedures",
        systems=tuple(SYSTEMS), risks=(), risk_reduction=9, effort=2, owner="Ada",
        phase="0-30", start=T0.date(), due=LATER,
    )  # fmt: skip
    return dataclasses.replace(base, soa=(line,), roadmap=(item,))


def _seed(server: Running) -> None:
    server.store.save_assessment(
        _large_report(), manifest_path="custos.yaml", manifest_sha256=samples.SHA
    )


def _cells(html: str) -> int:
    return len(re.findall(r'<th scope="col">sys-\d\d</th>', html))


def test_the_soa_counts_systems_per_status_when_they_do_not_fit(server: Running) -> None:
    _seed(server)
    auditor = signed_in(server, "auditor")["auditor"]
    html = auditor.get("/soa").text
    assert _cells(html) == 0
    assert "Systems by status" in html
    implemented = sum(1 for v in STATUS_OF.values() if v == "implemented")
    partial = len(SYSTEMS) - implemented
    assert f"implemented</span>&nbsp;{implemented}" in html
    assert f"partial</span>&nbsp;{partial}" in html

    one = auditor.get("/soa", params={"system": "sys-03"}).text
    assert _cells(one) == 1
    assert '<th scope="col">sys-03</th>' in one
    assert "Systems by status" not in one
    # A system the caller cannot see (or that does not exist) is no filter at all.
    assert _cells(auditor.get("/soa", params={"system": "nope"}).text) == 0


def test_the_soa_keeps_a_column_per_system_while_they_fit(server: Running) -> None:
    _seed(server)
    server.user("few", Binding(Role.engineer, SYSTEMS[0]), Binding(Role.engineer, SYSTEMS[1]))
    html = server.signed_in("few").get("/soa").text
    assert _cells(html) == 2
    assert "Systems by status" not in html
    assert SYSTEMS[2] not in html


def test_a_roadmap_item_lists_its_first_systems_and_links_to_the_rest(server: Running) -> None:
    _seed(server)
    html = signed_in(server, "auditor")["auditor"].get("/roadmap").text
    linked = re.findall(r'<a href="/systems/(sys-\d\d)">', html)
    assert linked == SYSTEMS[:8]
    more = len(SYSTEMS) - 8
    assert f'<a href="/controls/iso27002%3A2022%3A5.37">and {more} more</a>' in html


def test_a_callers_view_is_kept_between_requests(store: Store, tmp_path: Path) -> None:
    store.save_assessment(_large_report(), manifest_path="custos.yaml", manifest_sha256=samples.SHA)
    ctx = AppContext(Settings(project_dir=tmp_path), store)
    auditor = Principal(1, "auditor", (Binding(Role.auditor),), "session")
    one = Principal(2, "one", (Binding(Role.engineer, SYSTEMS[0]),), "session")
    first = latest_visible(ctx, auditor)
    assert first is not None
    assert latest_visible(ctx, auditor) == first
    assert latest_visible(ctx, auditor)[1] is first[1]  # type: ignore[index]
    mine = latest_visible(ctx, one)
    assert mine is not None
    assert mine[1] is not first[1]
    assert latest_visible(ctx, one)[1] is mine[1]  # type: ignore[index]
    assert list(mine[1].statuses("custos:ai:model-documentation")) == [SYSTEMS[0]]
    assert list(first[1].statuses("custos:ai:model-documentation")) == SYSTEMS
    assert first[1].rows("controls") is first[1].rows("controls")  # cut once

    # A new assessment is a new view.
    store.save_assessment(_large_report(), manifest_path="custos.yaml", manifest_sha256=samples.SHA)
    again = latest_visible(ctx, auditor)
    assert again is not None
    assert again[0] != first[0]
    assert again[1] is not first[1]


def test_the_control_api_lists_the_callers_systems(server: Running) -> None:
    _seed(server)
    server.user("one", Binding(Role.engineer, SYSTEMS[0]))
    auditor, one = signed_in(server, "auditor")["auditor"], server.signed_in("one")
    path = "/api/v1/controls/custos:ai:model-documentation"
    mine = one.get(path).json()
    assert [s["system"] for s in mine["statuses"]] == [SYSTEMS[0]]
    assert mine["id"] == "custos:ai:model-documentation"
    assert mine["mappings"]
    every = auditor.get(path).json()["statuses"]
    assert [s["system"] for s in every] == SYSTEMS


def test_status_counts_keep_a_fixed_order() -> None:
    counted = status_counts({"a": "partial", "b": "implemented", "c": "partial", "d": "odd"})
    assert counted == [("implemented", 1), ("partial", 2), ("odd", 1)]
    assert status_counts({}) == []


def test_the_pages_urlencode_is_jinjas() -> None:
    for value in ("a b/c", "iso27002:2022:5.1", "é&?=#%", "", {"q": "a b"}, [("k", "v w")]):
        assert urlencode(value) == do_urlencode(value)


def test_a_controls_systems_are_paged_and_filtered(server: Running) -> None:
    _seed(server)
    auditor = signed_in(server, "auditor")["auditor"]
    path = "/controls/custos:ai:model-documentation"
    first = auditor.get(path).text
    rows = re.findall(r'<th scope="row"><a href="/systems/(sys-\d\d)">', first)
    assert rows == SYSTEMS[:50]
    assert "Page 1 of 2" in first
    second = auditor.get(path, params={"page": 2}).text
    assert re.findall(r'<th scope="row"><a href="/systems/(sys-\d\d)">', second) == SYSTEMS[50:]
    # no system has implemented it in the sample: one filter keeps them all, another none
    kept = auditor.get(path, params={"status": "not_implemented"}).text
    assert "1\u201350 of 60 systems" in kept
    assert "status=not_implemented&amp;page=2" in kept
    none = auditor.get(path, params={"status": "implemented"}).text
    assert "No system has this status." in none
    assert re.findall(r'<th scope="row"><a href="/systems/(sys-\d\d)">', none) == []


def test_requirements_under_a_control_are_counted_on_a_large_estate(server: Running) -> None:
    _seed(server)
    auditor = signed_in(server, "auditor")["auditor"]
    html = auditor.get("/controls/iso27002:2022:5.37").text
    assert "AI requirements under this control" in html
    assert "Systems by status" in html
    assert _cells(html) == 0
