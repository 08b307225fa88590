"""data-integrity: poisoning and quality signals (custos.dataintegrity) in every dataset asset
that names its label column (`label:` in custos.yaml): duplicates, label issues, trigger
candidates, outliers and class balance. When `.custos/data-baselines/<asset id>.json` exists
(written by `custos data-integrity ... --baseline-out`), the data is compared with it. Any
finding fails the check; every signal is a review queue, not a verdict."""

from __future__ import annotations

from pathlib import Path

from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Outcome
from custos.dataintegrity.extra import MISSING_EXTRA, available
from custos.errors import UserError
from custos.inventory.locations import expand, is_url

BASELINES = Path(".custos") / "data-baselines"


class DataIntegrity(Check):
    name = "data-integrity"
    version = 1
    title = "Training data shows no poisoning or quality signals above the thresholds"
    kinds = frozenset({"dataset"})
    evidences = ("custos:ai:data-poisoning",)

    def run(self, target: Target, context: CheckContext) -> Outcome:
        asset = target.asset
        assert asset is not None
        if asset.label is None:
            return Outcome("not_applicable", "no label column declared: set `label:` on the "
                           "dataset asset to examine it for poisoning")  # fmt: skip
        if is_url(asset.location):
            return Outcome("not_applicable", "remote dataset: examine it where it is stored")
        if not available():
            return Outcome("error", MISSING_EXTRA)
        paths = expand(context.base_dir, asset.location)
        if not paths:
            return Outcome("error", f"{asset.location} matches no file to examine")
        from custos.dataintegrity.scan import data_files, examine

        baseline = context.base_dir / BASELINES / f"{asset.id}.json"
        recorded = baseline if baseline.is_file() else None
        try:
            files = data_files(paths)
            report, _ = examine(files, asset.label, recorded, where=asset.location)
        except UserError as exc:
            return Outcome("error", str(exc).replace(f"{context.base_dir}/", ""))
        examined = context.examined([*files, *([recorded] if recorded else [])])
        issues = report.label_issues
        against = f"; {len(report.drift)} drift(s) from the baseline" if recorded else ""
        summary = (
            f"{report.rows:,} rows, label {asset.label!r}: "
            f"{len(report.duplicates.exact) + len(report.duplicates.near):,} duplicates, "
            f"{len(issues.rows):,} label issues ({issues.share:.1%}), "
            f"{len(report.triggers.found)} trigger candidate(s), "
            f"{len(report.outliers.rows):,} outliers{against}; "
            f"{len(report.findings)} finding(s)"
        )
        return Outcome("fail" if report.findings else "pass", summary, report.findings, examined)
