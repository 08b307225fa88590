"""/systems and /systems/{id}: the list, one system's assets and undeclared artifacts, and
who may open which system."""

from __future__ import annotations

import dataclasses

from custos.assess.model import FindingView
from custos.checks.model import Severity
from tests.server.conftest import Running
from tests.server.matrix_case import SYSTEM_A, SYSTEM_B
from tests.server.pages_data import ONLY_B, report, seed, signed_in
from tests.store.samples import SHA


def test_the_list_shows_tier_lifecycle_and_score(server: Running) -> None:
    seed(server.store)
    html = signed_in(server, "viewer")["viewer"].get("/systems").text
    assert f'href="/systems/{SYSTEM_A}"' in html
    assert f'href="/systems/{SYSTEM_B}"' in html
    assert "Fraud Scoring" in html
    assert "production" in html
    assert "75.0%" in html
    assert "tier-high" in html


def test_a_system_shows_its_assets_and_undeclared_artifacts(server: Running) -> None:
    seed(server.store)
    html = signed_in(server, "engineer_a")["engineer_a"].get(f"/systems/{SYSTEM_A}").text
    assert "scorer-model" in html  # an asset the evidence examined
    assert f"{SYSTEM_A}-model" in html  # an asset of a risk
    undeclared = html[html.index("Undeclared artifacts") : html.index('id="h-findings"')]
    assert "undeclared model alpha.pkl" in undeclared
    assert "model card lacks limitations" not in undeclared  # another check's finding
    assert ONLY_B not in html


def test_a_system_shows_its_runtime_detections_apart(server: Running) -> None:
    seed(server.store)
    detection = FindingView(
        system=SYSTEM_A, asset=f"{SYSTEM_A}-log", check="access-log", rule="access-log/sweep",
        severity=Severity.high, message="extraction: key k-7f… sweeps amount_eur",
        location="logs/score-api.jsonl", controls=("custos:ai:model-extraction",),
    )  # fmt: skip
    latest = report()
    server.store.save_assessment(
        dataclasses.replace(latest, findings=(*latest.findings, detection)),
        manifest_path="custos.yaml", manifest_sha256=SHA,
    )  # fmt: skip
    html = signed_in(server, "engineer_a")["engineer_a"].get(f"/systems/{SYSTEM_A}").text
    runtime = html[html.index('id="h-runtime"') : html.index('id="h-findings"')]
    assert "extraction: key k-7f… sweeps amount_eur" in runtime
    assert "model card lacks limitations" not in runtime  # a finding about files, not run time
    assert "undeclared model alpha.pkl" not in runtime
    other = signed_in(server, "admin")["admin"].get(f"/systems/{SYSTEM_B}").text
    quiet = other[other.index('id="h-runtime"') : other.index('id="h-findings"')]
    assert "Nothing detected at run time" in quiet


def test_system_pages_are_per_system(server: Running) -> None:
    seed(server.store)
    clients = signed_in(server, "engineer_a", "admin")
    forbidden = clients["engineer_a"].get(f"/systems/{SYSTEM_B}")
    assert forbidden.status_code == 403
    assert "Not allowed" in forbidden.text  # the friendly error page
    listed = clients["engineer_a"].get("/systems").text
    assert SYSTEM_B not in listed
    missing = clients["admin"].get("/systems/no-such-system")
    assert missing.status_code == 404
    assert "no-such-system" in missing.text


def test_without_an_assessment(server: Running) -> None:
    client = signed_in(server, "admin")["admin"]
    assert "No assessment yet" in client.get("/systems").text
    assert client.get(f"/systems/{SYSTEM_A}").status_code == 404
