"""Endpoint probe results as SARIF 2.1.0 (custos.sarif writes the log): the endpoint rules,
each finding located at the URL it was found on, and the endpoint as the artifact."""

from __future__ import annotations

from typing import Any

from custos.endpoint.rules import RULES
from custos.endpoint.scan import ProbeReport
from custos.sarif import Artifact, RuleInfo, sarif_log

DOC = "docs/runtime.md"


def to_sarif(report: ProbeReport) -> dict[str, Any]:
    rules = [RuleInfo(r.id, r.severity, r.help, ("endpoint", *r.controls), DOC)
             for r in sorted(RULES.values(), key=lambda r: r.id)]  # fmt: skip
    findings = [(f.finding, f.finding.location) for f in report.findings]
    tls = report.recording.tls
    properties: dict[str, Any] = {"checksRun": list(report.recording.checks_run),
                                  "durationSeconds": round(report.duration_s, 3)}  # fmt: skip
    if tls is not None and tls.version:
        properties["tlsVersion"] = tls.version
    log = sarif_log("custos-endpoint-probe", rules, findings,
                    [Artifact(report.url, properties)])  # fmt: skip
    # custos.sarif makes file paths into relative URIs; a URL is its own URI.
    run = log["runs"][0]
    for result, (finding, _) in zip(run["results"], findings, strict=True):
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = finding.location
        result["locations"][0]["physicalLocation"].pop("region", None)
        result["locations"][0].pop("logicalLocations", None)
    run["artifacts"][0]["location"]["uri"] = report.url
    return log
