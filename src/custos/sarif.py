"""SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps): the log every Custos scanner
writes (model files, data), from its findings and its rules.

Fingerprints are stable across runs: a SHA-256 of the rule id, the finding's place inside the
file and the file's relative path, so a code-scanning service tracks one finding over time.
Rules carry their help text and the controls they evidence; `security-severity` lets GitHub
rank them. Whatever the scanned names hold, the log is valid: artifact URIs are percent-encoded
from the file name's bytes on disk, and every other string goes through `safe_json`.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from custos import __version__
from custos._text import safe_json, safe_text
from custos.findings import Finding, Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/custos-project/custos"
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


@dataclass(frozen=True)
class RuleInfo:
    """What a SARIF rule says: its default severity, help, tags and the docs page about it."""

    id: str
    severity: Severity
    help: str
    tags: tuple[str, ...]
    doc: str  # e.g. docs/model-scanner.md


@dataclass(frozen=True)
class Artifact:
    path: str
    properties: dict[str, Any]


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


def artifact_uri(path: str, base: Path | None) -> str:
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


def result(finding: Finding, base: Path | None, file_path: str | None = None) -> dict[str, Any]:
    path, member, offset = split_location(finding.location, file_path)
    uri = artifact_uri(path, base)
    inner = finding.location.startswith(f"{path}!")
    rest = finding.location[len(path) + 1 :] if inner else ""  # the member, as before
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if offset is not None and member is None:
        physical["region"] = {"byteOffset": offset}
    found: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {"custosFinding/v1": _fingerprint(finding, uri, rest)},
        "properties": {"severity": finding.severity.name, "controls": list(finding.controls)},
    }
    if member is not None:
        name = member if offset is None else f"{member}@{offset}"
        found["locations"][0]["logicalLocations"] = [{"fullyQualifiedName": name, "kind": "member"}]
    return found


def rule_entry(rule: RuleInfo) -> dict[str, Any]:
    anchor = rule.id.replace("/", "-")
    return {
        "id": rule.id,
        "name": anchor,
        "shortDescription": {"text": rule.help},
        "fullDescription": {"text": rule.help},
        "help": {"text": f"{rule.help} See {rule.doc}#{anchor}."},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "tags": ["security", *rule.tags],
        },
    }


def sarif_log(
    tool: str,
    rules: Sequence[RuleInfo],
    findings: Sequence[tuple[Finding, str]],
    artifacts: Sequence[Artifact],
    base: Path | None = None,
) -> dict[str, Any]:
    """One SARIF run: `findings` are (finding, the path of the file it is in); `base` makes
    artifact URIs relative."""
    log: dict[str, Any] = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": tool,
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [rule_entry(r) for r in rules],
                    }
                },
                "results": [result(f, base, path) for f, path in findings],
                "artifacts": [
                    {"location": {"uri": artifact_uri(a.path, base)}, "properties": a.properties}
                    for a in artifacts
                ],
            }
        ],
    }
    return safe_json(log)
