"""Tests for the MITRE ATLAS data file converter (layouts v5 and v6)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from custos.catalog.atlas import atlas_framework
from custos.catalog.schema import ControlSpec, FrameworkFile
from custos.errors import DataError

V5_FILE = Path("/data/ATLAS.yaml")
V6_FILE = Path("/data/ATLAS-2026.06.yaml")


def v5_document() -> dict[str, Any]:
    """A cut-down legacy ATLAS.yaml (data format 5), shaped like dist/ATLAS.yaml 4.5-5.6."""
    return {
        "id": "ATLAS",
        "name": "Adversarial Threat Landscape for AI Systems",
        "version": "5.6.0",
        "matrices": [
            {
                "id": "ATLAS",
                "name": "ATLAS Matrix",
                "tactics": [
                    {
                        "id": "AML.TA0002",
                        "name": "Reconnaissance",
                        "object-type": "tactic",
                        "ATT&CK-reference": {
                            "id": "TA0043",
                            "url": "https://attack.mitre.org/tactics/TA0043/",
                        },
                        "description": (
                            "The adversary is trying to gather information about the AI\n"
                            "system they can use to plan future operations.\n\n"
                            "Reconnaissance consists of techniques that involve adversaries."
                        ),
                    },
                    {
                        "id": "AML.TA0000",
                        "name": "AI Model Access",
                        "object-type": "tactic",
                        "description": "",
                    },
                ],
                "techniques": [
                    {
                        "id": "AML.T0000",
                        "name": "Search Open Technical Databases",
                        "object-type": "technique",
                        "description": (
                            "Adversaries may search for research, as in\n"
                            "[Journals](/techniques/AML.T0000.000).\n\nMore text."
                        ),
                        "tactics": ["AML.TA0002", "AML.TA0002", "AML.TA9999"],
                        "maturity": "demonstrated",
                    },
                    {
                        "id": "AML.T0000.000",
                        "name": "Journals and Conference Proceedings",
                        "object-type": "technique",
                        "description": "Many publications come from commercial labs.",
                        "subtechnique-of": "AML.T0000",
                    },
                    {
                        "id": "AML.T0040",
                        "name": "AI Model Inference API Access",
                        "object-type": "technique",
                        "description": "AI Model Inference API Access",
                        "tactics": ["AML.TA0000"],
                    },
                ],
                "mitigations": [
                    {
                        "id": "AML.M0000",
                        "name": "Limit Public Release of Information",
                        "object-type": "mitigation",
                        "category": ["Policy"],
                        "ML-lifecycle": ["Business and Data Understanding"],
                        "description": "Limit the public release of technical information.",
                        "techniques": [
                            {"id": "AML.T0000", "use": "Limit the connection."},
                            {"id": "AML.T0000.000", "use": "Limit papers."},
                            {"id": "AML.T0999", "use": "Not in this file."},
                        ],
                    },
                ],
            }
        ],
        "case-studies": [],
    }


def _rel(source: str, target: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"source": source, "target": target, "relationship-type": kind, **extra}


def v6_document() -> dict[str, Any]:
    """A cut-down ATLAS data format 6.0.0 file (dist/v6/ATLAS-<YYYY.MM>.yaml)."""
    return {
        "format-version": "6.0.0",
        "collection": {
            "id": "ATLAS-collection",
            "object-type": "collection",
            "name": "ATLAS",
            "version": "2026.06",
        },
        "matrix": {"id": "ATLAS-matrix", "object-type": "matrix", "name": "ATLAS Matrix"},
        "tactics": {
            # Deliberately out of matrix order: `sequences` puts AML.TA0004 first.
            "AML.TA0005": {
                "id": "AML.TA0005",
                "object-type": "tactic",
                "name": "Execution",
                "description": "The adversary is trying to run malicious code.",
                "attack-reference": {
                    "id": "TA0002",
                    "url": "https://attack.mitre.org/tactics/TA0002/",
                },
            },
            "AML.TA0004": {
                "id": "AML.TA0004",
                "object-type": "tactic",
                "name": "Initial Access",
                "description": "The adversary is trying to gain access to the AI system.",
            },
        },
        "techniques": {
            "AML.T0051": {
                "id": "AML.T0051",
                "object-type": "technique",
                "name": "LLM Prompt Injection",
                "description": "An adversary may craft malicious prompts.\n\nSecond paragraph.",
                "maturity": "Realized",
                "platforms": ["Generative AI", "Agentic AI"],
            },
            "AML.T0051.001": {
                "id": "AML.T0051.001",
                "object-type": "technique",
                "name": "Indirect",
                "description": "An adversary may inject prompts via a separate data channel.",
                "maturity": "Demonstrated",
                "platforms": ["Generative AI"],
            },
            "AML.T0049": {
                "id": "AML.T0049",
                "object-type": "technique",
                "name": "Exploit Public-Facing Application",
                "description": "Adversaries may exploit a weakness in an exposed program.",
                "maturity": "Realized",
                "platforms": ["Enterprise"],
                "attack-reference": {
                    "id": "T1190",
                    "url": "https://attack.mitre.org/techniques/T1190/",
                },
            },
        },
        "mitigations": {
            "AML.M0020": {
                "id": "AML.M0020",
                "object-type": "mitigation",
                "name": "Generative AI Guardrails",
                "description": "Guardrails are safety controls placed between a model and users.",
                "categories": ["Technical - AI"],
                "lifecycle-phases": ["Deployment", "Monitoring and Maintenance"],
            },
        },
        "case-studies": {},
        "relationships": {
            "ATLAS-matrix": {
                "sequences": [
                    _rel("ATLAS-matrix", "AML.TA0005", "sequences", position=2),
                    _rel("ATLAS-matrix", "AML.TA0004", "sequences", position=1),
                ]
            },
            "AML.T0051": {
                "achieves": [_rel("AML.T0051", "AML.TA0005", "achieves")],
            },
            "AML.T0051.001": {
                "achieves": [_rel("AML.T0051.001", "AML.TA0005", "achieves")],
                "specializes": [_rel("AML.T0051.001", "AML.T0051", "specializes")],
            },
            "AML.T0049": {
                "achieves": [_rel("AML.T0049", "AML.TA0004", "achieves")],
            },
            "AML.M0020": {
                "mitigates": [
                    _rel("AML.M0020", "AML.T0051", "mitigates", description="Filter prompts."),
                    _rel("AML.M0020", "AML.T0051.001", "mitigates"),
                    _rel("AML.M0020", "AML.T0404", "mitigates"),
                ]
            },
        },
    }


def by_id(result: FrameworkFile) -> dict[str, ControlSpec]:
    return {control.id: control for control in result.controls}


# --- layout v5 -----------------------------------------------------------------------------


def test_v5_framework_metadata() -> None:
    result = atlas_framework(v5_document(), V5_FILE)
    meta = result.framework
    assert meta.id == "mitre-atlas"
    assert meta.name == "MITRE ATLAS"
    assert meta.version == "5.6.0"
    assert meta.prefix == "atlas"
    assert meta.publisher == "The MITRE Corporation"
    assert meta.source_url == "https://atlas.mitre.org"
    assert meta.licence == "Apache-2.0"
    assert "Apache License 2.0" in meta.attribution
    assert meta.description is not None
    assert "ATLAS.yaml" in meta.description
    assert "layout v5" in meta.description


def test_v5_counts_and_groups() -> None:
    controls = by_id(atlas_framework(v5_document(), V5_FILE))
    kinds = [c.kind for c in controls.values()]
    assert kinds.count("section") == 3
    assert kinds.count("tactic") == 2
    assert kinds.count("technique") == 3
    assert kinds.count("mitigation") == 1
    for group in ("atlas:tactics", "atlas:techniques", "atlas:mitigations"):
        assert controls[group].group is True
        assert controls[group].kind == "section"
        assert controls[group].title


def test_v5_tactic() -> None:
    controls = by_id(atlas_framework(v5_document(), V5_FILE))
    recon = controls["atlas:AML.TA0002"]
    assert recon.ref == "AML.TA0002"
    assert recon.kind == "tactic"
    assert recon.group is True
    assert recon.parent == "atlas:tactics"
    assert recon.title == "Reconnaissance"
    # First paragraph only, joined onto one line.
    assert recon.guidance == (
        "The adversary is trying to gather information about the AI system they can use to "
        "plan future operations."
    )
    assert recon.attributes == {"attack-ref": ["TA0043"]}
    # Empty description: a fallback sentence, and no attack-ref attribute.
    access = controls["atlas:AML.TA0000"]
    assert access.guidance == "MITRE ATLAS tactic AI Model Access."
    assert access.attributes == {}


def test_v5_techniques_parents_and_tactics() -> None:
    controls = by_id(atlas_framework(v5_document(), V5_FILE))
    parent = controls["atlas:AML.T0000"]
    assert parent.parent == "atlas:techniques"
    assert parent.group is False
    # Repeated tactic kept once; a tactic not in the file is dropped.
    assert parent.attributes["tactics"] == ["atlas:AML.TA0002"]
    assert parent.attributes["maturity"] == ["demonstrated"]
    # Site-relative links become absolute.
    assert parent.guidance == (
        "Adversaries may search for research, as in "
        "[Journals](https://atlas.mitre.org/techniques/AML.T0000.000)."
    )
    sub = controls["atlas:AML.T0000.000"]
    assert sub.parent == "atlas:AML.T0000"
    assert sub.title == "Journals and Conference Proceedings"
    assert sub.attributes["parent-title"] == ["Search Open Technical Databases"]
    # A v5 sub-technique has no tactics of its own: it inherits its parent's.
    assert sub.attributes["tactics"] == ["atlas:AML.TA0002"]


def test_v5_guidance_never_equals_title() -> None:
    controls = by_id(atlas_framework(v5_document(), V5_FILE))
    api = controls["atlas:AML.T0040"]
    assert api.guidance == "MITRE ATLAS technique AI Model Inference API Access."
    for control in controls.values():
        assert control.guidance
        assert control.guidance != control.title


def test_v5_mitigation() -> None:
    controls = by_id(atlas_framework(v5_document(), V5_FILE))
    mitigation = controls["atlas:AML.M0000"]
    assert mitigation.kind == "mitigation"
    assert mitigation.parent == "atlas:mitigations"
    assert mitigation.attributes == {
        "mitigates": ["atlas:AML.T0000", "atlas:AML.T0000.000"],
        "category": ["Policy"],
        "lifecycle": ["Business and Data Understanding"],
    }


def test_v5_top_level_mitigations_and_specializes_spelling() -> None:
    doc = v5_document()
    doc["mitigations"] = doc["matrices"][0].pop("mitigations")
    sub = doc["matrices"][0]["techniques"][1]
    sub["specializes"] = sub.pop("subtechnique-of")
    controls = by_id(atlas_framework(doc, V5_FILE))
    assert controls["atlas:AML.M0000"].attributes["mitigates"] == [
        "atlas:AML.T0000",
        "atlas:AML.T0000.000",
    ]
    assert controls["atlas:AML.T0000.000"].parent == "atlas:AML.T0000"


def test_v5_without_mitigations_has_no_mitigation_group() -> None:
    doc = v5_document()
    del doc["matrices"][0]["mitigations"]
    controls = by_id(atlas_framework(doc, V5_FILE))
    assert "atlas:mitigations" not in controls
    assert not [c for c in controls.values() if c.kind == "mitigation"]


def test_v5_result_revalidates() -> None:
    result = atlas_framework(v5_document(), V5_FILE)
    assert FrameworkFile.model_validate(result.model_dump()) == result


# --- layout v6 -----------------------------------------------------------------------------


def test_v6_framework_metadata() -> None:
    meta = atlas_framework(v6_document(), V6_FILE).framework
    assert meta.version == "2026.06"
    assert meta.id == "mitre-atlas"
    assert meta.description is not None
    assert "ATLAS-2026.06.yaml" in meta.description
    assert "layout v6" in meta.description


def test_v6_counts_and_tactic_order() -> None:
    result = atlas_framework(v6_document(), V6_FILE)
    ids = [c.id for c in result.controls]
    assert len(ids) == len(set(ids)) == 3 + 2 + 3 + 1
    # Matrix order from the `sequences` relationships, not map order.
    assert ids.index("atlas:AML.TA0004") < ids.index("atlas:AML.TA0005")


def test_v6_tactic() -> None:
    controls = by_id(atlas_framework(v6_document(), V6_FILE))
    execution = controls["atlas:AML.TA0005"]
    assert execution.kind == "tactic"
    assert execution.group is True
    assert execution.parent == "atlas:tactics"
    assert execution.title == "Execution"
    assert execution.guidance == "The adversary is trying to run malicious code."
    assert execution.attributes == {"attack-ref": ["TA0002"]}


def test_v6_techniques() -> None:
    controls = by_id(atlas_framework(v6_document(), V6_FILE))
    injection = controls["atlas:AML.T0051"]
    assert injection.parent == "atlas:techniques"
    assert injection.guidance == "An adversary may craft malicious prompts."
    assert injection.attributes["tactics"] == ["atlas:AML.TA0005"]
    assert injection.attributes["platforms"] == ["Generative AI", "Agentic AI"]
    indirect = controls["atlas:AML.T0051.001"]
    assert indirect.parent == "atlas:AML.T0051"
    assert indirect.title == "Indirect"
    assert indirect.attributes["parent-title"] == ["LLM Prompt Injection"]
    assert indirect.attributes["tactics"] == ["atlas:AML.TA0005"]
    exploit = controls["atlas:AML.T0049"]
    assert exploit.parent == "atlas:techniques"
    assert exploit.attributes["tactics"] == ["atlas:AML.TA0004"]
    assert exploit.attributes["attack-ref"] == ["T1190"]


def test_v6_mitigation() -> None:
    controls = by_id(atlas_framework(v6_document(), V6_FILE))
    guardrails = controls["atlas:AML.M0020"]
    assert guardrails.parent == "atlas:mitigations"
    assert guardrails.attributes == {
        "mitigates": ["atlas:AML.T0051", "atlas:AML.T0051.001"],
        "category": ["Technical - AI"],
        "lifecycle": ["Deployment", "Monitoring and Maintenance"],
    }


def test_v6_subtechnique_without_specializes_uses_its_id() -> None:
    doc = v6_document()
    del doc["relationships"]["AML.T0051.001"]["specializes"]
    controls = by_id(atlas_framework(doc, V6_FILE))
    assert controls["atlas:AML.T0051.001"].parent == "atlas:AML.T0051"


def test_v6_unquoted_version_keeps_trailing_zero() -> None:
    doc = v6_document()
    doc["collection"]["version"] = 2026.10  # what YAML makes of an unquoted 2026.10
    assert atlas_framework(doc, V6_FILE).framework.version == "2026.10"


def test_v6_result_revalidates() -> None:
    result = atlas_framework(v6_document(), V6_FILE)
    again = FrameworkFile.model_validate(result.model_dump())
    assert again == result
    assert again.controls[0].id == "atlas:tactics"


# --- errors --------------------------------------------------------------------------------


def _error(data: object, source: Path = V5_FILE) -> DataError:
    with pytest.raises(DataError) as caught:
        atlas_framework(data, source)
    error = caught.value
    assert error.path == source
    assert source.name in str(error)
    assert "\n" not in error.message
    return error


@pytest.mark.parametrize("data", [["a", "list"], 42, None])
def test_not_a_mapping(data: object) -> None:
    assert "not a mapping" in _error(data).message


def test_pointer_file() -> None:
    message = _error("v6/ATLAS-latest.yaml\n").message
    assert "pointer" in message
    assert "v6/ATLAS-latest.yaml" in message


def test_unknown_layout_names_the_keys() -> None:
    message = _error({"id": "ATLAS", "tactics": [], "techniques": []}).message
    assert "unrecognised ATLAS layout" in message
    assert "techniques" in message


def test_unsupported_format_version() -> None:
    doc = v6_document()
    doc["format-version"] = "7.0.0"
    assert "'7.0.0'" in _error(doc, V6_FILE).message


def test_v5_technique_missing_id() -> None:
    doc = v5_document()
    del doc["matrices"][0]["techniques"][2]["id"]
    message = _error(doc).message
    assert "matrices[0].techniques[2]" in message
    assert "'id'" in message


def test_v6_technique_missing_id() -> None:
    doc = v6_document()
    del doc["techniques"]["AML.T0049"]["id"]
    message = _error(doc, V6_FILE).message
    assert "AML.T0049" in message
    assert "'id'" in message


def test_v5_duplicate_id() -> None:
    doc = v5_document()
    doc["matrices"][0]["techniques"].append(copy.deepcopy(doc["matrices"][0]["techniques"][2]))
    message = _error(doc).message
    assert "duplicate" in message
    assert "AML.T0040" in message


def test_v6_duplicate_id_across_maps() -> None:
    doc = v6_document()
    doc["mitigations"]["AML.T0049"] = dict(doc["mitigations"]["AML.M0020"], id="AML.T0049")
    message = _error(doc, V6_FILE).message
    assert "duplicate" in message
    assert "AML.T0049" in message


def test_v6_key_differs_from_id() -> None:
    doc = v6_document()
    doc["techniques"]["AML.T0049"]["id"] = "AML.T0050"
    assert "differs from its key" in _error(doc, V6_FILE).message


def test_missing_version() -> None:
    doc = v5_document()
    del doc["version"]
    assert "'version'" in _error(doc).message
    doc6 = v6_document()
    del doc6["collection"]["version"]
    assert "'version'" in _error(doc6, V6_FILE).message


def test_unknown_parent() -> None:
    doc = v5_document()
    doc["matrices"][0]["techniques"][1]["subtechnique-of"] = "AML.T0404"
    message = _error(doc).message
    assert "AML.T0000.000" in message
    assert "AML.T0404" in message


def test_technique_without_name() -> None:
    doc = v6_document()
    del doc["techniques"]["AML.T0051"]["name"]
    message = _error(doc, V6_FILE).message
    assert "technique AML.T0051" in message
    assert "'name'" in message


def test_no_techniques() -> None:
    doc = v5_document()
    doc["matrices"][0]["techniques"] = []
    del doc["matrices"][0]["mitigations"]
    assert "no techniques" in _error(doc).message


def test_wrong_object_type() -> None:
    doc = v5_document()
    doc["matrices"][0]["tactics"][0]["object-type"] = "technique"
    assert "object-type" in _error(doc).message
