"""`custos scan | assess | schema | init` on a copy of the bundled example, as a user runs them."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.cli.run import custos

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud-detection"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "fraud-detection"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".custos", "custos-report*"))
    return target


def _db(project: Path) -> Path:
    return project / ".custos" / "custos.db"


def test_scan_then_assess_json_contract(project: Path) -> None:
    scanned = custos("scan", str(project), "--format", "json")
    assert scanned.code == 0, scanned.err
    runs = scanned.json()["evidence"]
    assert {e["check"] for e in runs} >= {"asset-ownership", "model-card", "risk-review"}
    assert _db(project).exists()

    assessed = custos("assess", str(project), "--format", "json")
    assert assessed.code == 0, assessed.err
    data = assessed.json()
    assert {s["id"] for s in data["systems"]} == {"fraud-scoring", "credit-limit-advisor"}
    assert all(isinstance(s["score"], float) for s in data["systems"])
    for control in data["controls"]:
        assert {"id", "system", "status", "reasons"} <= control.keys()
    assert data["soa"]
    assert data["roadmap"]
    tiers = {s["id"]: (s["tier"], s["tier_derived"]) for s in data["systems"]}
    assert tiers["credit-limit-advisor"] == ("high", True)
    statuses = {(c["system"], c["id"]): c["status"] for c in data["controls"]}
    assert statuses[("credit-limit-advisor", "custos:ai:model-documentation")] == "not_implemented"
    assert statuses[("fraud-scoring", "custos:ai:model-documentation")] == "implemented"
    findings = {(f["rule"], f["location"]) for f in data["findings"]}
    assert ("inventory-completeness/undeclared-artifact", "models/legacy/fraud_model_v0.pkl") in {
        (rule, loc) for rule, loc in findings
    }


def test_changing_a_model_expires_its_evidence(project: Path) -> None:
    assert custos("scan", str(project)).code == 0
    before = custos("assess", str(project), "--format", "json").json()
    card = project / "models" / "fraud_model.md"
    card.write_text(card.read_text() + "\nEdited after the scan.\n")
    after = custos("assess", str(project), "--format", "json").json()

    def status(data: dict[str, object]) -> str:
        return next(
            c["status"]
            for c in data["controls"]  # type: ignore[attr-defined]
            if c["id"] == "custos:ai:model-documentation" and c["system"] == "fraud-scoring"
        )

    assert status(before) == "implemented"
    assert status(after) == "unknown"
    assert len(after["trend"]) == len(before["trend"]) + 1


def test_gates(project: Path) -> None:
    assert custos("scan", str(project)).code == 0
    assert custos("assess", str(project), "--fail-under", "0").code == 0
    low = custos("assess", str(project), "--fail-under", "99")
    assert low.code == 1
    assert custos("assess", str(project), "--fail-on", "high").code == 1
    assert custos("scan", str(project), "--fail-on", "critical").code == 0
    bad = custos("assess", str(project), "--fail-on", "severe")
    assert bad.code == 2
    assert "unknown severity 'severe'" in bad.err


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (("custos:ai:human-oversight", "custos:ai:nope"), "unknown control id 'custos:ai:nope'"),
        (("atlas:AML.T0020", "atlas:AML.T9999"), "unknown threat id 'atlas:AML.T9999'"),
        (("models/fraud_model.joblib", "models/gone.bin"), "'models/gone.bin' does not exist"),
        (("likelihood: 4", "likelihood: high"), "valid integer"),
        (("id: credit-limit-advisor", "id: fraud-scoring"), "duplicate system id 'fraud-scoring'"),
    ],
)  # fmt: skip
def test_bad_manifest_is_exit_2_and_stores_nothing(
    project: Path, edit: tuple[str, str], needle: str
) -> None:
    assert custos("scan", str(project)).code == 0
    before = hashlib.sha256(_db(project).read_bytes()).hexdigest()
    manifest = project / "custos.yaml"
    text = manifest.read_text()
    assert edit[0] in text
    manifest.write_text(text.replace(edit[0], edit[1], 1))
    for command in ("scan", "assess"):
        result = custos(command, str(project))
        assert result.code == 2, result.err
        assert needle in result.err
        assert f"{manifest}:" in result.err
        assert "Traceback" not in result.err
    assert hashlib.sha256(_db(project).read_bytes()).hexdigest() == before


def test_malformed_yaml_names_the_line(project: Path) -> None:
    manifest = project / "custos.yaml"
    manifest.write_text("organisation:\n  name: [unclosed\n")
    result = custos("assess", str(project))
    assert result.code == 2
    assert result.err.count("error:") == 1
    assert f"{manifest}:" in result.err
    assert not _db(project).exists()


def test_every_problem_is_reported_at_once(project: Path) -> None:
    manifest = project / "custos.yaml"
    text = manifest.read_text().replace("atlas:AML.T0020", "atlas:AML.T9999", 1)
    text = text.replace("models/fraud_model.joblib", "models/missing.joblib", 1)
    manifest.write_text(text)
    result = custos("scan", str(project))
    assert result.code == 2
    assert result.err.count("error:") == 2


def test_missing_manifest(tmp_path: Path) -> None:
    result = custos("scan", str(tmp_path))
    assert result.code == 2
    assert "custos.yaml: file not found" in result.err


def test_scan_history_is_kept(project: Path) -> None:
    for _ in range(2):
        assert custos("scan", str(project)).code == 0
    with sqlite3.connect(_db(project)) as db:
        kinds = [row[0] for row in db.execute("select kind from runs order by id")]
    assert kinds == ["scan", "scan"]


def test_schema_is_json_schema() -> None:
    result = custos("schema")
    assert result.code == 0
    schema = json.loads(result.out)
    assert schema["title"] == "Manifest"
    assert {"organisation", "systems"} <= set(schema["required"])


def test_init_writes_a_starter_and_never_overwrites(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE / "models", tmp_path / "models")
    first = custos("init", str(tmp_path))
    assert first.code == 0, first.err
    written = (tmp_path / "custos.yaml").read_text()
    assert "TODO" in written
    assert "models/fraud_model.joblib" in written
    again = custos("init", str(tmp_path))
    assert again.code == 2
    assert "never overwrites" in again.err
    assert (tmp_path / "custos.yaml").read_text() == written
