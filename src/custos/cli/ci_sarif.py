"""The project-level SARIF log of `custos ci`: every finding of a scan's evidence, written by
`custos.sarif.sarif_log` (the writer every Custos scanner uses).

Check findings name their place in a few shapes: `file`, `file:line`, `file!member@offset` (the
model scanner), `custos.yaml#risks/R01` (a manifest entry) or a URL (an endpoint). Each becomes
an artifact relative to the project, with its line as a region, its member or fragment as a
logical location, and a URL as the artifact's URI. The same finding reported for several
systems (an attestation shared by two) is one result listing both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from custos._text import safe_text
from custos.checks.base import Check
from custos.checks.model import Evidence
from custos.findings import Finding, Severity
from custos.inventory.locations import is_url
from custos.sarif import Artifact, RuleInfo, sarif_log

TOOL = "custos"
FINGERPRINT = "custosEvidence/v1"
# The page that documents what each check looks for (rule help points there).
DOCS = {
    "access-log": "docs/runtime.md",
    "artifact-baseline": "docs/signing.md",
    "data-integrity": "docs/data.md",
    "dataset": "docs/data.md",
    "encryption": "docs/encryption.md",
    "endpoint": "docs/runtime.md",
    "gateway-config": "docs/runtime.md",
    "ledger-integrity": "docs/ledger.md",
    "model-file": "docs/model-scanner.md",
    "model-signature": "docs/signing.md",
    "repository": "docs/secdev.md",
    "retention": "docs/encryption.md",
}
DEFAULT_DOC = "docs/manifest.md"


@dataclass
class _Result:
    """One distinct finding (rule, place, message) and where it came from."""

    finding: Finding  # its location rewritten to the file's full path (and member)
    path: str  # the file as sarif_log takes it
    check: str
    rest: str  # what follows the file in the location: `!member`, `@offset`, `!fragment`
    line: int | None
    url: str | None
    systems: list[str] = field(default_factory=list)


def _place(base: Path, location: str) -> tuple[str, str, int | None]:
    """(the file's full path, what follows it: `!member`, `@offset` or `!fragment`, line) of a
    check finding's location."""
    text, _, fragment = location.partition("#")
    line = None
    head, sep, tail = text.rpartition(":")
    if sep and head and tail.isdigit():
        text, line = head, int(tail)
    name, bang, member = text.partition("!")
    rest = f"!{member}" if bang else f"!{fragment}" if fragment else ""
    at, sep, offset = name.rpartition("@")
    if not bang and sep and at and offset.isdigit():  # the model scanner's `file@offset`
        name, rest = at, f"@{offset}"
    path = (base / name).resolve()
    if not path.exists() and Path(name).exists():  # a location relative to the working dir
        path = Path(name).resolve()
    return str(path), rest, line


def _collect(base: Path, evidence: Sequence[Evidence]) -> list[_Result]:
    results: dict[tuple[str, str, str], _Result] = {}
    for e in evidence:
        for f in e.findings:
            key = (f.rule, f.location, f.message)
            if key not in results:
                url = f.location if is_url(f.location) else None
                path, rest, line = (url, "", None) if url else _place(base, f.location)
                where = replace(f, location=path + rest)
                results[key] = _Result(where, path, e.check, rest, line, url)
            if e.system not in results[key].systems:
                results[key].systems.append(e.system)
    return list(results.values())


def evidence_sarif(
    base: Path, evidence: Sequence[Evidence], checks: Sequence[Check]
) -> dict[str, Any]:
    """One SARIF run over the findings of `evidence`; artifact URIs relative to `base` (the
    directory holding custos.yaml)."""
    titles = {c.name: c.title for c in checks}
    found = _collect(base, evidence)
    worst: dict[str, tuple[Severity, str]] = {}
    for r in found:
        sev, _ = worst.get(r.finding.rule, (Severity.info, r.check))
        worst[r.finding.rule] = (max(sev, r.finding.severity), r.check)
    rules = [
        RuleInfo(rule, sev, f"{titles.get(check, check)} (the {check} check).",
                 ("ai-security", check), DOCS.get(check, DEFAULT_DOC))
        for rule, (sev, check) in sorted(worst.items())
    ]  # fmt: skip
    artifacts = [Artifact(p, {}) for p in sorted({r.path for r in found if r.url is None})]
    log = sarif_log(TOOL, rules, [(r.finding, r.path) for r in found], artifacts, base)
    for result, r in zip(log["runs"][0]["results"], found, strict=True):
        physical = result["locations"][0]["physicalLocation"]
        if r.url is not None:
            physical["artifactLocation"]["uri"] = safe_text(r.url)
        if r.line is not None:
            physical["region"] = {"startLine": r.line}
        # Lines move and two findings of one rule may share a file: the message tells them
        # apart without the line (check messages name the code or record, not the line).
        uri = physical["artifactLocation"]["uri"]
        anchor = "\0".join((r.finding.rule, uri, r.rest, r.finding.message))
        result["partialFingerprints"] = {
            FINGERPRINT: hashlib.sha256(safe_text(anchor).encode()).hexdigest()
        }
        result["properties"].update({"check": r.check, "systems": r.systems})
    return log
