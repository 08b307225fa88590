"""The assessment applies the EU AI Act by the stacked regimes and the roles: a high-risk
chatbot's provider has Art. 9 and Art. 50 to meet; a deployer of credit scoring has Art. 26,
Art. 27 and Art. 73, not the provider's Art. 9, until a substantial modification makes it the
provider too; the report carries the regimes, roles and cited obligations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from custos.assess.engine import AssessInput, assess
from custos.assess.model import AssessmentReport
from custos.catalog.catalog import Catalog
from custos.checks.registry import all_checks
from custos.inventory.schema import Manifest
from custos.reports.json_schema import report_to_dict

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


def report(shipped: Catalog, role: str, **answers: Any) -> AssessmentReport:
    manifest = Manifest.model_validate({
        "organisation": {"name": "Acme", "scope": "AI"},
        "systems": [{"id": "s", "name": "S", "purpose": "p", "lifecycle": "production",
                     "eu_ai_act": {"role": role, "questionnaire": answers}}],
    })  # fmt: skip
    return assess(AssessInput(catalog=shipped, manifest=manifest, evidence=[], current_hashes={},
                              attestation_files={}, checks=all_checks(), now=NOW))  # fmt: skip


def applicable(r: AssessmentReport) -> set[str]:
    return {c.control.removeprefix("euaiact:") for c in r.statuses
            if c.framework == "eu-ai-act" and c.status != "not_applicable"}  # fmt: skip


def test_a_high_risk_chatbot_meets_both_regimes(shipped: Catalog) -> None:
    r = report(shipped, "provider", annex_iii=["4(a)"], transparency=["interacts-with-people"])
    assert {"art9", "art15", "art50"} <= applicable(r)
    assert "art26" not in applicable(r)  # a deployer's article
    (system,) = report_to_dict(r)["systems"]
    assert system["tier"] == "high"
    assert system["regimes"] == ["high-risk-annex-iii", "transparency"]
    assert {"Art. 50(1)", "Art. 9"} <= {o["citation"] for o in system["obligations"]}


def test_a_deployer_of_credit_scoring_and_its_substantial_modification(
    shipped: Catalog,
) -> None:
    deployer = report(shipped, "deployer", annex_iii=["5(b)"])
    assert {"art26", "art27", "art73"} <= applicable(deployer)
    assert "art9" not in applicable(deployer)
    modified = report(shipped, "deployer", annex_iii=["5(b)"], substantial_modification=True)
    assert {"art9", "art26", "art27"} <= applicable(modified)
    assert modified.systems[0].roles == ("deployer", "provider")


def test_prohibited_leaves_only_article_5(shipped: Catalog) -> None:
    # (Art. 5 itself is inferred from the requirements, which a prohibited system has none of:
    # the obligation says what to do, stop.)
    r = report(shipped, "provider", prohibited_practices=["social-scoring"],
               annex_iii=["employment"])  # fmt: skip
    assert not {"art9", "art50", "art26"} & applicable(r)
    assert {o.citation for o in r.systems[0].obligations} == {"Art. 5(1)"}
    assert r.systems[0].regimes == ("prohibited",)
