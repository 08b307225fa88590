"""attestation-freshness: the system's attestations are in date and their evidence files are the
ones that were attested (the pinned SHA-256 still matches). Rules: custos.inventory.attestations.
"""

from __future__ import annotations

from custos._hashing import sha256_file
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Examined, Finding, Outcome, Result, Severity
from custos.inventory.attestations import judge


class AttestationFreshness(Check):
    name = "attestation-freshness"
    version = 1
    title = "Attestations are current and their evidence files unchanged"
    evidences = ("custos:ai:evidence-integrity",)

    def run(self, target: Target, context: CheckContext) -> Outcome:
        mine = [
            a
            for a in context.manifest.attestations
            if not a.systems or target.system.id in a.systems
        ]
        if not mine:
            return Outcome("not_applicable", "no attestations cover this system")
        findings: list[Finding] = []
        examined: list[Examined] = []
        invalid = 0
        for att in mine:
            digest: str | None = None
            exists = False
            if att.evidence is not None:
                path = context.resolve(att.evidence)
                exists = path.is_file()
                if exists:
                    digest = sha256_file(path)
                    examined.append(Examined(att.evidence, digest, path.stat().st_size))
            verdict = judge(att, context.now.date(), exists, digest)
            invalid += not verdict.valid
            location = att.evidence or f"custos.yaml#attestations/{att.id}"
            findings.extend(
                Finding(p.rule, p.severity, p.message, location, (att.control,))
                for p in verdict.problems
            )
        result: Result = "fail" if any(f.severity >= Severity.medium for f in findings) else "pass"
        summary = f"{len(mine)} attestation(s), {invalid} not currently valid"
        return Outcome(result, summary, tuple(findings), tuple(examined))
