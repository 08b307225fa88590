"""What a vulnerable package exposes (the repository, models of the formats it reads,
endpoints it serves) and the likelihood the catalog's ATLAS links suggest for risks on those
assets, with the shipped catalog."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from custos.catalog.catalog import Catalog
from custos.findings import Severity
from custos.inventory.schema import Manifest
from custos.vulns import exposure, lifecycle, observe
from tests.vulns.samples import T0, match, repository


def manifest(*risks: dict[str, Any]) -> Manifest:
    def asset(id_: str, kind: str, location: str) -> dict[str, Any]:
        return {"id": id_, "kind": kind, "location": location}

    return Manifest.model_validate({
        "organisation": {"name": "Acme", "scope": "Scoring"},
        "systems": [{
            "id": "scoring", "name": "Scoring", "purpose": "Scores", "lifecycle": "production",
            "eu_ai_act": {"role": "provider", "tier": "limited"},
            "assets": [
                asset("scoring-repo", "repository", "serving"),
                asset("torch-model", "model", "models/scorer.pt"),
                asset("onnx-model", "model", "models/scorer.onnx"),
                asset("hf-model", "model", "models/bert"),
                asset("api", "endpoint", "https://scoring.example/v1"),
                asset("train", "dataset", "data/train.parquet"),
            ],
        }],
        "risks": list(risks),
    })  # fmt: skip


def risk(id_: str, threats: list[str], assets: list[str], likelihood: int = 2) -> dict[str, Any]:
    return {"id": id_, "title": id_, "threats": threats, "assets": assets,
            "likelihood": likelihood, "impact": 4, "treatment": "accept"}  # fmt: skip


def test_a_package_exposes_the_models_it_reads_and_the_endpoints_it_serves() -> None:
    system = manifest().systems[0]
    assert exposure.exposed_assets(system, "scoring-repo", "torch") == [
        "scoring-repo", "torch-model", "hf-model"]  # fmt: skip
    assert exposure.exposed_assets(system, "scoring-repo", "onnxruntime") == [
        "scoring-repo", "onnx-model"]  # fmt: skip
    assert exposure.exposed_assets(system, "scoring-repo", "fastapi") == ["scoring-repo", "api"]
    assert exposure.exposed_assets(system, "scoring-repo", "requests") == ["scoring-repo"]


def test_open_vulnerabilities_suggest_a_higher_likelihood_for_linked_risks(
    shipped: Catalog,
) -> None:
    techniques = exposure.linked_techniques(shipped)
    assert "atlas:AML.T0010.001" in techniques  # ML software supply chain
    m = manifest(
        risk("supply-chain", ["atlas:AML.T0010"], ["torch-model"]),  # parent technique
        risk("api-exploit", ["atlas:AML.T0049"], ["api"], likelihood=5),  # already 5
        risk("evasion", ["atlas:AML.T0015"], ["torch-model"]),  # not a linked technique
        risk("elsewhere", ["atlas:AML.T0010.001"], ["train"]),  # not exposed by torch
    )
    ev = repository(match(severity=Severity.high))
    kept = lifecycle.reconcile([], observe.observations([ev]), set(), T0, 1)
    found = exposure.suggestions(m, shipped, kept, T0, None)
    assert [(s.risk, s.likelihood, s.suggested) for s in found] == [("supply-chain", 2, 4)]
    assert found[0].techniques == ("atlas:AML.T0010",)
    assert "torch GHSA-53q9-r3pm-6pq6 (high)" in found[0].because[0]
    # accepted or fixed vulnerabilities suggest nothing
    accepted = [lifecycle.accept(r, "ann", "offline batch job only",
                                 T0.date() + dt.timedelta(days=9), T0) for r in kept]  # fmt: skip
    assert exposure.suggestions(m, shipped, accepted, T0, None) == []
    fixed = [dataclasses.replace(r, status="fixed") for r in kept]
    assert exposure.suggestions(m, shipped, fixed, T0, None) == []
