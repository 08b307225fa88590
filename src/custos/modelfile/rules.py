"""Stable rule ids of the model-file scanner, their default severity, help text and controls.

Rule ids never change meaning; new behaviour gets a new id. docs/model-scanner.md lists them.
Every finding carries the ISO 27002 controls and Custos AI requirements it is evidence for.
"""

from __future__ import annotations

from dataclasses import dataclass

from custos.findings import Severity

SUPPLY_CHAIN = (
    "custos:ai:safe-model-serialization",
    "custos:ai:model-provenance",
    "iso27002:2022:8.7",
    "iso27002:2022:5.21",
    "iso27002:2022:8.28",
)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    help: str


RULES: dict[str, Rule] = {}


def rule(rule_id: str, severity: Severity, help_text: str) -> Rule:
    """Declare a rule (modules declare theirs at import; a duplicate id is a bug)."""
    if rule_id in RULES:
        raise RuntimeError(f"rule {rule_id!r} declared twice")
    RULES[rule_id] = Rule(rule_id, severity, help_text)
    return RULES[rule_id]


def controls_for(rule_id: str) -> tuple[str, ...]:
    return SUPPLY_CHAIN


rule("limits/depth", Severity.high, "Containers or nested pickles nest deeper than the limit.")
