"""The `repository` check on a project in tmp_path: a local repository asset scanned, its
findings named relative to the project, medium or above failing; advisories imported into the
store judged, missing or stale intelligence a finding against 5.7; a remote repository not
applicable; the catalog's requirements name the check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from custos.catalog.catalog import Catalog
from custos.checks.base import CheckContext, Target
from custos.checks.model import Evidence
from custos.checks.registry import get_check, run_check
from custos.checks.repository import Repository
from custos.intel.store import import_source
from custos.inventory.schema import Manifest

NOW = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
ADVISORIES = Path(__file__).resolve().parents[1] / "intel" / "advisories"


def manifest(location: str) -> Manifest:
    asset: dict[str, Any] = {"id": "scoring-repo", "kind": "repository", "location": location,
                             "classification": "internal", "owner": "ML Platform"}  # fmt: skip
    return Manifest.model_validate({
        "organisation": {"name": "Acme", "scope": "Scoring"},
        "systems": [{"id": "scoring", "name": "Scoring", "purpose": "Scores transactions",
                     "lifecycle": "production", "eu_ai_act": {"role": "provider",
                                                             "tier": "limited"},
                     "assets": [asset]}],
    })  # fmt: skip


def run(root: Path, location: str = "serving") -> Evidence:
    m = manifest(location)
    system = m.systems[0]
    return run_check(Repository(), Target(system, system.assets[0]), CheckContext(m, root, NOW))


def project(root: Path) -> Path:
    serving = root / "serving"
    serving.mkdir(parents=True)
    (serving / "app.py").write_text(
        "import os\nimport joblib\n\nMODEL = joblib.load(os.environ['MODEL_PATH'])\n"
    )
    (serving / "requirements.txt").write_text("torch==2.5.1\nfastapi==0.115.6\n")
    return root


def test_findings_fail_the_check_and_are_named_in_the_project(tmp_path: Path) -> None:
    evidence = run(project(tmp_path))
    assert evidence.result == "fail"
    found = {(f.rule, f.location) for f in evidence.findings}
    assert ("repo/pickle-load", "serving/app.py:4") in found
    assert ("repo/unhashed-requirements", "serving/requirements.txt:1") in found
    # nothing imported: the dependencies were not judged, which 5.7 counts as a gap
    missing = [f for f in evidence.findings if f.rule == "intel/none"]
    assert len(missing) == 1
    assert "iso27002:2022:5.7" in missing[0].controls
    assert "no advisories loaded" in evidence.summary


def test_imported_advisories_are_matched_and_age(tmp_path: Path, custos_home: Path) -> None:
    import_source(ADVISORIES, now=NOW - dt.timedelta(days=1))
    evidence = run(project(tmp_path))
    rules = {f.rule for f in evidence.findings}
    assert "intel/none" not in rules
    assert "intel/stale" not in rules
    torch = [f for f in evidence.findings if f.rule == "repo/vulnerable-dependency"]
    assert [f.location for f in torch] == ["serving/requirements.txt:1"]
    assert "fixed in 2.6.0" in torch[0].message
    import_source(ADVISORIES, now=NOW - dt.timedelta(days=30))  # the same export, re-imported
    stale = [f for f in run(tmp_path).findings if f.rule == "intel/stale"]
    assert len(stale) == 1
    assert (custos_home / "intel" / "status.json").exists()


def test_a_clean_repository_passes_and_a_remote_one_is_not_applicable(tmp_path: Path) -> None:
    (tmp_path / "serving").mkdir()
    (tmp_path / "serving" / "app.py").write_text("def score(x):\n    return 2 * x\n")
    evidence = run(tmp_path)
    assert (evidence.result, evidence.findings) == ("pass", ())
    remote = run(tmp_path, "https://git.example.com/acme/scoring")
    assert remote.result == "not_applicable"
    assert run(tmp_path, "nowhere").result == "error"


def test_the_catalog_names_the_check(shipped: Catalog) -> None:
    assert get_check("repository").name == "repository"
    naming = {
        c.id
        for c in shipped.framework_controls("custos-ai")
        if c.verification is not None and "repository" in c.verification.checks
    }
    assert {"custos:ai:unsafe-loading-code", "custos:ai:ml-secrets",
            "custos:ai:ml-dependencies"} <= naming  # fmt: skip
