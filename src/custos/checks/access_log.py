"""access-log: the access-log monitor (custos.accesslog) on every log_source asset whose files
are local: JSON Lines (with the asset's `fields:` mapping), nginx combined, AWS ALB or
OpenTelemetry GenAI spans (`log_format:`, default recognised by content). Every detection and
every drifted feature is a finding; a finding at medium or above fails the check, low ones
are kept as review items. When `.custos/access-baselines/<asset id>.json` exists (written by
`custos monitor ... --baseline-out`), drift and per-key rates are measured against it."""

from __future__ import annotations

from pathlib import Path

from custos.accesslog.extra import MISSING_EXTRA, available
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Outcome, Severity
from custos.errors import UserError
from custos.inventory.locations import expand, is_url

BASELINES = Path(".custos") / "access-baselines"


class AccessLog(Check):
    name = "access-log"
    version = 1
    title = "Access logs show no model-extraction, probing or credential-abuse patterns"
    kinds = frozenset({"log_source"})
    evidences = (
        "custos:ai:access-logging",
        "custos:ai:access-monitoring",
        "custos:ai:model-extraction",
    )

    def run(self, target: Target, context: CheckContext) -> Outcome:
        asset = target.asset
        assert asset is not None
        if is_url(asset.location):
            return Outcome("not_applicable", "remote log: monitor it where it is stored")
        if not available():
            return Outcome("error", MISSING_EXTRA)
        paths = expand(context.base_dir, asset.location)
        if not paths:
            return Outcome("error", f"{asset.location} matches no file to examine")
        from custos.accesslog.monitor import examine
        from custos.accesslog.readers.load import files_of

        baseline = context.base_dir / BASELINES / f"{asset.id}.json"
        recorded = baseline if baseline.is_file() else None
        try:
            files = files_of(paths)
            mapping = {str(k): v for k, v in (asset.fields or {}).items()}
            report, _ = examine(paths, log_format=asset.log_format or "auto", mapping=mapping,
                                baseline=recorded)  # fmt: skip
        except UserError as exc:
            return Outcome("error", str(exc).replace(f"{context.base_dir}/", ""))
        findings = tuple(report.findings(asset.location))
        examined = context.examined([*files, *([recorded] if recorded else [])])
        kinds = sorted({d.kind for d in report.detections})
        drifted = sum(d.drifted for d in report.drift)
        against = " against the baseline" if recorded else ""
        broken = f", {report.broken_count:,} broken line(s)" if report.broken_count else ""
        summary = (
            f"{report.rows:,} requests from {report.keys:,} keys and {report.addresses:,} "
            f"addresses ({', '.join(report.formats)}{broken}): {len(report.detections)} "
            f"detection(s){' (' + ', '.join(kinds) + ')' if kinds else ''}, {drifted} drifted "
            f"feature(s){against}"
        )
        failed = any(f.severity >= Severity.medium for f in findings)
        return Outcome("fail" if failed else "pass", summary, findings, examined)
