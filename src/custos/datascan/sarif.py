"""Data-scan results as SARIF 2.1.0 (custos.sarif writes the log): the data rules, and each
scanned file as an artifact with its format and suggested classification."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from custos.datascan.classify import CONTROLS, RULE_HELP, SEVERITY
from custos.datascan.model import DataReport
from custos.sarif import Artifact, RuleInfo, sarif_log

DOC = "docs/data.md"


def to_sarif(reports: Sequence[DataReport], base: Path | None = None) -> dict[str, Any]:
    rules = [
        RuleInfo(rule, SEVERITY[rule], RULE_HELP[rule], ("privacy", *CONTROLS[rule]), DOC)
        for rule in sorted(RULE_HELP)
    ]
    findings = [(f, str(r.path)) for r in reports for f in r.findings]
    artifacts = [
        Artifact(str(r.path), {"format": r.format,
                               "suggestedClassification": r.suggested_classification})
        for r in reports
    ]  # fmt: skip
    return sarif_log("custos-data-scanner", rules, findings, artifacts, base)
