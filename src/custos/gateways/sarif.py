"""Gateway-scan results as SARIF 2.1.0 (custos.sarif writes the log): the gateway rules, each
finding at its file and line, with the key path as its logical location (so the fingerprint
follows the setting, not the line number), and each file as an artifact with its product."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from custos.findings import Finding
from custos.gateways.model import GatewayReport
from custos.gateways.rules import RULES
from custos.sarif import Artifact, RuleInfo, sarif_log

DOC = "docs/runtime.md"
TOOL = "custos-gateway-scanner"


def to_sarif(reports: Sequence[GatewayReport], base: Path | None = None) -> dict[str, Any]:
    rules = [
        RuleInfo(rule, spec.severity, spec.help, ("gateway", *spec.controls), DOC)
        for rule, spec in sorted(RULES.items())
    ]
    findings: list[tuple[Finding, str]] = []
    lines: list[int | None] = []
    for report in reports:
        path = str(report.path)
        for f in report.findings:
            location = f"{path}!{f.where}" if f.where else path
            findings.append((Finding(f.rule, f.severity, f.message, location, f.controls), path))
            lines.append(f.line)
    artifacts = [
        Artifact(str(r.path), {"product": r.product, **({"error": r.error} if r.error else {})})
        for r in reports
    ]
    log = sarif_log(TOOL, rules, findings, artifacts, base)
    for result, line in zip(log["runs"][0]["results"], lines, strict=True):
        if line is not None:
            result["locations"][0]["physicalLocation"]["region"] = {"startLine": line}
    return log
