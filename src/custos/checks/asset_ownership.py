"""asset-ownership: every AI asset has a named owner and a classification (ISO 27002 5.9, 5.12)."""

from __future__ import annotations

from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Finding, Outcome, Severity


class AssetOwnership(Check):
    name = "asset-ownership"
    version = 1
    title = "Every asset has an owner and a classification"
    kinds = frozenset({"model", "dataset", "endpoint", "pipeline", "repository", "log_source"})
    evidences = ("custos:ai:asset-ownership", "custos:ai:data-classification")

    def run(self, target: Target, context: CheckContext) -> Outcome:
        asset = target.asset
        assert asset is not None  # applies_to guarantees it
        findings: list[Finding] = []
        if not (asset.owner and asset.owner.strip()):
            findings.append(
                Finding(
                    rule="asset-ownership/no-owner",
                    severity=Severity.medium,
                    message=f"asset {asset.id!r} has no owner; name an accountable person or team",
                    location=asset.location,
                    controls=("custos:ai:asset-ownership", "iso27002:2022:5.9"),
                )
            )
        if asset.classification is None:
            findings.append(
                Finding(
                    rule="asset-ownership/no-classification",
                    severity=Severity.medium,
                    message=(
                        f"asset {asset.id!r} has no classification "
                        "(public, internal, confidential or restricted)"
                    ),
                    location=asset.location,
                    controls=("custos:ai:data-classification", "iso27002:2022:5.12"),
                )
            )
        if findings:
            return Outcome("fail", f"{len(findings)} ownership gap(s)", tuple(findings))
        summary = f"owner {asset.owner}, classified {asset.classification}"
        return Outcome("pass", summary)
