"""The shipped catalog: exact counts, referential integrity and the rules for our own text."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from custos._yaml import read_yaml
from custos.catalog.catalog import Catalog
from custos.catalog.check_names import CHECK_NAMES
from custos.catalog.loader import shipped_data_dir

FRAMEWORKS = {
    "iso27002",
    "custos-ai",
    "iso42001",
    "eu-ai-act",
    "nist-ai-rmf",
    "mitre-atlas",
    "owasp-ml",
    "owasp-llm",
}


def _kinds(catalog: Catalog, fid: str) -> dict[str, int]:
    return catalog.kinds(fid)


def test_all_frameworks_ship(shipped: Catalog) -> None:
    assert set(shipped.frameworks) == FRAMEWORKS
    for framework in shipped.frameworks.values():
        assert framework.origin == "shipped"
        for field in ("name", "version", "publisher", "source_url", "licence", "attribution"):
            assert getattr(framework, field).strip(), (framework.id, field)


def test_referential_integrity(shipped: Catalog) -> None:
    # Every parent, counter and mapping end resolves: the loader turns any miss into a warning.
    assert shipped.warnings == ()
    assert len(shipped.mappings) == sum(
        len(read_yaml(p).data["mappings"]) for p in (shipped_data_dir() / "mappings").glob("*.yaml")
    )


def test_no_duplicate_ids_across_files() -> None:
    ids: Counter[str] = Counter()
    for path in (shipped_data_dir() / "frameworks").glob("*.yaml"):
        ids.update(c["id"] for c in read_yaml(path).data["controls"])
    assert [i for i, n in ids.items() if n > 1] == []


def test_iso27002_counts_and_themes(shipped: Catalog) -> None:
    assert shipped.count("iso27002") == 93
    per_theme = Counter(c.parent for c in shipped.framework_controls("iso27002"))
    assert per_theme == {
        "iso27002:2022:5": 37,
        "iso27002:2022:6": 8,
        "iso27002:2022:7": 14,
        "iso27002:2022:8": 34,
    }
    assert shipped.control("iso27002:2022:8.24").title == "Use of cryptography"


def test_iso27002_notice_and_custos_attribute_tags(shipped: Catalog) -> None:
    framework = shipped.framework("iso27002")
    assert framework.notice is not None
    assert "purchase" in framework.notice.casefold()
    vocabulary = {
        "custos-control-type": {"preventive", "detective", "corrective"},
        "custos-security-property": {"confidentiality", "integrity", "availability"},
        "custos-cybersecurity-concept": {"identify", "protect", "detect", "respond", "recover"},
        "custos-operational-capability": {
            "governance", "asset_management", "information_protection",
            "human_resource_security", "physical_security", "system_and_network_security",
            "application_security", "secure_configuration", "identity_and_access_management",
            "threat_and_vulnerability_management", "continuity",
            "supplier_relationships_security", "legal_and_compliance",
            "information_security_event_management", "information_security_assurance",
        },
        "custos-security-domain": {
            "governance_and_ecosystem", "protection", "defence", "resilience"
        },
    }  # fmt: skip
    for control in shipped.framework_controls("iso27002"):
        assert set(control.attributes) == set(vocabulary), control.id
        for key, allowed in vocabulary.items():
            values = set(control.attributes[key])
            assert values, (control.id, key)
            assert values <= allowed, (control.id, key, values - allowed)


def test_iso42001_counts_and_areas(shipped: Catalog) -> None:
    assert shipped.count("iso42001") == 38
    areas = {c.id for c in shipped.framework_controls("iso42001", groups=True) if c.kind == "area"}
    assert areas == {f"iso42001:2023:A.{n}" for n in range(2, 11)}
    assert shipped.control("iso42001:2023:A.6.2.8").title == "AI system recording of event logs"
    assert (shipped.framework("iso42001").notice or "").casefold().count("purchase") >= 1


def test_every_iso42001_control_maps_to_27002_or_says_why_not(shipped: Catalog) -> None:
    for control in shipped.framework_controls("iso42001"):
        outgoing = shipped.mappings_from(control.id)
        to_27002 = [m for m in outgoing if m.target and m.target.startswith("iso27002:")]
        no_counterpart = [m for m in outgoing if m.relationship == "no-relationship"]
        assert to_27002 or no_counterpart, control.id


def test_eu_ai_act(shipped: Catalog) -> None:
    kinds = _kinds(shipped, "eu-ai-act")
    assert kinds["article"] == 39
    assert kinds["annex-area"] == 8
    assert kinds["annex-heading"] == 9
    framework = shipped.framework("eu-ai-act")
    dates = {d.date for d in framework.dates}
    assert {"2024-08-01", "2025-02-02", "2025-08-02", "2026-08-02", "2027-08-02"} <= dates
    for control in shipped.framework_controls("eu-ai-act"):
        if control.kind != "article":
            continue
        assert control.attributes.get("addressee"), control.id
        assert control.attributes.get("tier"), control.id
        applies = control.attributes.get("applies-from", ())
        assert len(applies) == 1, control.id
        assert applies[0] in dates, control.id
    art15 = shipped.control("euaiact:art15")
    assert "provider" in art15.attributes["addressee"]
    assert "high-risk" in art15.attributes["tier"]


def test_nist_ai_rmf_counts(shipped: Catalog) -> None:
    assert _kinds(shipped, "nist-ai-rmf") == {"function": 4, "category": 19, "subcategory": 72}
    assert shipped.control("nistairmf:MEASURE-2.7").parent == "nistairmf:MEASURE-2"


def test_atlas_counts_and_links(shipped: Catalog) -> None:
    kinds = _kinds(shipped, "mitre-atlas")
    assert (kinds["tactic"], kinds["technique"], kinds["mitigation"]) == (16, 170, 35)
    sub = shipped.control("atlas:AML.T0010.003")
    assert sub.parent == "atlas:AML.T0010"
    signing = shipped.control("atlas:AML.M0013")
    assert "atlas:AML.T0011.000" in signing.attributes["mitigates"]
    for mitigation in shipped.framework_controls("mitre-atlas"):
        for technique in mitigation.attributes.get("mitigates", ()):
            assert shipped.control(technique).kind == "technique"


def test_owasp_lists(shipped: Catalog) -> None:
    assert shipped.count("owasp-ml") == 10
    assert shipped.count("owasp-llm") == 10
    assert shipped.control("owasp:LLM01:2025").title == "Prompt Injection"
    assert shipped.control("owasp:ML06:2023").title == "AI Supply Chain Attacks"


@pytest.mark.parametrize("fid", ["mitre-atlas", "owasp-ml", "owasp-llm"])
def test_threat_entries_map_to_ai_requirements(shipped: Catalog, fid: str) -> None:
    entries = [c for c in shipped.framework_controls(fid) if c.kind in ("mitigation", "risk")]
    assert entries
    for entry in entries:
        linked = [
            m
            for m in (*shipped.mappings_from(entry.id), *shipped.mappings_to(entry.id))
            if m.relationship == "no-relationship"
            or any(end and end.startswith("custos:ai:") for end in (m.source, m.target))
        ]
        assert linked, entry.id


# -- Custos AI requirements --------------------------------------------------

CONCERNS = {
    "rbac-dev-env", "training-data-access", "protected-endpoints", "access-monitoring",
    "encryption", "data-classification", "secure-deletion", "threat-intelligence",
    "vulnerability-management", "model-theft", "adversarial-inputs", "poisoning",
    "model-supply-chain", "secure-development", "behaviour-monitoring", "version-control",
    "validation-testing", "decision-documentation", "audit-trails", "explainability",
    "periodic-review", "risk-assessment", "human-oversight", "incident-response",
}  # fmt: skip


def test_ai_requirements_are_complete(shipped: Catalog) -> None:
    requirements = shipped.framework_controls("custos-ai")
    assert len(requirements) >= 40
    for req in requirements:
        assert req.kind == "requirement"
        assert req.parent is not None, req.id
        assert req.parent.startswith("iso27002:2022:"), req.id
        assert shipped.control(req.parent).kind == "control"
        assert req.statement, req.id
        assert req.rationale, req.id
        assert req.verification is not None
        assert req.verification.checks or req.verification.attestation, req.id
        assert set(req.verification.checks) <= set(CHECK_NAMES), req.id
        assert set(req.applicability) == {"prohibited", "high", "limited", "minimal", "gpai"}
        for counter in req.counters:
            assert shipped.control(counter).framework in {"mitre-atlas", "owasp-ml", "owasp-llm"}


def test_ai_requirements_cover_every_concern(shipped: Catalog) -> None:
    covered = {
        tag for req in shipped.framework_controls("custos-ai") for tag in req.attributes["concerns"]
    }
    assert covered >= CONCERNS, CONCERNS - covered
    assert shipped.control("custos:ai:model-signing").parent == "iso27002:2022:8.24"
    assert shipped.control("custos:ai:threat-intelligence").parent == "iso27002:2022:5.7"


def test_ai_requirements_map_to_parent_and_other_frameworks(shipped: Catalog) -> None:
    for req in shipped.framework_controls("custos-ai"):
        outgoing = shipped.mappings_from(req.id)
        # Each requirement says how it relates to the ISO control it sits under, pair by pair
        # (subset, intersect or superset: tests/catalog/test_mapping_relationships.py).
        home = [m.relationship for m in outgoing if m.target == req.parent]
        assert home, req.id
        assert "no-relationship" not in home, req.id
        others = {shipped.control(m.target).framework for m in outgoing if m.target}
        assert others & {"iso42001", "eu-ai-act", "nist-ai-rmf"}, req.id


def test_iso42001_links_reach_27002_and_ai_requirements(shipped: Catalog) -> None:
    from custos.catalog.crosswalk import crosswalk

    hits = crosswalk(shipped, "custos:ai:model-signing", depth=2)
    frameworks = {shipped.control(h.target).framework for h in hits if h.target}
    assert {"iso27002", "iso42001", "eu-ai-act", "nist-ai-rmf"} <= frameworks


# -- our own words ------------------------------------------------------------


def test_guidance_is_never_the_title(shipped: Catalog) -> None:
    def norm(text: str) -> str:
        return " ".join(text.casefold().split()).rstrip(".")

    for control in shipped.controls.values():
        if control.guidance is not None:
            assert norm(control.guidance) != norm(control.title), control.id
        if not control.group:
            assert control.guidance, control.id


def test_data_files_are_plain_utf8_yaml() -> None:
    for path in Path(shipped_data_dir()).rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert "\t" not in text, path
        assert "!!python" not in text, path
