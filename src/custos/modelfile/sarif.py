"""Model-scan results as SARIF 2.1.0 (custos.sarif writes the log): the scanner's rules, and
each scanned file as an artifact with its format."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from custos.findings import Severity
from custos.modelfile.report import FileReport
from custos.modelfile.rules import RULES, controls_for
from custos.sarif import Artifact, RuleInfo, sarif_log, split_location

__all__ = ["split_location", "to_sarif"]
DOC = "docs/model-scanner.md"


def _rule(rule_id: str) -> RuleInfo:
    rule = RULES.get(rule_id)
    severity = rule.severity if rule else Severity.medium
    text = rule.help if rule else rule_id
    return RuleInfo(rule_id, severity, text, ("supply-chain", *controls_for(rule_id)), DOC)


def to_sarif(reports: Sequence[FileReport], base: Path | None = None) -> dict[str, Any]:
    """One SARIF run for a model scan; `base` makes artifact URIs relative."""
    from custos.modelfile.dispatch import load_all_rules

    load_all_rules()
    findings = [(f, str(report.path)) for report in reports for f in report.findings]
    used = sorted({f.rule for f, _ in findings} | set(RULES))
    artifacts = [Artifact(str(r.path), {"format": r.format}) for r in reports]
    return sarif_log("custos-model-scanner", [_rule(r) for r in used], findings, artifacts, base)
