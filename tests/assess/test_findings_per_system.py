"""The same finding in two systems (one requirements file shared by a monorepo) is a finding of
each: the report lists it under both, so neither system's users see an empty list."""

from __future__ import annotations

import datetime as dt

from custos.assess.engine import AssessInput, assess
from custos.catalog.catalog import Catalog
from custos.checks.model import Evidence, Finding, Severity
from custos.checks.registry import all_checks
from custos.inventory.schema import Manifest

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


def test_identical_findings_of_two_systems_are_both_reported(shipped: Catalog) -> None:
    systems = [{"id": s, "name": s, "purpose": "scores", "lifecycle": "production",
                "eu_ai_act": {"role": "provider", "tier": "limited"},
                "assets": [{"id": f"{s}-repo", "kind": "repository", "location": "src"}]}
               for s in ("a", "b")]  # fmt: skip
    manifest = Manifest.model_validate(
        {"organisation": {"name": "Acme", "scope": "AI"}, "systems": systems}
    )
    same = Finding("repo/pickle-load", Severity.high, "joblib.load of a variable path",
                   "src/serve.py:4", ("iso27002:2022:8.28",))  # fmt: skip
    evidence = [
        Evidence(
            "repository", 1, s, f"{s}-repo", "fail", "1 finding", ("iso27002:2022:8.28",), NOW,
            None, (same,),
        )
        for s in ("a", "b")
    ]  # fmt: skip
    report = assess(AssessInput(catalog=shipped, manifest=manifest, evidence=evidence,
                                current_hashes={}, attestation_files={}, checks=all_checks(),
                                now=NOW, trend=()))  # fmt: skip
    assert sorted((f.system, f.rule) for f in report.findings) == [
        ("a", "repo/pickle-load"), ("b", "repo/pickle-load")]  # fmt: skip
