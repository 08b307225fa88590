"""The status rules: from evidence, attestations and exclusions to one status with reasons.

For one control (usually a Custos AI requirement) on one AI system:
1. excluded for the system -> not_applicable (the exclusion's justification is the reason);
2. not applicable by default for the system's risk tier, and no risk chose it -> not_applicable;
3. current evidence that fails -> not_implemented, or partial when other current evidence passes
   or a valid attestation supports it;
4. every expected automated check has current, passing evidence -> implemented;
5. some expected checks pass and others have no current evidence -> partial;
6. no automated check can show it (none exists yet, none applies, or each that ran found
   nothing to judge: all its evidence not_applicable) and a valid attestation does ->
   implemented; with expected checks missing, a valid attestation alone -> partial;
7. otherwise unknown: nothing current shows it either way.
Evidence that errored, expired or was taken on bytes that have since changed never counts; it is
listed among the reasons so the user sees why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from custos.assess.evidence import Judged
from custos.assess.model import ControlStatus, Reason, Status
from custos.catalog.model import Control
from custos.inventory.attestations import Judgement
from custos.inventory.schema import Attestation, Exclusion


@dataclass(frozen=True)
class Inputs:
    """Everything the rules look at for one (system, control)."""

    system: str
    control: Control
    applicable: bool
    applicability_reason: str
    expected_checks: frozenset[str]
    evidence: Sequence[Judged]
    attestations: Sequence[tuple[Attestation, Judgement]]
    exclusion: Exclusion | None


def derive_status(inputs: Inputs) -> ControlStatus:
    status, reasons = _rules(inputs)
    c = inputs.control
    return ControlStatus(inputs.system, c.id, c.framework, c.title, status, tuple(reasons))


def _rules(i: Inputs) -> tuple[Status, list[Reason]]:
    if i.exclusion is not None:
        return "not_applicable", [
            Reason("exclusion", f"excluded: {i.exclusion.justification}", i.exclusion.control)
        ]
    if not i.applicable:
        return "not_applicable", [Reason("applicability", i.applicability_reason)]

    reasons: list[Reason] = [Reason("applicability", i.applicability_reason)]
    current = [j for j in i.evidence if j.valid and j.evidence.result != "error"]
    passing = [j for j in current if j.evidence.result == "pass"]
    failing = [j for j in current if j.evidence.result == "fail"]
    reasons.extend(judged.reason for judged in i.evidence)
    valid_atts = [a for a, judgement in i.attestations if judgement.valid]
    for att, judgement in i.attestations:
        state = "valid" if judgement.valid else "not counted"
        reasons.append(
            Reason(
                "attestation",
                f"attestation {att.id} by {att.author} ({state}: {judgement.note})",
                att.id,
            )
        )
    passed_checks = {j.evidence.check for j in passing}
    judged = passed_checks | {j.evidence.check for j in failing}
    # A check that looked and found nothing to judge here (no gateway config, no retired asset,
    # no label column) is not expected: the control then rests on the other checks and on
    # attestations, as when no check applies at all.
    idle = {j.evidence.check for j in current if j.evidence.result == "not_applicable"} - judged
    expected = i.expected_checks - idle
    missing = sorted(expected - judged)
    for check in missing:
        reasons.append(Reason("missing", f"no current evidence from check {check}", check))

    if failing:
        supported = bool(passing) or bool(valid_atts)
        return ("partial" if supported else "not_implemented"), reasons
    if expected and expected <= passed_checks:
        return "implemented", reasons
    if passing:
        return "partial", reasons
    if valid_atts:
        return ("partial" if expected else "implemented"), reasons
    if not expected and not i.attestations:
        reasons.append(Reason("missing", "no automated check applies and no attestation covers it"))
    return "unknown", reasons


_ORDER: dict[Status, int] = {
    "not_implemented": 0,
    "unknown": 1,
    "partial": 2,
    "implemented": 3,
    "not_applicable": 4,
}


def combine(statuses: Iterable[Status]) -> Status:
    """Status of a whole from its parts (not_applicable parts are ignored)."""
    parts = [s for s in statuses if s != "not_applicable"]
    if not parts:
        return "not_applicable"
    if all(s == "implemented" for s in parts):
        return "implemented"
    if any(s in ("implemented", "partial") for s in parts):
        return "partial"
    if any(s == "not_implemented" for s in parts):
        return "not_implemented"
    return "unknown"


def worst(statuses: Iterable[Status]) -> Status:
    """The weakest status (for the SoA's one-line summary across systems)."""
    parts = list(statuses)
    return min(parts, key=lambda s: _ORDER[s]) if parts else "not_applicable"
