"""repository: the repository scanner (custos.repo, docs/secdev.md) on every repository asset:
ML code that loads models or data unsafely (scripts and notebooks), secrets, unpinned and
known-vulnerable dependencies (from the advisories `custos intel import` loaded), Dockerfiles
and CI workflows. Files are read as text and parsed, never imported or run; secrets are masked
in the evidence. A remote repository (a URL) is not applicable: scan its checkout."""

from __future__ import annotations

from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Finding, Outcome, Severity
from custos.inventory.locations import is_url

CONTROLS = (
    "custos:ai:unsafe-loading-code",
    "custos:ai:ml-secrets",
    "custos:ai:ml-dependencies",
    "custos:ai:vulnerability-management",
    "custos:ai:threat-intelligence",
    "custos:ai:secure-ml-lifecycle",
    "iso27002:2022:5.7",
    "iso27002:2022:5.17",
    "iso27002:2022:5.21",
    "iso27002:2022:8.8",
    "iso27002:2022:8.25",
    "iso27002:2022:8.28",
)


class Repository(Check):
    name = "repository"
    version = 1
    title = "Repositories load models safely, hold no secrets and pin safe dependencies"
    kinds = frozenset({"repository"})
    evidences = CONTROLS

    def run(self, target: Target, context: CheckContext) -> Outcome:
        from custos.intel.store import load_index
        from custos.repo.scan import scan

        asset = target.asset
        assert asset is not None
        if is_url(asset.location):
            return Outcome("not_applicable", "remote repository: scan its checkout")
        root = context.resolve(asset.location)
        if not root.exists():
            return Outcome("error", f"{asset.location} does not exist")
        index = load_index(None)
        report = scan(root, index=index)
        findings = tuple(
            Finding(f.rule, f.severity, f.message, f.location(context.where(f.path)), f.controls)
            for f in report.findings
        ) + _intelligence(context, asset.location, bool(report.dependencies))
        blocking = [f for f in findings if f.severity >= Severity.medium]
        intel = "no advisories loaded" if index is None else (
            f"{index.stats().advisories:,} advisories")  # fmt: skip
        summary = (f"{report.files} file(s), {len(report.dependencies)} dependencies ({intel}); "
                   f"{len(blocking)} finding(s) at medium or above")  # fmt: skip
        return Outcome("fail" if blocking else "pass", summary, findings)


INTEL_CONTROLS = ("custos:ai:threat-intelligence", "iso27002:2022:5.7", "iso27002:2022:8.8")


def _intelligence(context: CheckContext, location: str, has_dependencies: bool) -> tuple[
        Finding, ...]:  # fmt: skip
    """No advisories, or stale ones: the dependencies were not judged against what is known
    today (5.7 asks for intelligence that is collected and kept current)."""
    from custos.intel.store import STALE_DAYS, sources, stale

    if not has_dependencies:
        return ()
    found = sources(None)
    if not found:
        return (Finding("intel/none", Severity.medium,
                        "no vulnerability advisories loaded: the dependencies were not checked "
                        "against known vulnerabilities (custos intel import an OSV export)",
                        location, INTEL_CONTROLS),)  # fmt: skip
    if stale(found, context.now):
        latest = max(s.imported for s in found).date().isoformat()
        return (Finding("intel/stale", Severity.medium,
                        f"the advisories were last imported on {latest}, more than {STALE_DAYS} "
                        "days ago: import a fresh OSV export", location,
                        INTEL_CONTROLS),)  # fmt: skip
    return ()
