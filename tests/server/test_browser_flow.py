"""A person in a real headless Chromium (Playwright driving Debian's chromium): sign in, see the
dashboard, watch a control's status change after an attestation with its file is recorded, sign
out. Screenshots go to out/e2e/ (kept as CI artifacts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from custos.server.rbac import Binding, Role
from tests.e2e.browser import chromium
from tests.server.api_client import bearer
from tests.server.conftest import Running
from tests.server.helpers import PASSWORD
from tests.server.inventory_data import attestation, manifest, risk, seed

SHOTS = Path(__file__).resolve().parents[2] / "out" / "e2e"
CONTROL = "iso27002:2022:5.1"


def test_sign_in_see_the_dashboard_watch_a_status_change_sign_out(server: Running) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    executable = chromium()
    seed(server.store, {**manifest(), "attestations": []})
    officer = bearer(server, "officer", Binding(Role.security_officer))
    assert officer.post("/api/v1/risks", json=risk("r2")).status_code == 201
    server.user("alice", Binding(Role.security_officer))
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{server.url}/")
        assert "/login" in page.url
        page.fill("#username", "alice")
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{server.url}/")
        assert page.get_by_role("heading", level=1).first.is_visible()
        page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
        page.goto(f"{server.url}/controls/{CONTROL}")
        before = page.inner_text("main")
        page.screenshot(path=str(SHOTS / "control-before.png"), full_page=True)
        # The security officer records the policy attestation and uploads its document.
        assert officer.post("/api/v1/attestations", json=attestation()).status_code == 201
        upload = officer.post(
            "/api/v1/attestations/ai-policy/file",
            files={"file": ("policy.pdf", b"%PDF-1.4 policy", "application/pdf")},
        )
        assert upload.status_code == 201
        page.reload()
        after = page.inner_text("main")
        page.screenshot(path=str(SHOTS / "control-after.png"), full_page=True)
        assert "implemented" in after.lower()
        assert after != before
        page.locator("summary", has_text="Account").click()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{server.url}/login")
        page.goto(f"{server.url}/")
        assert "/login" in page.url
        browser.close()
    # The strict CSP holds: the pages need no inline script or style.
    assert not [e for e in errors if "Content Security Policy" in e], errors
