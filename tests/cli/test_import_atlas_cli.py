"""`custos catalog import-atlas`: a newer ATLAS.yaml replaces the shipped ATLAS for this user."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cli.run import custos

V5 = {
    "id": "ATLAS",
    "name": "Adversarial Threat Landscape for AI Systems",
    "version": "9.9.0",
    "matrices": [
        {
            "id": "ATLAS",
            "name": "ATLAS Matrix",
            "tactics": [
                {"id": "AML.TA0004", "name": "Initial Access", "description": "Get in first."},
            ],
            "techniques": [
                {
                    "id": "AML.T0010",
                    "name": "AI Supply Chain Compromise",
                    "description": "Tamper with what the victim builds on.",
                    "tactics": ["AML.TA0004"],
                },
                {
                    "id": "AML.T0010.003",
                    "name": "Model",
                    "description": "Ship a poisoned pre-trained model.",
                    "subtechnique-of": "AML.T0010",
                },
            ],
            "mitigations": [
                {
                    "id": "AML.M0013",
                    "name": "Code Signing",
                    "description": "Sign artifacts and verify before use.",
                    "techniques": [{"id": "AML.T0010.003", "use": "verify models"}],
                }
            ],
        }
    ],
}


def test_import_atlas_replaces_the_shipped_framework(tmp_path: Path, custos_home: Path) -> None:
    source = tmp_path / "ATLAS.yaml"
    source.write_text(yaml.safe_dump(V5))
    result = custos("catalog", "import-atlas", str(source))
    assert result.code == 0, result.err
    assert "replaces the shipped one" in result.out
    # The tiny file lacks most mitigations the shipped mappings name: the user is told.
    assert "is not in the catalog" in result.err
    rows = {r["id"]: r for r in custos("catalog", "frameworks", "--format", "json").json()}
    assert rows["mitre-atlas"]["version"] == "9.9.0"
    assert rows["mitre-atlas"]["origin"] == "user"
    assert rows["mitre-atlas"]["kinds"]["technique"] == 2
    shown = custos("catalog", "show", "atlas:AML.T0010.003", "--format", "json").json()
    assert shown["parent"] == "atlas:AML.T0010"
    assert (custos_home / "catalog" / "frameworks" / "mitre-atlas.yaml").exists()


def test_import_atlas_rejects_other_files(tmp_path: Path, custos_home: Path) -> None:
    source = tmp_path / "ATLAS.yaml"
    source.write_text("just: a mapping\n")
    result = custos("catalog", "import-atlas", str(source))
    assert result.code == 2
    assert str(source) in result.err
    assert "Traceback" not in result.err
    assert not (custos_home / "catalog").exists()
