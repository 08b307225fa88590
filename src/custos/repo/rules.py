"""Every rule of the repository scanner in one table (ids, severities, help, controls): those
of each reader module, and the scanner's own for files it could not read and for known
vulnerabilities of pinned dependencies. SARIF lists them; docs/secdev.md explains them."""

from __future__ import annotations

from collections.abc import Mapping

from custos.findings import Rule, Severity
from custos.repo import containers, deps, pysinks, secrets, workflows

UNREADABLE_CONTROLS = ("iso27002:2022:8.28",)
VULNERABLE_CONTROLS = (
    "custos:ai:vulnerability-management",
    "custos:ai:ml-dependencies",
    "iso27002:2022:8.8",
    "iso27002:2022:5.21",
)

OWN: Mapping[str, Rule] = {
    "repo/unreadable": Rule(
        Severity.low,
        "A file that could not be parsed (a syntax error, a malformed manifest) was not scanned.",
        UNREADABLE_CONTROLS,
    ),
    "repo/vulnerable-dependency": Rule(
        Severity.high,
        "A pinned dependency is affected by a published advisory (OSV): upgrade to the fixed "
        "version, or accept the risk with a reason and an expiry.",
        VULNERABLE_CONTROLS,
    ),
}

RULES: Mapping[str, Rule] = {
    **OWN,
    **pysinks.RULES,
    **secrets.RULES,
    **deps.RULES,
    **containers.RULES,
    **workflows.RULES,
}
