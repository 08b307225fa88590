"""risk-review: the system's risks have review dates, and none is overdue."""

from __future__ import annotations

from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Finding, Outcome, Result, Severity
from custos.inventory.schema import Manifest, Risk


def risks_of(manifest: Manifest, system_id: str) -> list[Risk]:
    """Risks naming the system, or one of its assets."""
    system = next(s for s in manifest.systems if s.id == system_id)
    asset_ids = {a.id for a in system.assets}
    return [r for r in manifest.risks if system_id in r.systems or asset_ids & set(r.assets)]


class RiskReview(Check):
    name = "risk-review"
    version = 1
    title = "Risk reviews are scheduled and not overdue"
    evidences = ("custos:ai:risk-assessment",)

    def run(self, target: Target, context: CheckContext) -> Outcome:
        risks = risks_of(context.manifest, target.system.id)
        if not risks:
            return Outcome(
                "fail",
                "no risks recorded for this system",
                (
                    Finding(
                        rule="risk-review/no-risks",
                        severity=Severity.high,
                        message=f"no risk in custos.yaml affects system {target.system.id!r}; "
                        "assess its AI risks",
                        location="custos.yaml",
                    ),
                ),
            )
        today = context.now.date()
        findings: list[Finding] = []
        for risk in risks:
            if risk.review_date is None:
                findings.append(
                    Finding(
                        rule="risk-review/no-review-date",
                        severity=Severity.low,
                        message=f"risk {risk.id} has no review date",
                        location=f"custos.yaml#risks/{risk.id}",
                    )
                )
            elif risk.review_date < today:
                days = (today - risk.review_date).days
                findings.append(
                    Finding(
                        rule="risk-review/overdue",
                        severity=Severity.medium,
                        message=f"risk {risk.id} review was due {risk.review_date} "
                        f"({days} days ago)",
                        location=f"custos.yaml#risks/{risk.id}",
                    )
                )
        overdue = [f for f in findings if f.rule == "risk-review/overdue"]
        result: Result = "fail" if overdue else "pass"
        return Outcome(result, f"{len(risks)} risk(s), {len(overdue)} overdue", tuple(findings))
