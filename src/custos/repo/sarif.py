"""Repository-scan results as SARIF 2.1.0 (custos.sarif writes the log): the scanner's rules,
each finding at its file, line and column, with its logical place (`where`: the enclosing
function and the call, a secret's digest, a dependency's name) as the fingerprint's anchor, so
GitHub code scanning keeps one finding's identity when lines move."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from custos.findings import Finding
from custos.repo.model import RepoReport
from custos.repo.rules import RULES
from custos.sarif import Artifact, RuleInfo, sarif_log

DOC = "docs/secdev.md"
TOOL = "custos-repo-scanner"


def to_sarif(report: RepoReport, base: Path | None = None) -> dict[str, Any]:
    rules = [
        RuleInfo(rule, spec.severity, spec.help, ("repository", *spec.controls), DOC)
        for rule, spec in sorted(RULES.items())
    ]
    findings: list[tuple[Finding, str]] = []
    for f in report.findings:
        path = str(f.path)
        where = f"cell{f.cell}.{f.where}" if f.cell is not None else f.where
        findings.append((Finding(f.rule, f.severity, f.message, f"{path}!{where}", f.controls),
                         path))  # fmt: skip
    seen = sorted({str(f.path) for f in report.findings})
    artifacts = [Artifact(p, {}) for p in seen]
    log = sarif_log(TOOL, rules, findings, artifacts, base)
    for result, f in zip(log["runs"][0]["results"], report.findings, strict=True):
        if f.line is not None:
            region: dict[str, int] = {"startLine": f.line}
            if f.column is not None:
                region["startColumn"] = f.column
            result["locations"][0]["physicalLocation"]["region"] = region
    return log
