"""model-file: the model-file scanner as a check on every model asset (nothing is loaded)."""

from __future__ import annotations

import contextlib

from custos._hashing import sha256_path
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Examined, Outcome, Severity
from custos.inventory.locations import expand, is_url
from custos.modelfile.policy import Policy
from custos.modelfile.scan import scan_paths

POLICY_FILE = ".custos/model-policy.yaml"


class ModelFile(Check):
    name = "model-file"
    version = 1
    title = "Model files carry no code-execution payloads or container tricks"
    kinds = frozenset({"model"})
    evidences = (
        "custos:ai:safe-model-serialization",
        "iso27002:2022:8.7",
        "iso27002:2022:5.21",
        "iso27002:2022:8.28",
    )

    def run(self, target: Target, context: CheckContext) -> Outcome:
        asset = target.asset
        assert asset is not None
        if is_url(asset.location):
            return Outcome("not_applicable", "remote model: scan it where it is stored")
        paths = expand(context.base_dir, asset.location)
        if not paths:
            return Outcome("error", f"{asset.location} matches no file to scan")
        policy_path = context.base_dir / POLICY_FILE
        policy = Policy.load(policy_path) if policy_path.is_file() else Policy.default()
        reports = scan_paths(paths, policy)
        findings = []
        for report in reports:
            for f in report.findings:
                location = f.location
                with contextlib.suppress(ValueError):
                    location = (
                        str(report.path.relative_to(context.base_dir))
                        + location[len(str(report.path)) :]
                    )
                findings.append(type(f)(f.rule, f.severity, f.message, location, f.controls))
        examined = tuple(
            Examined(
                str(p.relative_to(context.base_dir))
                if p.is_relative_to(context.base_dir)
                else str(p),
                sha256_path(p),
                p.stat().st_size,
            )
            for p in paths
        )
        blocking = [f for f in findings if f.severity >= Severity.medium]
        files = sum(1 for r in reports if r.format != "directory")  # not a walk's own notes
        summary = f"{files} file(s) scanned, {len(blocking)} finding(s) at medium or above"
        return Outcome("fail" if blocking else "pass", summary, tuple(findings), examined)
