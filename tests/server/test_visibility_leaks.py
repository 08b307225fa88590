"""No system's data reaches a caller bound to other systems (red team, issue 13: "pooled rows
across a system boundary"). Every GET route of the app, API and pages, every report format,
is called by callers bound to system A only; no answer may contain any of system B's marker
strings (`zzb7`, see tests/server/leak_data.py), and the answers must show A's own data (so the
search could fail). Routes come from the app's route table: a new GET route with path
parameters fails here until it gets concrete paths below or is listed as not system-scoped.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from custos.reports.base import ReportFormat
from custos.server.app import create_app
from custos.server.guards import routes
from custos.server.rbac import Binding, Role
from custos.server.settings import Settings
from tests.server.api_client import bearer
from tests.server.conftest import Running
from tests.server.leak_data import (
    A_MARK,
    B_MARK,
    EXCLUDED,
    POOLED,
    SHARED_EXCLUSION,
    A,
    B,
    assessed,
)

# Concrete paths of the GET routes with path parameters: A's items (shown, cut to A) and B's
# (refused; the refusal may repeat the id asked for, nothing else of B).
PATHS: dict[str, list[str]] = {
    "/api/v1/attestations/{attestation_id}": [
        "/api/v1/attestations/aaa1-att",
        "/api/v1/attestations/zzb7-att",
        "/api/v1/attestations/shared-att",
    ],
    "/api/v1/attestations/{attestation_id}/file": [
        "/api/v1/attestations/aaa1-att/file",
        "/api/v1/attestations/zzb7-att/file",
    ],
    "/api/v1/controls/{control_id}": [f"/api/v1/controls/{POOLED}", f"/api/v1/controls/{EXCLUDED}"],
    "/api/v1/ledger/proofs/{index}": ["/api/v1/ledger/proofs/0"],
    "/api/v1/reports/{report_format}": [f"/api/v1/reports/{f.value}" for f in ReportFormat],
    "/api/v1/risks/{risk_id}": [
        "/api/v1/risks/aaa1-risk",
        "/api/v1/risks/shared-risk",
        "/api/v1/risks/zzb7-risk",
    ],
    "/api/v1/systems/{system_id}": [f"/api/v1/systems/{A}", f"/api/v1/systems/{B}"],
    "/api/v1/systems/{system_id}/assets": [
        f"/api/v1/systems/{A}/assets",
        f"/api/v1/systems/{B}/assets",
    ],
    "/api/v1/systems/{system_id}/assets/{asset_id}": [
        f"/api/v1/systems/{A}/assets/aaa1-model",
        f"/api/v1/systems/{B}/assets/zzb7-model",
        f"/api/v1/systems/{A}/assets/zzb7-model",
    ],
    "/controls/{control_id}": [
        f"/controls/{POOLED}",
        f"/controls/{EXCLUDED}",
        f"/controls/{SHARED_EXCLUSION}",
    ],
    "/risks/{risk_id}/edit": ["/risks/shared-risk/edit", "/risks/zzb7-risk/edit"],
    "/api/v1/systems/{system_id}/ledger-keys": [
        f"/api/v1/systems/{A}/ledger-keys",
        f"/api/v1/systems/{B}/ledger-keys",
    ],
    "/systems/{system_id}": [f"/systems/{A}", f"/systems/{B}"],
    "/api/v1/systems/{system_id}/vulnerabilities": [
        f"/api/v1/systems/{A}/vulnerabilities",
        f"/api/v1/systems/{B}/vulnerabilities",
    ],
    "/systems/{system_id}/annex-iv": [f"/systems/{A}/annex-iv", f"/systems/{B}/annex-iv"],
    "/systems/{system_id}/vulnerabilities": [
        f"/systems/{A}/vulnerabilities",
        f"/systems/{B}/vulnerabilities",
    ],
}
# GET routes that serve no system's data (the sign-in flow's redirects).
NOT_SYSTEM_SCOPED = frozenset({"/login/oidc", "/login/oidc/callback"})
# Answers that must show A's data to a caller bound to A.
SHOWS_A = frozenset({
    "/", "/systems", "/risks", "/controls", "/soa", "/findings", "/evidence", "/roadmap",
    "/api/v1/systems", "/api/v1/risks", "/api/v1/attestations", "/api/v1/exclusions",
    "/api/v1/controls", "/api/v1/soa", "/api/v1/gaps", "/api/v1/roadmap", "/api/v1/findings",
    "/api/v1/evidence", f"/systems/{A}", f"/controls/{EXCLUDED}", "/api/v1/risks/shared-risk",
    "/api/v1/attestations/shared-att", f"/controls/{SHARED_EXCLUSION}",
    f"/api/v1/systems/{A}/vulnerabilities", f"/systems/{A}/vulnerabilities",
    f"/systems/{A}/annex-iv",
})  # fmt: skip


def _get_routes() -> dict[str, APIRoute]:
    app = create_app(Settings(db_url="sqlite://"))
    return {
        path: route
        for path, route in routes(app)
        if isinstance(route, APIRoute) and "GET" in (route.methods or ())
    }


def _requests(path: str, route: APIRoute) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, query) to ask: everything listed at once, and filtered by B (each kind of
    filter answer must be cut too)."""
    names = {p.name for p in route.dependant.query_params}
    for concrete in PATHS.get(path, [path]):
        query: dict[str, Any] = {"limit": 500} if "limit" in names else {}
        yield concrete, query
        if "system" in names:
            yield concrete, {**query, "system": B}


def _text(response: httpx.Response) -> str:
    """The answer as text: spreadsheets (zip) unpacked, everything else decoded."""
    data = response.content
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as packed:
            data = b"".join(packed.read(name) for name in packed.namelist())
    assert not data.startswith(b"%PDF"), "a PDF reached a caller bound to A: extract its text"
    return data.decode("utf-8", errors="replace").lower()


def _pages(client: httpx.Client, path: str, query: dict[str, Any], paged: bool) -> list[str]:
    """Every page of the answer (web lists are paged by `page` and link the next one)."""
    texts: list[str] = []
    for number in range(1, 30):
        response = client.get(path, params={**query, "page": number} if paged else query)
        texts.append(_text(response))
        if not paged or response.status_code != 200 or 'rel="next"' not in texts[-1]:
            break
    return texts


def _callers(server: Running) -> dict[str, httpx.Client]:
    """Callers bound to A: a security officer (every read permission, on A) in the browser and
    an engineer's API token."""
    server.user("officer-a", Binding(Role.security_officer, A))
    return {
        "officer-a session": server.signed_in("officer-a"),
        "engineer-a token": bearer(server, "engineer-a", Binding(Role.engineer, A)),
    }


def test_every_get_route_is_walked_or_declared_not_scoped() -> None:
    for path in _get_routes():
        if "{" in path:
            assert path in PATHS or path in NOT_SYSTEM_SCOPED, f"{path}: add concrete paths"
    assert set(PATHS) | NOT_SYSTEM_SCOPED <= set(_get_routes())


def test_no_answer_shows_another_systems_data(server: Running) -> None:
    assessed(server)
    failures, shown_a, deepest = [], set(), 0
    for caller, client in _callers(server).items():
        for path, route in _get_routes().items():
            if path in NOT_SYSTEM_SCOPED:
                continue
            paged = any(p.name == "page" for p in route.dependant.query_params)
            for concrete, query in _requests(path, route):
                asked = [concrete.lower(), *(str(v).lower() for v in query.values())]
                texts = _pages(client, concrete, query, paged)
                deepest = max(deepest, len(texts))
                for text in texts:
                    if A_MARK in text:
                        shown_a.add(concrete)
                    for echo in asked:  # a refusal may repeat what was asked for
                        text = text.replace(echo, "").replace(echo.rsplit("/", 1)[-1], "")
                    if B_MARK in text:
                        at = text.index(B_MARK)
                        failures.append(f"{caller} {concrete} {query}: {text[at - 80 : at + 80]}")
    assert failures == [], "\n".join(failures)
    assert deepest > 1  # the paged lists were walked past their first page
    assert shown_a >= SHOWS_A, sorted(SHOWS_A - shown_a)


@pytest.fixture
def admin(server: Running) -> httpx.Client:
    return bearer(server, "admin-all", Binding(Role.admin))


def _item(client: httpx.Client, control: str) -> dict[str, Any]:
    rows = client.get("/api/v1/roadmap", params={"limit": 500}).json()["items"]
    found: dict[str, Any] = next(r for r in rows if r["control"] == control)
    return found


def test_a_pooled_roadmap_item_is_recomputed_from_the_callers_systems(
    server: Running, admin: httpx.Client
) -> None:
    assessed(server)
    pooled = _item(admin, POOLED)  # as the organisation sees it: B's risk owner proposed
    assert pooled["systems"] == [B, A] or sorted(pooled["systems"]) == [A, B]
    assert pooled["owner"] == "risk-owner-zzb7@x.example"
    assert "zzb7-risk" in pooled["risks"]
    mine = _item(bearer(server, "engineer-a", Binding(Role.engineer, A)), POOLED)
    assert mine["systems"] == [A]
    assert mine["risks"] == ["aaa1-risk", "shared-risk"]
    assert mine["owner"] == "owner-aaa1@x.example"  # A's proposal: A's system owner
    gaps = admin.get("/api/v1/gaps", params={"limit": 500, "system": A}).json()["items"]
    a_gap = next(g for g in gaps if g["control"] == POOLED)
    assert mine["risk_reduction"] == a_gap["risk_score"] + 1 < pooled["risk_reduction"]


def test_a_shared_risk_shows_only_the_callers_assets(server: Running, admin: httpx.Client) -> None:
    assessed(server)
    mine = bearer(server, "engineer-a", Binding(Role.engineer, A))
    everyone = admin.get("/api/v1/risks/shared-risk").json()["data"]
    assert everyone["assets"] == ["aaa1-shared-asset", "zzb7-shared-asset"]
    assert mine.get("/api/v1/risks/shared-risk").json()["data"]["assets"] == ["aaa1-shared-asset"]
    page = mine.get("/api/v1/risks", params={"limit": 500}).json()["items"]
    assert {r["data"]["id"] for r in page} == {"aaa1-risk", "shared-risk"}
    assert mine.get("/api/v1/risks", params={"system": B}).json()["items"] == []
    attestation = mine.get("/api/v1/attestations/shared-att").json()["data"]
    assert attestation["systems"] == [A]
    assert admin.get("/api/v1/attestations/shared-att").json()["data"]["systems"] == [A, B]


def test_the_soa_shows_the_callers_own_exclusion(server: Running, admin: httpx.Client) -> None:
    assessed(server)
    mine = bearer(server, "engineer-a", Binding(Role.engineer, A))

    def line(client: httpx.Client) -> dict[str, Any]:
        rows = client.get("/api/v1/soa", params={"framework": "iso27002"}).json()["items"]
        found: dict[str, Any] = next(r for r in rows if r["control"] == EXCLUDED)
        return found

    assert "ZZB7 exclusion" in line(admin)["exclusion"]
    own = line(mine)
    assert own["exclusion"] == "AAA1 exclusion: remote"
    assert (own["per_system"], own["applicable"]) == ({A: "not_applicable"}, False)
