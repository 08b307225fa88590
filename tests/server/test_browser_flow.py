"""A security officer in a real headless Chromium (Playwright driving Debian's chromium), doing
everything through the pages: sign in, see the dashboard, add a risk with the form and find it
in the register and the heat map, record an attestation with its document (a real file upload)
and watch the control's status change to implemented, sign out. The inventory starts as a CI
push would leave it. Screenshots go to out/e2e/ (kept as CI artifacts), at laptop and phone
sizes for the editing forms."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from custos.server.assessment import reassess
from custos.server.context import AppContext
from custos.server.rbac import Binding, Role
from tests.e2e.browser import chromium
from tests.server.conftest import Running
from tests.server.helpers import PASSWORD
from tests.server.inventory_data import SYSTEM_B, manifest, seed

SHOTS = Path(__file__).resolve().parents[2] / "out" / "e2e"
CONTROL = "iso27002:2022:5.1"
RISK = "R9-prompt-injection"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ID = re.compile(r"^Id\b")  # labels match by substring: "Id" alone would match "Residual"


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _status_cells(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("#h-status ~ .table-wrap .badge").all_inner_texts()]


def test_a_security_officer_edits_through_the_pages(server: Running, tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    executable = chromium()
    seed(server.store, {**manifest(), "attestations": []})
    reassess(AppContext(server.settings, server.store), "ci")  # as `custos assess --push` would
    server.user("alice", Binding(Role.security_officer))
    policy = tmp_path / "AI security policy.pdf"
    policy.write_bytes(b"%PDF-1.4\n% the AI security policy, approved by the board\n")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport=LAPTOP)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        # Stylesheets and other files that failed to load (the favicon has none). Pages are
        # left out: the refused form's 422 is expected, and the flow checks each page itself.
        failed: list[str] = []

        def loaded(response: Any) -> None:
            if response.status < 400 or response.request.resource_type == "document":
                return
            if not response.url.endswith("/favicon.ico"):
                failed.append(f"{response.status} {response.url}")

        page.on("response", loaded)
        page.goto(f"{server.url}/")
        assert "/login" in page.url
        page.fill("#username", "alice")
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{server.url}/")
        assert page.get_by_role("heading", level=1).first.is_visible()
        _shot(page, "dashboard")

        # Add a risk with the form, by its labels, as a person would.
        page.get_by_role("link", name="Risks", exact=True).click()
        page.wait_for_url(f"{server.url}/risks")
        page.locator("#add-risk > summary").click()
        form = page.locator("#add-risk form")
        form.get_by_label(ID).fill(RISK)
        form.get_by_label("Title").fill("Prompt injection through the support chat")
        form.get_by_label("Threats").fill("owasp:LLM01:2025\natlas:AML.T0051")
        form.get_by_label("Chargeback Bot").check()
        form.get_by_label("Likelihood", exact=True).select_option("4")
        form.get_by_label("Impact", exact=True).select_option("5")
        form.get_by_label("Treatment").select_option("mitigate")
        form.get_by_label("Owner").fill("appsec@example.org")
        form.get_by_label("Review date").fill("2026-12-01")
        form.get_by_label("Residual likelihood").select_option("2")
        form.get_by_label("Residual impact").select_option("3")
        _shot(page, "risk-form-laptop")
        page.set_viewport_size(PHONE)
        _shot(page, "risk-form-phone")
        page.set_viewport_size(LAPTOP)
        # A mistyped control: the form comes back with the one-line reason, values kept.
        form.get_by_label("Controls chosen to treat it").fill("custos:ai:input-validaton")
        form.get_by_role("button", name="Add the risk").click()
        alert = page.get_by_role("alert")
        assert "unknown control id 'custos:ai:input-validaton'" in alert.inner_text()
        assert form.get_by_label("Title").input_value().startswith("Prompt injection")
        assert form.get_by_label("Chargeback Bot").is_checked()
        assert form.get_by_label("Controls chosen to treat it").get_attribute("aria-invalid")
        _shot(page, "risk-refused")
        form.get_by_label("Controls chosen to treat it").fill("custos:ai:input-validation")
        form.get_by_role("button", name="Add the risk").click()
        page.wait_for_url("**/risks?done=risk-added*")
        assert page.get_by_role("status").inner_text().startswith(f"Risk {RISK} was added")
        row = page.locator(f"#risk-{RISK}")
        assert "4\u00d75 = 20" in row.inner_text()
        assert SYSTEM_B in row.inner_text()
        inherent = page.locator("section.heat", has=page.locator("#h-inherent"))
        assert inherent.locator(f'a[href="#risk-{RISK}"]').count() == 1
        _shot(page, "risk-added")

        # The edit page, at both sizes (no change saved).
        row.get_by_role("link", name=f"Edit risk {RISK}").click()
        page.wait_for_url(f"**/risks/{RISK}/edit")
        assert page.get_by_label("Title").input_value().startswith("Prompt injection")
        _shot(page, "risk-edit-laptop")
        page.set_viewport_size(PHONE)
        _shot(page, "risk-edit-phone")
        page.set_viewport_size(LAPTOP)

        # The control has no attestation yet.
        page.goto(f"{server.url}/controls/{CONTROL}")
        before = _status_cells(page)
        assert before
        assert "implemented" not in before
        _shot(page, "control-before")

        # Record the policy attestation with its document, from the control's own page.
        page.get_by_role("link", name="Record an attestation for this control").click()
        page.wait_for_url("**/evidence?attest=*")
        record = page.locator("#record-attestation form")
        assert record.get_by_label("Control").input_value() == CONTROL
        assert record.get_by_label("Author").input_value() == "alice"
        record.get_by_label(ID).fill("ai-policy")
        record.get_by_label("Statement").fill("The AI security policy is approved and published.")
        record.get_by_label("Expires").fill("2027-06-01")
        record.get_by_label("Document").set_input_files(str(policy))
        _shot(page, "attestation-form-laptop")
        page.set_viewport_size(PHONE)
        _shot(page, "attestation-form-phone")
        page.set_viewport_size(LAPTOP)
        record.get_by_role("button", name="Record the attestation").click()
        page.wait_for_url("**/evidence?done=attestation-added*")
        listed = page.locator("#attestation-ai-policy")
        assert "valid" in listed.inner_text()
        assert listed.get_by_role("link", name="Download").count() == 1

        page.goto(f"{server.url}/controls/{CONTROL}")
        after = _status_cells(page)
        assert after == ["implemented"] * len(before)
        _shot(page, "control-after")
        page.locator("#exclude > summary").click()
        _shot(page, "exclusion-form-laptop")
        page.set_viewport_size(PHONE)
        _shot(page, "exclusion-form-phone")
        page.set_viewport_size(LAPTOP)

        page.locator("summary", has_text="Account").click()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{server.url}/login")
        page.goto(f"{server.url}/")
        assert "/login" in page.url
        browser.close()
    # The strict CSP holds (the pages need no inline script or style), the forms' patterns
    # compile, and nothing failed to load; Chromium's own line for a failed load is left to
    # `failed`, which knows the URL.
    assert not [e for e in errors if not e.startswith("Failed to load resource")], errors
    assert not failed, failed
