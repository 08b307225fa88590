"""Model-scan results as SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps).

Fingerprints are stable across runs: a SHA-256 of the rule id, the finding's location and the
file's relative path, so a code-scanning service tracks one finding over time. Rules carry their
help text and the controls they evidence; `security-severity` lets GitHub rank them.

Whatever the scanned names hold, the log is valid: artifact URIs are percent-encoded from the
file name's bytes on disk, and every other string goes through `report.safe_json`.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from custos import __version__
from custos.findings import Finding, Severity
from custos.modelfile.report import FileReport, safe_json, safe_text
from custos.modelfile.rules import RULES, controls_for

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {
    Severity.critical: "error",
    Severity.high: "error",
    Severity.medium: "warning",
    Severity.low: "note",
    Severity.info: "note",
}
SECURITY_SEVERITY = {
    Severity.critical: "9.5",
    Severity.high: "8.0",
    Severity.medium: "5.5",
    Severity.low: "3.0",
    Severity.info: "0.0",
}


def split_location(location: str, path: str | None = None) -> tuple[str, str | None, int | None]:
    """`path!member@offset` -> (path, member, offset); members may nest (`a!b!c`). When the
    file's `path` is known and starts the location, it is taken whole (it may hold `!`)."""
    offset: int | None = None
    if path and location.startswith(path):
        rest = location[len(path) :]
        head, sep, tail = rest.rpartition("@")
        if sep and tail.isdigit():
            rest, offset = head, int(tail)
        if rest[:1] in ("", "!"):
            return path, rest[1:] or None, offset
        offset = None  # the path was not the file's after all
    head, sep, tail = location.rpartition("@")
    if sep and tail.isdigit():
        location, offset = head, int(tail)
    file, _, member = location.partition("!")
    return file, member or None, offset


def _uri(path: str, base: Path | None) -> str:
    candidate = Path(path)
    if base is not None:
        with contextlib.suppress(ValueError, OSError):
            candidate = candidate.resolve().relative_to(base.resolve())
    text = candidate.as_posix()
    try:  # a name that is not UTF-8 on disk: its own bytes, percent-encoded
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = safe_text(text).encode("utf-8")
    return quote(raw, safe="/")


def _fingerprint(finding: Finding, uri: str, member: str) -> str:
    raw = "\0".join((finding.rule, uri, member))
    return hashlib.sha256(safe_text(raw).encode()).hexdigest()


def _result(finding: Finding, base: Path | None, file_path: str | None = None) -> dict[str, Any]:
    path, member, offset = split_location(finding.location, file_path)
    uri = _uri(path, base)
    inner = finding.location.startswith(f"{path}!")
    rest = finding.location[len(path) + 1 :] if inner else ""  # the member, as before
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if offset is not None and member is None:
        physical["region"] = {"byteOffset": offset}
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {"custosFinding/v1": _fingerprint(finding, uri, rest)},
        "properties": {"severity": finding.severity.name, "controls": list(finding.controls)},
    }
    if member is not None:
        name = member if offset is None else f"{member}@{offset}"
        result["locations"][0]["logicalLocations"] = [
            {"fullyQualifiedName": name, "kind": "member"}
        ]
    return result


def _rule(rule_id: str) -> dict[str, Any]:
    rule = RULES.get(rule_id)
    severity = rule.severity if rule else Severity.medium
    text = rule.help if rule else rule_id
    return {
        "id": rule_id,
        "name": rule_id.replace("/", "-"),
        "shortDescription": {"text": text},
        "fullDescription": {"text": text},
        "help": {"text": f"{text} See docs/model-scanner.md#{rule_id.replace('/', '-')}."},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[severity],
            "tags": ["security", "supply-chain", *controls_for(rule_id)],
        },
    }


def to_sarif(reports: Sequence[FileReport], base: Path | None = None) -> dict[str, Any]:
    """One SARIF run for a model scan; `base` makes artifact URIs relative."""
    from custos.modelfile.dispatch import load_all_rules

    load_all_rules()
    findings = [(f, str(report.path)) for report in reports for f in report.findings]
    used = sorted({f.rule for f, _ in findings} | set(RULES))
    log: dict[str, Any] = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "custos-model-scanner",
                        "version": __version__,
                        "informationUri": "https://github.com/custos-project/custos",
                        "rules": [_rule(r) for r in used],
                    }
                },
                "results": [_result(f, base, path) for f, path in findings],
                "artifacts": [
                    {
                        "location": {"uri": _uri(str(r.path), base)},
                        "properties": {"format": r.format},
                    }
                    for r in reports
                ],
            }
        ],
    }
    return safe_json(log)
