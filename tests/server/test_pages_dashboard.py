"""The dashboard (start page) against a real server: posture, trend, risks, findings, expiries,
its empty state, the per-system view of an engineer, and no inline script or style anywhere."""

from __future__ import annotations

import pytest

from tests.server.conftest import Running
from tests.server.matrix_case import SYSTEM_A, SYSTEM_B
from tests.server.pages_data import ONLY_B, assert_clean_html, seed, signed_in

PAGES = (
    "/", "/systems", f"/systems/{SYSTEM_A}", "/risks", "/controls", "/controls/iso27002:2022:5.37",
    "/soa", "/findings", "/evidence", "/roadmap", "/ledger", "/activity", "/admin/users",
    "/account/tokens",
)  # fmt: skip


def test_dashboard_shows_the_latest_assessment(server: Running) -> None:
    seed(server.store)
    page = signed_in(server, "admin")["admin"].get("/")
    assert page.status_code == 200
    html = page.text
    # Posture per framework (names from the catalog) and per theme, as percent bars.
    assert "Custos AI security requirements" in html
    assert 'width="62.5"' in html
    assert "62.5%" in html
    assert "Technological controls" in html
    assert "55.0%" in html
    # The trend over the three stored assessments, one line (every system pooled).
    assert html.count("<polyline") == 1
    assert html.count('<circle class="dot') == 3
    # Top open risks, worst residual first, and the critical/high findings.
    assert html.index("R01-alpha-poisoning") < html.index("R02-bravo-leak")
    assert "unsigned model" in html
    assert "undeclared model alpha.pkl" in html
    assert "model card lacks limitations" not in html  # low severity: not on the dashboard
    # Attestations and evidence expiring within 30 days, linked to their pages.
    assert "ATT-alpha" in html
    assert "ATT-everyone" not in html
    assert 'href="/evidence"' in html
    assert 'href="/risks"' in html
    assert 'href="/findings?severity=high"' in html


def test_dashboard_without_an_assessment_says_what_to_run(server: Running) -> None:
    html = signed_in(server, "viewer")["viewer"].get("/").text
    assert "No assessment yet" in html
    assert "custos scan --push" in html
    assert "viewer on every system" in html


def test_an_engineer_sees_only_their_system(server: Running) -> None:
    seed(server.store)
    html = signed_in(server, "engineer_a")["engineer_a"].get("/").text
    assert "R01-alpha-poisoning" in html
    assert ONLY_B not in html
    assert SYSTEM_B not in html
    # Pooled scores would tell about the other system: the engineer gets their system's own.
    assert "overall" not in html
    assert 'width="75.0"' in html  # fraud-scoring's own custos-ai score in samples.report()
    # Navigation shows only what an engineer may open.
    assert 'href="/ledger"' not in html
    assert 'href="/admin/users"' not in html
    assert 'href="/systems"' in html


@pytest.mark.parametrize("caller", ["admin"])
def test_no_page_has_inline_script_or_style(server: Running, caller: str) -> None:
    seed(server.store)
    client = signed_in(server, caller)[caller]
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert_clean_html(page.text)
        assert 'href="#main"' in page.text  # the skip link
        assert "script-src 'self'" in page.headers["content-security-policy"]
